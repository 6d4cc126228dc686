import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {storedTextIn} from './helpers/backend.js';
import {orgctl} from './helpers/cli.js';
import {TestSmtpServer} from './helpers/smtp.js';
import {tempDir} from './helpers/store.js';

const ROOT_PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a long enough password';

let server: TestSmtpServer | undefined;
afterEach(async () => {
	await server?.stop().catch(() => undefined);
	server = undefined;
});

/** A store with root signed in (session file), and SMTP pointed at a loopback server. */
async function signedIn(withSmtp = true): Promise<string> {
	const dir = tempDir();
	expect((await orgctl(dir, ['init', '--username', 'root', '--email', 'root@example.com', '--password-stdin'], {input: ROOT_PASSWORD})).code).toBe(0);
	expect((await orgctl(dir, ['login', '--username', 'root', '--password-stdin'], {input: ROOT_PASSWORD})).code).toBe(0);
	if (withSmtp) {
		server = await new TestSmtpServer().start();
		const set = await orgctl(dir, ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(server.port), '--security', 'none', '--from', 'orgctl@example.com', '--timeout', '1000']);
		expect(set.stderr).toContain('SMTP settings saved');
		expect(set.code).toBe(0);
	}
	return dir;
}

describe('orgctl invites and orgctl accept', () => {
	it('invites, mails, and the mailed link accepts', async () => {
		const dir = await signedIn();
		const created = await orgctl(dir, ['invites', 'create', 'carol', 'carol@example.com', '--role', 'admin', '--json']);
		expect(created.code).toBe(0);
		const json = JSON.parse(created.stdout) as {id: string; link: string; expires: string; mail: {state: string}};
		expect(json).toMatchObject({link: expect.stringContaining(`/invite/${json.id}.`), mail: {state: 'sent'}});
		expect(created.stderr).toContain('Mail sent to carol@example.com');

		const [mail] = await server!.waitForMessages(1);
		expect(mail!.envelopeTo).toEqual(['carol@example.com']);
		expect(mail!.text).toContain(`orgctl accept ${json.link}`);

		const accepted = await orgctl(dir, ['accept', json.link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(accepted.stderr).toContain('Welcome, carol');
		expect(accepted.code).toBe(0);
		const users = JSON.parse((await orgctl(dir, ['users', 'list', '--json'])).stdout) as Array<{username: string; role: string}>;
		expect(users.find(u => u.username === 'carol')).toMatchObject({role: 'admin'});
		expect(JSON.parse((await orgctl(dir, ['invites', 'list', '--json'])).stdout)).toEqual([]);

		const again = await orgctl(dir, ['accept', json.link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/already used/);
	});

	it('prints the link on stdout, lists, links, resends and deletes by id prefix', async () => {
		const dir = await signedIn(false);
		const created = await orgctl(dir, ['invites', 'create', 'dave', 'dave@example.com']);
		expect(created.code).toBe(0);
		const link = created.stdout.trim();
		expect(link).toMatch(/^http:\/\/localhost:8080\/invite\/[0-9a-f]{32}\.[\w-]{43}$/);
		expect(created.stderr).toContain('not sent: SMTP is not configured');
		const id = link.split('/invite/')[1]!.slice(0, 32);

		const list = await orgctl(dir, ['invites', 'list']);
		expect(list.stdout).toMatch(/dave\s+dave@example.com\s+member\s+password\s+root/);
		expect(list.stdout).toContain('not sent: SMTP is not configured');

		expect((await orgctl(dir, ['invites', 'link', id.slice(0, 5)])).stdout.trim()).toBe(link);
		const resent = await orgctl(dir, ['invites', 'resend', id.slice(0, 5), '--json']);
		expect(JSON.parse(resent.stdout)).toMatchObject({id, link, renewed: false, mail: {state: 'not-sent'}});

		expect(await orgctl(dir, ['invites', 'delete', 'xyz'])).toMatchObject({code: 1, stderr: expect.stringContaining('ids are hex digits')});
		const deleted = await orgctl(dir, ['invites', 'delete', id.slice(0, 5)]);
		expect(deleted).toMatchObject({code: 0, stderr: expect.stringContaining('its link no longer works')});
		const dead = await orgctl(dir, ['accept', link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(dead).toMatchObject({code: 1, stderr: expect.stringContaining('was revoked')});
	});

	it('exits 2 on usage errors and 1 on refusals', async () => {
		const dir = await signedIn(false);
		expect((await orgctl(dir, ['invites', 'create', 'only-a-name'])).code).toBe(2);
		expect((await orgctl(dir, ['invites', 'create', 'x', 'x@example.com', '--role', 'king'])).code).toBe(2);
		expect((await orgctl(dir, ['invites', 'create', 'x', 'x@example.com', '--file', 'f.csv'])).code).toBe(2);
		const refused = await orgctl(dir, ['invites', 'create', 'root', 'other@example.com']);
		expect(refused).toMatchObject({code: 1, stderr: expect.stringContaining('A user named root already exists')});
		expect(await orgctl(dir, ['accept', 'http://localhost:8080/invite/garbage'])).toMatchObject({code: 1, stderr: expect.stringContaining('not valid')});
		const link = (await orgctl(dir, ['invites', 'create', 'eve', 'eve@example.com'])).stdout.trim();
		// A password user must choose a password: without a terminal that means --password-stdin.
		expect((await orgctl(dir, ['accept', link])).code).toBe(2);
		expect(await orgctl(dir, ['accept', link, '--password-stdin'], {input: 'short'})).toMatchObject({code: 1, stderr: expect.stringContaining('too short')});
	});

	it('invites a CSV file in bulk, with progress on stderr and a result per row', async () => {
		const dir = await signedIn();
		const file = join(dir, 'invites.csv');
		writeFileSync(file, ['username,email,role,method', 'ann,ann@example.com,member', 'ben,ben@example.com,guest,pam', 'root,dup@example.com', 'cy@example.com'].join('\n'));
		const result = await orgctl(dir, ['invites', 'create', '--file', file, '--json']);
		expect(result.code).toBe(1);
		const rows = JSON.parse(result.stdout) as Array<{line: number; ok: boolean; username: string; mail?: {state: string}; reason?: string}>;
		expect(rows.map(r => [r.line, r.username, r.ok])).toEqual([
			[2, 'ann', true],
			[3, 'ben', true],
			[4, 'root', false],
			[5, 'cy', true],
		]);
		expect(rows.filter(r => r.ok).every(r => r.mail?.state === 'sent')).toBe(true);
		expect(result.stderr).toContain('Mailing 3/3');
		expect(result.stderr).toContain('3 of 4 invited, 3 mailed; 1 refused');
		expect((await server!.waitForMessages(3)).length).toBe(3);
	});

	it('keeps the SMTP password out of the store file and tests the settings', async () => {
		const dir = await signedIn(false);
		server = await new TestSmtpServer({auth: {user: 'mailer', pass: 'smtp-pass-123'}}).start();
		const args = ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(server.port), '--security', 'none', '--from', 'orgctl@example.com'];
		expect((await orgctl(dir, [...args, '--user', 'mailer', '--password-stdin'], {input: 'smtp-pass-123'})).code).toBe(0);
		expect(await storedTextIn(dir)).not.toContain('smtp-pass-123');
		const shown = JSON.parse((await orgctl(dir, ['settings', 'smtp', 'show', '--json'])).stdout) as Record<string, unknown>;
		expect(shown).toMatchObject({host: '127.0.0.1', user: 'mailer', hasPassword: true, timeoutMs: 10_000});
		expect(shown).not.toHaveProperty('passwordSealed');
		const tested = await orgctl(dir, ['settings', 'smtp', 'test', '--to', 'ops@example.com']);
		expect(tested).toMatchObject({code: 0, stdout: expect.stringContaining('Test e-mail sent to ops@example.com')});
		server.mode = 'reject5xx';
		expect(await orgctl(dir, ['settings', 'smtp', 'test', '--to', 'ops@example.com'])).toMatchObject({code: 1, stderr: expect.stringContaining('550 No such user here')});
		expect((await orgctl(dir, [...args, '--security', 'bogus'])).code).toBe(2);
	});
});
