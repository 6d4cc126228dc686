import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import type {Actor, Context} from '../source/core/context.js';
import {migrateOwnership, owned} from '../source/core/ownership.js';
import {createProject} from '../source/core/projects.js';
import {createToken} from '../source/core/tokens.js';
import {deleteUser} from '../source/core/user-admin.js';
import {actorOf, addInvitation, addUser, ownership} from './helpers/people.js';
import type {OpenedStore} from '../source/app/context.js';
import {storedData} from './helpers/backend.js';
import {initializedContext} from './helpers/store.js';

/** Bob (member) owns two projects, a token and an invitation; Carol (member) and Gus (guest) are around. */
async function bobOwnsThings(): Promise<{ctx: Awaited<ReturnType<typeof initializedContext>>['ctx']; root: Actor}> {
	const {ctx, root} = await initializedContext();
	const bob = await addUser(ctx, root.tenant.id, 'bob');
	await addUser(ctx, root.tenant.id, 'carol');
	await addUser(ctx, root.tenant.id, 'gus', {role: 'guest'});
	await addUser(ctx, root.tenant.id, 'dora', {disabled: true});
	const asBob = actorOf(ctx, 'bob');
	await createProject(ctx, asBob, {name: 'web'});
	await createProject(ctx, asBob, {name: 'api'});
	await createToken(ctx, asBob, {name: 'deploy', project: 'web'});
	await addInvitation(ctx, root.tenant.id, bob.id, 'newbie');
	return {ctx, root};
}

/** The stored data without what a refused change may add: the audit log and the version counter. */
async function withoutAudit(ctx: Context & {store: OpenedStore}): Promise<unknown> {
	const {audit, version, ...rest} = await storedData(ctx.store);
	return rest;
}

describe('removing a user who owns things', () => {
	it('lists what the user owns', async () => {
		const {ctx, root} = await bobOwnsThings();
		const result = await owned(ctx, root, 'bob');
		expect(result.items.map(i => `${i.kind} ${i.name}`)).toEqual(['project web', 'project api', 'token deploy (web)', 'invitation newbie <newbie@example.com>']);
	});

	it('deleting a user who owns projects and tokens is refused and nothing changes but the audit of the refusal', async () => {
		const {ctx, root} = await bobOwnsThings();
		const before = await withoutAudit(ctx);
		const auditBefore = ctx.store.read().audit.length;
		await expect(deleteUser(ctx, root, 'bob')).rejects.toThrow(
			'bob still owns 2 projects, 1 API token and 1 pending invitation; move them to another user first, e.g. orgctl users delete bob --migrate-to USER.',
		);
		expect(await withoutAudit(ctx)).toEqual(before);
		const audit = ctx.store.read().audit;
		expect(audit).toHaveLength(auditBefore + 1);
		expect(audit.at(-1)).toMatchObject({actor: 'root', action: 'user.delete', target: 'bob', result: 'refused', reason: expect.stringMatching(/still owns/)});
	});

	it('after migration every item belongs to the new owner, the user is gone, and the audit log records each step', async () => {
		const {ctx, root} = await bobOwnsThings();
		const {moves} = await deleteUser(ctx, root, 'bob', {migrateTo: 'carol'});
		expect(moves).toHaveLength(4);
		expect(ownership(ctx)).toEqual({'project web': 'carol', 'project api': 'carol', 'token deploy': 'carol', 'invitation newbie': 'carol'});
		expect(ctx.store.read().users.map(u => u.username)).not.toContain('bob');
		const steps = ctx.store.read().audit.slice(-5).map(e => `${e.action} ${e.target} ${e.result}`);
		expect(steps).toEqual([
			'project.transfer web: bob → carol ok',
			'project.transfer api: bob → carol ok',
			'token.transfer deploy (web): bob → carol ok',
			'invitation.transfer newbie <newbie@example.com>: bob → carol ok',
			'user.delete bob ok',
		]);
	});

	it('moves item by item to different users, then deletes, in one transaction', async () => {
		const {ctx, root} = await bobOwnsThings();
		const db = ctx.store.read();
		const id = (name: string) => db.projects.find(p => p.name === name)?.id ?? db.tokens.find(t => t.name === name)?.id ?? db.invitations.find(i => i.username === name)!.id;
		const versionBefore = ctx.store.read().version;
		await deleteUser(ctx, root, 'bob', {
			migrateTo: [
				{kind: 'project', id: id('web'), to: 'carol'},
				{kind: 'project', id: id('api'), to: 'root'},
				{kind: 'token', id: id('deploy'), to: 'carol'},
				{kind: 'invitation', id: id('newbie'), to: 'root'},
			],
		});
		expect(ctx.store.read().version).toBe(versionBefore + 1);
		expect(ownership(ctx)).toEqual({'project web': 'carol', 'project api': 'root', 'token deploy': 'carol', 'invitation newbie': 'root'});
	});

	it('a partial plan leaves the user in place and moves nothing', async () => {
		const {ctx, root} = await bobOwnsThings();
		const before = await withoutAudit(ctx);
		const web = ctx.store.read().projects.find(p => p.name === 'web')!;
		await expect(deleteUser(ctx, root, 'bob', {migrateTo: [{kind: 'project', id: web.id, to: 'carol'}]})).rejects.toThrow('bob still owns 1 project, 1 API token and 1 pending invitation; move them to another user first, e.g. orgctl users delete bob --migrate-to USER.');
		expect(await withoutAudit(ctx)).toEqual(before);
	});

	it('the new owner must be allowed to own: not a guest, not disabled, and a member cannot hold an admin invitation', async () => {
		const {ctx, root} = await bobOwnsThings();
		const before = await withoutAudit(ctx);
		await expect(deleteUser(ctx, root, 'bob', {migrateTo: 'gus'})).rejects.toThrow('gus is a guest and guests cannot own projects; choose a member or an admin.');
		await expect(deleteUser(ctx, root, 'bob', {migrateTo: 'dora'})).rejects.toThrow('dora is disabled and cannot own projects; enable the account or choose another user.');
		await addInvitation(ctx, root.tenant.id, root.user.id, 'boss', 'admin');
		await expect(migrateOwnership(ctx, root, 'root', 'carol', 'all')).rejects.toThrow('carol is a member and cannot own an invitation for the admin role; choose an admin.');
		expect(ownership(ctx)['invitation boss']).toBe('root');
		const after = await withoutAudit(ctx) as {invitations: unknown[]};
		expect(after.invitations).toHaveLength(2);
		expect({...after, invitations: (before as {invitations: unknown[]}).invitations}).toEqual(before);
	});

	it('only admins migrate ownership, and an admin cannot move what a superuser owns', async () => {
		const {ctx, root} = await bobOwnsThings();
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin'});
		await createProject(ctx, root, {name: 'roots'});
		await expect(migrateOwnership(ctx, actorOf(ctx, 'carol'), 'bob', 'carol', 'all')).rejects.toThrow('Only admins can move projects and tokens to another user.');
		await expect(migrateOwnership(ctx, actorOf(ctx, 'ada'), 'root', 'ada', 'all')).rejects.toThrow('Only a superuser can move what a superuser owns.');
		expect(ctx.store.read().audit.filter(e => e.action === 'ownership.migrate' && e.result === 'refused')).toHaveLength(2);
	});

	it('a concurrent change by another process during the migration is not lost', async () => {
		const {ctx, root} = await bobOwnsThings();
		const writes = 15;
		const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'concurrent-writer.ts'), ctx.store.path, join(ctx.dir, 'orgctl.key'), String(writes)], {stdio: ['ignore', 'pipe', 'inherit']});
		const exited = new Promise<number | null>(resolve => child.on('close', resolve));
		await new Promise<void>(resolve => child.stdout.on('data', () => resolve()));
		// Move bob's things back and forth while the other process writes.
		let rounds = 0;
		let running = true;
		void exited.then(() => (running = false));
		while (running || rounds < 2) {
			const [from, to] = rounds % 2 === 0 ? ['bob', 'carol'] : ['carol', 'bob'];
			await migrateOwnership(ctx, root, from, to, 'all');
			rounds++;
		}
		expect(await exited).toBe(0);
		await deleteUser(ctx, root, rounds % 2 === 0 ? 'carol' : 'bob', {migrateTo: rounds % 2 === 0 ? 'bob' : 'carol'});
		const db = ctx.store.read();
		expect(db.projects.filter(p => p.name.startsWith('concurrent-'))).toHaveLength(writes);
		const survivor = rounds % 2 === 0 ? 'bob' : 'carol';
		expect(ownership(ctx)).toMatchObject({'project web': survivor, 'project api': survivor, 'token deploy': survivor, 'invitation newbie': survivor});
		expect(db.audit.filter(e => e.action === 'ownership.migrate' && e.result === 'ok')).toHaveLength(rounds);
		expect(db.audit.filter(e => e.action === 'project.create' && e.target.startsWith('concurrent-'))).toHaveLength(writes);
		expect(rounds).toBeGreaterThanOrEqual(2);
	});
});
