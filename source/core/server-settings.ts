import {createPrivateKey, X509Certificate} from 'node:crypto';
import {isIP} from 'node:net';
import {touch} from './accounts.js';
import {authorize, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {invalid, notFound} from './errors.js';
import {parseInput} from './input.js';
import {DEFAULT_PUBLIC_URL, listenerSchema, policySchema, type Listener, type Policy, type Settings} from './model.js';
import {smtpView, type SmtpView} from './smtp-settings.js';

/** Everything a superuser sees under Server Settings; never a secret. */
export type SettingsView = Omit<Settings, 'smtp'> & {
	smtp: SmtpView | null;
	ssl: (Settings['ssl'] & Partial<CertificateFacts>) | null;
	/** Why mailed links will not open for their readers (see unreachableLinks), or null. */
	linksUnreachable: string | null;
};

export type CertificateFacts = {subject: string; issuer: string; validTo: string; fingerprint256: string};

export function showSettings(ctx: Context, actor: Actor): SettingsView {
	authorize(actor, 'server.settings');
	const settings = ctx.store.read().settings;
	let ssl: SettingsView['ssl'] = settings.ssl;
	if (settings.ssl) {
		try {
			ssl = {...settings.ssl, ...certificateFacts(new X509Certificate(ctx.readFile(settings.ssl.cert)))};
		} catch {
			// The file moved or became unreadable since it was saved: show the paths alone.
		}
	}
	return {...settings, smtp: smtpView(settings.smtp), ssl, linksUnreachable: unreachableLinks(settings.publicUrl) ?? null};
}

/** The listener `orgctl serve` answers on: the one for user requests (invitation and sign-up pages, single sign-on). */
export const REQUESTS_LISTENER = 'requests';

function isLoopbackHost(hostname: string): boolean {
	const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
	return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || host === '0.0.0.0' || host === '::' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Why mailed links will not open for their readers: the public URL is unset, names this machine, or is no URL; undefined when fine. */
export function unreachableLinksReason(publicUrl: string): 'unset' | 'this-machine' | 'not-a-url' | undefined {
	if (publicUrl === DEFAULT_PUBLIC_URL) return 'unset';
	try {
		return isLoopbackHost(new URL(publicUrl).hostname) ? 'this-machine' : undefined;
	} catch {
		return 'not-a-url';
	}
}

/** The command that fixes an unreachable public URL. */
export const SET_PUBLIC_URL = 'orgctl settings public-url set https://…';

/**
 * Why the links we mail will not open for the people we mail them to, as one sentence, or undefined
 * when the public URL names an address others can reach. Settings and invitation screens show it.
 */
export function unreachableLinks(publicUrl: string): string | undefined {
	const fix = `set the address people open with \`${SET_PUBLIC_URL}\``;
	switch (unreachableLinksReason(publicUrl)) {
		case 'unset':
			return `The public URL is not set, so invitation links (${publicUrl}/invite/…) will not be reachable from anyone else's machine; ${fix}.`;
		case 'this-machine':
			return `The public URL ${publicUrl} names this machine only, so invitation links will not be reachable from anyone else's; ${fix}.`;
		case 'not-a-url':
			return `The public URL ${publicUrl} is not a URL, so invitation links will not be reachable; ${fix}.`;
		case undefined:
			return undefined;
	}
}

/** The base of invitation links: an http(s) URL without query or fragment, no trailing slash. */
export async function setPublicUrl(ctx: Context, actor: Actor, input: string): Promise<string> {
	return perform(ctx, actor, 'settings.public-url', input, db => {
		authorize(actor, 'server.settings');
		let url: URL;
		try {
			url = new URL(input.trim());
		} catch {
			throw invalid(`"${input}" is not a URL; use the address people open, such as https://crash.example.com.`);
		}
		if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`The public URL must start with https:// or http://, not ${url.protocol}.`);
		if (url.search || url.hash || url.username || url.password) throw invalid('The public URL must not carry a query, a fragment or credentials.');
		const value = url.toString().replace(/\/+$/, '');
		db.settings.publicUrl = value;
		touch(db.settings);
		return value;
	});
}

export {parseDuration} from './durations.js';

export type PolicyChange = Partial<Policy>;

/** What setPolicy takes: any of the policy's fields, each by the model's own rule. */
const policyChangeSchema = policySchema.partial();

/** Changes the organization-wide policy; each value is checked before anything is saved. */
export async function setPolicy(ctx: Context, actor: Actor, change: PolicyChange): Promise<Policy> {
	return perform(ctx, actor, 'settings.org', Object.keys(change).join(','), db => {
		authorize(actor, 'server.settings');
		const checked = parseInput(policyChangeSchema, change);
		// Fields named but left undefined change nothing.
		db.settings.policy = {...db.settings.policy, ...Object.fromEntries(Object.entries(checked as Record<string, unknown>).filter(([, v]) => v !== undefined))};
		touch(db.settings);
		return db.settings.policy;
	});
}

/** A listener's name and port, by the model's rules (the address and SSL are checked against the other listeners). */
const listenerInputSchema = listenerSchema.pick({name: true, port: true});

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Adds or changes a listener (for receiving crashes and user requests). Ports are 1–65535 and unique
 * among listeners on overlapping addresses; SSL needs a certificate configured first.
 */
export async function setListener(ctx: Context, actor: Actor, input: {name: string; port: number; address?: string; ssl?: boolean}): Promise<Listener> {
	return perform(ctx, actor, 'settings.listener', input.name, db => {
		authorize(actor, 'server.settings');
		const {name, port} = parseInput(listenerInputSchema, {name: input.name.trim(), port: input.port});
		const existing = db.settings.listeners.find(l => l.name === name);
		const address = (input.address ?? existing?.address ?? '0.0.0.0').trim();
		if (isIP(address) === 0 && !HOSTNAME.test(address)) throw invalid(`"${address}" is not an IP address or host name to listen on.`);
		const ssl = input.ssl ?? existing?.ssl ?? false;
		if (ssl && !db.settings.ssl) throw invalid('SSL needs a certificate and key first: set them with `orgctl settings ssl set`.');
		const wildcard = (a: string) => a === '0.0.0.0' || a === '::';
		const clash = db.settings.listeners.find(l => l.name !== name && l.port === port && (l.address === address || wildcard(l.address) || wildcard(address)));
		if (clash) throw invalid(`Port ${port} is already used by the listener ${clash.name}.`);
		const listener: Listener = {name, address, port, ssl};
		db.settings.listeners = [...db.settings.listeners.filter(l => l.name !== name), listener].sort((a, b) => a.name.localeCompare(b.name));
		touch(db.settings);
		return listener;
	});
}

export async function removeListener(ctx: Context, actor: Actor, name: string): Promise<void> {
	await perform(ctx, actor, 'settings.listener.remove', name, db => {
		authorize(actor, 'server.settings');
		if (!db.settings.listeners.some(l => l.name === name)) throw notFound(`There is no listener named ${name}.`);
		db.settings.listeners = db.settings.listeners.filter(l => l.name !== name);
		touch(db.settings);
	});
}

function certificateFacts(cert: X509Certificate): CertificateFacts {
	return {subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), validTo: new Date(cert.validTo).toISOString(), fingerprint256: cert.fingerprint256};
}

/**
 * Saves the SSL certificate and key paths after checking that both are readable, parse, match each
 * other, and that the certificate has not expired.
 */
export async function setSsl(ctx: Context, actor: Actor, input: {cert: string; key: string}): Promise<CertificateFacts> {
	// Checked inside the audited transaction so that a refused certificate is audited too.
	return perform(ctx, actor, 'settings.ssl', input.cert, db => {
		authorize(actor, 'server.settings');
		const cert = checkCertificatePair(ctx, input);
		db.settings.ssl = {cert: input.cert, key: input.key};
		touch(db.settings);
		return certificateFacts(cert);
	});
}

function checkCertificatePair(ctx: Context, input: {cert: string; key: string}): X509Certificate {
	const read = (path: string, what: string) => {
		try {
			return ctx.readFile(path);
		} catch (error) {
			throw invalid(`The ${what} file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
		}
	};
	const certBytes = read(input.cert, 'certificate');
	const keyBytes = read(input.key, 'key');
	let cert: X509Certificate;
	try {
		cert = new X509Certificate(certBytes);
	} catch {
		throw invalid(`The certificate file ${input.cert} holds no PEM certificate.`);
	}
	let key: ReturnType<typeof createPrivateKey>;
	try {
		key = createPrivateKey(keyBytes);
	} catch {
		throw invalid(`The key file ${input.key} holds no private key orgctl can read (an unencrypted PEM key is needed).`);
	}
	if (!cert.checkPrivateKey(key)) throw invalid(`The key in ${input.key} does not belong to the certificate in ${input.cert}.`);
	if (new Date(cert.validTo) <= ctx.now()) throw invalid(`The certificate in ${input.cert} expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}.`);
	return cert;
}
