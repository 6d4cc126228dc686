import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {authenticateSession, createSession, endSession, signInToAct} from '../source/core/accounts.js';
import type {Actor} from '../source/core/context.js';
import {createProject} from '../source/core/projects.js';
import {actInTenant, createTenant} from '../source/core/tenants.js';
import {authenticateToken, createToken, deleteToken} from '../source/core/tokens.js';
import {deleteUser, disableUser, resetUserPassword, setRole, setSuperuser} from '../source/core/user-admin.js';
import {listUsers} from '../source/core/users.js';
import {auditSince, cast, PASSWORD, type Cast} from './helpers/cast.js';
import {storeEnv} from './helpers/backend.js';
import {ORGCTL} from './helpers/cli.js';
import {TEST_HASHER} from './helpers/store.js';

/**
 * Red team 10-14 #1: a command keeps no rights it started with. An actor is resolved when a command
 * signs in; whatever changes in the store before it commits (its account disabled, deleted,
 * demoted, its superuser bit revoked, its session ended, its token revoked, its password reset)
 * stops the change, and the refusal is audited.
 */

/** Waits until `check` holds on the latest store (another process writes it). */
async function storeShows(c: Cast, check: () => boolean): Promise<void> {
	const deadline = Date.now() + 20_000;
	for (;;) {
		await c.ctx.store.refresh();
		if (check()) return;
		if (Date.now() > deadline) throw new Error('the store never showed it');
		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

describe('a command held at a prompt acts with the standing the store has when it commits', () => {
	it('an admin disabled and demoted while `users reset-password` waits for the password does not take over the account', async () => {
		const c = await cast();
		const before = c.ctx.store.read().audit.length;
		const miaHash = c.users['mia']!.passwordHash;
		// The real command, its stdin held open: it has signed in and waits for the new password.
		const child = spawn(process.execPath, [ORGCTL, 'users', 'reset-password', 'mia', '--password-stdin'], {
			env: {...process.env, ...(await storeEnv(c.ctx.dir)), ORGCTL_SESSION_FILE: join(c.ctx.dir, 'none.json'), ORGCTL_USER: 'ada', ORGCTL_PASSWORD: PASSWORD},
			stdio: ['pipe', 'pipe', 'pipe'],
		});
		let stderr = '';
		child.stderr.on('data', d => (stderr += d));
		const exited = new Promise<number>(resolve => child.on('close', code => resolve(code ?? -1)));
		await storeShows(c, () => auditSince(c, before).some(e => e.action === 'login' && e.actor === 'ada' && e.result === 'ok'));
		await setRole(c.ctx, c.root, 'ada', 'guest');
		await disableUser(c.ctx, c.root, 'ada');
		child.stdin.end('taken-over-password-1');
		expect(await exited).toBe(1);
		expect(stderr).toMatch(/^orgctl: The account ada was disabled after this command signed in; nothing was changed\.\n$/);
		await c.ctx.store.refresh();
		expect(c.ctx.store.read().users.find(u => u.username === 'mia')!.passwordHash).toBe(miaHash);
		expect(auditSince(c, before).filter(e => e.action === 'user.reset-password')).toMatchObject([{actor: 'ada', result: 'refused', reason: expect.stringMatching(/ada was disabled/)}]);
	});

	it('an admin deleted while `users delete` waits is refused, and the victim stays', async () => {
		const c = await cast();
		// A second admin to delete ada with; ada acts through a session left by `orgctl login`.
		const ada = await authenticateSession(c.ctx, await createSession(c.ctx, c.actor('ada')));
		await deleteUser(c.ctx, c.root, 'ada');
		await expect(deleteUser(c.ctx, ada, 'max')).rejects.toThrow('The account ada was deleted after this command signed in; nothing was changed; sign in again.');
		expect(c.ctx.store.read().users.some(u => u.username === 'max')).toBe(true);
		expect(c.ctx.store.read().audit.at(-1)).toMatchObject({actor: 'ada', action: 'user.delete', target: 'max', result: 'refused'});
	});
});

/** How an actor's standing can change between signing in and committing, and what the refusal says. */
const CHANGES: ReadonlyArray<{readonly what: string; readonly change: (c: Cast, actor: Actor) => Promise<unknown>; readonly says: RegExp}> = [
	{what: 'disabled', change: c => disableUser(c.ctx, c.root, 'ada'), says: /ada was disabled after this command signed in/},
	{what: 'deleted', change: c => deleteUser(c.ctx, c.root, 'ada', {migrateTo: 'root'}), says: /ada was deleted after this command signed in/},
	{what: 'demoted', change: c => setRole(c.ctx, c.root, 'ada', 'member'), says: /role of ada changed from admin to member/},
	{what: 'made a superuser (it acts with what it signed in with, no more)', change: c => setSuperuser(c.ctx, c.root, 'ada', true), says: /ada became a superuser after this command signed in/},
	// A reset ends the session and revokes the token, and changes the password a command signed in with: each says its own.
	{what: 'given a new password by an admin', change: async c => resetUserPassword(c.ctx, c.root, 'ada', 'a brand new password 1'), says: /^The (password of ada was changed|session this command acts under ended|API token this command acts with was revoked) after (this command|it) signed in/},
];

/** The three credentials a command acts with. */
const CREDENTIALS: ReadonlyArray<{readonly via: string; readonly signIn: (c: Cast) => Promise<Actor>}> = [
	{via: 'a password (ORGCTL_USER)', signIn: c => signInToAct(c.ctx, {identifier: 'ada', password: PASSWORD}, undefined)},
	{via: 'a session (orgctl login)', signIn: async c => authenticateSession(c.ctx, await createSession(c.ctx, c.actor('ada')))},
	{
		via: 'a cli API token (ORGCTL_TOKEN)',
		signIn: async c => {
			await createProject(c.ctx, c.actor('ada'), {name: 'adas'});
			return authenticateToken(c.ctx, (await createToken(c.ctx, c.actor('ada'), {name: 'laptop', project: 'adas', capabilities: ['cli']})).secret);
		},
	},
];

describe('every change and every checked read asks the store again who is acting', () => {
	for (const {via, signIn} of CREDENTIALS) {
		for (const {what, change, says} of CHANGES) {
			it(`an admin acting through ${via}, ${what} since, is refused and audited`, async () => {
				const c = await cast();
				const ada = await signIn(c);
				await change(c, ada);
				const before = c.ctx.store.read().audit.length;
				await expect(setRole(c.ctx, ada, 'mia', 'admin')).rejects.toThrow(says);
				expect(c.ctx.store.read().users.find(u => u.username === 'mia')!.role).toBe('member');
				await expect(listUsers(c.ctx, ada)).rejects.toThrow(says);
				expect(auditSince(c, before).map(e => [e.actor.replace(/ \(token \w+\)$/, ''), e.action, e.result])).toEqual([
					['ada', 'user.set-role', 'refused'],
					['ada', 'users.list', 'refused'],
				]);
			});
		}
	}

	it('a session ended (orgctl logout, another admin) ends what a command started under it', async () => {
		const c = await cast();
		const session = await createSession(c.ctx, c.actor('ada'));
		const ada = await authenticateSession(c.ctx, session);
		await endSession(c.ctx, session.id);
		await expect(setRole(c.ctx, ada, 'mia', 'admin')).rejects.toThrow('The session this command acts under ended after it signed in; nothing was changed; sign in again.');
	});

	it('a token deleted while its command runs ends what the command started with it', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('ada'), {name: 'adas'});
		const made = await createToken(c.ctx, c.actor('ada'), {name: 'laptop', project: 'adas', capabilities: ['cli']});
		const ada = await authenticateToken(c.ctx, made.secret);
		await deleteToken(c.ctx, c.root, made.token.id.slice(0, 8));
		await expect(createProject(c.ctx, ada, {name: 'late'})).rejects.toThrow('The API token this command acts with was deleted after it signed in; nothing was changed.');
	});

	it('a superuser acting in another tenant keeps the credential it switched with, and the tenant deleted meanwhile stops it', async () => {
		const c = await cast();
		const session = await createSession(c.ctx, c.root);
		const root = await authenticateSession(c.ctx, session);
		await createTenant(c.ctx, c.root, 'third');
		const there = await actInTenant(c.ctx, root, 'third');
		expect(there.sessionId).toBe(session.id);
		await endSession(c.ctx, session.id);
		await expect(createProject(c.ctx, there, {name: 'x'})).rejects.toThrow(/session this command acts under ended/);
	});

	it('nothing changed in the standing: the change goes ahead (the check is not a blanket refusal)', async () => {
		const c = await cast();
		const ada = await signInToAct(c.ctx, {identifier: 'ada', password: PASSWORD}, undefined);
		// An unrelated change to ada's record (another admin edits mia; ada's last login moves) does not stop her.
		await setRole(c.ctx, c.root, 'max', 'guest');
		expect((await setRole(c.ctx, ada, 'mia', 'admin')).role).toBe('admin');
		expect(await TEST_HASHER.verify(PASSWORD, c.ctx.store.read().users.find(u => u.username === 'ada')!.passwordHash!)).toBe(true);
	});
});
