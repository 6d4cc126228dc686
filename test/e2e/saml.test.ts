import {spawn} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {BrowserContext, Page} from 'puppeteer-core';
import {createInvitation} from '../../source/core/invitations.js';
import {confirmDeviceCode} from '../../source/core/saml.js';
import {prepareServiceProvider} from '../../source/core/sso-settings.js';
import {launchBrowser} from '../helpers/browser.js';
import {ORGCTL} from '../helpers/cli.js';
import {IDP_USERS, prepareIdpKey, RUN_IDP_TESTS, startIdp, type RunningIdp} from '../helpers/idp.js';
import {addSamlUser, configureSso} from '../helpers/saml.js';
import {startServe, type ServeProcess} from '../helpers/serve.js';
import {initializedContext, tempDir} from '../helpers/store.js';
import {spawnConsole, type ConsoleTerm} from '../helpers/term.js';

/**
 * Single sign-on end to end against a real identity provider: Debian's simplesamlphp on
 * 127.0.0.1 (its own throwaway key, users alice and bob), a real `orgctl serve` answering as
 * localhost (another site, so SameSite mistakes would show), headless Chromium, and the CLI and
 * console as people run them. Skipped only where simplesamlphp is not installed and CI is not set.
 */

const [alice, bob] = IDP_USERS as [(typeof IDP_USERS)[number], (typeof IDP_USERS)[number]];

let chromium: Awaited<ReturnType<typeof launchBrowser>> | undefined;
let keysDir: string;
beforeAll(async () => {
	if (!RUN_IDP_TESTS) return;
	keysDir = mkdtempSync(join(tmpdir(), 'orgctl-idp-key-'));
	prepareIdpKey(keysDir);
	chromium = await launchBrowser();
});
afterAll(async () => {
	await chromium?.close();
	if (keysDir) rmSync(keysDir, {recursive: true, force: true});
});

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
	for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});

/** A store, a real orgctl serve on it, and a real IdP that knows our SP; single sign-on set up between them. */
async function world() {
	const {ctx, root} = await initializedContext(undefined, {});
	const server: ServeProcess = await startServe(ctx.dir);
	stops.push(() => server.stop());
	const publicUrl = server.url.replace('127.0.0.1', 'localhost');
	await configureSso(ctx, root, {publicUrl, idp: {entityId: 'http://127.0.0.1:1/placeholder', ssoUrl: 'http://127.0.0.1:1/sso', certificatePem: await placeholderCert(ctx, root)}});
	const sp = ctx.store.read().settings.sso.sp!;
	const idp: RunningIdp = await startIdp({dir: join(tempDir(), 'idp'), sp: {entityId: `${publicUrl}/saml/metadata`, acsUrl: `${publicUrl}/saml/acs`, certificatePem: sp.certificate}});
	stops.push(() => idp.stop());
	await configureSso(ctx, root, {publicUrl, idp});
	const context: BrowserContext = await chromium!.browser.createBrowserContext();
	stops.push(() => context.close());
	return {ctx, root, server, publicUrl, idp, context};
}

/** Our own key pair exists before the IdP is started (the IdP must know our certificate): a placeholder IdP until then. */
async function placeholderCert(ctx: Awaited<ReturnType<typeof initializedContext>>['ctx'], root: Awaited<ReturnType<typeof initializedContext>>['root']): Promise<string> {
	await prepareServiceProvider(ctx, root);
	return ctx.store.read().settings.sso.sp!.certificate;
}

async function text(page: Page): Promise<string> {
	return page.$eval('main, body', m => (m as HTMLElement).innerText);
}

/** At the IdP's login form: a wrong password keeps us there; the right one posts back to our ACS. */
async function signInAtIdp(page: Page, user: {username: string; password: string}, acsUrl: string): Promise<void> {
	await page.waitForSelector('#username', {timeout: 15_000});
	expect(page.url()).toContain('127.0.0.1');
	await page.type('#username', user.username);
	await page.type('#password', 'not-the-password');
	await Promise.all([page.waitForNavigation({waitUntil: 'domcontentloaded'}), page.click('#submit_button')]);
	expect(await page.content()).toContain('Incorrect username or password');
	await page.$eval('#username', el => ((el as HTMLInputElement).value = ''));
	await page.type('#username', user.username);
	await page.type('#password', user.password);
	await Promise.all([page.waitForResponse(r => r.url() === acsUrl && r.request().method() === 'POST', {timeout: 20_000}), page.click('#submit_button')]);
	await page.waitForSelector('h1', {timeout: 10_000});
	await page.waitForFunction(`location.href === ${JSON.stringify(acsUrl)}`, {timeout: 10_000});
}

/** In a browser: the code page, the confirmation (host, start, address), then the IdP. Returns what the confirmation showed. */
async function enterCode(page: Page, publicUrl: string, code: string, user: {username: string; password: string}): Promise<{host: string; started: string; address: string; addressLabel: string}> {
	await page.goto(`${publicUrl}/login/device`);
	await page.type('input[name="code"]', code.toLowerCase());
	await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
	const shown = {
		host: await page.$eval('#host', e => e.textContent ?? ''),
		started: await page.$eval('#started', e => e.textContent ?? ''),
		address: await page.$eval('#client-address', e => e.textContent ?? ''),
		addressLabel: await page.$eval('#client-address', e => e.previousElementSibling?.textContent ?? ''),
	};
	await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
	await signInAtIdp(page, user, `${publicUrl}/saml/acs`);
	return shown;
}

describe.skipIf(!RUN_IDP_TESTS)('single sign-on with a real identity provider (simplesamlphp)', () => {
	it('a SAML invitation is accepted in the browser: the invitee signs in at the IdP and the account is made', async () => {
		const {ctx, root, context} = await world();
		const issued = await createInvitation(ctx, root, {username: 'alice', email: alice.email, method: 'saml', role: 'admin'}, {sendEmail: false});
		const page = await context.newPage();
		expect((await page.goto(issued.link))?.status()).toBe(200);
		expect(await text(page)).toContain(`Sign in there as ${alice.email}`);
		await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
		await signInAtIdp(page, alice, new URL('/saml/acs', issued.link).href);
		expect(await page.$eval('h1', h => h.textContent)).toBe('Your account is ready');
		expect(await text(page)).toContain('Welcome, alice: your account in default is ready (admin)');
		expect(ctx.store.read().users.find(u => u.username === 'alice')).toMatchObject({method: 'saml', email: alice.email, role: 'admin'});
		expect(ctx.store.read().invitations).toHaveLength(0);
		// The link now says it was used.
		await page.goto(issued.link);
		expect(await text(page)).toContain('already used');
	});

	it('orgctl login --username bob without a terminal: a URL and a code, the browser confirms host and address, bob signs in at the IdP', async () => {
		const {ctx, root, publicUrl, context} = await world();
		// bob's address at the IdP has capitals; ours is lower case: matched case-insensitively.
		await addSamlUser(ctx, root.tenant.id, 'bob', bob.email.toLowerCase());
		const child = spawn(process.execPath, [ORGCTL, 'login', '--username', 'bob'], {
			env: {...process.env, ORGCTL_STORE: ctx.store.path, ORGCTL_SESSION_FILE: join(ctx.dir, 'session.json'), ORGCTL_SSO_POLL_MS: '100', SSH_CONNECTION: '203.0.113.9 50022 10.0.0.5 22'},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		stops.push(async () => child.kill('SIGKILL'));
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', chunk => (stdout += String(chunk)));
		child.stderr.on('data', chunk => (stderr += String(chunk)));
		const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
		const deadline = Date.now() + 15_000;
		while (!/type the code ([A-Z]{4}-[A-Z]{4})/.test(stderr) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20));
		const code = /type the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr)?.[1];
		expect(code, stderr).toBeDefined();
		expect(stderr).toContain(`Open ${publicUrl}/login/device in a browser`);
		const page = await context.newPage();
		const shown = await enterCode(page, publicUrl, code!, bob);
		// The address is the terminal's own claim (SSH_CONNECTION), and the page says so.
		expect(shown).toMatchObject({host: hostname(), address: '203.0.113.9', addressLabel: 'From address, as the terminal claims it'});
		expect(shown.started).toMatch(/UTC \(less than a minute ago\)$/);
		expect(await text(page)).toContain(`The terminal on ${hostname()} is now signed in as bob`);
		expect(await exited).toBe(0);
		expect(stdout).toMatch(/^Signed in as bob \(member\) in tenant default until /);
		expect(existsSync(join(ctx.dir, 'session.json'))).toBe(true);
		expect(ctx.store.read().audit.filter(e => e.actor === 'bob').map(e => e.action)).toEqual(expect.arrayContaining(['login.sso', 'login']));
		// Nothing was proven when the code was handed out: the start names nobody (red team 10-14 #15).
		expect(ctx.store.read().audit.filter(e => e.action === 'login.sso.start').map(e => [e.actor, e.target])).toEqual([['anonymous', 'bob']]);
		// The code worked once.
		await expect(confirmDeviceCode(ctx, code!)).rejects.toThrow('used already');
	});

	it('the console signs in through the URL and code in a real terminal, keeps taking keys while it waits, and Esc cancels a code', async () => {
		const {ctx, root, publicUrl, context} = await world();
		await addSamlUser(ctx, root.tenant.id, 'alice', alice.email);
		const t: ConsoleTerm = spawnConsole({dir: ctx.dir, env: {ORGCTL_SSO_POLL_MS: '100'}});
		stops.push(async () => t.kill());
		await t.waitReady('login');
		await t.waitFor('Single sign-on');
		// Username, password, Sign in, then Single sign-on.
		await t.press('tab', 'tab', 'tab', 'enter');
		await t.waitFor('Your username;');
		await t.type('alice');
		await t.press('enter');
		await t.waitFor(/Code: [A-Z]{4}-[A-Z]{4}/);
		const first = /Code: ([A-Z]{4}-[A-Z]{4})/.exec(t.screen())![1]!;
		expect(t.screen()).toContain(`${publicUrl}/login/device`);
		// Esc cancels: back at sign-in, and the code no longer works.
		await t.press('escape');
		await t.waitFor(s => !s.includes('Waiting for the identity provider'));
		await expect.poll(() => confirmDeviceCode(ctx, first).then(() => 'still works', (error: Error) => error.message), {timeout: 3000}).toMatch('used already');

		await t.waitFor('Single sign-on');
		await t.press('tab', 'tab', 'tab', 'enter');
		await t.waitFor('Your username;');
		await t.type('alice');
		await t.press('enter');
		await t.waitFor(/Code: [A-Z]{4}-[A-Z]{4}/);
		const code = /Code: ([A-Z]{4}-[A-Z]{4})/.exec(t.screen())![1]!;
		const page = await context.newPage();
		await enterCode(page, publicUrl, code, alice);
		await t.waitReady('main:users', 15_000);
		await t.waitFor('Signed in as alice through single sign-on.');
		expect(ctx.store.read().users.find(u => u.username === 'alice')?.lastLogin).not.toBeNull();
	});
});
