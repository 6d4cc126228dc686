import {spawn} from 'node:child_process';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Command} from 'commander';
import {describe, expect, it} from 'vitest';
import {resolveStorePath, openContext} from '../source/app/context.js';
import {copyStore, migrateStore} from '../source/app/store-admin.js';
import {buildProgram} from '../source/cli/program.js';
import {CliContext} from '../source/cli/context.js';
import {checkStore} from '../source/store/check.js';
import {plural} from '../source/core/words.js';
import {ORGCTL, orgctl} from './helpers/cli.js';
import {tempDir} from './helpers/store.js';
import {seedRoot, seedUsers, signIn} from './helpers/term.js';

/** Every command below `command`, with the names leading to it. */
function walk(command: Command, path: string[] = []): Array<{path: string; command: Command}> {
	return command.commands.flatMap(sub => [{path: [...path, sub.name()].join(' '), command: sub}, ...walk(sub, [...path, sub.name()])]);
}

/** Runs a shell pipeline with bash (pipefail, PIPESTATUS), the store and session in `dir`. */
function pipeline(dir: string, script: string): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise((resolve, reject) => {
		const env = {...process.env, ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json'), ORGCTL: ORGCTL, NODE: process.execPath};
		const child = spawn('bash', ['-c', script], {env, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		child.on('error', reject);
		child.on('close', code => resolve({code: code ?? -1, stdout, stderr}));
	});
}

describe('orgctl has the manners of a command-line tool (clig.dev)', () => {
	it('`orgctl users list --json | head -1` ends quietly with status 0 when head stops reading (no EPIPE trace)', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		// Far more than a pipe buffer holds, so orgctl is still writing when head has gone.
		await seedUsers(ctx, root.tenant.id, Array.from({length: 3000}, (_, i) => ({username: `user${i}`})));
		await signIn(ctx, root, dir);
		for (const args of ['users list --json', 'users list', 'audit']) {
			const run = await pipeline(dir, `"$NODE" "$ORGCTL" ${args} | head -1; echo "orgctl exited \${PIPESTATUS[0]}" >&2`);
			expect(run.stdout.split('\n').filter(Boolean)).toHaveLength(1);
			expect(run.stderr).toBe('orgctl exited 0\n');
		}
	});

	it('every command and subcommand has a description in --help', () => {
		const program = buildProgram(new CliContext({resolveStorePath, open: path => openContext(path), check: checkStore, migrate: migrateStore, copyStore}));
		const commands = walk(program);
		expect(commands.length).toBeGreaterThan(40);
		const missing = commands.filter(({command}) => command.description().trim() === '').map(({path}) => path);
		expect(missing).toEqual([]);
		const optionsWithout = commands.flatMap(({path, command}) => command.options.filter(o => o.description.trim() === '').map(o => `${path} ${o.flags}`));
		expect(optionsWithout).toEqual([]);
	});

	it('--help of every command group lists each of its subcommands with its description', async () => {
		const program = buildProgram(new CliContext({resolveStorePath, open: path => openContext(path), check: checkStore, migrate: migrateStore, copyStore}));
		for (const group of program.commands.filter(c => c.commands.length > 0)) {
			const help = await orgctl(tempDir(), [group.name(), '--help']);
			expect(help.code).toBe(0);
			for (const sub of group.commands) expect(help.stdout).toContain(sub.description().split('\n')[0]!.slice(0, 30));
		}
	});

	it('counts read as English: 1 person, 2 people, 1 user, 1,000 users', async () => {
		expect(plural(1, 'person', 'people')).toBe('1 person');
		expect(plural(2, 'person', 'people')).toBe('2 people');
		expect(plural(1, 'user')).toBe('1 user');
		expect(plural(1000, 'user')).toBe('1,000 users');
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await signIn(ctx, root, dir);
		writeFileSync(join(dir, 'one.csv'), 'ann,ann@example.com\n');
		const invited = await orgctl(dir, ['invites', 'create', '--file', join(dir, 'one.csv'), '--no-email']);
		expect(invited.code).toBe(0);
		expect(invited.stderr).toContain('Inviting 1 person');
		expect(invited.stderr).not.toContain('1 people');
	});
});
