import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {seedRoot, seedUsers, signIn, spawnConsole} from '../helpers/term.js';

/**
 * A preload that writes, when the console writes its ready marker, the Node modules loaded by then
 * (process.moduleLoadList), one a line, to `log`.
 */
function loadsPreload(log: string): string {
	return `const {writeFileSync} = require('node:fs');
const write = process.stdout.write.bind(process.stdout);
let done = false;
process.stdout.write = (chunk, ...rest) => {
	if (!done && String(chunk).includes('orgctl:ready:')) {
		done = true;
		writeFileSync(${JSON.stringify(log)}, process.moduleLoadList.join('\\n'));
	}
	return write(chunk, ...rest);
};
`;
}

describe('the console loads what its first frame needs, and Node modules it does not only when used', () => {
	it('has not loaded node:child_process, node:worker_threads or node:assert when Users is drawn and taking keys', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'orgctl-test-'));
		try {
			const {ctx, root} = await seedRoot(dir);
			await seedUsers(ctx, root.tenant.id, [{username: 'ada'}]);
			await signIn(ctx, root, dir);
			const log = join(dir, 'loaded.log');
			const preload = join(dir, 'loads.cjs');
			writeFileSync(preload, loadsPreload(log));
			const t = spawnConsole({dir, env: {NODE_OPTIONS: `--require ${preload}`}});
			try {
				await t.waitReady('main:users', 30_000);
				await t.waitFor('ada');
				await t.press('q');
				expect((await t.exited).exitCode).toBe(0);
			} finally {
				t.kill('SIGKILL');
			}
			const loaded = readFileSync(log, 'utf8').split('\n');
			// The list is what it says: the modules the console does use by then are in it.
			for (const used of ['NativeModule tty', 'NativeModule crypto', 'NativeModule vm']) expect(loaded).toContain(used);
			// Loaded on demand: a copy to the clipboard (child_process), a commit (worker_threads), a failed check in signal-exit (assert).
			for (const unused of ['NativeModule child_process', 'NativeModule worker_threads', 'NativeModule assert']) expect(loaded).not.toContain(unused);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
