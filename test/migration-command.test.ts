import {spawn} from 'node:child_process';
import {chmodSync, copyFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createProject} from '../source/core/projects.js';
import {createToken} from '../source/core/tokens.js';
import {ownedBy, ownedItems} from '../source/core/ownership.js';
import {deleteUser} from '../source/core/user-admin.js';
import type {Context} from '../source/core/context.js';
import {equivalentCommand, migrateTo, migrationReducer, startMigration, type MigrationAction} from '../source/ui/users/migration-state.js';
import {Store} from '../source/store/store.js';
import {KeyFile} from '../source/store/secrets.js';
import {buildContext} from '../source/app/context.js';
import {ORGCTL} from './helpers/cli.js';
import {actorOf, addInvitation, addUser, ownership} from './helpers/people.js';
import {initializedContext, TEST_HASHER, tempDir} from './helpers/store.js';

const PASSWORD = 'a password for ada only';

/** Runs a command line as a shell would, with `orgctl` on the PATH meaning the built CLI. */
async function inShell(commandLine: string, env: Record<string, string>): Promise<{code: number; stderr: string}> {
	const bin = tempDir();
	writeFileSync(join(bin, 'orgctl'), `#!/bin/sh\nexec "${process.execPath}" "${ORGCTL}" "$@"\n`);
	chmodSync(join(bin, 'orgctl'), 0o755);
	const child = spawn('/bin/sh', ['-c', commandLine], {env: {...process.env, ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}`}, stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr.on('data', d => (stderr += d));
	const code = await new Promise<number>(resolve => child.on('close', c => resolve(c ?? -1)));
	return {code, stderr};
}

/** What the two stores must agree on: who is there, who owns what, and what the audit says was done. */
function outcome(ctx: Context, since: number) {
	const db = ctx.store.read();
	return {
		users: db.users.map(u => u.username).sort(),
		ownership: ownership(ctx),
		audit: db.audit.slice(since).map(e => `${e.actor} ${e.action} ${e.target} ${e.result}`),
	};
}

describe('the equivalent command the console shows after removing a user', () => {
	it('does, pasted into a shell against a copy of the store, exactly what the console did: names with spaces, each invitation to its own user', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin', passwordHash: await TEST_HASHER.hash(PASSWORD)});
		for (const name of ['bob', 'carol', 'dan']) await addUser(ctx, root.tenant.id, name);
		const bob = actorOf(ctx, 'bob');
		await createProject(ctx, bob, {name: 'Web site'});
		await createProject(ctx, bob, {name: "Bob api-2"});
		await createToken(ctx, bob, {name: 'deploy', project: 'Web site'});
		const bobId = bob.user.id;
		await addInvitation(ctx, root.tenant.id, bobId, 'newbie');
		await addInvitation(ctx, root.tenant.id, bobId, 'another');

		// The migration view, item by item: projects to carol and dan, the token to carol, one invitation each to ada and carol.
		const db = ctx.store.read();
		const items = ownedItems(db, ownedBy(db, bobId));
		const target: Record<string, string> = {'Web site': 'carol', "Bob api-2": 'dan', 'deploy (Web site)': 'carol', 'newbie <newbie@example.com>': 'ada', 'another <another@example.com>': 'carol'};
		let state = startMigration('bob', db.users.find(u => u.id === bobId)!.revision, items);
		for (const [index, item] of items.entries()) {
			const actions: MigrationAction[] = [{type: 'move', delta: index - state.cursor}, {type: 'pick.one'}, {type: 'pick.done', username: target[item.name]!}];
			state = actions.reduce(migrationReducer, state);
		}
		state = migrationReducer(state, {type: 'review'});
		expect(state.step).toBe('review');
		const command = equivalentCommand(state);

		// A copy of the store as it was before the console acted.
		const copyDir = tempDir();
		copyFileSync(ctx.store.path, join(copyDir, 'orgctl.json'));
		copyFileSync(ctx.store.path.replace(/\.json$/, '.key'), join(copyDir, 'orgctl.key'));
		const since = ctx.store.read().audit.length;

		// What the console does on Enter: one deleteUser with the view's plan.
		await deleteUser(ctx, actorOf(ctx, 'ada'), 'bob', {migrateTo: migrateTo(state), expectedRevision: state.revision});
		// What the pasted command does.
		const pasted = await inShell(command, {ORGCTL_STORE: join(copyDir, 'orgctl.json'), ORGCTL_USER: 'ada', ORGCTL_PASSWORD: PASSWORD, ORGCTL_SESSION_FILE: join(copyDir, 'session.json')});
		expect(pasted.stderr).toMatch(/^Deleted bob after moving 5 items/);
		expect(pasted.code).toBe(0);

		const copyStore = await Store.open(join(copyDir, 'orgctl.json'));
		const copy = buildContext(copyStore, KeyFile.load(copyStore.path), {hasher: TEST_HASHER});
		const console = outcome(ctx, since);
		expect(console.ownership).toEqual({'project Web site': 'carol', "project Bob api-2": 'dan', 'token deploy': 'carol', 'invitation newbie': 'ada', 'invitation another': 'carol'});
		// The copy's audit starts with ada's sign-in (the console was already signed in); after it, the same steps.
		const fromCli = outcome(copy, since);
		expect(fromCli.users).toEqual(console.users);
		expect(fromCli.ownership).toEqual(console.ownership);
		expect(fromCli.audit.filter(line => !line.includes(' login '))).toEqual(console.audit);
	});
});
