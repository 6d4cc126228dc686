import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {orgctl} from './helpers/cli.js';
import {TestSmtpServer} from './helpers/smtp.js';
import {tempDir} from './helpers/store.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a long enough password';

let smtp: TestSmtpServer;
beforeAll(async () => {
	smtp = await new TestSmtpServer().start();
});
afterAll(async () => smtp.stop());

/** A store with alice (admin, superuser) signed in. */
async function signedIn(): Promise<string> {
	const dir = tempDir();
	expect((await orgctl(dir, ['init', '--username', 'alice', '--email', 'alice@example.com', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
	expect((await orgctl(dir, ['login', '--username', 'alice', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
	return dir;
}

function codeFor(to: string): string {
	const mail = smtp.messages.filter(m => m.envelopeTo.includes(to)).at(-1);
	const code = mail && /Your code: (\d{8})/.exec(mail.text)?.[1];
	if (!code) throw new Error(`no code mailed to ${to}`);
	return code;
}

describe('orgctl signup-domains and signup', () => {
	it('an admin lists a domain; a person signs up, verifies with the mailed code and signs in with its role', async () => {
		const dir = await signedIn();
		expect((await orgctl(dir, ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(smtp.port), '--security', 'none', '--from', 'orgctl@corp.com'])).code).toBe(0);

		const add = await orgctl(dir, ['signup-domains', 'add', 'Corp.COM.', '--role', 'guest', '--json']);
		expect(add.code).toBe(0);
		expect(JSON.parse(add.stdout)).toMatchObject({domain: 'corp.com', role: 'guest', method: 'password'});
		expect((await orgctl(dir, ['signup-domains', 'add', 'gmail.com'])).stderr).toMatch(/public webmail domain/);
		expect((await orgctl(dir, ['signup-domains', 'add', 'corp.com', '--role', 'owner'])).code).toBe(2);

		// No login needed to sign up.
		const noSession = {ORGCTL_SESSION_FILE: `${dir}/nobody.json`};
		const signup = await orgctl(dir, ['signup', 'bea@corp.com', 'bea'], {env: noSession});
		expect(signup.code).toBe(0);
		expect(signup.stderr).toContain('Check the mailbox of bea@corp.com');
		await smtp.waitForMessages(1);

		const wrong = await orgctl(dir, ['signup', 'verify', 'bea@corp.com', '00000000', '--password-stdin'], {input: NEW_PASSWORD, env: noSession});
		const code = codeFor('bea@corp.com');
		if (code !== '00000000') expect(wrong).toMatchObject({code: 1, stderr: expect.stringContaining('The code is wrong; 4 tries left.')});

		const verify = await orgctl(dir, ['signup', 'verify', 'bea@corp.com', code, '--password-stdin', '--json'], {input: NEW_PASSWORD, env: noSession});
		expect(verify.code).toBe(0);
		expect(JSON.parse(verify.stdout)).toEqual({username: 'bea', email: 'bea@corp.com', role: 'guest', method: 'password', tenant: 'default'});

		const again = await orgctl(dir, ['signup', 'verify', 'bea@corp.com', code, '--password-stdin'], {input: NEW_PASSWORD, env: noSession});
		expect(again).toMatchObject({code: 1, stderr: expect.stringContaining('No sign-up is waiting for bea@corp.com')});

		const bea = {ORGCTL_USER: 'bea', ORGCTL_PASSWORD: NEW_PASSWORD};
		const whoami = await orgctl(dir, ['whoami', '--json'], {env: bea});
		expect(JSON.parse(whoami.stdout)).toMatchObject({username: 'bea', role: 'guest'});

		const list = await orgctl(dir, ['signup-domains', 'list', '--json']);
		expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({domain: 'corp.com', role: 'guest', method: 'password', users: ['bea'], invitations: []})]);
		const human = await orgctl(dir, ['signup-domains', 'list']);
		expect(human.stdout).toMatch(/^DOMAIN\s+ROLE\s+METHOD\s+USERS\s+INVITATIONS\ncorp\.com\s+guest\s+password\s+1\s+0\n$/);

		// A guest cannot configure sign-up domains.
		expect(await orgctl(dir, ['signup-domains', 'add', 'other.com'], {env: bea})).toMatchObject({code: 1, stderr: 'orgctl: Only admins can configure self sign-up domains.\n'});

		expect((await orgctl(dir, ['signup-domains', 'set', 'corp.com', '--method', 'pam'])).code).toBe(0);
		expect((await orgctl(dir, ['signup-domains', 'remove', 'corp.com'])).stderr).toBe('Self sign-up for corp.com is closed.\n');
		expect(await orgctl(dir, ['signup', 'cy@corp.com', 'cy'], {env: noSession})).toMatchObject({code: 1, stderr: expect.stringContaining('Self sign-up is not open for addresses at corp.com')});
	}, 180_000); // about fifteen real orgctl processes one after another: 20–30 s alone, over 60 s on a loaded machine

	it('without SMTP, signup says so plainly and exits 1', async () => {
		const dir = await signedIn();
		expect((await orgctl(dir, ['signup-domains', 'add', 'corp.com'])).code).toBe(0);
		const signup = await orgctl(dir, ['signup', 'dee@corp.com', 'dee']);
		expect(signup.code).toBe(1);
		expect(signup.stderr).toMatch(/^orgctl: Self sign-up mails you a code, but this server has no mail \(SMTP\) set up yet/);
	});
});
