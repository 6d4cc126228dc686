import {copyFileSync} from 'node:fs';
import {createServer} from 'node:net';
import {connect} from 'node:tls';
import {X509Certificate} from 'node:crypto';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Browser, Page} from 'puppeteer-core';
import {createInvitation, mailInvitations, revokeInvitation} from '../../source/core/invitations.js';
import type {Actor} from '../../source/core/context.js';
import {setPublicUrl} from '../../source/core/server-settings.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {launchBrowser} from '../helpers/browser.js';
import {orgctl} from '../helpers/cli.js';
import {useLoopbackSmtp} from '../helpers/people.js';
import {startServe, type ServeProcess} from '../helpers/serve.js';
import {makeCertificate, removeCertificate, TestSmtpServer} from '../helpers/smtp.js';
import {Clock, FIRST_PASSWORD, initializedContext} from '../helpers/store.js';

const NEW_PASSWORD = 'a long enough password';

let smtp: TestSmtpServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
beforeAll(async () => {
	smtp = await new TestSmtpServer().start();
	chromium = await launchBrowser();
});
afterAll(async () => {
	await chromium?.close();
	await smtp?.stop();
});

/** The link in the last invitation mailed to `to`, as the invitee's mail client shows it. */
function mailedLink(to: string): string {
	const mail = smtp.messages.filter(m => m.envelopeTo.includes(to)).at(-1);
	const link = mail && /(https?:\/\/\S+\/invite\/\S+)/.exec(mail.text)?.[1];
	if (!link) throw new Error(`no invitation link mailed to ${to}`);
	return link;
}

function mailedCode(to: string): string {
	const code = smtp.messages.filter(m => m.envelopeTo.includes(to)).at(-1)?.text.match(/Your code: (\d{8})/)?.[1];
	if (!code) throw new Error(`no sign-up code mailed to ${to}`);
	return code;
}

async function heading(page: Page): Promise<string> {
	return page.$eval('h1', h => h.textContent ?? '');
}

async function text(page: Page): Promise<string> {
	return page.$eval('main', m => (m as HTMLElement).innerText);
}

/** Fills the named fields and sends the form, waiting for the page it leads to. */
async function submit(page: Page, fields: Record<string, string>): Promise<number | undefined> {
	for (const [name, value] of Object.entries(fields)) await page.type(`input[name="${name}"]`, value);
	const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
	return response?.status();
}

/**
 * A store with root (superuser) and SMTP on the loopback server, served by a real `orgctl serve`
 * whose address is the public URL, so mailed links lead to it.
 */
async function servedStore(clock = new Clock()): Promise<{dir: string; ctx: Awaited<ReturnType<typeof initializedContext>>['ctx']; root: Actor; server: ServeProcess}> {
	const {ctx, root} = await initializedContext(clock);
	await useLoopbackSmtp(ctx, root, smtp.port);
	const server = await startServe(ctx.dir);
	await setPublicUrl(ctx, root, server.url);
	return {dir: ctx.dir, ctx, root, server};
}

describe('orgctl serve in a real browser: the links we mail work', () => {
	let browser: Browser;
	beforeAll(() => {
		browser = chromium.browser;
	});

	it('the invitee opens the mailed link, sets a password, signs in with orgctl login; the link then says it was used', async () => {
		const {ctx, root, server} = await servedStore();
		try {
			const issued = await createInvitation(ctx, root, {username: 'ann', email: 'ann@example.com', role: 'admin'});
			await mailInvitations(ctx, [issued]);
			await smtp.waitForMessages(smtp.messages.length);
			const link = mailedLink('ann@example.com');
			expect(link).toBe(issued.link);

			const page = await browser.newPage();
			const shown = await page.goto(link);
			expect(shown?.status()).toBe(200);
			expect(await heading(page)).toBe('Join default');
			expect(await text(page)).toContain('root invited you to the organization default as admin.');
			expect(await text(page)).toContain('Choose a password of at least 12 characters.');
			// The stylesheet loaded despite default-src 'none': it comes from self.
			// (A string: vitest's transform of a function that names a browser global leaves puppeteer waiting.)
			expect(await page.evaluate("getComputedStyle(document.querySelector('button')).borderRadius")).toBe('6px');

			// Two different passwords: refused before anything is created.
			expect(await submit(page, {password: NEW_PASSWORD, repeat: `${NEW_PASSWORD}!`})).toBe(400);
			expect(await text(page)).toContain('The two passwords differ');
			expect(await submit(page, {password: NEW_PASSWORD, repeat: NEW_PASSWORD})).toBe(200);
			expect(await heading(page)).toBe('Your account is ready');
			expect(await text(page)).toContain('Welcome, ann: your account in default is ready (admin); sign in with: orgctl login --username ann.');

			const login = await orgctl(ctx.dir, ['login', '--username', 'ann', '--password-stdin'], {input: NEW_PASSWORD});
			expect(login).toMatchObject({code: 0, stderr: ''});
			expect(login.stdout).toContain('Signed in as ann (admin)');

			const again = await page.goto(link);
			expect(again?.status()).toBe(410);
			expect(await heading(page)).toBe('This invitation was already used');
			expect(await text(page)).toMatch(/This invitation was already used on .*: the account ann exists; sign in with orgctl login --username ann\./);
			// The same words as orgctl accept.
			const cli = await orgctl(ctx.dir, ['accept', link]);
			expect(cli.stderr).toContain((await text(page)).split('\n').at(-1)!.trim());

			// Audited with the browser's address; the log never shows the secret.
			expect(ctx.store.read().audit.find(e => e.action === 'invitation.accept' && e.result === 'ok')).toMatchObject({actor: 'ann', clientAddress: '127.0.0.1'});
			const audit = await orgctl(ctx.dir, ['audit'], {env: {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD}});
			expect(audit.stdout).toMatch(/^TIME\s+ACTOR\s+FROM\s+ACTION/);
			expect(audit.stdout).toMatch(/ann\s+127\.0\.0\.1\s+invitation\.accept\s+ann \(invitation \w+\)\s+ok/);
			const secret = link.split('.').at(-1)!;
			expect(server.log()).toMatch(/127\.0\.0\.1 POST \/invite\/… 200/);
			expect(server.log()).not.toContain(secret);
			await page.close();
		} finally {
			await server.stop();
		}
	});

	it('a revoked, an expired and a mistyped link each show their own page', async () => {
		// The expired invitation is made 8 days back on the test's clock, so it is expired on the server's.
		const clock = new Clock();
		const {ctx, root, server} = await servedStore(clock);
		try {
			const revoked = await createInvitation(ctx, root, {username: 'rex', email: 'rex@example.com'}, {sendEmail: false});
			await revokeInvitation(ctx, root, revoked.invitation.id);
			clock.advance(-8 * 86_400);
			const expired = await createInvitation(ctx, root, {username: 'eve', email: 'eve@example.com'}, {sendEmail: false});
			clock.advance(8 * 86_400);

			const page = await browser.newPage();
			expect((await page.goto(revoked.link))?.status()).toBe(410);
			expect(await heading(page)).toBe('This invitation was revoked');
			expect(await text(page)).toMatch(/This invitation was revoked on .* by root; ask for a new invitation\./);

			expect((await page.goto(expired.link))?.status()).toBe(410);
			expect(await heading(page)).toBe('This invitation has expired');
			expect(await text(page)).toMatch(/This invitation expired on .*; ask root to resend it, which renews the link\./);

			expect((await page.goto(`${expired.link.slice(0, -3)}abc`))?.status()).toBe(404);
			expect(await heading(page)).toBe('This invitation link is not valid');
			await page.close();
		} finally {
			await server.stop();
		}
	});

	it('a self sign-up completes with the code from the mail, then orgctl login works', async () => {
		const {ctx, root, server} = await servedStore();
		try {
			await addSignupDomain(ctx, root, {domain: 'corp.com', role: 'guest'});
			const page = await browser.newPage();
			expect((await page.goto(`${server.url}/signup`))?.status()).toBe(200);
			const before = smtp.messages.length;
			expect(await submit(page, {email: 'bea@corp.com', username: 'bea'})).toBe(200);
			expect(await heading(page)).toBe('Enter the code from the mail');
			expect(await text(page)).toContain('Check the mailbox of bea@corp.com');
			await smtp.waitForMessages(before + 1);
			expect(await submit(page, {code: mailedCode('bea@corp.com')})).toBe(200);
			expect(await heading(page)).toBe('Choose a password');
			expect(await submit(page, {password: NEW_PASSWORD, repeat: NEW_PASSWORD})).toBe(200);
			expect(await text(page)).toContain('Welcome, bea: your account in default is ready (guest)');
			expect(await orgctl(ctx.dir, ['login', '--username', 'bea@corp.com', '--password-stdin'], {input: NEW_PASSWORD})).toMatchObject({code: 0});
			expect(ctx.store.read().audit.find(e => e.action === 'signup.verify' && e.result === 'ok')).toMatchObject({clientAddress: '127.0.0.1'});

			// Someone else tries the same name: the same answer, and no code that works.
			await page.goto(`${server.url}/signup`);
			expect(await submit(page, {email: 'bea@corp.com', username: 'bea'})).toBe(200);
			expect(await heading(page)).toBe('Enter the code from the mail');
			await page.close();
		} finally {
			await server.stop();
		}
	});

	it('a form sent without its CSRF token is refused and changes nothing', async () => {
		const {ctx, root, server} = await servedStore();
		try {
			const issued = await createInvitation(ctx, root, {username: 'cal', email: 'cal@example.com'}, {sendEmail: false});
			const page = await browser.newPage();
			await page.goto(issued.link);
			await page.$eval('input[name="_csrf"]', input => input.remove());
			expect(await submit(page, {password: NEW_PASSWORD, repeat: NEW_PASSWORD})).toBe(403);
			expect(await heading(page)).toBe('This form has expired');
			expect(ctx.store.read().users.map(u => u.username)).toEqual(['root']);
			// The same page reloaded has a fresh token and works.
			await page.goto(issued.link);
			expect(await submit(page, {password: NEW_PASSWORD, repeat: NEW_PASSWORD})).toBe(200);
			expect(ctx.store.read().users.map(u => u.username)).toEqual(['root', 'cal']);
			await page.close();
		} finally {
			await server.stop();
		}
	});
});

// PAM needs a real system account (.ci/run makes one and exports these), as in test/pam.test.ts.
const pamUser = process.env['ORGCTL_PAM_TEST_USER'];
const pamPassword = process.env['ORGCTL_PAM_TEST_PASSWORD'];

describe('invitations for PAM and SAML accounts', () => {
	it.skipIf(!pamUser || !pamPassword)('a PAM invitee confirms the system account with its password, checked through PAM by the server', async () => {
		const {ctx, root, server} = await servedStore();
		try {
			const issued = await createInvitation(ctx, root, {username: pamUser!, email: `${pamUser}@example.com`, method: 'pam'}, {sendEmail: false});
			const page = await chromium.browser.newPage();
			await page.goto(issued.link);
			expect(await text(page)).toContain(`You will sign in with the password of the system account ${pamUser} on this server.`);
			expect(await page.$eval('input[name="username"]', input => input.readOnly)).toBe(true);
			expect(await submit(page, {password: `${pamPassword}x`})).toBe(401);
			expect(await text(page)).toContain(`The password of the system account ${pamUser} is wrong (it is checked through PAM).`);
			expect(ctx.store.read().users.map(u => u.username)).toEqual(['root']);
			expect(await submit(page, {password: pamPassword!})).toBe(200);
			expect(await text(page)).toContain(`Welcome, ${pamUser}: your account in default is ready (member); sign in with your system password`);
			expect(ctx.store.read().users.find(u => u.username === pamUser)).toMatchObject({method: 'pam', passwordHash: null});
			await page.close();
		} finally {
			await server.stop();
		}
	});

	it('a SAML invitee sees the single sign-on button, not yet working, and cannot accept without it', async () => {
		const {ctx, root, server} = await servedStore();
		try {
			const issued = await createInvitation(ctx, root, {username: 'sam', email: 'sam@example.com', method: 'saml'}, {sendEmail: false});
			const page = await chromium.browser.newPage();
			expect((await page.goto(issued.link))?.status()).toBe(200);
			expect(await text(page)).toContain("You will sign in through your organization's identity provider (single sign-on, SAML).");
			expect(await page.$eval('button', button => [button.textContent, button.disabled])).toEqual(['Continue with single sign-on', true]);
			expect(await page.$('form')).toBeNull();
			await page.close();
			expect(ctx.store.read().invitations.map(i => i.username)).toEqual(['sam']);
		} finally {
			await server.stop();
		}
	});
});

/** A port nobody listens on right now, for a listener the settings name. */
async function freePort(): Promise<number> {
	const probe = createServer();
	await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve));
	const {port} = probe.address() as {port: number};
	await new Promise<void>(resolve => probe.close(() => resolve()));
	return port;
}

/** The SHA-256 fingerprint of the certificate a TLS server presents. */
function servedFingerprint(port: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = connect({host: '127.0.0.1', port, rejectUnauthorized: false}, () => {
			resolve(socket.getPeerX509Certificate()!.fingerprint256);
			socket.end();
		});
		socket.on('error', reject);
	});
}

describe('orgctl serve over TLS, on the requests listener with the certificate set through orgctl settings ssl set', () => {
	it('the invitee accepts over HTTPS (HSTS on, a Secure CSRF cookie), a form without its token is refused, and SIGHUP serves a renewed certificate', async () => {
		const {ctx, root} = await initializedContext();
		await useLoopbackSmtp(ctx, root, smtp.port);
		const first = makeCertificate();
		const renewed = makeCertificate();
		const asRoot = {env: {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD}};
		const port = await freePort();
		expect(await orgctl(ctx.dir, ['settings', 'ssl', 'set', '--cert', first.certFile, '--key', `${first.dir}/key.pem`], asRoot)).toMatchObject({code: 0});
		expect(await orgctl(ctx.dir, ['settings', 'listeners', 'set', 'requests', '--port', String(port), '--address', '127.0.0.1', '--ssl', 'on'], asRoot)).toMatchObject({code: 0});
		expect(await orgctl(ctx.dir, ['settings', 'public-url', 'set', `https://127.0.0.1:${port}`], asRoot)).toMatchObject({code: 0});
		const server = await startServe(ctx.dir, []);
		try {
			expect(server.url).toBe(`https://127.0.0.1:${port}`);
			expect(server.log()).toContain(`(listener requests, TLS with ${first.certFile})`);
			const issued = await createInvitation(ctx, root, {username: 'tia', email: 'tia@example.com'});
			await mailInvitations(ctx, [issued]);
			const link = mailedLink('tia@example.com');
			expect(link.startsWith(`https://127.0.0.1:${port}/invite/`)).toBe(true);

			const page = await chromium.browser.newPage();
			const shown = await page.goto(link);
			expect(shown?.status()).toBe(200);
			expect(shown?.headers()['strict-transport-security']).toBe('max-age=31536000');
			expect(await chromium.browser.cookies()).toEqual(expect.arrayContaining([expect.objectContaining({name: '__Host-orgctl-csrf', secure: true, httpOnly: true, sameSite: 'Strict'})]));
			await page.$eval('input[name="_csrf"]', input => input.setAttribute('value', 'forged'));
			expect(await submit(page, {password: NEW_PASSWORD, repeat: NEW_PASSWORD})).toBe(403);
			await page.goto(link);
			expect(await submit(page, {password: NEW_PASSWORD, repeat: NEW_PASSWORD})).toBe(200);
			expect(await text(page)).toContain('Welcome, tia');
			expect(await orgctl(ctx.dir, ['login', '--username', 'tia', '--password-stdin'], {input: NEW_PASSWORD})).toMatchObject({code: 0});
			await page.close();

			// A renewed certificate in the same files: SIGHUP serves it without a restart.
			expect(await servedFingerprint(port)).toBe(new X509Certificate(first.cert).fingerprint256);
			copyFileSync(renewed.certFile, first.certFile);
			copyFileSync(`${renewed.dir}/key.pem`, `${first.dir}/key.pem`);
			server.child.kill('SIGHUP');
			await server.waitForLog(/reloaded the certificate/);
			expect(await servedFingerprint(port)).toBe(new X509Certificate(renewed.cert).fingerprint256);
		} finally {
			await server.stop();
			removeCertificate(first);
			removeCertificate(renewed);
		}
	});
});
