import {execFileSync} from 'node:child_process';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createInvitation} from '../../source/core/invitations.js';
import {setSmtpSettings} from '../../source/core/smtp-settings.js';
import {orgctl} from '../helpers/cli.js';
import {TestSmtpServer} from '../helpers/smtp.js';
import {tempDir} from '../helpers/store.js';
import {seedRoot, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// The built console (npm test builds first) in a real pseudo-terminal at 80×24, a real SMTP server on loopback.
const NEW_PASSWORD = 'a long enough password';
const running: ConsoleTerm[] = [];
let server: TestSmtpServer | undefined;
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
	await server?.stop();
	server = undefined;
});

/** No tmux and no display: a copy goes out as OSC 52, which the test can read. */
function start(dir: string): ConsoleTerm {
	const t = spawnConsole({dir, env: {TMUX: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined}});
	running.push(t);
	return t;
}

async function signedInStore(options: {smtp: boolean}) {
	const dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	if (options.smtp) {
		server = await new TestSmtpServer().start();
		await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: server.port, security: 'none', from: 'orgctl@example.com', timeoutMs: 2000});
	}
	await signIn(ctx, root, dir);
	return {dir, ctx, root};
}

describe('Manage Invitations in the console', () => {
	it('invites from the console; the mailed link accepts with orgctl accept; the user appears and the invitation is gone', async () => {
		const {dir} = await signedInStore({smtp: true});
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.waitFor('No pending invitations');
		await t.press('n');
		await t.waitFor('Invite someone');
		await t.type('carol');
		await t.press('tab');
		await t.type('carol@example.com');
		// Enter walks the role and method choices (defaults member, password), then sends.
		await t.press('enter', 'enter', 'enter');
		await t.waitFor('Invited carol: mail sent.', 20_000);
		expect(t.screen()).toContain('orgctl invites create carol carol@example.com');
		// Short values leave room at 80 columns for every column, 'invited by' too.
		// A superuser's left pane (nine sections) leaves no room at 80 columns for the INVITED BY column.
		await t.waitFor(/›carol\s+carol@example\.com\s+member\s+pwd\s+\d\d-\d\d\s+sent/);

		const [mail] = await server!.waitForMessages(1);
		expect(mail!.envelopeTo).toEqual(['carol@example.com']);
		expect(mail!.subject).toBe('root invited you to the organization default');
		const link = /http:\/\/\S+\/invite\/\S+/.exec(mail!.text)![0];

		const accepted = await orgctl(dir, ['accept', link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(accepted.code).toBe(0);
		// The console notices the other process's change by itself (or at once with R).
		await t.press('R');
		await t.waitFor('No pending invitations');
		await t.press('1');
		await t.waitReady('main:users');
		await t.waitFor(/carol\s+carol@example\S*\s+member\s+password\s+active/);
	});

	it('without SMTP shows a banner, keeps the invitation as not sent, and copies its link (OSC 52) while showing it', async () => {
		const {dir, ctx, root} = await signedInStore({smtp: false});
		const issued = await createInvitation(ctx, root, {username: 'dave', email: 'dave@example.com'}, {sendEmail: false});
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.waitFor('SMTP is not configured');
		// The public URL is still the default: the links shown and copied here would not open elsewhere.
		await t.waitFor('⚠ Links will not be reachable: public URL not set.');
		await t.waitFor('Set it: orgctl settings public-url set https://…');
		expect(t.screen()).toMatch(/dave\s+dave@example\.com\s+member\s+pwd\s+\d\d-\d\d\s+not sent/);
		await t.press('y');
		await t.waitFor('Link for dave');
		expect(t.output()).toContain(`\u001b]52;c;${Buffer.from(issued.link).toString('base64')}\u0007`);
		// The link is on screen too (wrapped at the pane's width).
		expect(t.screen().replace(/\s*\n\s*│\s*/g, '')).toContain(issued.link);
		await t.expectCommand('orgctl invites link');

		await t.press('d');
		await t.waitFor('Revoke the invitation for dave');
		await t.press('y');
		await t.waitFor('No pending invitations');
		const dead = await orgctl(dir, ['accept', issued.link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(dead).toMatchObject({code: 1, stderr: expect.stringContaining('was revoked')});
	});


	it('inside tmux copies the link into the tmux buffer (the built console spawns tmux on that copy)', async () => {
		const {dir, ctx, root} = await signedInStore({smtp: false});
		const issued = await createInvitation(ctx, root, {username: 'erin', email: 'erin@example.com'}, {sendEmail: false});
		const socket = join(dir, 'tmux.sock');
		execFileSync('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '80', '-y', '24'], {stdio: 'ignore'});
		try {
			const t = spawnConsole({dir, env: {TMUX: `${socket},1,0`, DISPLAY: undefined, WAYLAND_DISPLAY: undefined}});
			running.push(t);
			await t.waitReady('main:users');
			await t.press('2');
			await t.waitReady('main:invitations');
			await t.waitFor(/erin\s+erin@example\.com/);
			await t.press('y');
			await t.waitFor('Link for erin');
			await t.waitFor('copied to the clipboard (tmux)');
			expect(execFileSync('tmux', ['-S', socket, 'show-buffer'], {encoding: 'utf8'})).toBe(issued.link);
		} finally {
			execFileSync('tmux', ['-S', socket, 'kill-server'], {stdio: 'ignore'});
		}
	});
	it('accepts an invitation from the sign-in screen and signs the new user in', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		const issued = await createInvitation(ctx, root, {username: 'erin', email: 'erin@example.com'}, {sendEmail: false});
		const t = start(dir);
		await t.waitReady('login');
		await t.press('tab', 'tab', 'tab');
		await t.press('enter');
		await t.waitFor('Paste the link');
		await t.type(issued.link);
		await t.press('enter');
		await t.waitFor('Invitation for erin <erin@example.com> to default as member.');
		await t.type(NEW_PASSWORD);
		await t.press('tab');
		await t.type(NEW_PASSWORD);
		await t.press('enter');
		await t.waitReady('main:users', 20_000);
		await t.waitFor('Welcome, erin');
		expect(t.screen()).toMatch(/erin\s+member · tenant default/);
	});
});
