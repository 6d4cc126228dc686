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

/** The rows of DESIGN §2. */
export const ACTIONS = [
	'profile.own',
	'users.list',
	'invitations.send',
	'invitations.manage',
	'signup-domains.configure',
	'users.manage',
	'projects.create',
	'tokens.create',
	'ownership.migrate',
	'superuser.grant',
	'server.settings',
	'tenants.manage',
	'sso.manage',
	'audit.view',
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
	/** Who would own the project or token being created. */
	readonly ownerId?: string;
};

/** The general table: may this actor take this action at all, and on this target? */
export function decide(actor: ActorFacts, action: Action, target: TargetFacts = {}): Decision {
	if (actor.superuser) return allow;
	const {role} = actor;
	switch (action) {
		case 'profile.own':
			return allow;
		case 'users.list':
			return role === 'guest' ? deny('Guests can see only their own profile, not the list of users.') : allow;
		case 'invitations.send': {
			if (role === 'guest') return deny('Guests cannot send invitations; ask a member or an admin.');
			if (target.role !== undefined && !canGrantRole(actor, target.role)) {
				return deny(`A ${role} can invite with roles up to ${role}, not ${target.role}.`);
			}
			return allow;
		}
		case 'invitations.manage': {
			if (role === 'guest') return deny('Guests cannot manage invitations.');
			if (role === 'member' && target.invitedBy !== undefined && target.invitedBy !== actor.userId) {
				return deny('Members can manage only the invitations they sent themselves.');
			}
			if (target.role !== undefined && !canGrantRole(actor, target.role)) {
				return deny(`A ${role} cannot manage an invitation for the ${target.role} role.`);
			}
			return allow;
		}
		case 'signup-domains.configure':
			return role === 'admin' ? allow : deny('Only admins can configure self sign-up domains.');
		case 'users.manage':
			if (role !== 'admin') return deny('Only admins can change roles, disable or delete users.');
			if (target.targetSuperuser) return deny('Only a superuser can change, disable or delete a superuser.');
			return allow;
		case 'projects.create':
		case 'tokens.create': {
			const what = action === 'projects.create' ? 'projects' : 'API tokens';
			if (role === 'guest') return deny(`Guests cannot create ${what}.`);
			if (role === 'member' && target.ownerId !== undefined && target.ownerId !== actor.userId) {
				return deny(`Members can create ${what} only for themselves.`);
			}
			return allow;
		}
		case 'ownership.migrate':
			return role === 'admin' ? allow : deny('Only admins can move projects and tokens to another user.');
		case 'superuser.grant':
			return deny('Only a superuser can grant or revoke the superuser bit.');
		case 'server.settings':
			return deny('Server settings need the superuser bit.');
		case 'tenants.manage':
			return deny('Tenants can be created and deleted only by a superuser.');
		case 'sso.manage':
			return deny('Single sign-on settings need the superuser bit.');
		case 'audit.view':
			return role === 'admin' ? allow : deny('Only admins can read the audit log.');
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

/** Sections of the console a user may open, derived from the same table. */
export function mayView(actor: ActorFacts, action: Action): boolean {
	return decide(actor, action).allowed;
}
