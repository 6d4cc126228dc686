import {assertRevision, touch} from './accounts.js';
import {allowed, appendAudit, authorize, checked, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {revokeToken} from './credentials.js';
import {conflict, invalid, notFound, refused} from './errors.js';
import type {ApiToken, Database, Invitation, Project, User} from './model.js';
import {canGrantRole} from './policy.js';
import {findUser, lookUpUser} from './users.js';

/** What a user can own: projects, API tokens, and the invitations they sent that are still pending. */
export type OwnedKind = 'project' | 'token' | 'invitation';

/** Everything one user owns, straight from the store. */
export type Owned = {
	readonly projects: readonly Project[];
	readonly tokens: readonly ApiToken[];
	readonly invitations: readonly Invitation[];
};

/** One owned thing, named for people (a token by name and project, an invitation by its invitee). */
export type OwnedItem = {readonly kind: OwnedKind; readonly id: string; readonly name: string};

/** Which of a user's things to move: all of them, or the ones listed. */
export type MigrationChoice = 'all' | ReadonlyArray<{readonly kind: OwnedKind; readonly id: string}>;

/** One move, as planned or as done. */
export type Move = OwnedItem & {readonly from: string; readonly to: string};

export function ownedBy(db: Database, userId: string): Owned {
	return {
		projects: db.projects.filter(p => p.owner === userId),
		tokens: db.tokens.filter(t => t.owner === userId),
		invitations: db.invitations.filter(i => i.invitedBy === userId),
	};
}

export function countOwned(owned: Owned): number {
	return owned.projects.length + owned.tokens.length + owned.invitations.length;
}

/** "2 projects, 1 API token and 1 pending invitation", or "nothing". */
export function describeOwned(owned: Owned): string {
	const parts = [
		plural(owned.projects.length, 'project'),
		plural(owned.tokens.length, 'API token'),
		plural(owned.invitations.length, 'pending invitation'),
	].filter((p): p is string => p !== undefined);
	if (parts.length === 0) return 'nothing';
	return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

function plural(n: number, noun: string): string | undefined {
	return n === 0 ? undefined : `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The owned things as one list, in the order the migration view shows them. */
export function ownedItems(db: Database, owned: Owned): OwnedItem[] {
	return [
		...owned.projects.map(p => ({kind: 'project' as const, id: p.id, name: p.name})),
		...owned.tokens.map(t => ({kind: 'token' as const, id: t.id, name: `${t.name} (${db.projects.find(p => p.id === t.projectId)?.name ?? '?'})`})),
		...owned.invitations.map(i => ({kind: 'invitation' as const, id: i.id, name: `${i.username} <${i.email}>`})),
	];
}

/**
 * What `users owned U` shows: the user, and what they own. Anyone may ask about themselves; only
 * admins about others (DESIGN §2: members see only their own things). A refusal is audited.
 */
export async function owned(ctx: Context, actor: Actor, name: string): Promise<{user: User; owned: Owned; items: OwnedItem[]}> {
	return checked(ctx, actor, 'users.owned', name, db => ownedIn(db, actor, name));
}

/** owned over data already read (the console derives what it shows from the data it renders). */
export function ownedIn(db: Database, actor: Actor, name: string): {user: User; owned: Owned; items: OwnedItem[]} {
	const user = lookUpUser(db, actor.tenant.id, name);
	// Asked before "no such user", so whoever may not look does not learn who exists.
	authorize(actor, 'ownership.view', {ownerId: user?.id ?? ''});
	if (!user) throw notFound(`There is no user ${name} in this tenant.`);
	const mine = ownedBy(db, user.id);
	return {user, owned: mine, items: ownedItems(db, mine)};
}

/**
 * Throws the one sentence that says why `user` may not own this kind of thing: a disabled account
 * or a guest could never use it, and a member cannot hold an invitation for a role above their own.
 */
export function assertMayOwn(user: User, what: {kind: OwnedKind; role?: Invitation['role']}): void {
	const noun = what.kind === 'project' ? 'projects' : what.kind === 'token' ? 'API tokens' : 'invitations';
	if (user.disabled) throw refused(`${user.username} is disabled and cannot own ${noun}; enable the account or choose another user.`);
	if (user.role === 'guest') throw refused(`${user.username} is a guest and guests cannot own ${noun}; choose a member or an admin.`);
	if (what.kind === 'invitation' && what.role !== undefined && !canGrantRole(user, what.role)) {
		throw refused(`${user.username} is a ${user.role} and cannot own an invitation for the ${what.role} role; choose an admin.`);
	}
}

/**
 * Works out, against the data inside the transaction, which items move. An item chosen earlier
 * that no longer belongs to `from` is a conflict: another admin moved or deleted it meanwhile.
 */
export function planMigration(db: Database, from: User, to: User, choice: MigrationChoice): Move[] {
	if (from.id === to.id) throw invalid(`${from.username} already owns these; choose another user to move them to.`);
	if (to.tenantId !== from.tenantId) throw invalid(`${to.username} belongs to another tenant; ownership moves only within a tenant.`);
	const mine = ownedBy(db, from.id);
	const all = ownedItems(db, mine);
	const chosen =
		choice === 'all'
			? all
			: choice.map(c => {
					const item = all.find(i => i.kind === c.kind && i.id === c.id);
					if (!item) throw conflict(`That ${c.kind === 'token' ? 'API token' : c.kind} no longer belongs to ${from.username}; another admin moved or deleted it, reload and choose again.`);
					return item;
				});
	if (chosen.length === 0) throw invalid(`${from.username} owns nothing to move.`);
	for (const item of chosen) {
		const role = item.kind === 'invitation' ? mine.invitations.find(i => i.id === item.id)?.role : undefined;
		assertMayOwn(to, role === undefined ? {kind: item.kind} : {kind: item.kind, role});
	}
	return chosen.map(item => ({...item, from: from.username, to: to.username}));
}

/** Applies a plan inside a transaction and audits each move; the caller audits the whole. */
export function applyMigration(db: Database, ctx: Context, actor: Actor, from: User, to: User, moves: readonly Move[]): void {
	for (const move of moves) {
		const missing = () => conflict(`${move.name} was deleted meanwhile; reload and choose again.`);
		switch (move.kind) {
			case 'project': {
				const project = db.projects.find(p => p.id === move.id);
				if (!project) throw missing();
				project.owner = to.id;
				touch(project);
				break;
			}
			case 'token': {
				const token = db.tokens.find(t => t.id === move.id);
				if (!token) throw missing();
				token.owner = to.id;
				// A credential never changes hands: whoever held the secret keeps nothing; the new owner re-issues it.
				if (token.revoked) touch(token);
				else revokeToken(ctx, token, `it moved from ${from.username} to ${to.username}`);
				break;
			}
			case 'invitation': {
				const invitation = db.invitations.find(i => i.id === move.id);
				if (!invitation) throw missing();
				invitation.invitedBy = to.id;
				touch(invitation);
				break;
			}
		}
		appendAudit(db, ctx, actor, {action: `${move.kind}.transfer`, target: `${move.name}: ${from.username} → ${to.username}`, result: 'ok'});
	}
}

/** Both ends of a migration, found in the actor's tenant, with the permission checks of DESIGN §2. */
export function migrationEnds(db: Database, actor: Actor, fromName: string, toName: string): {from: User; to: User} {
	authorize(actor, 'ownership.migrate');
	const from = findUser(db, actor.tenant.id, fromName);
	const to = findUser(db, actor.tenant.id, toName);
	authorize(actor, 'ownership.migrate', {ownerId: from.id, ownerSuperuser: from.superuser, recipientSuperuser: to.superuser});
	return {from, to};
}

/** How many of the moves are API tokens, whose secrets the move revokes (the views say so before anyone confirms). */
export function tokensRevokedBy(moves: ReadonlyArray<{readonly kind: OwnedKind}>): number {
	return moves.filter(m => m.kind === 'token').length;
}

/** The sentence the migration view and `users delete --migrate-to` show before the admin confirms, or undefined when no token moves. */
export function revocationNotice(moves: ReadonlyArray<{readonly kind: OwnedKind}>): string | undefined {
	const tokens = tokensRevokedBy(moves);
	if (tokens === 0) return undefined;
	return `${tokens === 1 ? 'The API token moved is' : `The ${tokens} API tokens moved are`} revoked: ${tokens === 1 ? 'its secret stops' : 'their secrets stop'} working at once, and the new owner re-issues ${tokens === 1 ? 'it' : 'them'} (orgctl tokens reissue ID) to get a new secret only they see.`;
}

/**
 * Moves some or all of what `from` owns to `to`, in one transaction: either every item moves or
 * none does. Each move is audited, then the migration as a whole.
 */
export async function migrateOwnership(
	ctx: Context,
	actor: Actor,
	fromName: string,
	toName: string,
	choice: MigrationChoice,
	options: {expectedRevision?: number} = {},
): Promise<Move[]> {
	return perform(ctx, actor, 'ownership.migrate', `${fromName} → ${toName}`, db => {
		const {from, to} = migrationEnds(db, actor, fromName, toName);
		assertRevision(from, options.expectedRevision, `The user ${from.username}`);
		const moves = planMigration(db, from, to, choice);
		applyMigration(db, ctx, actor, from, to, moves);
		return moves;
	});
}

/**
 * Users of the tenant who could take over these items from `from`: for the console's list of
 * targets. Anyone refused by assertMayOwn for any item is left out.
 */
export function eligibleOwners(ctx: Context, actor: Actor, fromName: string, items: ReadonlyArray<{kind: OwnedKind; id: string}>): User[] {
	const db = ctx.store.read();
	const from = findUser(db, actor.tenant.id, fromName);
	const roles = new Map(db.invitations.map(i => [i.id, i.role]));
	return db.users
		.filter(u => u.tenantId === actor.tenant.id && u.id !== from.id)
		.filter(u => allowed(actor, 'ownership.migrate', {ownerId: from.id, ownerSuperuser: from.superuser, recipientSuperuser: u.superuser}))
		.filter(u => {
			try {
				for (const item of items) {
					const role = item.kind === 'invitation' ? roles.get(item.id) : undefined;
					assertMayOwn(u, role === undefined ? {kind: item.kind} : {kind: item.kind, role});
				}
				return true;
			} catch {
				return false;
			}
		})
		.sort((a, b) => a.username.localeCompare(b.username));
}

/**
 * How a command line names one of a user's things: a project by its name, a token or an invitation
 * by the shortest prefix of its id that no other thing of that kind the user owns shares (at least
 * 8 characters). `resolveOwnedItem` reads these back.
 */
export function ownedItemRef(items: readonly OwnedItem[], item: OwnedItem): string {
	if (item.kind === 'project') return item.name;
	const others = items.filter(i => i.kind === item.kind && i.id !== item.id);
	for (let length = 8; length < item.id.length; length++) {
		const prefix = item.id.slice(0, length);
		if (others.every(i => !i.id.startsWith(prefix))) return prefix;
	}
	return item.id;
}

/** The thing of `kind` that `ref` names among what the user owns (see ownedItemRef), or a sentence saying why none. */
export function resolveOwnedItem(owned: Owned, username: string, kind: OwnedKind, ref: string): {kind: OwnedKind; id: string} {
	const records: ReadonlyArray<{readonly id: string; readonly name?: string}> = recordsOf(owned, kind);
	const wanted = ref.trim().toLowerCase();
	const byName = kind === 'project' ? records.filter(r => r.name?.toLowerCase() === wanted) : [];
	const matches = byName.length > 0 ? byName : wanted.length >= 4 ? records.filter(r => r.id.toLowerCase().startsWith(wanted)) : [];
	const noun = {project: 'project', token: 'API token', invitation: 'pending invitation'}[kind];
	if (matches.length === 0) throw invalid(`${username} owns no ${noun} named ${JSON.stringify(ref)}${kind === 'project' ? '' : ' (give at least 4 characters of its id)'}; see orgctl users owned ${username}.`);
	if (matches.length > 1) throw invalid(`${JSON.stringify(ref)} names more than one ${noun} of ${username}; give more of its id.`);
	return {kind, id: matches[0]!.id};
}

function recordsOf(owned: Owned, kind: OwnedKind): ReadonlyArray<{readonly id: string; readonly name?: string}> {
	switch (kind) {
		case 'project':
			return owned.projects;
		case 'token':
			return owned.tokens;
		case 'invitation':
			return owned.invitations;
	}
}
