import {describe, expect, it} from 'vitest';
import {createSession, login, resolveSession} from '../source/core/accounts.js';
import type {Context} from '../source/core/context.js';
import {createProject} from '../source/core/projects.js';
import {authenticateToken, createToken, reissueToken} from '../source/core/tokens.js';
import {deleteUser, disableUser, enableUser, ownerCounts, resetUserPassword, setRole, setSuperuser} from '../source/core/user-admin.js';
import {guardLastOwner} from '../source/core/policy.js';
import {actorOf, addUser} from './helpers/people.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';

function lastAudit(ctx: Context) {
	return ctx.store.read().audit.at(-1);
}

describe('the guards of DESIGN §2, in the core', () => {
	it('the last admin of a tenant cannot be demoted, and the refusal is audited with its reason', async () => {
		const {ctx, root} = await initializedContext();
		// Another superuser who is not an admin: root is the last admin, not the last superuser.
		await addUser(ctx, root.tenant.id, 'sue', {role: 'member', superuser: true});
		await expect(setRole(ctx, actorOf(ctx, 'sue'), 'root', 'member')).rejects.toThrow('root is the last admin of this tenant and cannot be demoted; make another user admin first.');
		expect(ctx.store.read().users.find(u => u.username === 'root')!.role).toBe('admin');
		expect(lastAudit(ctx)).toMatchObject({actor: 'sue', action: 'user.set-role', result: 'refused', reason: expect.stringMatching(/last admin/)});
	});

	it('the last admin of a tenant cannot be disabled or deleted either', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'sue', {role: 'member', superuser: true});
		await addUser(ctx, root.tenant.id, 'sam', {role: 'member', superuser: true});
		await expect(disableUser(ctx, actorOf(ctx, 'sue'), 'root')).rejects.toThrow(/last admin of this tenant and cannot be disabled/);
		await expect(deleteUser(ctx, actorOf(ctx, 'sue'), 'root')).rejects.toThrow(/last admin of this tenant and cannot be deleted/);
	});

	it('the last superuser of the instance cannot lose the bit', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setSuperuser(ctx, root, 'root', false)).rejects.toThrow('root is the last superuser and cannot be stripped of the superuser bit; grant the superuser bit to another user first.');
		await addUser(ctx, root.tenant.id, 'sue', {role: 'admin'});
		await setSuperuser(ctx, root, 'sue', true);
		await setSuperuser(ctx, actorOf(ctx, 'root'), 'root', false);
		expect(ctx.store.read().users.map(u => [u.username, u.superuser])).toEqual([
			['root', false],
			['sue', true],
		]);
	});

	it('the last enabled superuser cannot be disabled or deleted', async () => {
		const {ctx, root} = await initializedContext();
		// Sue is a superuser but disabled, so root is the last enabled one; a second admin makes the admin guard pass.
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin', superuser: true});
		await disableUser(ctx, root, 'ada');
		await enableUser(ctx, root, 'ada');
		await setSuperuser(ctx, root, 'ada', false);
		await addUser(ctx, root.tenant.id, 'zed', {role: 'admin', superuser: true, disabled: true});
		// Zed, disabled, cannot act (an actor that says otherwise is refused by the store's own standing).
		const zed = ctx.store.read().users.find(u => u.username === 'zed')!;
		const asZed = {user: {...zed, disabled: false}, tenant: root.tenant};
		await expect(disableUser(ctx, asZed, 'root')).rejects.toThrow('The account zed was disabled after this command signed in; nothing was changed.');
		// Root is the only enabled superuser: the guard every removal of one passes refuses it.
		const counts = ownerCounts(ctx.store.read(), root.tenant.id);
		expect(guardLastOwner(root.user, 'disable', counts)).toMatchObject({allowed: false, reason: expect.stringMatching(/root is the last superuser and cannot be disabled/)});
		expect(guardLastOwner(root.user, 'delete', counts)).toMatchObject({allowed: false, reason: expect.stringMatching(/root is the last superuser and cannot be deleted/)});
	});

	it('an admin cannot change, disable, reset or delete a superuser', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin'});
		const ada = actorOf(ctx, 'ada');
		const sentence = 'Only a superuser can change, disable or delete a superuser.';
		await expect(setRole(ctx, ada, 'root', 'member')).rejects.toThrow(sentence);
		await expect(disableUser(ctx, ada, 'root')).rejects.toThrow(sentence);
		await expect(deleteUser(ctx, ada, 'root')).rejects.toThrow(sentence);
		await expect(resetUserPassword(ctx, ada, 'root', 'a brand new password')).rejects.toThrow(sentence);
		expect(ctx.store.read().audit.filter(e => e.actor === 'ada' && e.result === 'refused')).toHaveLength(4);
	});

	it('only a superuser grants or revokes the superuser bit', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin'});
		await expect(setSuperuser(ctx, actorOf(ctx, 'ada'), 'ada', true)).rejects.toThrow('Only a superuser can grant or revoke the superuser bit.');
		expect(lastAudit(ctx)).toMatchObject({action: 'user.grant-superuser', result: 'refused'});
	});

	it('nobody grants a role above their own: a member cannot make themselves admin', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'mia');
		await expect(setRole(ctx, actorOf(ctx, 'mia'), 'mia', 'admin')).rejects.toThrow('Only admins can change roles, disable or delete users.');
		expect(ctx.store.read().users.find(u => u.username === 'mia')!.role).toBe('member');
	});

	it('an admin changes a role and the change bumps the revision; a stale revision is refused', async () => {
		const {ctx, root} = await initializedContext();
		const seen = (await addUser(ctx, root.tenant.id, 'mia')).revision;
		const updated = await setRole(ctx, root, 'mia', 'admin', {expectedRevision: seen});
		expect(updated).toMatchObject({role: 'admin', revision: seen + 1});
		await expect(setRole(ctx, root, 'mia', 'guest', {expectedRevision: seen})).rejects.toThrow(/changed by another admin/);
		expect(lastAudit(ctx)).toMatchObject({action: 'user.set-role', result: 'refused'});
	});

	it('nobody disables or deletes their own account', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'ada', {role: 'admin'});
		await expect(disableUser(ctx, actorOf(ctx, 'ada'), 'ada')).rejects.toThrow(/your own account/);
		await expect(deleteUser(ctx, actorOf(ctx, 'ada'), 'ada')).rejects.toThrow(/your own account/);
	});
});

describe('disabling a user', () => {
	it('a disabled user cannot log in, their sessions end and their cli tokens are revoked for good (re-issued by them once enabled)', async () => {
		const {ctx, root} = await initializedContext();
		const passwordHash = await ctx.hasher.hash(FIRST_PASSWORD);
		await addUser(ctx, root.tenant.id, 'mia', {passwordHash});
		const mia = await login(ctx, {identifier: 'mia', password: FIRST_PASSWORD});
		const session = await createSession(ctx, mia);
		await createProject(ctx, mia, {name: 'app'});
		const {secret} = await createToken(ctx, mia, {name: 'ci', project: 'app', capabilities: ['cli']});
		expect((await authenticateToken(ctx, secret)).user.username).toBe('mia');

		await disableUser(ctx, root, 'mia');
		expect(ctx.store.read().sessions.filter(s => s.userId === mia.user.id)).toHaveLength(0);
		expect(() => resolveSession(ctx, session)).toThrow(/session has ended/);
		await expect(authenticateToken(ctx, secret)).rejects.toThrow(/The API token ci was revoked on .* \(its owner was disabled\)/);
		await expect(login(ctx, {identifier: 'mia', password: FIRST_PASSWORD})).rejects.toThrow(/disabled/);

		await enableUser(ctx, root, 'mia');
		await expect(authenticateToken(ctx, secret)).rejects.toThrow(/revoked/);
		const again = await login(ctx, {identifier: 'mia', password: FIRST_PASSWORD});
		expect(again.user.username).toBe('mia');
		const reissued = await reissueToken(ctx, again, secret.slice(0, 8));
		expect((await authenticateToken(ctx, reissued.secret)).user.username).toBe('mia');
		expect(ctx.store.read().audit.filter(e => e.action === 'user.disable' || e.action === 'user.enable').map(e => e.action)).toEqual(['user.disable', 'user.enable']);
	});
});

describe("resetting another user's password", () => {
	it('an admin sets a new password; the old one and the user’s sessions stop working; nothing secret is returned', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'mia', {passwordHash: await ctx.hasher.hash(FIRST_PASSWORD)});
		const session = await createSession(ctx, await login(ctx, {identifier: 'mia', password: FIRST_PASSWORD}));
		expect(await resetUserPassword(ctx, root, 'mia', 'another long password')).toEqual({tokensRevoked: 0});
		expect(() => resolveSession(ctx, session)).toThrow(/session has ended/);
		await expect(login(ctx, {identifier: 'mia', password: FIRST_PASSWORD})).rejects.toThrow(/Wrong/);
		expect((await login(ctx, {identifier: 'mia', password: 'another long password'})).user.username).toBe('mia');
		expect(ctx.store.read().audit.some(e => e.action === 'user.reset-password' && e.result === 'ok' && e.target === 'mia')).toBe(true);
	});

	it('a too-short password is refused before any hashing, and audited', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'mia');
		await expect(resetUserPassword(ctx, root, 'mia', 'short')).rejects.toThrow(/at least 12 characters/);
		expect(lastAudit(ctx)).toMatchObject({action: 'user.reset-password', result: 'refused'});
	});
});
