import {afterEach, describe, expect, it} from 'vitest';
import {resolveActor} from '../../source/core/accounts.js';
import {createTenant} from '../../source/core/tenants.js';
import {TestSmtpServer} from '../helpers/smtp.js';
import {tempDir} from '../helpers/store.js';
import {seedRoot, seedUsers, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// The built console in a real pseudo-terminal at 80×24, as a superuser and as a plain admin.
const running: ConsoleTerm[] = [];
const servers: TestSmtpServer[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
	for (const server of servers.splice(0)) await server.stop();
});

function start(dir: string, args: readonly string[] = []): ConsoleTerm {
	const t = spawnConsole({dir, args});
	running.push(t);
	return t;
}

/** Every line of the `?` overlay, scrolled through to its end one line at a time. */
async function readHelp(t: ConsoleTerm): Promise<string> {
	await t.press('?');
	await t.waitFor(/Keys +1–\d+ of \d+/);
	let seen = t.screen();
	for (;;) {
		const [, from, to, of] = /Keys +(\d+)–(\d+) of (\d+) ·/.exec(t.screen())!;
		if (to === of) return seen;
		await t.press('j');
		await t.waitFor(`${Number(from) + 1}–${Number(to) + 1} of ${of}`);
		seen += t.screen();
	}
}

/** The right-hand pane's text as one line: what a section says, whatever the wrapping at 80 columns. */
function pane(t: ConsoleTerm): string {
	return t
		.lines()
		.slice(2, -4)
		// Right of the left pane's border (its width follows the labels and the terminal).
		.map(line => (line.includes('│') ? line.slice(line.indexOf('│') + 1) : '').trim())
		.join(' ')
		.replace(/\s+/g, ' ');
}

async function paneShows(t: ConsoleTerm, text: string, timeoutMs = 10_000): Promise<void> {
	await t.waitFor(() => pane(t).includes(text), timeoutMs);
}

describe('superusers in the console: Server Settings, Tenants and the tenant switcher', () => {
	it('sets SMTP to a loopback server, sends a test e-mail that arrives, sees a wrong password named as the authentication stage, creates a tenant, switches to it in the header and sees its empty Users', async () => {
		const smtp = await new TestSmtpServer({auth: {user: 'mailer', pass: 'the right password'}}).start();
		servers.push(smtp);
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await signIn(ctx, root, dir);
		const t = start(dir);
		await t.waitReady('main:users');
		expect(t.screen()).toMatch(/5 Server Settings/);
		expect(t.screen()).toMatch(/6 Tenants/);
		expect(t.screen()).toMatch(/7 Single Sign-On/);

		// Server Settings → SMTP → e: fill the form and save.
		await t.press('5');
		await t.waitReady('main:server-settings');
		await paneShows(t, 'SMTP not configured');
		await t.press('enter');
		await paneShows(t, 'SMTP is not configured');
		await t.press('e');
		await paneShows(t, 'SMTP: the server that sends invitations and codes');
		await t.type('127.0.0.1');
		await t.press('tab', 'ctrl-u');
		await t.type(String(smtp.port));
		await t.press('tab', 'left', 'tab');
		await t.type('mailer');
		await t.press('tab');
		await t.type('the right password');
		await t.press('tab');
		await t.type('orgctl@example.com');
		await t.press('tab', 'tab', 'ctrl-u');
		await t.type('3000');
		await t.press('enter');
		await paneShows(t, `SMTP settings saved: 127.0.0.1:${smtp.port}, none`);
		// The password never shows again, and the equivalent command reads it from stdin.
		expect(pane(t)).toContain('Password set (never shown)');
		expect(pane(t)).toContain(`$ orgctl settings smtp set --host 127.0.0.1 --port ${smtp.port} --security none --from orgctl@example.com --user mailer --password-stdin --timeout 3000`);
		expect(t.screen()).not.toContain('the right password');

		// t: a test e-mail to a typed address, which arrives.
		await t.press('t');
		await paneShows(t, 'Send a test e-mail with the saved SMTP settings');
		await t.press('ctrl-u');
		await t.type('ops@example.com');
		await t.press('enter');
		await paneShows(t, 'Test e-mail to ops@example.com sent; the server said: 250');
		const [mail] = await smtp.waitForMessages(1);
		expect(mail).toMatchObject({envelopeTo: ['ops@example.com'], subject: 'orgctl test e-mail'});
		await t.waitFor('$ orgctl settings smtp test --to ops@example.com');

		// A wrong password: the test names the authentication stage.
		await t.press('e');
		await paneShows(t, 'SMTP: the server that sends invitations and codes');
		await t.press('tab', 'tab', 'tab', 'tab');
		await t.type('not the password');
		await t.press('enter', 'enter', 'enter', 'enter');
		await paneShows(t, 'SMTP settings saved');
		await t.press('t');
		await paneShows(t, 'Send a test e-mail with the saved SMTP settings');
		await t.press('enter');
		await paneShows(t, 'The test e-mail to root@example.com failed at the authentication stage: the SMTP server refused the login of mailer: 535 Invalid username or password.');
		expect(smtp.messages).toHaveLength(1);

		// Tenants → n: create acme.
		await t.press('escape');
		await paneShows(t, 'SMTP (Esc: back to Server Settings)');
		await t.press('escape');
		await paneShows(t, 'SETTING NOW');
		await t.press('6');
		await t.waitReady('main:tenants');
		await t.press('n');
		await paneShows(t, 'Create a tenant');
		await t.type('acme');
		await t.press('enter');
		await paneShows(t, 'Created tenant acme');
		await t.waitFor('$ orgctl tenants create acme');

		// T: the header's switcher; pick acme.
		await t.press('T');
		await t.waitReady('main:tenant-picker');
		await t.waitFor('Act in which tenant? (now default');
		await t.press('j', 'enter');
		await t.waitFor(/root admin ★superuser · tenant acme \[T\]$/m);
		await t.waitFor('$ orgctl --tenant acme');

		// Users of acme: none.
		await t.press('1');
		await t.waitReady('main:users');
		await paneShows(t, 'No users in this tenant.');
		expect(t.lines()[0]).toMatch(/tenant acme \[T\]$/);
	});

	it('help lists the tenant switcher and the keys of the superuser sections', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await signIn(ctx, root, dir);
		const t = start(dir);
		await t.waitReady('main:users');
		const seen = await readHelp(t);
		expect(seen).toContain('switch the console to another tenant');
		expect(seen).toContain('send a test e-mail to an address you type');
		expect(seen).toContain('import the IdP metadata from an XML file');
	});
});

describe('--tenant at start', () => {
	it('opens a superuser’s console in that tenant; a plain admin is told only a superuser may, at the sign-in screen', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await createTenant(ctx, root, 'acme');
		await signIn(ctx, root, dir);
		const t = start(dir, ['--tenant', 'acme']);
		await t.waitReady('main:users');
		await t.waitFor(/tenant acme \[T\]$/m);
		await t.waitFor('No users in this tenant.');

		await seedUsers(ctx, root.tenant.id, [{username: 'ann', role: 'admin'}]);
		const ann = resolveActor(ctx.store.read(), ctx.store.read().users.find(u => u.username === 'ann')!.id);
		await signIn(ctx, ann, dir);
		const plain = start(dir, ['--tenant', 'acme']);
		await plain.waitReady('login');
		await plain.waitFor('Only a superuser can act in another tenant; ann belongs to default.');
	});
});

describe('a plain admin in the console', () => {
	it('has no Server Settings, Tenants or Single Sign-On in the left pane, no tenant switcher, and none of their keys in help', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await seedUsers(ctx, root.tenant.id, [{username: 'ann', role: 'admin'}]);
		const ann = resolveActor(ctx.store.read(), ctx.store.read().users.find(u => u.username === 'ann')!.id);
		await signIn(ctx, ann, dir);
		const t = start(dir);
		await t.waitReady('main:users');
		await t.waitFor(/ann admin · tenant default$/m);
		const left = t
			.lines()
			.slice(2, -4)
			.map(line => (line.includes('│') ? line.slice(0, line.indexOf('│')) : '').trim())
			.filter(Boolean);
		expect(left).toEqual(['›1 Users', '2 Invitations', '3 Self Signup', '4 Projects', '5 Audit', '6 My Account']);
		expect(t.screen()).not.toMatch(/Server Settings|Tenants|Single Sign-On|\[T\]/);
		// T does nothing for her: no switcher opens.
		await t.press('T');
		await new Promise(resolve => setTimeout(resolve, 300));
		expect(t.title()).toBe('orgctl:ready:main:users');
		expect(t.screen()).not.toContain('Act in which tenant?');
		const seen = await readHelp(t);
		expect(seen).toContain('change the role');
		expect(seen).not.toMatch(/another tenant|test e-mail|IdP|Server Settings|Tenants/);
	});
});
