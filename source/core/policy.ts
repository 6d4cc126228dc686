import type {Role} from './model.js';

/**
 * Who may do what (DESIGN §2), as pure functions of plain facts. Operations in the core call these
 * before they change anything; the console uses the same functions to hide what a user may not do.
 * A decision is either allowed or carries one sentence that says why not.
 */
export type Decision = {readonly allowed: true} | {readonly allowed: false; readonly reason: string};

/** What the policy needs to know about whoever is acting. */
export type ActorFacts = {
	readonly userId: string;
	readonly role: Role;
	readonly superuser: boolean;
};

/**
 * The rows of DESIGN §2, one per decision: no operation borrows another's action, so the table
 * test (test/policy.test.ts) sees every decision the core makes, cell by cell.
 */
export const ACTIONS = [
	'profile.own',
	'users.list',
	'users.manage',
	'superuser.grant',
	'invitations.send',
	'invitations.list',
	'invitations.list-all',
	'invitations.manage',
	'signup-domains.configure',
	'projects.create',
	'projects.manage',
	'projects.list-all',
	'tokens.create',
	'tokens.reissue',
	'tokens.manage',
	'tokens.list-all',
	'ownership.view',
	'ownership.migrate',
	'mail.deliver',
	'server.settings',
	'tenants.manage',
	'tenants.act-in-any',
	'sso.manage',
	'audit.view',
	'audit.view-all-tenants',
] as const;
export type Action = (typeof ACTIONS)[number];

export const ROLE_RANK: Record<Role, number> = {guest: 0, member: 1, admin: 2};

const allow: Decision = {allowed: true};
const deny = (reason: string): Decision => ({allowed: false, reason});

/** Facts about what the action is aimed at, when the answer depends on it. */
export type TargetFacts = {
	/** The role an invitation would grant. */
	readonly role?: Role;
	/** Who sent the invitation being resent, copied or revoked. */
	readonly invitedBy?: string;
	/** Whether the user being changed, disabled or deleted holds the superuser bit. */
	readonly targetSuperuser?: boolean;
	/** Who owns (or would own) the project or token; whose things are being looked at or moved. */
	readonly ownerId?: string;
	/** Whether that owner, or the sender of the invitation, holds the superuser bit. */
	readonly ownerSuperuser?: boolean;
	/** Who owns the project a token is (to be) made for. */
	readonly projectOwnerId?: string;
	/** Whether the owner of that project holds the superuser bit. */
	readonly projectOwnerSuperuser?: boolean;
	/** Whether the token carries the `cli` capability: it acts as its owner. */
	readonly cli?: boolean;
	/** Whether the user receiving what is moved holds the superuser bit. */
	readonly recipientSuperuser?: boolean;
};

/**
 * The rules that bind superusers too. A `cli` token acts as its owner with everything the owner
 * may do, so its secret may reach nobody else: only its owner creates or re-issues one, whatever
 * the creator's standing.
 */
function ownersOnly(actor: ActorFacts, action: Action, target: TargetFacts): Decision | undefined {
	const someoneElse = target.ownerId !== undefined && target.ownerId !== actor.userId;
	if (!target.cli || !someoneElse) return undefined;
	if (action === 'tokens.create') return deny('A token with the cli capability acts as its owner, so only its owner can create it; ask them to create it themselves.');
	if (action === 'tokens.reissue') return deny('A token with the cli capability acts as its owner, so only its owner can re-issue it.');
	return undefined;
}

/** The general table: may this actor take this action at all, and on this target? */
export function decide(actor: ActorFacts, action: Action, target: TargetFacts = {}): Decision {
	const binding = ownersOnly(actor, action, target);
	if (binding) return binding;
	if (actor.superuser) return allow;
	const {role} = actor;
	const mine = target.ownerId === undefined || target.ownerId === actor.userId;
	switch (action) {
		case 'profile.own':
			return allow;
		case 'users.list':
			return role === 'guest' ? deny('Guests can see only their own profile, not the list of users.') : allow;
		case 'users.manage':
			if (role !== 'admin') return deny('Only admins can change roles, disable or delete users.');
			if (target.targetSuperuser) return deny('Only a superuser can change, disable or delete a superuser.');
			return allow;
		case 'superuser.grant':
			return deny('Only a superuser can grant or revoke the superuser bit.');
		case 'invitations.send': {
			if (role === 'guest') return deny('Guests cannot send invitations; ask a member or an admin.');
			if (target.role !== undefined && !canGrantRole(actor, target.role)) {
				return deny(`A ${role} can invite with roles up to ${role}, not ${target.role}.`);
			}
			return allow;
		}
		case 'invitations.list':
			return role === 'guest' ? deny('Guests cannot see invitations.') : allow;
		case 'invitations.list-all':
			return role === 'admin' ? allow : deny('Members see only the invitations they sent themselves.');
		case 'invitations.manage': {
			if (role === 'guest') return deny('Guests cannot manage invitations.');
			if (role === 'member' && target.invitedBy !== undefined && target.invitedBy !== actor.userId) {
				return deny('Members can manage only the invitations they sent themselves.');
			}
			if (target.role !== undefined && !canGrantRole(actor, target.role)) {
				return deny(`A ${role} cannot manage an invitation for the ${target.role} role.`);
			}
			if (target.ownerSuperuser && target.invitedBy !== actor.userId) return deny('Only a superuser can resend, copy or revoke an invitation a superuser sent.');
			return allow;
		}
		case 'signup-domains.configure':
			return role === 'admin' ? allow : deny('Only admins can configure self sign-up domains.');
		case 'projects.create':
			if (role === 'guest') return deny('Guests cannot create projects.');
			if (role === 'member' && !mine) return deny('Members can create projects only for themselves.');
			if (target.ownerSuperuser && !mine) return deny('Only a superuser can create a project for a superuser.');
			return allow;
		case 'projects.manage':
			if (role === 'guest') return deny('Guests cannot change or delete projects.');
			if (role === 'member' && !mine) return deny('Only its owner or an admin can change or delete a project.');
			if (target.ownerSuperuser && !mine) return deny('Only a superuser can change or delete a project a superuser owns.');
			return allow;
		case 'projects.list-all':
			return role === 'admin' ? allow : deny(`${role === 'guest' ? 'Guests' : 'Members'} see only their own projects.`);
		case 'tokens.create': {
			if (role === 'guest') return deny('Guests cannot create API tokens.');
			if (role === 'member' && !mine) return deny('Members can create API tokens only for themselves.');
			if (role === 'member' && target.projectOwnerId !== undefined && target.projectOwnerId !== actor.userId) {
				return deny('Members can create API tokens only for their own projects.');
			}
			if (target.ownerSuperuser && !mine) return deny('Only a superuser can create an API token for a superuser.');
			if (target.projectOwnerSuperuser && target.projectOwnerId !== actor.userId) return deny('Only a superuser can create an API token for a project a superuser owns.');
			return allow;
		}
		case 'tokens.reissue':
			if (role === 'guest') return deny('Guests cannot re-issue API tokens.');
			if (role === 'member' && !mine) return deny('Members can re-issue only their own API tokens.');
			if (target.ownerSuperuser && !mine) return deny('Only a superuser can re-issue an API token a superuser owns.');
			return allow;
		case 'tokens.manage':
			if (role === 'guest') return deny('Guests cannot delete API tokens.');
			if (role === 'member' && !mine) return deny('Only its owner or an admin can delete an API token.');
			if (target.ownerSuperuser && !mine) return deny('Only a superuser can delete an API token a superuser owns.');
			return allow;
		case 'tokens.list-all':
			return role === 'admin' ? allow : deny(`${role === 'guest' ? 'Guests' : 'Members'} see only their own API tokens.`);
		case 'ownership.view':
			if (mine) return allow;
			return role === 'admin' ? allow : deny(`${role === 'guest' ? 'Guests' : 'Members'} can see only what they own themselves.`);
		case 'ownership.migrate':
			if (role !== 'admin') return deny('Only admins can move projects and tokens to another user.');
			if (target.ownerSuperuser) return deny('Only a superuser can move what a superuser owns.');
			if (target.recipientSuperuser) return deny('Only a superuser can give projects, tokens or invitations to a superuser.');
			return allow;
		case 'mail.deliver':
			return role === 'admin' ? allow : deny('Only admins can send the queued mail.');
		case 'server.settings':
			return deny('Server settings need the superuser bit.');
		case 'tenants.manage':
			return deny('Tenants can be created and deleted only by a superuser.');
		case 'tenants.act-in-any':
			return deny('Only a superuser can act in another tenant.');
		case 'sso.manage':
			return deny('Single sign-on settings need the superuser bit.');
		case 'audit.view':
			return role === 'admin' ? allow : deny('Only admins can read the audit log.');
		case 'audit.view-all-tenants':
			return deny("Only a superuser can read every tenant's audit log.");
	}
}

/** Nobody grants a role above their own; a superuser may grant any role. */
export function canGrantRole(actor: Pick<ActorFacts, 'role' | 'superuser'>, role: Role): boolean {
	return actor.superuser || ROLE_RANK[role] <= ROLE_RANK[actor.role];
}

/** The roles an actor may grant, lowest first (guest, member, admin): every list of roles reads in this one order. */
export function grantableRoles(actor: Pick<ActorFacts, 'role' | 'superuser'>): Role[] {
	return (['guest', 'member', 'admin'] as const).filter(role => canGrantRole(actor, role));
}

/** What a change does to the account's standing, for the last-admin and last-superuser guards. */
export type AccountChange = 'demote' | 'disable' | 'delete' | 'revoke-superuser';

/**
 * The last enabled admin of a tenant cannot be demoted, disabled or deleted; nor can the last
 * enabled superuser of the instance lose the bit, be disabled or be deleted.
 * `enabledAdmins` and `enabledSuperusers` count the target too.
 */
export function guardLastOwner(
	target: {readonly role: Role; readonly superuser: boolean; readonly disabled: boolean; readonly username: string},
	change: AccountChange,
	counts: {readonly enabledAdminsInTenant: number; readonly enabledSuperusers: number},
): Decision {
	if (target.disabled) return allow;
	if (target.role === 'admin' && change !== 'revoke-superuser' && counts.enabledAdminsInTenant <= 1) {
		return deny(`${target.username} is the last admin of this tenant and cannot be ${pastTense(change)}; make another user admin first.`);
	}
	if (target.superuser && change !== 'demote' && counts.enabledSuperusers <= 1) {
		return deny(`${target.username} is the last superuser and cannot be ${pastTense(change)}; grant the superuser bit to another user first.`);
	}
	return allow;
}

function pastTense(change: AccountChange): string {
	switch (change) {
		case 'demote':
			return 'demoted';
		case 'disable':
			return 'disabled';
		case 'delete':
			return 'deleted';
		case 'revoke-superuser':
			return 'stripped of the superuser bit';
	}
}

/** What the console offers (sections, keys, detail rows), derived from the same table. */
export function mayView(actor: ActorFacts, action: Action, target: TargetFacts = {}): boolean {
	return decide(actor, action, target).allowed;
}
