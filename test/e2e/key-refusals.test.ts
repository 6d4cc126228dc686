import {afterEach, describe, expect, it} from 'vitest';
import {resolveActor} from '../../source/core/accounts.js';
import {tempDir} from '../helpers/store.js';
import {seedRoot, seedUsers, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

describe('a key the console refuses is audited once, like the command line’s refusal (red team #10)', () => {
	it('an admin pressing e, x, d, p and s on a superuser leaves five refusals in the audit, each naming the key and the user', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await seedUsers(ctx, root.tenant.id, [{username: 'ada', role: 'admin'}]);
		const ada = resolveActor(ctx.store.read(), ctx.store.read().users.find(u => u.username === 'ada')!.id);
		await signIn(ctx, ada, dir);
		const before = ctx.store.read().audit.length;

		const t = spawnConsole({dir});
		running.push(t);
		await t.waitReady('main:users');
		await t.press('G');
		await t.waitFor(/›root/);
		const refusals = async () => {
			await ctx.store.refresh();
			return ctx.store.read().audit.slice(before).filter(e => e.result === 'refused');
		};
		// A refused key opens nothing: the next key is pressed once the last refusal is in the audit.
		let count = 0;
		for (const key of ['e', 'x', 'd', 'p', 's']) {
			await t.press(key);
			await t.waitFor(/✗ Only a superuser can/);
			count++;
			await expect.poll(async () => (await refusals()).length, {timeout: 10_000}).toBe(count);
		}
		await expect.poll(async () => (await refusals()).map(e => e.action).join(" "), {timeout: 10_000}).toBe("console.users.role console.users.disable console.users.delete console.users.password console.users.superuser");
		expect((await refusals()).map(e => [e.actor, e.action, e.target])).toEqual([
			['ada', 'console.users.role', 'root'],
			['ada', 'console.users.disable', 'root'],
			['ada', 'console.users.delete', 'root'],
			['ada', 'console.users.password', 'root'],
			['ada', 'console.users.superuser', 'root'],
		]);
		expect((await refusals()).map(e => e.reason)).toEqual([
			'Only a superuser can change, disable or delete a superuser.',
			'Only a superuser can change, disable or delete a superuser.',
			'Only a superuser can change, disable or delete a superuser.',
			'Only a superuser can change, disable or delete a superuser.',
			'Only a superuser can grant or revoke the superuser bit.',
		]);
	});
});
