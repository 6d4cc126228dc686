import {existsSync, rmSync, statSync, writeFileSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {BACKEND} from './helpers/backend.js';
import {orgctl} from './helpers/cli.js';
import {tempDir} from './helpers/store.js';

const PASSWORD = 'correct horse battery staple';

async function initialized(): Promise<string> {
	const dir = tempDir();
	const init = await orgctl(dir, ['init', '--username', 'alice', '--email', 'alice@example.com', '--password-stdin'], {input: `${PASSWORD}\n`});
	expect(init).toMatchObject({code: 0});
	return dir;
}

describe('orgctl from a clean store', () => {
	it('init, login, whoami --json and users list --json show the first user as admin and superuser', async () => {
		const dir = await initialized();
		const login = await orgctl(dir, ['login', '--username', 'alice', '--password-stdin'], {input: PASSWORD});
		expect(login.code).toBe(0);
		expect(statSync(join(dir, 'session.json')).mode & 0o777).toBe(0o600);
		if (BACKEND === 'file') expect(statSync(join(dir, 'orgctl.json')).mode & 0o777).toBe(0o600);

		const whoami = await orgctl(dir, ['whoami', '--json']);
		expect(whoami.code).toBe(0);
		expect(JSON.parse(whoami.stdout)).toMatchObject({username: 'alice', email: 'alice@example.com', role: 'admin', superuser: true, method: 'password'});

		const list = await orgctl(dir, ['users', 'list', '--json']);
		const users = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
		expect(users).toEqual([expect.objectContaining({username: 'alice', role: 'admin', superuser: true})]);
		expect(users[0]).not.toHaveProperty('passwordHash');
		expect(list.stderr).toBe('');
	});

	it('logout ends the session: the next command asks to sign in and exits 1', async () => {
		const dir = await initialized();
		await orgctl(dir, ['login', '--username', 'alice', '--password-stdin'], {input: PASSWORD});
		expect((await orgctl(dir, ['logout'])).code).toBe(0);
		const after = await orgctl(dir, ['users', 'list']);
		expect(after.code).toBe(1);
		expect(after.stderr).toMatch(/^orgctl: You are not signed in/);
	});

	it('scripts act with ORGCTL_USER and ORGCTL_PASSWORD', async () => {
		const dir = await initialized();
		const result = await orgctl(dir, ['whoami', '--json'], {env: {ORGCTL_USER: 'alice@example.com', ORGCTL_PASSWORD: PASSWORD}});
		expect(JSON.parse(result.stdout).username).toBe('alice');
		const wrong = await orgctl(dir, ['whoami'], {env: {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: 'nope'}});
		expect(wrong).toMatchObject({code: 1, stderr: 'orgctl: Wrong username, e-mail or password.\n'});
	});

	it('a second init is refused with exit 1', async () => {
		const dir = await initialized();
		const again = await orgctl(dir, ['init', '--username', 'bob', '--email', 'bob@example.com', '--password-stdin'], {input: PASSWORD});
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/already has users/);
	});

	it('audit lists the changes and the refusals, newest first', async () => {
		const dir = await initialized();
		await orgctl(dir, ['init', '--username', 'bob', '--email', 'bob@example.com', '--password-stdin'], {input: PASSWORD});
		const audit = await orgctl(dir, ['audit', '--json'], {env: {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: PASSWORD}});
		const events = JSON.parse(audit.stdout) as Array<{action: string; result: string}>;
		expect(events.map(e => `${e.action}:${e.result}`)).toEqual(['login:ok', 'init:refused', 'init:ok']);
	});

	it('passwd changes one’s own password with the current one, read from stdin', async () => {
		const dir = await initialized();
		const env = {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: PASSWORD};
		const wrong = await orgctl(dir, ['passwd', '--password-stdin'], {env, input: 'not it\nanother long password\n'});
		expect(wrong).toMatchObject({code: 1, stderr: 'orgctl: The current password is wrong.\n'});
		expect((await orgctl(dir, ['passwd', '--password-stdin'], {env, input: 'only one line'})).code).toBe(2);
		expect((await orgctl(dir, ['passwd', '--password-stdin'], {env, input: `${PASSWORD}\nanother long password\n`})).code).toBe(0);
		expect((await orgctl(dir, ['whoami'], {env: {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: 'another long password'}})).code).toBe(0);
	});

	it('break-glass reset-password works without signing in', async () => {
		const dir = await initialized();
		const reset = await orgctl(dir, ['admin', 'reset-password', 'alice', '--password-stdin'], {input: 'a whole new password'});
		expect(reset.code).toBe(0);
		const login = await orgctl(dir, ['login', '--username', 'alice', '--password-stdin'], {input: 'a whole new password'});
		expect(login.code).toBe(0);
	});
});

describe('usage errors exit 2', () => {
	it.each([
		[['bogus']],
		[['users', 'list', '--bogus']],
		[['init', '--username', 'a']],
		[['audit', '--since', 'yesterday-ish']],
		[['audit', '--since', '999999999999d']],
		[['users']],
		[['--json']],
	])('orgctl %j', async args => {
		const dir = await initialized();
		const result = await orgctl(dir, args, {env: {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: PASSWORD}});
		expect(result.code).toBe(2);
		expect(result.stderr).not.toBe('');
	});

	it('without a terminal the console exits 2 and points to the subcommands', async () => {
		const dir = tempDir();
		const result = await orgctl(dir, []);
		expect(result.code).toBe(2);
		expect(result.stderr).toMatch(/needs a terminal.*orgctl --help/);
	});

	it('--password-stdin with nothing on stdin is a usage error', async () => {
		const dir = tempDir();
		const result = await orgctl(dir, ['init', '--username', 'a', '--email', 'a@example.com', '--password-stdin'], {input: ''});
		expect(result.code).toBe(2);
	});

	it('--help and --version exit 0', async () => {
		const dir = tempDir();
		expect((await orgctl(dir, ['--help'])).code).toBe(0);
		expect((await orgctl(dir, ['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
	});
});

// The file's own defences; a PostgreSQL store's are in postgres.test.ts.
describe.skipIf(BACKEND !== 'file')('a store file orgctl cannot trust', () => {
	it('a missing key file is not silently replaced while the store holds sealed secrets', async () => {
		const dir = await initialized();
		const env = {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: PASSWORD};
		expect((await orgctl(dir, ['invites', 'create', 'bob', 'bob@example.com', '--no-email'], {env})).code).toBe(0);
		const key = join(dir, 'orgctl.key');
		const saved = readFileSync(key);
		rmSync(key);
		const result = await orgctl(dir, ['invites', 'list'], {env});
		expect(result.code).toBe(1);
		expect(result.stderr).toMatch(/key file .*orgctl\.key is missing.*restore the key file/);
		expect(existsSync(key)).toBe(false);
		// Restored as a key file must be: 0600 (a key others can read is refused, see store-key.test.ts).
		writeFileSync(key, saved, {mode: 0o600});
		expect((await orgctl(dir, ['invites', 'list'], {env})).code).toBe(0);
	});

	it('is refused with exit 1, its path and a fix, and left byte-identical', async () => {
		const dir = tempDir();
		const path = join(dir, 'orgctl.json');
		writeFileSync(path, '{"schemaVersion": 1, "users": [');
		const result = await orgctl(dir, ['users', 'list']);
		expect(result.code).toBe(1);
		expect(result.stderr).toContain(path);
		expect(result.stderr).toMatch(/not valid JSON.*restore it from a backup/);
		expect(readFileSync(path, 'utf8')).toBe('{"schemaVersion": 1, "users": [');
	});
});
