import {createPrivateKey, type X509Certificate} from 'node:crypto';
import {echo} from './inert.js';
import {isIP} from 'node:net';
import {touch} from './accounts.js';
import {authorize, checked, perform} from './audit.js';
import {certificateFacts, certificateWarning, parseCertificate, type CertificateFacts} from './certificates.js';

export {certificateWarning} from './certificates.js';
import type {Actor, Context} from './context.js';
import {invalid, notFound} from './errors.js';
import {parseInput, typedNumber} from './input.js';
import {DEFAULT_PUBLIC_URL, LISTENER_NAMES, listenerSchema, policySchema, type Database, type Listener, type Policy, type Settings} from './model.js';
import {smtpView, type SmtpView} from './smtp-settings.js';
import {once} from './once.js';

export type {CertificateFacts} from './certificates.js';

/** The SSL settings as shown: the paths, and the certificate's facts while the file can be read. */
export type SslView = NonNullable<Settings['ssl']> & {
	readonly facts: CertificateFacts | undefined;
	/** Why the certificate cannot be shown now (moved, unreadable), or undefined. */
	readonly unreadable: string | undefined;
	/** "The SSL certificate expires in 9 days, …", or undefined. */
	readonly warning: string | undefined;
};

/** Everything a superuser sees under Server Settings; never a secret. */
export type SettingsView = Omit<Settings, 'smtp' | 'ssl' | 'sso'> & {
	smtp: SmtpView | null;
	ssl: SslView | null;
	/** Why mailed links will not open for their readers (see unreachableLinks), or null. */
	linksUnreachable: string | null;
};

/** The Server Settings as the console draws them, from data already read (superusers only). */
export function settingsViewIn(ctx: Context, db: Database, actor: Actor): SettingsView {
	authorize(actor, 'server.settings');
	const {sso: _sso, ...settings} = db.settings;
	return {...settings, smtp: smtpView(settings.smtp), ssl: sslView(ctx, settings.ssl), linksUnreachable: unreachableLinks(settings.publicUrl) ?? null};
}

/** `orgctl settings show`: every server setting, never a secret; a refusal is audited. */
export async function showSettings(ctx: Context, actor: Actor): Promise<SettingsView> {
	return checked(ctx, actor, 'settings.show', 'settings', db => settingsViewIn(ctx, db, actor));
}

function sslView(ctx: Context, ssl: Settings['ssl']): SslView | null {
	if (!ssl) return null;
	try {
		const cert = parseCertificate(ctx.readFile(ssl.cert, 'certificate'));
		if (!cert) return {...ssl, facts: undefined, unreadable: `${ssl.cert} no longer holds a PEM certificate`, warning: undefined};
		const facts = certificateFacts(cert, ctx.now());
		return {...ssl, facts, unreadable: undefined, warning: certificateWarning('The SSL certificate', facts)};
	} catch (error) {
		// The file moved or became unreadable since it was saved: show the paths and why.
		return {...ssl, facts: undefined, unreadable: `${ssl.cert} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, warning: undefined};
	}
}

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

export {formatDuration, parseDuration} from './durations.js';

/** A policy change: any of the policy's fields; the numbers may come as typed text. */
export type PolicyChange = {readonly [K in keyof Policy]?: Policy[K] extends number ? number | string : Policy[K]};

/** What setPolicy takes: any of the policy's fields, each by the model's own rule; built when first needed, as the model's are (model.ts). */
const policyChangeSchema = once(() =>
	policySchema()
		.extend({
			invitationLifetimeSeconds: typedNumber(policySchema().shape.invitationLifetimeSeconds),
			minPasswordLength: typedNumber(policySchema().shape.minPasswordLength),
		})
		.partial(),
);

/** Changes the organization-wide policy; each value is checked before anything is saved. */
export async function setPolicy(ctx: Context, actor: Actor, change: PolicyChange): Promise<Policy> {
	return perform(ctx, actor, 'settings.org', Object.keys(change).join(','), db => {
		authorize(actor, 'server.settings');
		const checked = parseInput(policyChangeSchema(), change);
		// Fields named but left undefined change nothing.
		db.settings.policy = {...db.settings.policy, ...Object.fromEntries(Object.entries(checked as Record<string, unknown>).filter(([, v]) => v !== undefined))};
		touch(db.settings);
		return db.settings.policy;
	});
}

export type ListenerName = (typeof LISTENER_NAMES)[number];

/** The listeners of a server, in the order the console shows them, with what each is for. */
export const LISTENERS: ReadonlyArray<{readonly name: ListenerName; readonly title: string; readonly purpose: string}> = [
	{name: 'crashes', title: 'Crashes', purpose: 'crash reports from applications'},
	{name: 'requests', title: 'User requests', purpose: 'invitation and sign-up pages, single sign-on: orgctl serve'},
];

/** The listener `orgctl serve` answers on: the one for user requests (invitation and sign-up pages, single sign-on). */
export const REQUESTS_LISTENER: ListenerName = 'requests';

/** A listener's port, by the model's rule, as a number or as typed; built when first needed. */
const listenerPortSchema = once(() => typedNumber(listenerSchema().shape.port));

/**
 * The warning a listener earns: the user-requests listener in plain HTTP on every interface serves
 * invitation and password forms unencrypted to the network. Warned, not refused: behind a reverse
 * proxy that terminates TLS on this machine it is how the server is meant to run.
 */
export function listenerWarning(listener: Pick<Listener, 'name' | 'address' | 'ssl'>): string | undefined {
	if (listener.name !== REQUESTS_LISTENER || listener.ssl) return undefined;
	if (listener.address !== '0.0.0.0' && listener.address !== '::') return undefined;
	return `the ${listener.name} listener serves invitation and password pages in plain HTTP on every interface (${listener.address}); turn on --ssl, or listen on 127.0.0.1 behind a proxy that terminates TLS.`;
}

export type ListenerInput = {readonly name: string; readonly port: number | string; readonly address?: string; readonly ssl?: boolean};

/**
 * Sets the "crashes" or the "user requests" listener. Ports are 1–65535 and unique among listeners
 * on overlapping addresses; SSL needs a certificate and key that are readable, match and are current.
 */
export async function setListener(ctx: Context, actor: Actor, input: ListenerInput): Promise<Listener> {
	return perform(ctx, actor, 'settings.listener', input.name, db => {
		authorize(actor, 'server.settings');
		const name = input.name.trim();
		if (!(LISTENER_NAMES as readonly string[]).includes(name)) {
			throw invalid(`There is no listener "${name}"; a server has two: ${LISTENERS.map(l => `${l.name} (${l.purpose})`).join(' and ')}.`);
		}
		const port = parseInput(listenerPortSchema(), input.port);
		const existing = db.settings.listeners.find(l => l.name === name);
		if (input.address !== undefined && input.address.trim() === '') throw invalid('The listener address is empty: give an IP address such as 127.0.0.1, or leave --address out to keep the current one.');
		const address = (input.address?.trim() || existing?.address) ?? '0.0.0.0';
		// A listener binds an address of this machine: a name would resolve to whatever DNS says at start.
		if (isIP(address) === 0) throw invalid(`"${echo(address)}" is not an IP address to listen on (such as 127.0.0.1, 0.0.0.0 or ::).`);
		const ssl = input.ssl ?? existing?.ssl ?? false;
		if (ssl) {
			if (!db.settings.ssl) throw invalid('SSL needs a certificate and key first: set them with `orgctl settings ssl set`.');
			try {
				checkCertificatePair(ctx, db.settings.ssl);
			} catch (error) {
				throw invalid(`The ${name} listener cannot use SSL until the certificate is fixed: ${lowerFirst((error as Error).message)}`);
			}
		}
		const wildcard = (a: string) => a === '0.0.0.0' || a === '::';
		const clash = db.settings.listeners.find(l => l.name !== name && l.port === port && (l.address === address || wildcard(l.address) || wildcard(address)));
		if (clash) throw invalid(`Port ${port} is already used by the listener ${clash.name} (${clash.address}:${clash.port}).`);
		const listener: Listener = {name, address, port, ssl};
		db.settings.listeners = [...db.settings.listeners.filter(l => l.name !== name), listener].sort((a, b) => a.name.localeCompare(b.name));
		touch(db.settings);
		return listener;
	});
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

export async function removeListener(ctx: Context, actor: Actor, name: string): Promise<void> {
	await perform(ctx, actor, 'settings.listener.remove', name, db => {
		authorize(actor, 'server.settings');
		if (!db.settings.listeners.some(l => l.name === name)) throw notFound(`There is no listener named ${name}.`);
		db.settings.listeners = db.settings.listeners.filter(l => l.name !== name);
		touch(db.settings);
	});
}

/**
 * Saves the SSL certificate and key paths after checking that both are readable, parse, match each
 * other, and that the certificate is current. One expiring within 30 days is saved, with its warning.
 */
export async function setSsl(ctx: Context, actor: Actor, input: {cert: string; key: string}): Promise<CertificateFacts> {
	const paths = {cert: input.cert.trim() && ctx.resolvePath(input.cert.trim()), key: input.key.trim() && ctx.resolvePath(input.key.trim())};
	// Checked inside the audited transaction so that a refused certificate is audited too.
	return perform(ctx, actor, 'settings.ssl', paths.cert, db => {
		authorize(actor, 'server.settings');
		if (!paths.cert || !paths.key) throw invalid('SSL needs both a certificate file and a key file.');
		const cert = checkCertificatePair(ctx, paths);
		db.settings.ssl = paths;
		touch(db.settings);
		return certificateFacts(cert, ctx.now());
	});
}

function checkCertificatePair(ctx: Context, input: {cert: string; key: string}): X509Certificate {
	const read = (path: string, what: 'certificate' | 'key') => {
		try {
			return ctx.readFile(path, what);
		} catch (error) {
			throw invalid(`The ${what} file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
		}
	};
	const certBytes = read(input.cert, 'certificate');
	const keyBytes = read(input.key, 'key');
	const cert = parseCertificate(certBytes);
	if (!cert) throw invalid(`The certificate file ${input.cert} holds no PEM certificate.`);
	let key: ReturnType<typeof createPrivateKey>;
	try {
		key = createPrivateKey(keyBytes);
	} catch {
		throw invalid(`The key file ${input.key} holds no private key orgctl can read (an unencrypted PEM key is needed).`);
	}
	if (!cert.checkPrivateKey(key)) throw invalid(`The key in ${input.key} does not belong to the certificate in ${input.cert}.`);
	const now = ctx.now();
	if (new Date(cert.validTo) <= now) throw invalid(`The certificate in ${input.cert} expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}.`);
	if (new Date(cert.validFrom) > now) throw invalid(`The certificate in ${input.cert} is not valid before ${new Date(cert.validFrom).toISOString().slice(0, 10)}.`);
	return cert;
}
