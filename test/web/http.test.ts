import {writeFileSync} from 'node:fs';
import {createServer} from 'node:http';
import {describe, expect, it, vi} from 'vitest';
import {createInvitation} from '../../source/core/invitations.js';
import {setListener} from '../../source/core/server-settings.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {parseListen} from '../../source/web/listener.js';
import {redactPath} from '../../source/web/request-log.js';
import {serve} from '../../source/web/serve.js';
import {LIMITS} from '../../source/web/site.js';
import {removeCertificate} from '../helpers/smtp.js';
import {BACKEND} from '../helpers/backend.js';
import {initializedContext} from '../helpers/store.js';
import {form, formToken, send, served, servers} from './helpers.js';

describe('orgctl serve answers as the best-kept servers do', () => {
	it('a page holding a secret: a strict CSP, no referrer, never cached, not framed; no HSTS without TLS', async () => {
		const {ctx, root, url} = await served();
		const {link} = await createInvitation(ctx, root, {username: 'ann', email: 'ann@example.com'}, {sendEmail: false});
		const page = await send(`${url}${new URL(link).pathname}`);
		expect(page.status).toBe(200);
		expect(page.headers['content-security-policy']).toBe("default-src 'none';style-src 'self';frame-ancestors 'none';form-action 'self'");
		expect(page.headers['referrer-policy']).toBe('no-referrer');
		expect(page.headers['cache-control']).toBe('no-store');
		expect(page.headers['x-frame-options']).toBe('DENY');
		expect(page.headers['x-content-type-options']).toBe('nosniff');
		expect(page.headers['strict-transport-security']).toBeUndefined();
		expect(page.body).not.toMatch(/<script|style=/);
		expect((await send(`${url}/healthz`)).body).toBe('ok\n');
	});

	it('HSTS when TLS is on', async () => {
		const {url, certificate} = await served({tls: true});
		try {
			const health = await send(`${url}/healthz`, {ca: certificate!.cert});
			expect(health).toMatchObject({status: 200, body: 'ok\n'});
			expect(health.headers['strict-transport-security']).toBe('max-age=31536000');
		} finally {
			removeCertificate(certificate!);
		}
	});

	it('a POST flood from one address is cut off by the rate limit while another address is still served', async () => {
		const {url} = await served();
		const statuses: number[] = [];
		for (let i = 0; i < LIMITS.postsPerMinute + 5; i++) statuses.push((await send(`${url}/signup`, {...form({email: 'x@corp.com', username: 'x'}), from: '127.0.0.1'})).status);
		// Without a CSRF token each is refused (403) until the limit, then cut off (429) before anything else is done.
		expect(statuses.slice(0, LIMITS.postsPerMinute)).toEqual(Array(LIMITS.postsPerMinute).fill(403));
		expect(statuses.slice(LIMITS.postsPerMinute)).toEqual(Array(5).fill(429));
		const cut = await send(`${url}/signup`, {...form({}), from: '127.0.0.1'});
		expect(cut.body).toContain('Too many requests from your address; try again in');
		const other = await send(`${url}/signup`, {...form({}), from: '127.0.0.2'});
		expect(other.status).toBe(403);
		expect((await send(`${url}/signup`, {from: '127.0.0.2'})).status).toBe(200);
	});

	it('a body over the size limit is refused with 413 before it is read into a form', async () => {
		const {url} = await served();
		const big = await send(`${url}/signup`, form({email: 'a'.repeat(LIMITS.bodyBytes + 1), username: 'x'}));
		expect(big.status).toBe(413);
		expect(big.body).toContain('larger than this server accepts');
	});

	// A store file broken under a running server (on PostgreSQL the rows are checked by the database and on every catch-up).
	it.skipIf(BACKEND !== 'file')('no response shows a stack trace or a path: a broken store gives a generic page, the detail goes to the log', async () => {
		const {ctx, root, url, log} = await served();
		const {link} = await createInvitation(ctx, root, {username: 'ann', email: 'ann@example.com'}, {sendEmail: false});
		const json = await send(`${url}/signup`, {method: 'POST', body: '{"a":1}', headers: {'content-type': 'application/json'}});
		expect(json.status).toBe(415);
		writeFileSync(ctx.store.path, '{"schemaVersion": 1, "users": "not a list"}');
		const broken = await send(`${url}${new URL(link).pathname}`);
		expect(broken.status).toBe(500);
		expect(broken.body).toContain('Something went wrong');
		for (const response of [json, broken]) {
			expect(response.body).not.toMatch(/\n\s+at |\.ts:\d+|\.mjs:\d+/);
			expect(response.body).not.toContain(ctx.dir);
		}
		expect(log.join('\n')).toMatch(/error in GET \/invite\/:token: .*orgctl\.json/s);
	});

	it('what a visitor types is escaped by the renderer, never markup', async () => {
		const {ctx, root, url} = await served();
		await addSignupDomain(ctx, root, {domain: 'corp.com'});
		const {cookie, token} = await formToken(`${url}/signup`);
		const evil = '<img src=x onerror=alert(1)>';
		const answer = await send(`${url}/signup`, {...form({_csrf: token, email: 'bea@corp.com', username: evil}), headers: {'content-type': 'application/x-www-form-urlencoded', cookie}});
		expect(answer.status).toBe(400);
		expect(answer.body).toContain('&quot;&lt;img src=x onerror=alert(1)&gt;&quot; is not a valid username');
		expect(answer.body).not.toContain('<img');
	});

	it('dead links answer 404 (never was) or 410 (no more), audited with the client address; the log never holds the secret', async () => {
		const {ctx, root, url, log} = await served();
		const {link} = await createInvitation(ctx, root, {username: 'ann', email: 'ann@example.com'}, {sendEmail: false});
		const path = new URL(link).pathname;
		const tampered = await send(`${url}${path.slice(0, -2)}zz?utm=1`, {from: '127.0.0.2'});
		expect(tampered.status).toBe(404);
		// Counted and written within the flush interval (one store write for any number of refusals).
		await vi.waitFor(() => expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'refused', clientAddress: '127.0.0.2'}));
		expect((await send(`${url}${path}`)).status).toBe(200);
		const secret = path.split('.').at(-1)!;
		expect(log.join('\n')).not.toContain(secret);
		expect(log.join('\n')).toContain('127.0.0.2 GET /invite/…?… 404');
	});
});

describe('a SAML invitation on the web', () => {
	it('is not accepted by a POST while single sign-on is not set up: the page says so', async () => {
		const {ctx, root, url} = await served();
		const {link} = await createInvitation(ctx, root, {username: 'sam', email: 'sam@example.com', method: 'saml'}, {sendEmail: false});
		const path = new URL(link).pathname;
		const {cookie, token} = await formToken(`${url}/signup`);
		const answer = await send(`${url}${path}`, {...form({_csrf: token}), headers: {'content-type': 'application/x-www-form-urlencoded', cookie}});
		expect(answer.status).toBe(503);
		expect(answer.body).toContain('Single sign-on is not set up on this server: a superuser sets the identity provider with orgctl settings sso set');
		expect(ctx.store.read().users.map(u => u.username)).toEqual(['root']);
	});
});

describe('serve options', () => {
	it('--listen takes ADDR:PORT, [v6]:PORT or :PORT', () => {
		expect(parseListen('127.0.0.1:8080')).toEqual({address: '127.0.0.1', port: 8080});
		expect(parseListen('[::1]:8443')).toEqual({address: '::1', port: 8443});
		expect(parseListen(':0')).toEqual({address: '0.0.0.0', port: 0});
		for (const bad of ['8080', '127.0.0.1', '127.0.0.1:99999', '[nonsense]:80', 'a:b:c']) expect(parseListen(bad)).toBeUndefined();
	});

	it('the log shows /invite/… for any invitation path and drops query strings', () => {
		expect(redactPath('/invite/0123456789abcdef0123456789abcdef.SECRET')).toBe('/invite/…');
		expect(redactPath('/signup?email=a@b.c')).toBe('/signup?…');
		expect(redactPath('/x\u001b[2J')).toBe('/x\\e[2J');
	});
});

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve));
	const {port} = probe.address() as {port: number};
	await new Promise<void>(resolve => probe.close(() => resolve()));
	return port;
}

describe('the requests listener', () => {
	it('serve listens where the settings say; a reload after the port changed moves it there', async () => {
		const {ctx, root} = await initializedContext();
		const [first, second] = [await freePort(), await freePort()];
		await setListener(ctx, root, {name: 'requests', port: first, address: '127.0.0.1'});
		const log: string[] = [];
		const server = await serve(ctx, {log: line => log.push(line)});
		servers.push(server);
		expect(server.url).toBe(`http://127.0.0.1:${first}`);
		expect(log[0]).toContain(`listening on http://127.0.0.1:${first} (listener requests)`);
		await setListener(ctx, root, {name: 'requests', port: second});
		await server.reload();
		expect(server.url).toBe(`http://127.0.0.1:${second}`);
		expect((await send(`http://127.0.0.1:${second}/healthz`)).body).toBe('ok\n');
		await expect(send(`http://127.0.0.1:${first}/healthz`)).rejects.toMatchObject({code: 'ECONNREFUSED'});
	});

	it('without a requests listener, or on a port in use, serve refuses in one sentence', async () => {
		const {ctx, root} = await initializedContext();
		await expect(serve(ctx, {log: () => undefined})).rejects.toThrow('No listener for user requests: add one with orgctl settings listeners set requests --port 8080');
		const taken = createServer();
		await new Promise<void>(resolve => taken.listen(0, '127.0.0.1', resolve));
		try {
			const {port} = taken.address() as {port: number};
			await setListener(ctx, root, {name: 'requests', port, address: '127.0.0.1'});
			await expect(serve(ctx, {log: () => undefined})).rejects.toThrow(`Cannot listen on 127.0.0.1:${port}: another program listens there (EADDRINUSE);`);
		} finally {
			taken.close();
		}
	});
});
