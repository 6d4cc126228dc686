import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createSession} from '../source/core/accounts.js';
import {createProject} from '../source/core/projects.js';
import {createToken} from '../source/core/tokens.js';
import {orgctl, type CliResult} from './helpers/cli.js';
import {actorOf, addInvitation, addUser, ownership} from './helpers/people.js';
import {initializedContext} from './helpers/store.js';

type Ctx = Awaited<ReturnType<typeof initializedContext>>['ctx'];

/** Signs `username` in through the core and leaves a session file the CLI will use. */
async function sessionFor(ctx: Ctx, username: string): Promise<Record<string, string>> {
	const session = await createSession(ctx, actorOf(ctx, username));
	const file = join(ctx.dir, `session-${username}.json`);
	writeFileSync(file, JSON.stringify({store: ctx.store.path, ...session}), {mode: 0o600});
	return {ORGCTL_SESSION_FILE: file};
}

/** root (admin + superuser), ada (admin), sue (member + superuser), mia (member), bob (member, owns things), carol (member). */
async function cast() {
	const {ctx, root} = await initializedContext();
	for (const [name, fields] of [
		['ada', {role: 'admin'}],
		['sue', {superuser: true}],
		['mia', {}],
		['bob', {}],
		['carol', {}],
	] as const) {
		await addUser(ctx, root.tenant.id, name, fields);
	}
	const bob = actorOf(ctx, 'bob');
	await createProject(ctx, bob, {name: 'web'});
	await createProject(ctx, bob, {name: 'api'});
	await createToken(ctx, bob, {name: 'deploy', project: 'web'});
	await addInvitation(ctx, root.tenant.id, bob.user.id, 'newbie');
	const as = async (username: string) => {
		const env = await sessionFor(ctx, username);
		return (...args: string[]) => orgctl(ctx.dir, args, {env});
	};
	return {ctx, root, as};
}

function refusedWith(result: CliResult, sentence: string): void {
	expect(result).toMatchObject({code: 1, stdout: '', stderr: `orgctl: ${sentence}\n`});
}

describe('orgctl users: the guards of DESIGN §2 from the command line', () => {
	it('refuses each guard with its sentence and exit 1, and audits it', async () => {
		const {ctx, as} = await cast();
		const root = await as('root');
		const ada = await as('ada');
		const sue = await as('sue');
		const mia = await as('mia');
		// Ada is a second admin, so take her out of the way for the last-admin case.
		expect((await root('users', 'set-role', 'ada', 'member')).code).toBe(0);
		refusedWith(await sue('users', 'set-role', 'root', 'member'), 'root is the last admin of this tenant and cannot be demoted; make another user admin first.');
		refusedWith(await sue('users', 'disable', 'root'), 'root is the last admin of this tenant and cannot be disabled; make another user admin first.');
		expect((await root('users', 'set-superuser', 'sue', 'off')).code).toBe(0);
		refusedWith(await root('users', 'set-superuser', 'root', 'off'), 'root is the last superuser and cannot be stripped of the superuser bit; grant the superuser bit to another user first.');
		expect((await root('users', 'set-role', 'ada', 'admin')).code).toBe(0);
		refusedWith(await ada('users', 'disable', 'root'), 'Only a superuser can change, disable or delete a superuser.');
		refusedWith(await ada('users', 'set-superuser', 'mia', 'on'), 'Only a superuser can grant or revoke the superuser bit.');
		refusedWith(await mia('users', 'set-role', 'mia', 'admin'), 'Only admins can change roles, disable or delete users.');
		const refusals = ctx.store.read().audit.filter(e => e.result === 'refused').map(e => `${e.actor} ${e.action}`);
		expect(refusals).toEqual(['sue user.set-role', 'sue user.disable', 'root user.revoke-superuser', 'ada user.disable', 'ada user.grant-superuser', 'mia user.set-role']);
	});

	it('a role that does not exist and on|off typos are usage errors (exit 2)', async () => {
		const {as} = await cast();
		const root = await as('root');
		expect(await root('users', 'set-role', 'mia', 'boss')).toMatchObject({code: 2, stderr: 'orgctl: "boss" is not a role: use guest, member or admin.\n'});
		expect((await root('users', 'set-superuser', 'mia', 'yes')).code).toBe(2);
	});

	it('set-role --json prints the changed user with the model’s field names', async () => {
		const {as} = await cast();
		const result = await (await as('root'))('--json', 'users', 'set-role', 'mia', 'guest');
		expect(result.code).toBe(0);
		expect(JSON.parse(result.stdout)).toMatchObject({username: 'mia', role: 'guest', superuser: false});
		expect(result.stdout).not.toContain('passwordHash');
	});
});

describe('orgctl users delete', () => {
	it('without --yes and without a terminal is a usage error that changes nothing', async () => {
		const {ctx, as} = await cast();
		const result = await (await as('root'))('users', 'delete', 'carol');
		expect(result).toMatchObject({code: 2, stderr: 'orgctl: deleting carol needs confirmation: add --yes when running without a terminal.\n'});
		expect(ctx.store.read().users.map(u => u.username)).toContain('carol');
	});

	it('refuses while the user owns things, saying what, and shows them with users owned', async () => {
		const {ctx, as} = await cast();
		const root = await as('root');
		refusedWith(await root('users', 'delete', 'bob', '--yes'), 'bob still owns 2 projects, 1 API token and 1 pending invitation; move them to another user first, e.g. orgctl users delete bob --migrate-to USER.');
		const owned = await root('--json', 'users', 'owned', 'bob');
		const data = JSON.parse(owned.stdout) as {projects: {name: string}[]; tokens: Record<string, unknown>[]; invitations: {username: string}[]};
		expect(data.projects.map(p => p.name)).toEqual(['web', 'api']);
		expect(data.tokens).toEqual([expect.objectContaining({name: 'deploy', project: 'web', ownerName: 'bob'})]);
		expect(data.tokens[0]).not.toHaveProperty('secretHash');
		expect(data.invitations.map(i => i.username)).toEqual(['newbie']);
		expect(ctx.store.read().users.map(u => u.username)).toContain('bob');
	});

	it('--migrate-to moves everything and deletes in one step, each move audited', async () => {
		const {ctx, as} = await cast();
		const result = await (await as('ada'))('users', 'delete', 'bob', '--migrate-to', 'carol', '--yes');
		expect(result.code).toBe(0);
		expect(result.stderr).toBe(
			'Deleted bob after moving 4 items to carol.\nThe API token moved is revoked: its secret stops working at once, and the new owner re-issues it (orgctl tokens reissue ID) to get a new secret only they see.\n',
		);
		expect(ownership(ctx)).toEqual({'project web': 'carol', 'project api': 'carol', 'token deploy': 'carol', 'invitation newbie': 'carol'});
		expect(ctx.store.read().users.map(u => u.username)).not.toContain('bob');
		expect(ctx.store.read().audit.slice(-5).map(e => e.action)).toEqual(['project.transfer', 'project.transfer', 'token.transfer', 'invitation.transfer', 'user.delete']);
	});

	it('refuses a guest as the new owner and changes nothing', async () => {
		const {ctx, as} = await cast();
		const root = await as('root');
		expect((await root('users', 'set-role', 'carol', 'guest')).code).toBe(0);
		refusedWith(await root('users', 'delete', 'bob', '--migrate-to', 'carol', '--yes'), 'carol is a guest and guests cannot own projects; choose a member or an admin.');
		expect(ownership(ctx)['project web']).toBe('bob');
	});
});

describe('API tokens and disabled users from the command line', () => {
	it('a token created with tokens create authenticates the CLI through ORGCTL_TOKEN', async () => {
		const {ctx, as} = await cast();
		const root = await as('root');
		expect((await root('projects', 'create', 'infra')).code).toBe(0);
		const created = await root('--json', 'tokens', 'create', 'ci', '--project', 'infra', '--capability', 'error:post', '--capability', 'cli');
		const {id, token, capabilities} = JSON.parse(created.stdout) as {id: string; token: string; capabilities: string[]};
		expect(token.startsWith(`${id}.`)).toBe(true);
		expect(capabilities).toEqual(['error:post', 'cli']);
		const whoami = await orgctl(ctx.dir, ['whoami', '--json'], {env: {ORGCTL_TOKEN: token}});
		expect(JSON.parse(whoami.stdout)).toMatchObject({username: 'root'});
		// The list never shows the secret again.
		const list = await root('--json', 'tokens', 'list');
		expect(list.stdout).not.toContain(token.split('.')[1]!);
		expect((await root('tokens', 'delete', id.slice(0, 10))).code).toBe(0);
		expect(await orgctl(ctx.dir, ['whoami'], {env: {ORGCTL_TOKEN: token}})).toMatchObject({code: 1, stderr: 'orgctl: The API token in ORGCTL_TOKEN is not valid; it may have been deleted.\n'});
	});

	it('a crash-posting token is refused as ORGCTL_TOKEN; only a cli token acts as its owner, and the audit says so', async () => {
		const {ctx, as} = await cast();
		const root = await as('root');
		expect((await root('projects', 'create', 'infra')).code).toBe(0);
		const posting = JSON.parse((await root('--json', 'tokens', 'create', 'crashes', '--project', 'infra', '--capability', 'error:post')).stdout) as {token: string};
		expect(await orgctl(ctx.dir, ['projects', 'create', 'stolen'], {env: {ORGCTL_TOKEN: posting.token}})).toMatchObject({
			code: 1,
			stderr: 'orgctl: The API token crashes lacks the cli capability needed for ORGCTL_TOKEN; create one with `orgctl tokens create NAME --project P --capability cli`.\n',
		});
		expect(ctx.store.read().projects.map(p => p.name)).not.toContain('stolen');
		const cli = JSON.parse((await root('--json', 'tokens', 'create', 'shell', '--project', 'infra', '--capability', 'cli')).stdout) as {id: string; token: string};
		expect((await orgctl(ctx.dir, ['projects', 'create', 'mine'], {env: {ORGCTL_TOKEN: cli.token}})).code).toBe(0);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'project.create', actor: `root (token ${cli.id.slice(0, 8)})`, result: 'ok'});
	});

	it('a disabled user’s session and cli token stop working; enabling does not bring the token back, re-issuing it does', async () => {
		const {ctx, as} = await cast();
		const root = await as('root');
		const mia = await as('mia');
		await createProject(ctx, actorOf(ctx, 'mia'), {name: 'mias'});
		const {secret} = await createToken(ctx, actorOf(ctx, 'mia'), {name: 'laptop', project: 'mias', capabilities: ['cli']});
		expect((await mia('whoami')).code).toBe(0);
		expect((await root('users', 'disable', 'mia')).code).toBe(0);
		expect(await mia('whoami')).toMatchObject({code: 1, stderr: 'orgctl: Your session has ended; sign in again with `orgctl login`.\n'});
		expect(await orgctl(ctx.dir, ['whoami'], {env: {ORGCTL_TOKEN: secret}})).toMatchObject({code: 1, stderr: expect.stringMatching(/^orgctl: The API token laptop was revoked on .* \(its owner was disabled\)/)});
		expect((await root('users', 'enable', 'mia')).code).toBe(0);
		expect((await orgctl(ctx.dir, ['whoami'], {env: {ORGCTL_TOKEN: secret}})).code).toBe(1);
		const reissued = await (await as('mia'))('--json', 'tokens', 'reissue', secret.slice(0, 8));
		expect(reissued.code).toBe(0);
		const {token} = JSON.parse(reissued.stdout) as {token: string};
		expect(JSON.parse((await orgctl(ctx.dir, ['whoami', '--json'], {env: {ORGCTL_TOKEN: token}})).stdout)).toMatchObject({username: 'mia'});
	});

	it('an admin resets a password from stdin, and the user signs in with it', async () => {
		const {ctx, as} = await cast();
		const reset = await (await as('ada'))('users', 'reset-password', 'mia', '--password-stdin');
		expect(reset.code).toBe(2);
		const done = await orgctl(ctx.dir, ['users', 'reset-password', 'mia', '--password-stdin'], {env: await sessionFor(ctx, 'ada'), input: 'a new long password\n'});
		expect(done).toMatchObject({code: 0, stdout: ''});
		const login = await orgctl(ctx.dir, ['login', '--username', 'mia', '--password-stdin'], {input: 'a new long password'});
		expect(login.code).toBe(0);
	});

	it('projects: a member creates their own, cannot transfer, an admin transfers', async () => {
		const {ctx, as} = await cast();
		const mia = await as('mia');
		expect((await mia('projects', 'create', 'notes')).code).toBe(0);
		refusedWith(await mia('projects', 'create', 'other', '--owner', 'carol'), 'Members can create projects only for themselves.');
		refusedWith(await mia('projects', 'transfer', 'notes', '--to', 'carol'), 'Only admins can move projects and tokens to another user.');
		expect((await (await as('ada'))('projects', 'transfer', 'notes', '--to', 'carol')).code).toBe(0);
		expect(ownership(ctx)['project notes']).toBe('carol');
	});
});
