import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {login} from '../../source/core/accounts.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {setSmtpSettings} from '../../source/core/smtp-settings.js';
import {TestSmtpServer} from '../helpers/smtp.js';
import {tempDir} from '../helpers/store.js';
import {openStore, seedRoot, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// The built console (npm test builds first) in a real pseudo-terminal at 80×24, mailing through a
// real SMTP server on loopback.
const PASSWORD = 'a long enough password';

let smtp: TestSmtpServer;
beforeAll(async () => {
	smtp = await new TestSmtpServer().start();
});
afterAll(async () => smtp.stop());

const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

function start(dir: string): ConsoleTerm {
	const t = spawnConsole({dir});
	running.push(t);
	return t;
}

/** A store with SMTP on the loopback server and corp.com open for sign-up as guest. */
async function openForSignup(): Promise<string> {
	const dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: smtp.port, security: 'none', from: 'orgctl@corp.com', timeoutMs: 2000});
	await addSignupDomain(ctx, root, {domain: 'corp.com', role: 'guest'});
	return dir;
}

async function codeMailedTo(to: string): Promise<string> {
	const deadline = Date.now() + 10_000;
	for (;;) {
		const mail = smtp.messages.find(m => m.envelopeTo.includes(to));
		const code = mail && /Your code: (\d{8})/.exec(mail.text)?.[1];
		if (code) return code;
		if (Date.now() > deadline) throw new Error(`no code mailed to ${to}`);
		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

describe('self sign-up from the sign-in screen', () => {
	it('mails a code, takes it with a new password, and lands signed in with the domain role', async () => {
		const dir = await openForSignup();
		const t = start(dir);
		await t.waitReady('login');
		expect(t.screen()).toContain('[ Sign up ]');
		// Username, password, Sign in, Accept invitation, Sign up.
		await t.press('tab', 'tab', 'tab', 'tab', 'enter');
		await t.waitFor('Your e-mail');
		await t.type('Bea@Corp.com');
		await t.press('tab');
		await t.type('bea');
		await t.press('enter');
		await t.waitFor('Sign up: enter the code', 15_000);
		expect(t.screen()).toContain('Check the mailbox of Bea@corp.com');
		const code = await codeMailedTo('Bea@corp.com');

		// A wrong code first: refused, with the tries left, and the form stays.
		await t.type(code === '00000000' ? '11111111' : '00000000');
		await t.press('tab');
		await t.type(PASSWORD);
		await t.press('tab');
		await t.type(PASSWORD);
		await t.press('enter');
		await t.waitFor('The code is wrong; 4 tries left.', 15_000);

		// The form kept the passwords; the wrong code is selected, so typing the right one replaces it.
		await t.type(code);
		await t.press('enter', 'enter', 'enter');
		await t.waitFor('Welcome, bea: you are a guest of default.', 20_000);
		await t.waitReady('main:account');
		expect(t.screen()).toMatch(/bea guest · tenant default/);
		expect(existsSync(join(dir, 'session.json'))).toBe(true);

		const ctx = await openStore(dir);
		expect((await login(ctx, {identifier: 'bea', password: PASSWORD})).user).toMatchObject({role: 'guest', method: 'password', email: 'Bea@corp.com'});

		await t.press('q');
		expect((await t.exited).exitCode).toBe(0);
		expect(t.alternate()).toBe(false);
	});

	it('is not offered where no domain is open for sign-up', async () => {
		const dir = tempDir();
		await seedRoot(dir);
		const t = start(dir);
		await t.waitReady('login');
		expect(t.screen()).toContain('[ Accept invitation ]');
		expect(t.screen()).not.toContain('Sign up');
	});

	it('an admin adds, edits and removes a sign-up domain in Configure Self Signup', async () => {
		const dir = await openForSignup();
		const ctx = await openStore(dir);
		const root = await login(ctx, {identifier: 'root', password: 'correct horse battery staple'});
		await signIn(ctx, root, dir);
		const t = start(dir);
		await t.waitReady('main:users');
		// Its number depends on which sections are built in.
		// At 80 columns the left pane uses the sections' short titles.
		await t.press(/(\d) Self Signup/.exec(t.screen())![1]!);
		await t.waitReady('main:signup-domains');
		await t.waitFor(/corp\.com\s+guest\s+password\s+0\s+0/);

		await t.press('n');
		await t.waitFor('Open self sign-up for a domain');
		await t.type('gmail.com');
		await t.press('enter', 'enter', 'enter');
		await t.waitFor('public webmail domain');
		// The form stays, the error beside the domain, which is selected: typing replaces it.
		await t.type('Eng.Corp.com');
		// Roles read guest, member, admin and stop at the end: two steps right from member are admin.
		await t.press('enter', 'right', 'right', 'enter', 'right', 'enter');
		// Everyone at the domain would sign up as an admin: asked first.
		await t.waitFor('sign up as an admin?');
		await t.press('y');
		await t.waitFor(/eng\.corp\.com\s+admin\s+pam/);
		await t.expectCommand('orgctl signup-domains add Eng.Corp.com --role admin --method pam');

		await t.press('e');
		await t.waitFor('Edit sign-up for corp.com');
		// From guest, one step right is member.
		await t.press('right', 'enter', 'enter');
		await t.waitFor(/corp\.com\s+member\s+password/);

		await t.press('j');
		// A key pressed before the frame of the previous one may still act on the old row (see the report); wait as a person would.
		await t.waitFor('›eng.corp.com');
		await t.press('d');
		await t.waitFor('Close self sign-up for eng.corp.com?');
		await t.press('y');
		await t.waitFor('Self sign-up for eng.corp.com is closed.');
		await t.expectCommand('orgctl signup-domains remove eng.corp.com');
		await t.waitFor(/1–1 of 1/);
		expect((await openStore(dir)).store.read().signupDomains.map(d => [d.domain, d.role])).toEqual([['corp.com', 'member']]);
	});
});
