import {execFileSync} from 'node:child_process';
import {chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {SCHEMA_VERSION} from '../source/core/model.js';
import type {StoreReport} from '../source/store/check.js';
import {orgctl, type CliResult} from './helpers/cli.js';
import {tempDir} from './helpers/store.js';
import {startWorker} from './helpers/writers.js';

const PASSWORD = 'correct horse battery staple';
const env = {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: PASSWORD};

/** A store made by orgctl itself: alice (admin, superuser) and one pending invitation (a sealed link). */
async function madeStore(): Promise<string> {
	const dir = tempDir();
	expect((await orgctl(dir, ['init', '--username', 'alice', '--email', 'alice@example.com', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
	expect((await orgctl(dir, ['invites', 'create', 'bob', 'bob@example.com', '--no-email'], {env})).code).toBe(0);
	return dir;
}

/** Everything in the folder, byte for byte and with its mode: admin check must change none of it. */
function snapshot(dir: string): string {
	return readdirSync(dir)
		.sort()
		.map(name => `${name} ${(statSync(join(dir, name)).mode & 0o7777).toString(8)} ${readFileSync(join(dir, name)).toString('base64')}`)
		.join('\n');
}

async function check(dir: string, json = false): Promise<CliResult & {report?: StoreReport}> {
	const before = snapshot(dir);
	const result = await orgctl(dir, json ? ['--json', 'admin', 'check'] : ['admin', 'check']);
	expect(snapshot(dir)).toBe(before);
	return json ? {...result, report: JSON.parse(result.stdout) as StoreReport} : result;
}

describe('orgctl admin check', () => {
	it('says a sound store is healthy, subject by subject, and exits 0', async () => {
		const dir = await madeStore();
		const result = await check(dir);
		expect(result.code).toBe(0);
		const path = join(dir, 'orgctl.json');
		const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
		const expected = [
			`Store ${esc(path)}`,
			`  ok       place       ${esc(dir)} and the folders above it are safe: nobody but their owners can change them`,
			`  ok       file        version \\d+, schema ${SCHEMA_VERSION}: 1 tenant, 1 user, 1 invitation`,
			'  ok       rules       every record validates and every cross-record rule holds',
			`  ok       key         ${esc(join(dir, 'orgctl.key'))} holds a key that opens the sealed secrets \\(1 secret\\)`,
			`  ok       lock        ${esc(path)}\\.lock is free`,
			`  ok       backup      ${esc(path)}\\.bak, version 2, taken \\S+, validates`,
			'The store is healthy\\.',
		];
		const lines = result.stdout.trimEnd().split('\n');
		expect(lines).toHaveLength(expected.length);
		lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^${expected[i]}$`)));
		const {report} = await check(dir, true);
		expect(report).toMatchObject({path, realPath: path, healthy: true});
		expect(report!.findings.map(f => [f.subject, f.ok])).toEqual([
			['place', true],
			['file', true],
			['rules', true],
			['key', true],
			['lock', true],
			['backup', true],
		]);
	});

	it('for a damaged file names the problem and the last good backup to restore; following the fix gives a working store', async () => {
		const dir = await madeStore();
		const path = join(dir, 'orgctl.json');
		writeFileSync(path, readFileSync(path, 'utf8').slice(0, 200));
		const result = await check(dir);
		expect(result.code).toBe(1);
		expect(result.stdout).toContain('PROBLEM  file        the file is not valid JSON');
		const fix = /fix: restore the last good file: (mv .+ && cp -p .+) \(changes made since/.exec(result.stdout)?.[1];
		expect(fix).toBe(`mv ${path} ${path}.damaged && cp -p ${path}.bak ${path}`);
		execFileSync('sh', ['-c', fix!]);
		expect((await check(dir)).code).toBe(0);
		expect((await orgctl(dir, ['users', 'list', '--json'], {env})).code).toBe(0);
	});

	it('lists every broken cross-record rule, not only the first', async () => {
		const dir = await madeStore();
		const path = join(dir, 'orgctl.json');
		const db = JSON.parse(readFileSync(path, 'utf8')) as {users: Array<{superuser: boolean; role: string}>; invitations: Array<{username: string}>};
		db.users[0]!.superuser = false;
		db.users[0]!.role = 'member';
		db.invitations[0]!.username = 'Alice';
		writeFileSync(path, JSON.stringify(db));
		const {code, report} = await check(dir, true);
		expect(code).toBe(1);
		expect(report!.findings.filter(f => f.subject === 'rules').map(f => [f.ok, f.detail])).toEqual([
			[false, 'no user is a superuser'],
			[false, 'tenant default has users but no admin'],
			[false, 'the invitation for Alice is for a username a user of its tenant has'],
		]);
	});

	it('prints the store’s text inert: control characters in a name are shown escaped, not sent to the terminal', async () => {
		const dir = await madeStore();
		const path = join(dir, 'orgctl.json');
		const db = JSON.parse(readFileSync(path, 'utf8')) as {invitations: Array<{id: string; username: string; email: string}>};
		db.invitations[0]!.username = 'x\u001b[2J\u202e';
		db.invitations.push({...db.invitations[0]!, id: 'f'.repeat(32), email: 'other@example.com'});
		writeFileSync(path, JSON.stringify(db));
		const result = await check(dir);
		expect(result.code).toBe(1);
		// Usernames have character rules (DESIGN §4a): the file is refused, and the refusal quotes the name escaped.
		expect(result.stdout).toContain('PROBLEM  file        the file does not validate at invitations.0.username ("x\\e[2J\\u202e" is not a valid username');
		expect(result.stdout.includes('\u001b') || result.stdout.includes('\u202e')).toBe(false);
	});

	it('names an unsafe place and a loose key with the chmod that fixes each, and is healthy once they are applied', async () => {
		const dir = await madeStore();
		chmodSync(dir, 0o777);
		chmodSync(join(dir, 'orgctl.key'), 0o644);
		const {code, report} = await check(dir, true);
		expect(code).toBe(1);
		const problems = report!.findings.filter(f => !f.ok);
		expect(problems.map(f => [f.subject, f.fix])).toEqual([
			['place', `run chmod go-w ${dir}`],
			['key', `run chmod 600 ${join(dir, 'orgctl.key')}`],
		]);
		for (const problem of problems) execFileSync('sh', ['-c', problem.fix!.replace(/^run /, '')]);
		expect((await check(dir)).code).toBe(0);
	});

	it('says what is lost when the key file is gone while secrets are sealed with it', async () => {
		const dir = await madeStore();
		rmSync(join(dir, 'orgctl.key'));
		const {code, report} = await check(dir, true);
		expect(code).toBe(1);
		expect(report!.findings.find(f => f.subject === 'key')).toEqual({
			subject: 'key',
			ok: false,
			detail: `${join(dir, 'orgctl.key')} is missing, and 1 secret is sealed with it (invitation links, queued mail or the SMTP password)`,
			fix: `restore ${join(dir, 'orgctl.key')} from a backup of the store folder (mode 0600); without it those secrets cannot be recovered`,
		});
	});

	it('names the process holding the lock, and the temp file a dead writer left, without counting them as problems', async () => {
		const dir = await madeStore();
		const path = join(dir, 'orgctl.json');
		const writer = await startWorker([path, 'alice', 'held'], {fixture: 'stalled-writer.ts'});
		try {
			await writer.line(/^inside/);
			writeFileSync(join(dir, '.orgctl.json.tmp-999999999-abcdef'), '{"half":', {mode: 0o600});
			const {code, report} = await check(dir, true);
			expect(code).toBe(0);
			expect(report!.findings.find(f => f.subject === 'lock')!.detail).toMatch(new RegExp(`^held right now \\(the last to take it was process ${writer.pid} on ".+"\\)`));
			expect(report!.findings.find(f => f.subject === 'temp files')!.detail).toBe('1 left by writers that died (.orgctl.json.tmp-999999999-abcdef); the next orgctl command removes them');
		} finally {
			writer.kill('SIGCONT');
			await writer.exited;
		}
	});
});
