import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import type {Actor, Context} from '../source/core/context.js';
import type {Settings} from '../source/core/model.js';
import {setListener, setPolicy, setPublicUrl, setSsl} from '../source/core/server-settings.js';
import {setSmtpSettings, type SmtpInput} from '../source/core/smtp-settings.js';
import {createTenant} from '../source/core/tenants.js';
import {makeCertificate, removeCertificate} from './helpers/smtp.js';
import {initializedContext} from './helpers/store.js';

// Each section validates before it saves (DESIGN §3): every invalid value is refused with its
// reason, the refusal is audited, and the settings on disk are exactly what they were.

const good = makeCertificate();
const other = makeCertificate();
afterAll(() => {
	removeCertificate(good);
	removeCertificate(other);
});

/** Runs `attempt`, expects it refused with `reason`, and the stored settings unchanged. */
async function refusedUnchanged(ctx: Context, attempt: () => Promise<unknown>, reason: string | RegExp): Promise<void> {
	const before: Settings = structuredClone(ctx.store.read().settings);
	const events = ctx.store.read().audit.length;
	await expect(attempt()).rejects.toThrow(reason);
	expect(ctx.store.read().settings).toEqual(before);
	const audit = ctx.store.read().audit;
	expect(audit).toHaveLength(events + 1);
	expect(audit.at(-1)).toMatchObject({result: 'refused', reason: expect.any(String)});
}

async function withSmtp(): Promise<{ctx: Context & {dir: string}; root: Actor}> {
	const {ctx, root} = await initializedContext();
	await setSmtpSettings(ctx, root, {host: 'mail.example.com', port: 587, security: 'starttls', from: 'orgctl@example.com', user: 'orgctl', password: 'kept password'});
	return {ctx, root};
}

describe('SMTP settings refuse each invalid value and save nothing', () => {
	const base: SmtpInput = {host: 'mail.example.com', port: 587, security: 'starttls', from: 'orgctl@example.com'};
	const cases: Array<[string, Partial<SmtpInput> | ((dir: string) => Partial<SmtpInput>), string | RegExp]> = [
		['a host with a space', {host: 'mail example.com'}, '"mail example.com" is not a host name or IP address.'],
		['port 0', {port: 0}, 'The SMTP port must be a whole number from 1 to 65535, not 0.'],
		['port 65536', {port: 65536}, 'The SMTP port must be a whole number from 1 to 65535, not 65536.'],
		['a port typed as words', {port: 'twenty'}, 'The SMTP port must be a whole number from 1 to 65535, not twenty.'],
		['an unknown security mode', {security: 'ssl' as SmtpInput['security']}, 'The SMTP security must be none, starttls or tls, not "ssl".'],
		['a sender that is no address', {from: 'orgctl at example.com'}, /orgctl at example\.com/],
		['a sender smuggling a second address', {from: 'a@example.com,b@evil.example'}, /a@example\.com,b@evil\.example/],
		['a password without a user', {password: 'secret'}, 'An SMTP password needs an SMTP user (--user).'],
		['a timeout of 5 ms', {timeoutMs: 5}, 'The SMTP timeout must be from 100 to 300000 milliseconds.'],
		['a timeout typed as words', {timeoutMs: 'soon'}, 'The SMTP timeout must be from 100 to 300000 milliseconds.'],
		['a CA file that is missing', {caFile: '/nonexistent/ca.pem'}, 'The CA file /nonexistent/ca.pem cannot be read (ENOENT).'],
		[
			'a CA file without a certificate',
			dir => {
				writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
				return {caFile: join(dir, 'ca.pem')};
			},
			/holds no PEM certificate/,
		],
	];
	for (const [what, change, reason] of cases) {
		it(`refuses ${what}`, async () => {
			const {ctx, root} = await withSmtp();
			const extra = typeof change === 'function' ? change(ctx.dir) : change;
			await refusedUnchanged(ctx, () => setSmtpSettings(ctx, root, {...base, ...extra}), reason);
			// The sealed password survived the refused attempt.
			expect(ctx.store.read().settings.smtp?.passwordSealed).not.toBeNull();
		});
	}

	it('takes the port and timeout as typed in a form', async () => {
		const {ctx, root} = await withSmtp();
		const view = await setSmtpSettings(ctx, root, {...base, port: ' 2525 ', timeoutMs: '3000', user: 'orgctl'});
		expect(view).toMatchObject({port: 2525, timeoutMs: 3000, hasPassword: true});
	});
});

describe('SSL settings refuse each invalid value and save nothing', () => {
	const key = join(good.dir, 'key.pem');
	const cases: Array<[string, (dir: string) => {cert: string; key: string}, string | RegExp]> = [
		['a certificate file that is missing', () => ({cert: '/nonexistent/cert.pem', key}), 'The certificate file /nonexistent/cert.pem cannot be read (ENOENT).'],
		['a key file that is missing', () => ({cert: good.certFile, key: '/nonexistent/key.pem'}), 'The key file /nonexistent/key.pem cannot be read (ENOENT).'],
		[
			'a certificate file without a certificate',
			dir => {
				writeFileSync(join(dir, 'junk.pem'), 'junk');
				return {cert: join(dir, 'junk.pem'), key};
			},
			/holds no PEM certificate/,
		],
		[
			'a key file without a key',
			dir => {
				writeFileSync(join(dir, 'junk.key'), 'junk', {mode: 0o600}); // a key others may read is refused before its content is looked at
				return {cert: good.certFile, key: join(dir, 'junk.key')};
			},
			/holds no private key orgctl can read/,
		],
		['a key that belongs to another certificate', () => ({cert: good.certFile, key: join(other.dir, 'key.pem')}), /does not belong to the certificate/],
		['no paths at all', () => ({cert: ' ', key: ''}), 'SSL needs both a certificate file and a key file.'],
	];
	for (const [what, input, reason] of cases) {
		it(`refuses ${what}`, async () => {
			const {ctx, root} = await initializedContext();
			await setSsl(ctx, root, {cert: good.certFile, key});
			await refusedUnchanged(ctx, () => setSsl(ctx, root, input(ctx.dir)), reason);
		});
	}

	it('refuses an expired certificate, and warns about one that expires within 30 days', async () => {
		const {ctx, root} = await initializedContext();
		// makeCertificate's certificate is valid for 2 days: it expires "within 30 days" at once.
		const facts = await setSsl(ctx, root, {cert: good.certFile, key});
		expect(facts).toMatchObject({subject: 'CN=localhost', subjectAltNames: ['DNS:localhost', 'IP Address:127.0.0.1'], daysLeft: 1, warning: expect.stringMatching(/^expires in 1 day, on \d{4}-\d\d-\d\d; renew it$/)});
		expect(facts.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
		ctx.clock.advance(3 * 86_400);
		await refusedUnchanged(ctx, () => setSsl(ctx, root, {cert: good.certFile, key}), /expired on \d{4}-\d\d-\d\d\./);
	});
});

describe('listeners refuse each invalid value and save nothing', () => {
	const cases: Array<[string, Parameters<typeof setListener>[2], string | RegExp]> = [
		['a listener the server does not have', {name: 'http', port: 8080}, 'There is no listener "http"; a server has two: crashes (crash reports from applications) and requests (invitation and sign-up pages, single sign-on: orgctl serve).'],
		['port 0', {name: 'crashes', port: 0}, 'The port must be a whole number from 1 to 65535, not 0.'],
		['port 70000', {name: 'crashes', port: 70000}, 'The port must be a whole number from 1 to 65535, not 70000.'],
		['a port typed as words', {name: 'crashes', port: 'http'}, 'The port must be a whole number from 1 to 65535, not http.'],
		['an address that is none', {name: 'crashes', port: 9000, address: 'not an address!'}, '"not an address!" is not an IP address to listen on (such as 127.0.0.1, 0.0.0.0 or ::).'],
		['the port of the other listener on an overlapping address', {name: 'crashes', port: 8080, address: '127.0.0.1'}, 'Port 8080 is already used by the listener requests (0.0.0.0:8080).'],
		['SSL with no certificate', {name: 'crashes', port: 9443, ssl: true}, 'SSL needs a certificate and key first: set them with `orgctl settings ssl set`.'],
	];
	for (const [what, input, reason] of cases) {
		it(`refuses ${what}`, async () => {
			const {ctx, root} = await initializedContext();
			await setListener(ctx, root, {name: 'requests', port: 8080});
			await refusedUnchanged(ctx, () => setListener(ctx, root, input), reason);
		});
	}

	it('the same port on two different addresses is fine', async () => {
		const {ctx, root} = await initializedContext();
		await setListener(ctx, root, {name: 'requests', port: 8080, address: '127.0.0.1'});
		await expect(setListener(ctx, root, {name: 'crashes', port: '8080', address: '10.0.0.1'})).resolves.toEqual({name: 'crashes', address: '10.0.0.1', port: 8080, ssl: false});
	});

	it('SSL needs a certificate that is still valid: once it has expired, turning SSL on is refused', async () => {
		const {ctx, root} = await initializedContext();
		await setSsl(ctx, root, {cert: good.certFile, key: join(good.dir, 'key.pem')});
		await expect(setListener(ctx, root, {name: 'requests', port: 8443, ssl: true})).resolves.toMatchObject({ssl: true});
		ctx.clock.advance(3 * 86_400);
		await refusedUnchanged(ctx, () => setListener(ctx, root, {name: 'crashes', port: 9443, ssl: true}), /^The crashes listener cannot use SSL until the certificate is fixed: the certificate in .* expired on/);
	});
});

describe('the public URL and the organization policy refuse each invalid value and save nothing', () => {
	const urls: Array<[string, string, string | RegExp]> = [
		['no URL', 'crash example com', /is not a URL/],
		['another scheme', 'ftp://crash.example.com', 'The public URL must start with https:// or http://, not ftp:.'],
		['a query', 'https://crash.example.com/?next=evil', 'The public URL must not carry a query, a fragment or credentials.'],
		['credentials', 'https://admin:pw@crash.example.com', 'The public URL must not carry a query, a fragment or credentials.'],
	];
	for (const [what, url, reason] of urls) {
		it(`the public URL refuses ${what}`, async () => {
			const {ctx, root} = await initializedContext();
			await refusedUnchanged(ctx, () => setPublicUrl(ctx, root, url), reason);
		});
	}

	const policies: Array<[string, Parameters<typeof setPolicy>[2], string]> = [
		['an invitation lifetime under an hour', {invitationLifetimeSeconds: 60}, 'The invitation lifetime must be between 1 hour and 90 days.'],
		['an invitation lifetime over 90 days', {invitationLifetimeSeconds: 91 * 86_400}, 'The invitation lifetime must be between 1 hour and 90 days.'],
		['a minimum password length of 4', {minPasswordLength: 4}, 'The minimum password length must be a whole number from 8 to 256.'],
		['a minimum password length typed as words', {minPasswordLength: 'twelve'}, 'The minimum password length must be a whole number from 8 to 256.'],
	];
	for (const [what, change, reason] of policies) {
		it(`the policy refuses ${what}`, async () => {
			const {ctx, root} = await initializedContext();
			await refusedUnchanged(ctx, () => setPolicy(ctx, root, change), reason);
		});
	}
});

describe('tenants refuse invalid names and create nothing', () => {
	for (const [what, name, reason] of [
		['capitals and spaces', 'Not A Label', /is not a valid tenant name/],
		['a leading hyphen', '-acme', /is not a valid tenant name/],
		['64 characters', 'a'.repeat(64), /is not a valid tenant name/],
		['a name taken', 'default', 'A tenant named default already exists.'],
	] as const) {
		it(`refuses ${what}`, async () => {
			const {ctx, root} = await initializedContext();
			const before = structuredClone(ctx.store.read().tenants);
			await expect(createTenant(ctx, root, name)).rejects.toThrow(reason);
			expect(ctx.store.read().tenants).toEqual(before);
			expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'tenant.create', result: 'refused'});
		});
	}
});
