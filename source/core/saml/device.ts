import {randomInt} from 'node:crypto';
import {checkTenantName, checkUsername, resolveActor} from '../accounts.js';
import {appendAudit, refuse, type AuditActor} from '../audit.js';
import type {Actor, Context} from '../context.js';
import {authFailed, refused} from '../errors.js';
import {newId, newSecret, secretMatches, sha256} from '../ids.js';
import type {Database, DeviceLogin, User} from '../model.js';
import {addSamlRequest, samlConfigIn, SAML_REQUEST_SECONDS} from './sign-in.js';

/**
 * A terminal's single sign-on, as `gh auth login` does it over SSH (DESIGN §5a): the console or
 * `orgctl login --username U` shows a URL on `orgctl serve` and a short code; whoever opens the URL
 * types the code, sees the host, the start time and the client address of the terminal (a phished
 * code shows someone else's), signs in at the IdP; the terminal polls the store and completes.
 * A code lasts 10 minutes and works once.
 */

/** Consonants only, none that look alike: no word, no 0/O or 1/I. */
const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const DEVICE_CODE_LENGTH = 8;
export const DEVICE_LOGIN_SECONDS = SAML_REQUEST_SECONDS;
/** Where the code is typed, under the public URL. */
export const DEVICE_PATH = '/login/device';

function newCode(): string {
	let code = '';
	for (let i = 0; i < DEVICE_CODE_LENGTH; i++) code += ALPHABET.charAt(randomInt(ALPHABET.length));
	return code;
}

/** `WDJB-MJHT` as people read it. */
export function formatDeviceCode(code: string): string {
	return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** What people type, as stored: letters only, upper case (`wdjb mjht` is `WDJBMJHT`). */
export function normaliseDeviceCode(typed: string): string {
	return typed.toUpperCase().replace(/[^A-Z]/g, '');
}

function codeMac(ctx: Context, code: string): string {
	return ctx.secrets.mac(`orgctl device login code: ${code}`);
}

/** Where a terminal's sign-in started, for the code page: the address is what the terminal claims (its SSH_CONNECTION). */
export type TerminalOrigin = {readonly host: string; readonly clientAddress: string};

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Whether `text` is an IPv4 or IPv6 address (no zone, no port, nothing else). */
export function isIpAddress(text: string): boolean {
	if (IPV4.test(text)) return true;
	if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text) || !text.includes(':')) return false;
	try {
		// The WHATWG URL parser is a strict IPv6 parser (with an IPv4 tail): it refuses anything else.
		new URL(`http://[${text}]/`);
		return true;
	} catch {
		return false;
	}
}

/** What is stored as the client address: the terminal's claim if it is an IP address, else "unknown" (never free text shown to the person at the browser). */
export function claimedAddress(text: string): string {
	const trimmed = text.trim();
	return isIpAddress(trimmed) ? trimmed : 'unknown';
}

export type DeviceLoginStarted = {
	readonly id: string;
	readonly username: string;
	/** Only the poller holds it: it alone turns the completed sign-in into a session. */
	readonly pollSecret: string;
	readonly code: string;
	readonly url: string;
	readonly expires: string;
};

/**
 * Starts a terminal's single sign-on for `username`. Nothing is proven yet, so every name gets the
 * same answer (red team 10-14 #4): a code, whether it names a SAML user, a password user, a disabled
 * one, one in several tenants or nobody. Which of those it is shows only at the IdP, after someone
 * signed in there (the ACS refuses any but the enabled SAML user the terminal named). Refused here
 * only what does not depend on the name: SSO not set up, a name no username can be. The audit calls
 * whoever starts it `anonymous`, as login does.
 */
export async function startDeviceLogin(ctx: Context, input: {readonly username: string; readonly tenant?: string | undefined; readonly origin: TerminalOrigin}): Promise<DeviceLoginStarted> {
	const who: AuditActor = {label: 'anonymous', tenantId: null};
	let username = input.username;
	try {
		username = checkUsername(input.username);
		if (input.tenant !== undefined) checkTenantName(input.tenant);
		const db = ctx.store.read();
		samlConfigIn(ctx, db);
		const found = findUser(db, username, input.tenant);
		// Whom the sign-in is for: the one enabled SAML user the name means, else nobody (the ACS then refuses whoever signs in).
		const user = found && found.method === 'saml' && !found.disabled ? found : undefined;
		const code = newCode();
		const pollSecret = newSecret();
		const now = ctx.now();
		const record: DeviceLogin = {
			id: newId(),
			codeMac: codeMac(ctx, code),
			pollSecretHash: sha256(pollSecret),
			username,
			tenant: input.tenant ?? null,
			host: input.origin.host.slice(0, 253),
			clientAddress: claimedAddress(input.origin.clientAddress),
			created: now.toISOString(),
			expires: new Date(now.getTime() + DEVICE_LOGIN_SECONDS * 1000).toISOString(),
			state: 'pending',
			// Whom this sign-in is for, fixed now: the ACS requires this user's address (nobody: it refuses whoever signs in).
			userId: user?.id ?? null,
			reason: null,
		};
		await ctx.store.transact(d => {
			const iso = now.toISOString();
			// Expired and finished ones go while we hold the lock.
			d.deviceLogins = d.deviceLogins.filter(x => x.expires > iso && x.state !== 'finished');
			d.deviceLogins.push(record);
			appendAudit(d, ctx, {label: 'anonymous', tenantId: found?.tenantId ?? null}, {action: 'login.sso.start', target: username, result: 'ok'});
		});
		// The name as typed: the stored spelling of an account would tell that it exists.
		return {id: record.id, username, pollSecret, code: formatDeviceCode(code), url: `${db.settings.publicUrl.replace(/\/+$/, '')}${DEVICE_PATH}`, expires: record.expires};
	} catch (error) {
		return refuse(ctx, who, 'login.sso.start', username, error);
	}
}

/** The one account a username names (in the tenant, or anywhere), or undefined: none, several, or an unknown tenant alike. */
function findUser(db: Database, username: string, tenantName?: string): User | undefined {
	const tenant = tenantName ? db.tenants.find(t => t.name === tenantName) : undefined;
	if (tenantName && !tenant) return undefined;
	const matches = db.users.filter(u => (!tenant || u.tenantId === tenant.id) && u.username.toLowerCase() === username.toLowerCase());
	return matches.length === 1 ? matches[0] : undefined;
}

/** What the code page shows before the browser goes to the IdP. */
export type DeviceLoginView = Pick<DeviceLogin, 'username' | 'tenant' | 'host' | 'clientAddress' | 'created' | 'expires'>;

const WRONG_CODE = 'No terminal sign-in is waiting for this code: check it against your terminal (codes last 10 minutes and work once).';

/** The pending sign-in a typed code names, or a refusal (audited). */
async function pendingFor(ctx: Context, typed: string, action: string): Promise<DeviceLogin> {
	const code = normaliseDeviceCode(typed);
	const mac = code.length === DEVICE_CODE_LENGTH ? codeMac(ctx, code) : '';
	const now = ctx.now();
	const device = mac === '' ? undefined : ctx.store.read().deviceLogins.find(d => d.codeMac === mac);
	let error: Error | undefined;
	if (!device) error = authFailed(WRONG_CODE, {code: 'saml.device-code'});
	else if (device.state !== 'pending') error = refused('This code was used already: a code works once; start a new sign-in in the terminal.', {code: 'saml.device-used'});
	else if (new Date(device.expires) <= now) error = refused(`This code expired at ${device.expires}; start a new sign-in in the terminal.`, {code: 'saml.device-expired'});
	if (error) return refuse(ctx, {label: 'anonymous', tenantId: null}, action, device ? `terminal sign-in of ${device.username}` : 'terminal sign-in', error);
	return device!;
}

/** `POST /login/device` with a code: where and when the sign-in started, to be recognised (or not) by the person at the browser. */
export async function inspectDeviceCode(ctx: Context, typed: string): Promise<DeviceLoginView> {
	const device = await pendingFor(ctx, typed, 'login.sso.code');
	return {username: device.username, tenant: device.tenant, host: device.host, clientAddress: device.clientAddress, created: device.created, expires: device.expires};
}

/** The code page's "Continue": a request bound to this terminal's sign-in, whose id the IdP signs back. */
export async function confirmDeviceCode(ctx: Context, typed: string): Promise<string> {
	const device = await pendingFor(ctx, typed, 'login.sso.confirm');
	samlConfigIn(ctx, ctx.store.read());
	return ctx.store.transact(db => {
		appendAudit(db, ctx, {label: 'anonymous', tenantId: null}, {action: 'login.sso.confirm', target: `terminal sign-in of ${device.username}`, result: 'ok'});
		return addSamlRequest(ctx, db, {kind: 'device', deviceLoginId: device.id});
	});
}

/** What a waiting terminal sees: still waiting (with the last refusal, if any), or signed in. */
export type DevicePoll = {readonly state: 'waiting'; readonly lastRefusal: string | null; readonly expires: string} | {readonly state: 'signed-in'; readonly actor: Actor};

/**
 * The terminal's poll: reads the store (cheap, re-read only when another process wrote it); once
 * the browser side completed, the sign-in is finished here, once, by the holder of the poll secret.
 */
export async function pollDeviceLogin(ctx: Context, login: {readonly id: string; readonly pollSecret: string}): Promise<DevicePoll> {
	const device = ctx.store.read().deviceLogins.find(d => d.id === login.id);
	if (!device || !secretMatches(login.pollSecret, device.pollSecretHash)) throw authFailed('This sign-in is no longer known; start again.', {code: 'saml.device-gone'});
	if (device.state === 'pending') {
		if (new Date(device.expires) <= ctx.now()) throw refused(`The sign-in code expired at ${device.expires} before anyone used it; start again.`, {code: 'saml.device-expired'});
		return {state: 'waiting', lastRefusal: device.reason, expires: device.expires};
	}
	if (device.state !== 'completed' || !device.userId) throw refused('This sign-in was finished already.', {code: 'saml.device-used'});
	const userId = device.userId;
	return ctx.store.transact(db => {
		const current = db.deviceLogins.find(d => d.id === device.id);
		if (current?.state !== 'completed') throw refused('This sign-in was finished already.', {code: 'saml.device-used'});
		current.state = 'finished';
		// Disabled or deleted since the IdP vouched: refused like any session.
		const actor = resolveActor(db, userId, device.tenant ?? undefined);
		appendAudit(db, ctx, actor, {action: 'login', target: actor.user.username, result: 'ok', reason: `single sign-on on ${device.host} (the terminal claims address ${device.clientAddress})`});
		return {state: 'signed-in' as const, actor};
	});
}

/** The terminal gave up (Esc, Ctrl-C): its code stops working at once. */
export async function cancelDeviceLogin(ctx: Context, login: {readonly id: string; readonly pollSecret: string}): Promise<void> {
	await ctx.store.transact(db => {
		const device = db.deviceLogins.find(d => d.id === login.id);
		if (device && secretMatches(login.pollSecret, device.pollSecretHash) && device.state === 'pending') device.state = 'refused';
	});
}

/**
 * Polls until the browser side completes (or the code expires, or `signal` aborts: then the code is
 * cancelled): the one waiting loop of the CLI and the console. `onWaiting` hears each refusal once.
 */
export async function awaitDeviceLogin(ctx: Context, login: DeviceLoginStarted, options: {readonly intervalMs: number; readonly signal?: AbortSignal; readonly onRefusal?: (reason: string) => void}): Promise<Actor> {
	let lastRefusal: string | null = null;
	for (;;) {
		if (options.signal?.aborted) {
			await cancelDeviceLogin(ctx, login);
			throw refused('The single sign-on was cancelled; its code no longer works.', {code: 'saml.device-cancelled'});
		}
		const poll = await pollDeviceLogin(ctx, login);
		if (poll.state === 'signed-in') return poll.actor;
		if (poll.lastRefusal !== null && poll.lastRefusal !== lastRefusal) {
			lastRefusal = poll.lastRefusal;
			options.onRefusal?.(poll.lastRefusal);
		}
		await new Promise<void>(resolve => {
			// One listener at a time: removed when the timer fires (a wait of 10 minutes polls 600 times).
			const onAbort = () => {
				clearTimeout(timer);
				resolve();
			};
			const timer = setTimeout(() => {
				options.signal?.removeEventListener('abort', onAbort);
				resolve();
			}, options.intervalMs);
			options.signal?.addEventListener('abort', onAbort, {once: true});
		});
	}
}
