import {mkdirSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {tempDir} from '../helpers/store.js';
import {seedRoot, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

describe('the console’s own options', () => {
	it('--store=PATH opens the store at the whole path, = signs and all', async () => {
		const dir = tempDir();
		const elsewhere = join(dir, 'a=b');
		mkdirSync(elsewhere);
		// The store named by --store has a user, so the console asks to sign in; a path cut at its
		// second = would name a store that does not exist, and the console would offer the first-run form.
		await seedRoot(join(elsewhere, 'c=d'));
		const t = spawnConsole({dir, args: [`--store=${join(elsewhere, 'c=d', 'orgctl.json')}`]});
		running.push(t);
		await t.waitReady('login');
		expect(t.screen()).toContain('Sign in');
	});
});
