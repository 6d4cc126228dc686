import {authorize} from '../audit.js';
import {actorFacts, type Actor, type Context} from '../context.js';
import type {Database, Invitation} from '../model.js';
import {decide} from '../policy.js';
import {usersById} from '../users.js';
import {isExpired} from './record.js';

/** An invitation as shown outside the store: never its secret, the inviter by name. */
export type InvitationView = Omit<Invitation, 'secretHash' | 'secretSealed' | 'tenantId' | 'invitedBy'> & {
	invitedBy: string;
	tenant: string;
	expired: boolean;
};

export function invitationView(db: Database, invitation: Invitation, now: Date): InvitationView {
	// Field by field (object rest takes V8's slow path) and the inviter through an index: 2,000
	// invitations by 10,000 users is 20 million comparisons with Array.find.
	return {
		id: invitation.id,
		username: invitation.username,
		email: invitation.email,
		role: invitation.role,
		method: invitation.method,
		created: invitation.created,
		expires: invitation.expires,
		mail: invitation.mail,
		sentCount: invitation.sentCount,
		revision: invitation.revision,
		invitedBy: usersById(db).get(invitation.invitedBy)?.username ?? '(deleted user)',
		tenant: db.tenants.find(t => t.id === invitation.tenantId)?.name ?? '?',
		expired: isExpired(invitation, now),
	};
}

/** Whether the actor may resend, copy or revoke this invitation (the console hides what it may not). */
export function mayManage(actor: Actor, invitation: Invitation): boolean {
	return invitation.tenantId === actor.tenant.id && decide(actorFacts(actor), 'invitations.manage', {invitedBy: invitation.invitedBy, role: invitation.role}).allowed;
}

/** Pending invitations of the tenant, newest first: all of them for admins, their own for members. */
export function listInvitations(ctx: Context, actor: Actor): Invitation[] {
	return listInvitationsIn(ctx.store.read(), actor);
}

/** listInvitations over data already read (the console derives its rows from the data it renders). */
export function listInvitationsIn(db: Pick<Database, 'invitations'>, actor: Actor): Invitation[] {
	authorize(actor, 'invitations.manage');
	return db.invitations
		.filter(i => i.tenantId === actor.tenant.id && decide(actorFacts(actor), 'invitations.manage', {invitedBy: i.invitedBy}).allowed)
		.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}
