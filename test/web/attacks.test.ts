import {execFileSync} from 'node:child_process';
import {chmodSync} from 'node:fs';
import {connect} from 'node:net';
import {dirname} from 'node:path';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {acceptInvitation, createInvitation} from '../../source/core/invitations.js';
import {setPolicy} from '../../source/core/server-settings.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {setSmtpSettings} from '../../source/core/smtp-settings.js';
import {createTenant} from '../../source/core/tenants.js';
import {clientGroup} from '../../source/web/budgets.js';
import {redactPath} from '../../source/web/request-log.js';
import {LIMITS} from '../../source/web/site.js';
import {TestSmtpServer} from '../helpers/smtp.js';
import {BACKEND} from '../helpers/backend.js';
import {Clock} from '../helpers/store.js';
import {form, formToken, send, served} from './helpers.js';

/**
 * The red team's attacks on `orgctl serve` (notes/redteam-15-11.md), each against a real server on
 * loopback and a real store in a temp folder. 127.0.0.x source addresses stand for many clients.
 */

let smtp: TestSmtpServer;
beforeAll(async () => {
	smtp = await new TestSmtpServer().start();
});
afterAll(async () => smtp.stop());

/** Counts the store's write transactions (the real store, its method wrapped). */
function countWrites(store: {transact: (...args: never[]) => Promise<unknown>}): {count: number} {
	const writes = {count: 0};
	const original = store.transact.bind(store) as (...args: never[]) => Promise<unknown>;
	store.transact = (...args: never[]) => {
		writes.count++;
		return original(...args);
	};
	return writes;
}

const ID = '0123456789abcdef0123456789abcdef';

describe('a flood of refused anonymous requests (finding 1)', () => {
	it('a flood of dead invitation links from many addresses keeps the real audit trail and costs the store a write per flush, not per request', async () => {
		// The test's clock stands still: every refusal falls in one minute.
		const {ctx, root, url} = await served({clock: new Clock()});
		await setPolicy(ctx, root, {auditMaxEvents: 1000});
		const real = ctx.store.read().audit.map(e => e.id);
		const writes = countWrites(ctx.store as never);
		const from = Array.from({length: 5}, (_, i) => `127.0.0.${10 + i}`);
		const statuses: number[] = [];
		const started = performance.now();
		// 5 addresses × 220 GETs = 1,100 refusals, more than the whole audit cap.
		for (let round = 0; round < 22; round++) {
			const batch = from.flatMap(address => Array.from({length: 10}, (_, i) => send(`${url}/invite/${round}x${i}.garbage`, {from: address})));
			for (const r of await Promise.all(batch)) statuses.push(r.status);
		}
		expect(new Set(statuses)).toEqual(new Set([404]));
		await vi.waitFor(() => expect(ctx.store.read().audit.filter(e => e.action === 'invitation.accept' && e.target.startsWith('220 refused'))).toHaveLength(5), {timeout: 20_000, interval: 100});
		// A write per flush (every 50 ms here, 2 s by default), not per request: at most one per flush
		// window that went by (the run takes 3 s alone, 20 s beside a busy machine), and far fewer than the 1,100 requests.
		const windows = Math.ceil((performance.now() - started) / 50);
		expect(writes.count).toBeLessThanOrEqual(windows + 5);
		expect(writes.count).toBeLessThan(statuses.length / 2);
		const audit = ctx.store.read().audit;
		expect(audit.map(e => e.id).filter(id => real.includes(id))).toEqual(real);
		// One counted event per address (and minute), with its address.
		const counted = audit.filter(e => e.action === 'invitation.accept');
		expect(counted.map(e => e.clientAddress).sort()).toEqual(from);
		for (const event of counted) expect(event.target).toMatch(/^220 refused from this address in the minute from \d{4}-\d\d-\d\dT\d\d:\d\dZ; the first: invitation /);
	}, 60_000);
});

describe('one budget per address across every form and page (finding 2)', () => {
	it('POSTs to every form share one budget of LIMITS.postsPerMinute per address', async () => {
		const {url} = await served();
		const targets = ['/signup', '/signup/code', '/signup/verify', `/invite/${ID}.x`];
		const statuses: number[] = [];
		for (let i = 0; i < LIMITS.postsPerMinute + 4; i++) statuses.push((await send(`${url}${targets[i % 4]}`, {...form({x: '1'}), from: '127.0.0.21'})).status);
		expect(statuses.slice(0, LIMITS.postsPerMinute)).toEqual(Array(LIMITS.postsPerMinute).fill(403));
		expect(statuses.slice(LIMITS.postsPerMinute)).toEqual([429, 429, 429, 429]);
		expect((await send(`${url}/signup`, {...form({x: '1'}), from: '127.0.0.22'})).status).toBe(403);
	});

	it('page views of every page and 404s share one budget per address', async () => {
		const {url} = await served({serve: {limits: {pagesPerMinute: 8}}});
		const paths = ['/', '/signup', `/invite/${ID}.x`, '/nothing-here'];
		const statuses: number[] = [];
		for (let i = 0; i < 10; i++) statuses.push((await send(`${url}${paths[i % 4]}`, {from: '127.0.0.23'})).status);
		expect(statuses.slice(8)).toEqual([429, 429]);
		expect((await send(`${url}/`, {from: '127.0.0.24'})).status).toBe(200);
	});

	it('all anonymous POSTs together are capped per minute, whatever the number of addresses', async () => {
		const {url} = await served({serve: {limits: {allPostsPerMinute: 6}}});
		const statuses: number[] = [];
		for (let i = 0; i < 8; i++) statuses.push((await send(`${url}/signup`, {...form({x: '1'}), from: `127.0.0.${30 + i}`})).status);
		expect(statuses).toEqual([403, 403, 403, 403, 403, 403, 429, 429]);
		const cut = await send(`${url}/signup`, {...form({x: '1'}), from: '127.0.0.40'});
		expect(cut.body).toContain('This server has had too many requests in the last minute');
	});

	it('IPv6 clients share a budget per /64; IPv4-mapped addresses count as their IPv4 address', () => {
		expect(clientGroup('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
		expect(clientGroup('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
		expect(clientGroup('2001:0db8:0001:0002::')).toBe('2001:db8:1:2::/64');
		expect(clientGroup('2001:db8::1')).toBe('2001:db8:0:0::/64');
		expect(clientGroup('::1')).toBe('0:0:0:0::/64');
		expect(clientGroup('::ffff:192.0.2.7')).toBe('192.0.2.7');
		expect(clientGroup('192.0.2.7')).toBe('192.0.2.7');
		expect(clientGroup('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
	});
});

/** One raw request line, as a client that is not a browser sends it. */
function raw(url: string, text: string): Promise<string> {
	const {port} = new URL(url);
	return new Promise((resolve, reject) => {
		// Written, not ended: a client that half-closes before the answer may see its request dropped
		// unanswered (and unlogged) when the server waits a moment for the store (PostgreSQL).
		const socket = connect({host: '127.0.0.1', port: Number(port)}, () => socket.write(text));
		let answer = '';
		socket.setEncoding('utf8');
		socket.on('data', chunk => (answer += chunk));
		socket.on('end', () => resolve(answer));
		socket.on('error', reject);
	});
}

describe('the log never holds a link (finding 3)', () => {
	it('a percent-encoded, doubled-slash, upper-case or absolute-form request for a live link logs no secret', async () => {
		const {ctx, root, url, log} = await served();
		const {link} = await createInvitation(ctx, root, {username: 'ann', email: 'ann@example.com'}, {sendEmail: false});
		const token = new URL(link).pathname.slice('/invite/'.length);
		const secret = token.split('.')[1]!;
		for (const path of [`/%69nvite/${token}`, `//invite/${token}`, `/INVITE/${token}`, `/./invite/${token}`, `/x/${token.replace('.', '%2E')}`]) await send(`${url}${path}`);
		await raw(url, `GET http://evil.example/invite/${token} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`);
		await vi.waitFor(() => expect(log.filter(l => / (GET) /.test(l))).toHaveLength(6), {timeout: 10_000});
		expect(log.join('\n')).not.toContain(secret);
		expect(log.join('\n')).not.toContain(secret.slice(0, 20));
		expect(redactPath(`/a/${ID}.${secret}/b`)).toBe('/a/…/b');
	});
});

describe('connections are bounded (finding 4)', () => {
	it('an address past connectionsPerAddress is cut at once while another address is served; maxConnections is set', async () => {
		const {url, server} = await served({serve: {limits: {connectionsPerAddress: 3}}});
		const {port} = new URL(url);
		const held = await Promise.all(
			Array.from(
				{length: 3},
				() =>
					new Promise<import('node:net').Socket>(resolve => {
						const s = connect({host: '127.0.0.1', port: Number(port), localAddress: '127.0.0.50'}, () => resolve(s));
					}),
			),
		);
		try {
			await vi.waitFor(async () => expect(await send(`${url}/healthz`, {from: '127.0.0.50'}).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ECONNRESET'));
			expect((await send(`${url}/healthz`, {from: '127.0.0.51'})).status).toBe(200);
		} finally {
			for (const s of held) s.destroy();
		}
		expect(server.maxConnections).toBe(LIMITS.maxConnections);
	});
});

describe('sign-up cannot be used to mail or guess without bound (findings 5 and 6)', () => {
	async function signupServer(tenants = 1) {
		const s = await served();
		await setSmtpSettings(s.ctx, s.root, {host: '127.0.0.1', port: smtp.port, security: 'none', from: 'orgctl@corp.com', timeoutMs: 2000});
		await addSignupDomain(s.ctx, s.root, {domain: 'corp.com'});
		for (let i = 1; i < tenants; i++) {
			const tenant = await createTenant(s.ctx, s.root, `secret-target${i}`);
			await addSignupDomain(s.ctx, {...s.root, tenant}, {domain: 'corp.com'});
		}
		return s;
	}
	async function post(url: string, path: string, fields: Record<string, string>, from = '127.0.0.1') {
		const {cookie, token} = await formToken(`${url}/signup`);
		return send(`${url}${path}`, {...form({_csrf: token, ...fields}), headers: {'content-type': 'application/x-www-form-urlencoded', cookie}, from});
	}

	it('at most SIGNUP.mailsPerDomainPerHour sign-up mails to one domain in an hour, from any number of addresses', async () => {
		const {ctx, url} = await signupServer();
		const {SIGNUP} = await import('../../source/core/signup.js');
		const before = smtp.messages.length;
		const answers: number[] = [];
		for (let i = 0; i < SIGNUP.mailsPerDomainPerHour + 2; i++) answers.push((await post(url, '/signup', {email: `v${i}@corp.com`, username: `v${i}`}, `127.0.0.${60 + (i % 20)}`)).status);
		expect(answers.slice(0, SIGNUP.mailsPerDomainPerHour)).toEqual(Array(SIGNUP.mailsPerDomainPerHour).fill(200));
		expect(answers.slice(SIGNUP.mailsPerDomainPerHour)).toEqual([503, 503]);
		await smtp.waitForMessages(before + SIGNUP.mailsPerDomainPerHour, 10_000);
		expect(smtp.messages.length - before).toBe(SIGNUP.mailsPerDomainPerHour);
		expect(ctx.store.read().pendingSignups).toHaveLength(SIGNUP.mailsPerDomainPerHour);
	}, 60_000);

	it('an SMTP reply never reaches the visitor: the page says only that the mail could not be sent', async () => {
		const {url} = await signupServer();
		smtp.mode = 'reject5xx';
		try {
			const answer = await post(url, '/signup', {email: 'evilrcpt@corp.com', username: 'evilr'});
			expect(answer.body).toContain('The mail to evilrcpt@corp.com could not be sent; try again later or ask an admin.');
			expect(answer.body).not.toContain(smtp.reason5xx);
		} finally {
			smtp.mode = 'accept';
		}
	});

	it('anonymous sign-up answers name no tenant; a tenant that does not exist answers like a closed one', async () => {
		const {url} = await signupServer(2);
		const several = await post(url, '/signup', {email: 'z1@corp.com', username: 'zed1'});
		expect(several.body).toContain('Addresses at corp.com can sign up in more than one organization here');
		expect(several.body).not.toContain('secret-target1');
		const nosuch = await post(url, '/signup', {email: 'z3@gmail.com', username: 'zed3', tenant: 'nosuch'});
		const closed = await post(url, '/signup', {email: 'z3@gmail.com', username: 'zed3', tenant: 'secret-target1'});
		expect(nosuch.status).toBe(closed.status);
		expect(nosuch.body).toContain('Self sign-up is not open for addresses at gmail.com; ask an admin for an invitation.');
		expect(nosuch.body).not.toContain('nosuch');
		expect(closed.body).toContain('Self sign-up is not open for addresses at gmail.com; ask an admin for an invitation.');
		const verify = await post(url, '/signup/verify', {email: 'z9@corp.com', code: '12345678', password: 'long enough password', repeat: 'long enough password', tenant: 'nonexist'});
		expect(verify.body).not.toContain('nonexist');
	});

	it('the sign-up page header shows a tenant name only for a tenant with sign-up open', async () => {
		const {url} = await signupServer(2);
		const phish = await send(`${url}/signup?tenant=${encodeURIComponent('IT Security Desk: call +1-555-0100')}`);
		expect(phish.body).toContain('<header>orgctl</header>');
		expect(phish.body).not.toContain('IT Security Desk');
		expect((await send(`${url}/signup?tenant=secret-target1`)).body).toContain('<header>orgctl · secret-target1</header>');
	});
});

describe('a used or revoked link with a wrong secret (finding 7)', () => {
	it('is "not valid" (404) like a tampered link: no account name, no revoker; the right secret still learns it was used', async () => {
		const {ctx, root, url} = await served();
		const {link} = await createInvitation(ctx, root, {username: 'carol', email: 'carol@example.com'}, {sendEmail: false});
		await acceptInvitation(ctx, {link, password: 'long enough password'});
		const path = new URL(link).pathname;
		const forged = await send(`${url}${path.split('.')[0]}.${'A'.repeat(43)}`);
		expect(forged.status).toBe(404);
		expect(forged.body).toContain('This invitation link is not valid');
		expect(forged.body).not.toContain('carol');
		const used = await send(`${url}${path}`);
		expect(used.status).toBe(410);
		expect(used.body).toContain('the account carol exists');
	});
});

describe('errors and health (findings 10, 11)', () => {
	it('a malformed URL gets the generic page with the usual headers and a log line, not a JSON echo of the path', async () => {
		const {url, log} = await served();
		const answer = await send(`${url}/invite/%E0%A4%A`);
		expect(answer.status).toBe(400);
		expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
		expect(answer.headers['content-security-policy']).toBe("default-src 'none';style-src 'self';frame-ancestors 'none';form-action 'self'");
		expect(answer.headers['x-frame-options']).toBe('DENY');
		expect(answer.headers['cache-control']).toBe('no-store');
		expect(answer.body).toContain('The server could not make sense of that request.');
		expect(answer.body).not.toContain('%E0');
		expect(log.some(l => / GET \/invite\/… 400 /.test(l))).toBe(true);
	});

	// The store file's folder made unwritable (a PostgreSQL store has no folder of its own).
	it.skipIf(BACKEND !== 'file')('/healthz is not ok (503) while the store cannot be written', async () => {
		const {ctx, url, log} = await served();
		const dir = dirname(ctx.store.path);
		const root = process.getuid?.() === 0;
		// Root writes through modes: the folder is made immutable instead (as the red team did).
		const lock = () => (root ? execFileSync('chattr', ['+i', dir]) : chmodSync(dir, 0o500));
		const unlock = () => (root ? execFileSync('chattr', ['-i', dir]) : chmodSync(dir, 0o700));
		lock();
		try {
			const health = await send(`${url}/healthz`);
			expect(health).toMatchObject({status: 503, body: 'not ok: the store cannot be written\n'});
			expect(log.join('\n')).toMatch(/healthz: the store cannot be written \(E(PERM|ACCES)\)/);
		} finally {
			unlock();
		}
		await new Promise(resolve => setTimeout(resolve, 1100));
		expect(await send(`${url}/healthz`)).toMatchObject({status: 200, body: 'ok\n'});
	});
});
