import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {orgctl} from '../helpers/cli.js';
import {tempDir} from '../helpers/store.js';
import {ROOT_PASSWORD, seedRoot, seedUsers, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// These run the built console (npm test builds first) in a real pseudo-terminal at 80×24.
const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

async function signedInConsole(): Promise<{dir: string; t: ConsoleTerm}> {
	const dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	await seedUsers(ctx, root.tenant.id, [{username: 'zed'}]);
	await signIn(ctx, root, dir);
	const t = spawnConsole({dir});
	running.push(t);
	await t.waitReady('main:users');
	return {dir, t};
}

describe('the console and the world outside it', () => {
	it('`orgctl logout` from another shell sends an open console back to sign-in with the reason', async () => {
		const {dir, t} = await signedInConsole();
		const logout = await orgctl(dir, ['logout']);
		expect(logout.code).toBe(0);
		await t.waitReady('login', 5000);
		await t.waitFor('Your session has ended; sign in again.');
		expect(t.screen()).toContain('not signed in');
	});

	it('changing the password with `orgctl passwd` elsewhere ends the open console too', async () => {
		const {dir, t} = await signedInConsole();
		const passwd = await orgctl(dir, ['passwd', '--password-stdin'], {input: `${ROOT_PASSWORD}\nan entirely new passphrase\n`});
		expect(passwd.code).toBe(0);
		await t.waitReady('login', 5000);
		await t.waitFor('Your session has ended; sign in again.');
	});

	it('shows a change made in another shell without a key being pressed, and leaves the rows nobody touched as they were', async () => {
		const {dir, t} = await signedInConsole();
		const row = () => t.screen().split('\n').find(line => line.includes('zed')) ?? '';
		expect(row()).toContain(' member ');
		const before = t.screen().split('\n').find(line => line.includes('root'));
		const setRole = await orgctl(dir, ['users', 'set-role', 'zed', 'guest']);
		expect(setRole.code).toBe(0);
		await t.waitFor(() => row().includes(' guest '), 5000);
		expect(t.screen().split('\n').find(line => line.includes('root'))).toBe(before);
	});

	it('a store file broken while the console is open ends it cleanly with the reason and exit code 1', async () => {
		const {dir, t} = await signedInConsole();
		writeFileSync(join(dir, 'orgctl.json'), '{"schemaVersion":1,');
		const exit = await Promise.race([t.exited, new Promise<undefined>(resolve => setTimeout(resolve, 6000))]);
		expect(exit?.exitCode).toBe(1);
		expect(t.alternate()).toBe(false);
		expect(t.output()).toContain('\u001b[?1049l');
		const output = t.output();
		expect(output).toContain('Cannot use the store');
		// No stack trace (asserted as booleans: a failure would otherwise print the whole bundle).
		expect(/^\s+at /m.test(output)).toBe(false);
		expect(output.includes('Node.js v')).toBe(false);
	});
});
