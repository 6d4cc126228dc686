import {assertRevision, checkPassword, touch} from './accounts.js';
import {authorize, checked, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {endCredentials} from './credentials.js';
import {invalid, isOrgError, refused} from './errors.js';
import {roleSchema, type Database, type Role, type User} from './model.js';
import {applyMigration, countOwned, describeOwned, migrationEnds, ownedBy, planMigration, resolveOwnedItem, type Move, type Owned, type OwnedKind} from './ownership.js';
import {canGrantRole, guardLastOwner, ROLE_RANK, type AccountChange} from './policy.js';
import {findUser} from './users.js';
import {echo} from './inert.js';
import {invitationsSuspendedIf} from './invitations/record.js';

/** What the console passes back: the revision it saw, so a change by another admin is not overwritten. */
export type Seen = {readonly expectedRevision?: number};

/** Enabled admins of a tenant and enabled superusers of the instance, for the last-owner guards. */
export function ownerCounts(db: Database, tenantId: string): {enabledAdminsInTenant: number; enabledSuperusers: number} {
	let enabledAdminsInTenant = 0;
	let enabledSuperusers = 0;
	for (const u of db.users) {
		if (u.disabled) continue;
		if (u.superuser) enabledSuperusers++;
		if (u.role === 'admin' && u.tenantId === tenantId) enabledAdminsInTenant++;
	}
	return {enabledAdminsInTenant, enabledSuperusers};
}

function guard(db: Database, target: User, change: AccountChange): void {
	const decision = guardLastOwner(target, change, ownerCounts(db, target.tenantId));
	if (!decision.allowed) throw refused(decision.reason);
}

/** The user an admin is about to change: in the tenant, manageable by this actor, as the console saw it. */
function managedUser(db: Database, actor: Actor, name: string, seen: Seen): User {
	const user = findUser(db, actor.tenant.id, name);
	authorize(actor, 'users.manage', {targetSuperuser: user.superuser});
	assertRevision(user, seen.expectedRevision, `The user ${user.username}`);
	return user;
}

/** The changes an admin makes to a user account, as the console offers them. */
export type UserChange = 'role' | 'superuser' | 'disable' | 'enable' | 'password' | 'delete';

/**
 * The checks of a change that do not depend on the new value: who may make it (the policy), the
 * actor's own account, the last admin and the last superuser. The operations below run them
 * inside their transaction; the console runs them first, to refuse a key before a form opens.
 */
export function checkUserChange(db: Database, actor: Actor, user: User, change: UserChange): void {
	if (change === 'superuser') {
		authorize(actor, 'superuser.grant');
		if (user.superuser) guard(db, user, 'revoke-superuser');
		return;
	}
	authorize(actor, 'users.manage', {targetSuperuser: user.superuser});
	const self = user.id === actor.user.id;
	switch (change) {
		case 'disable':
			if (self) throw refused('You cannot disable your own account; ask another admin to do it.');
			guard(db, user, 'disable');
			return;
		case 'delete':
			if (self) throw refused('You cannot delete your own account while signed in as it; ask another admin to do it.');
			guard(db, user, 'delete');
			return;
		case 'password':
			if (self) throw refused('Change your own password from your profile, which asks for the current one.');
			if (user.method !== 'password') throw invalid(`${user.username} signs in with ${user.method.toUpperCase()}, so there is no orgctl password to reset.`);
			return;
		case 'role':
		case 'enable':
			return;
	}
}

/** Why checkUserChange refuses, in its one sentence, or undefined when the change may go ahead (for the console's keys). */
export function userChangeRefusal(db: Database, actor: Actor, user: User, change: UserChange): string | undefined {
	try {
		checkUserChange(db, actor, user, change);
		return undefined;
	} catch (error) {
		if (isOrgError(error)) return error.message;
		throw error;
	}
}

export function parseRole(text: string): Role {
	const parsed = roleSchema().safeParse(text.trim().toLowerCase());
	if (!parsed.success) throw invalid(`"${echo(text)}" is not a role: use guest, member or admin.`);
	return parsed.data;
}

/** How many of the user's pending invitations a change put on hold (invitations/record.ts `suspension`). */
export type Suspended = {readonly invitationsSuspended: number};

/**
 * The pending invitations of `user` a change would put on hold, for the question before it (the
 * console asks; the command line says what happened): those that stand now and would not after.
 */
export function invitationsSuspendedBy(db: Database, user: User, change: {disabled?: boolean; role?: Role; superuser?: boolean}): number {
	return Math.max(0, invitationsSuspendedIf(db, user, change).length - invitationsSuspendedIf(db, user, {}).length);
}

/** What a change would put on hold, as a sentence to append to the question before it ('' when nothing). */
export function suspensionWarning(db: Database, user: User, change: {disabled?: boolean; role?: Role; superuser?: boolean}): string {
	const count = invitationsSuspendedBy(db, user, change);
	if (count === 0) return '';
	return ` ${count === 1 ? 'Their pending invitation goes' : `Their ${count} pending invitations go`} on hold: the links stop working until ${user.username} may send them again.`;
}

/** Changes a user's role: admins only, never above the actor's own, never the last admin's demotion. */
export async function setRole(ctx: Context, actor: Actor, name: string, role: Role, seen: Seen = {}): Promise<User & Suspended> {
	return perform(ctx, actor, 'user.set-role', `${name} → ${role}`, db => {
		const user = managedUser(db, actor, name, seen);
		if (!canGrantRole(actor.user, role)) throw refused(`A ${actor.user.role} cannot grant the ${role} role, which is above their own.`);
		if (ROLE_RANK[role] < ROLE_RANK[user.role]) guard(db, user, 'demote');
		const invitationsSuspended = invitationsSuspendedBy(db, user, {role});
		if (user.role !== role) {
			user.role = role;
			touch(user);
		}
		return {...user, invitationsSuspended};
	});
}

/** Grants or revokes the instance-wide superuser bit: superusers only, never from the last one. */
export async function setSuperuser(ctx: Context, actor: Actor, name: string, on: boolean, seen: Seen = {}): Promise<User & Suspended> {
	return perform(ctx, actor, on ? 'user.grant-superuser' : 'user.revoke-superuser', name, db => {
		authorize(actor, 'superuser.grant');
		const user = findUser(db, actor.tenant.id, name);
		assertRevision(user, seen.expectedRevision, `The user ${user.username}`);
		if (!on) checkUserChange(db, actor, user, 'superuser');
		const invitationsSuspended = invitationsSuspendedBy(db, user, {superuser: on});
		if (user.superuser !== on) {
			user.superuser = on;
			touch(user);
		}
		return {...user, invitationsSuspended};
	});
}

/**
 * Disables an account: it cannot log in, its sessions end at once and its `cli` tokens are revoked
 * (enabling it again does not bring them back: the owner re-issues them).
 */
export async function disableUser(ctx: Context, actor: Actor, name: string, seen: Seen = {}): Promise<User & {tokensRevoked: number} & Suspended> {
	return perform(ctx, actor, 'user.disable', name, db => {
		const user = managedUser(db, actor, name, seen);
		checkUserChange(db, actor, user, 'disable');
		const invitationsSuspended = invitationsSuspendedBy(db, user, {disabled: true});
		if (!user.disabled) {
			user.disabled = true;
			touch(user);
		}
		const ended = endCredentials(db, ctx, user.id, 'its owner was disabled');
		return {...user, tokensRevoked: ended.tokens, invitationsSuspended};
	});
}

export async function enableUser(ctx: Context, actor: Actor, name: string, seen: Seen = {}): Promise<User> {
	return perform(ctx, actor, 'user.enable', name, db => {
		const user = managedUser(db, actor, name, seen);
		if (user.disabled) {
			user.disabled = false;
			touch(user);
		}
		return user;
	});
}

/**
 * Sets another user's password (admins; superusers for superusers). The password comes from the
 * admin (stdin or a form); nothing secret is returned. Their sessions end and their `cli` tokens
 * are revoked: whoever had the old password may have made one.
 */
/** The checks of a password reset that do not need the password, audited: a front end asks them before it prompts for one. */
export async function checkPasswordReset(ctx: Context, actor: Actor, name: string): Promise<User> {
	return checked(ctx, actor, 'user.reset-password', name, db => {
		const user = managedUser(db, actor, name, {});
		checkUserChange(db, actor, user, 'password');
		return user;
	});
}

export async function resetUserPassword(ctx: Context, actor: Actor, name: string, password: string, seen: Seen = {}): Promise<{tokensRevoked: number}> {
	const check = (db: Database): User => {
		const user = managedUser(db, actor, name, seen);
		checkUserChange(db, actor, user, 'password');
		checkPassword(password, db.settings.policy.minPasswordLength);
		return user;
	};
	await checked(ctx, actor, 'user.reset-password', name, check);
	const hash = await ctx.hasher.hash(password);
	return perform(ctx, actor, 'user.reset-password', name, db => {
		const user = check(db);
		user.passwordHash = hash;
		touch(user);
		return {tokensRevoked: endCredentials(db, ctx, user.id, 'its owner’s password was reset').tokens};
	});
}

/** Where a deleted user's things go: all to one user, or each item to its own user. */
export type MigrateTo = string | ReadonlyArray<{readonly kind: OwnedKind; readonly id: string; readonly to: string}>;

/** One move as the command line names it (`--move project:web=carol`): see ownedItemRef. */
export type MoveSpec = {readonly kind: OwnedKind; readonly ref: string; readonly to: string};

/**
 * The MigrateTo of `users delete U --move KIND:REF=V ... [--migrate-to W]`: each named item to its
 * user, everything else U owns to W (left unplaced without it, which the deletion then refuses).
 */
export function migrateToFrom(owned: Owned, username: string, moves: readonly MoveSpec[], rest: string | undefined): MigrateTo {
	if (moves.length === 0 && rest !== undefined) return rest;
	const placed = new Map<string, {kind: OwnedKind; id: string; to: string}>();
	for (const move of moves) {
		const item = resolveOwnedItem(owned, username, move.kind, move.ref);
		if (placed.has(item.id)) throw invalid(`${move.kind} ${JSON.stringify(move.ref)} is given two new owners; move each thing once.`);
		placed.set(item.id, {...item, to: move.to});
	}
	if (rest !== undefined) {
		const everything = [...owned.projects.map(p => ({kind: 'project' as const, id: p.id})), ...owned.tokens.map(t => ({kind: 'token' as const, id: t.id})), ...owned.invitations.map(i => ({kind: 'invitation' as const, id: i.id}))];
		for (const item of everything) if (!placed.has(item.id)) placed.set(item.id, {...item, to: rest});
	}
	return [...placed.values()];
}

/** What deleting a user will do: who goes, and each move, grouped by new owner. */
export type DeletionPlan = {readonly user: User; readonly groups: ReadonlyArray<{readonly from: User; readonly to: User; readonly moves: readonly Move[]}>};

/**
 * Checks every guard of a deletion against `db` and works out the moves, changing nothing: the
 * console shows this before the admin confirms, and deleteUser runs it again inside the transaction.
 */
export function planDeletion(db: Database, actor: Actor, name: string, options: Seen & {migrateTo?: MigrateTo} = {}): DeletionPlan {
	const user = managedUser(db, actor, name, options);
	checkUserChange(db, actor, user, 'delete');
	const groups: Array<{from: User; to: User; moves: Move[]}> = [];
	const {migrateTo} = options;
	if (migrateTo !== undefined && countOwned(ownedBy(db, user.id)) > 0) {
		const byTarget = typeof migrateTo === 'string' ? new Map([[migrateTo, 'all' as const]]) : groupByTarget(migrateTo);
		for (const [toName, choice] of byTarget) {
			const {from, to} = migrationEnds(db, actor, user.id, toName);
			groups.push({from, to, moves: planMigration(db, from, to, choice)});
		}
	}
	const moving = new Set(groups.flatMap(g => g.moves.map(m => m.id)));
	const mine = ownedBy(db, user.id);
	const left = {
		projects: mine.projects.filter(p => !moving.has(p.id)),
		tokens: mine.tokens.filter(t => !moving.has(t.id)),
		invitations: mine.invitations.filter(i => !moving.has(i.id)),
	};
	if (countOwned(left) > 0) {
		throw refused(`${user.username} still owns ${describeOwned(left)}; move them to another user first, e.g. orgctl users delete ${user.username} --migrate-to USER.`);
	}
	return {user, groups};
}

/** The plan for the console's confirmation, from the latest data (nothing is written or audited). */
export function previewDeletion(ctx: Context, actor: Actor, name: string, options: Seen & {migrateTo?: MigrateTo} = {}): DeletionPlan {
	return planDeletion(ctx.store.read(), actor, name, options);
}

/** previewDeletion for `users delete` before it asks: a plan that would be refused is refused (and audited) now. */
export async function previewDeletionAudited(ctx: Context, actor: Actor, name: string, options: Seen & {migrateTo?: MigrateTo} = {}): Promise<DeletionPlan> {
	return checked(ctx, actor, 'user.delete', name, db => planDeletion(db, actor, name, options));
}

/**
 * Deletes a user. Refused while they own projects, tokens or pending invitations, unless
 * `migrateTo` says where those go: then the moves and the delete commit in one transaction,
 * each move audited.
 */
export async function deleteUser(ctx: Context, actor: Actor, name: string, options: Seen & {migrateTo?: MigrateTo} = {}): Promise<{user: User; moves: Move[]}> {
	return perform(ctx, actor, 'user.delete', name, db => {
		const {user, groups} = planDeletion(db, actor, name, options);
		for (const {from, to, moves} of groups) applyMigration(db, ctx, actor, from, to, moves);
		db.users = db.users.filter(u => u.id !== user.id);
		db.sessions = db.sessions.filter(s => s.userId !== user.id);
		return {user, moves: groups.flatMap(g => g.moves)};
	});
}

function groupByTarget(items: ReadonlyArray<{kind: OwnedKind; id: string; to: string}>): Map<string, Array<{kind: OwnedKind; id: string}>> {
	const groups = new Map<string, Array<{kind: OwnedKind; id: string}>>();
	for (const {kind, id, to} of items) {
		const key = to.trim().toLowerCase();
		groups.set(key, [...(groups.get(key) ?? []), {kind, id}]);
	}
	return groups;
}
