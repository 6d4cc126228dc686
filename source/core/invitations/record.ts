import type {Context} from '../context.js';
import {newSecret, sha256} from '../ids.js';
import type {AuthMethod, Database, Invitation, InvitationTombstone, Role, User} from '../model.js';
import {decide} from '../policy.js';
import {dropMail, enqueueMail} from '../outbox.js';
import {invitationLink} from './link.js';
import {invitationMail} from './mail.js';

/** What an admin types to invite someone; role defaults to member and method to password, as in morgue. */
export type InvitationInput = {
	readonly username: string;
	readonly email: string;
	readonly role?: Role;
	readonly method?: AuthMethod;
};

export type InviteOptions = {
	/** false: keep the invitation without sending mail; the admin shares the link. */
	readonly sendEmail?: boolean;
};

/** A created or resent invitation, its working link, and the queued message (null when no mail). */
export type IssuedInvitation = {readonly invitation: Invitation; readonly link: string; readonly outboxId: string | null};

/** The mail status of an invitation kept without mail. */
export const NO_EMAIL_REASON = 'no e-mail was requested; share the link yourself';

/** How long a dead link keeps saying what became of it (accepted, revoked) before it reads as unknown. */
export const TOMBSTONE_DAYS = 180;

/** How an audit event names an invitation. */
export function auditTarget(invitation: Pick<Invitation, 'id' | 'username'>): string {
	return `${invitation.username} (invitation ${invitation.id})`;
}

export function isExpired(invitation: Invitation, now: Date): boolean {
	return new Date(invitation.expires) <= now;
}

/**
 * Why a pending invitation cannot be accepted now, or undefined when it can. An invitation stands
 * only while its sender could send it again: an enabled account whose role (or superuser bit) still
 * grants the invitation's role, by the same policy row that let them send it. Disabling or demoting
 * the sender suspends it; enabling or promoting them again lifts the suspension (it still expires).
 * We suspend rather than revoke so that a mistaken disable loses nothing, and check at accept (in
 * the transaction that creates the account) so that no way of losing standing, present or future,
 * leaves a live link behind. `sender` overrides the stored account, to ask "what if" before a change.
 */
export function suspension(db: Pick<Database, 'users'>, invitation: Invitation, sender?: User): string | undefined {
	const from = sender ?? db.users.find(u => u.id === invitation.invitedBy);
	if (!from) return 'its sender no longer exists';
	if (from.disabled) return `its sender ${from.username} is disabled`;
	const decision = decide({userId: from.id, role: from.role, superuser: from.superuser}, 'invitations.send', {role: invitation.role});
	if (!decision.allowed) return `its sender ${from.username} is now a ${from.role} and may no longer invite with the ${invitation.role} role`;
	return undefined;
}

/** The pending invitations `user` sent that would be suspended if their account became `changed`. */
export function invitationsSuspendedIf(db: Pick<Database, 'users' | 'invitations'>, user: User, changed: Partial<Pick<User, 'disabled' | 'role' | 'superuser'>>): Invitation[] {
	const after = {...user, ...changed};
	return db.invitations.filter(i => i.invitedBy === user.id && suspension(db, i, after) !== undefined);
}

/** "; their 2 pending invitations are suspended …" for a change that suspends some, else ''. */
export function suspendedNote(count: number, whose: string): string {
	if (count === 0) return '';
	const what = count === 1 ? `${whose} pending invitation is` : `${whose} ${count} pending invitations are`;
	return `; ${what} suspended (the links stop working until ${whose === 'their' ? 'they' : whose} may send them again; revoke with orgctl invites delete ID)`;
}

/** A fresh secret and expiry; only the hash and a sealed copy are kept. */
export function issueSecret(ctx: Context, db: Database, invitation: Pick<Invitation, 'secretHash' | 'secretSealed' | 'expires'>, from = ctx.now()): string {
	const secret = newSecret();
	invitation.secretHash = sha256(secret);
	invitation.secretSealed = ctx.secrets.seal(secret);
	invitation.expires = new Date(from.getTime() + db.settings.policy.invitationLifetimeSeconds * 1000).toISOString();
	return secret;
}

/** The working link of a live invitation, from its sealed secret. */
export function linkOf(ctx: Context, db: Database, invitation: Invitation): string {
	return invitationLink(db.settings.publicUrl, invitation.id, ctx.secrets.unseal(invitation.secretSealed));
}

/** Queues the invitation mail carrying `link`, replacing any message still queued for it (`replace`). */
export function queueInvitationMail(db: Database, ctx: Context, invitation: Invitation, link: string, replace: boolean): string {
	const tenant = db.tenants.find(t => t.id === invitation.tenantId)!;
	const inviter = db.users.find(u => u.id === invitation.invitedBy);
	if (replace) dropMail(db, 'invitation', invitation.id);
	invitation.mail = {state: 'queued', at: ctx.now().toISOString()};
	return enqueueMail(db, ctx, {...invitationMail({invitation, inviter, tenant, link}), kind: 'invitation', ref: invitation.id}).id;
}

/**
 * Takes an invitation off the list for good (accepted or revoked): its queued mail goes, and a
 * tombstone says what became of it, so the dead link can tell whoever holds it.
 */
export function buryInvitation(db: Database, ctx: Context, invitation: Invitation, fate: InvitationTombstone['fate'], by: string): void {
	const now = ctx.now();
	const oldest = new Date(now.getTime() - TOMBSTONE_DAYS * 86_400_000).toISOString();
	db.invitations = db.invitations.filter(i => i.id !== invitation.id);
	dropMail(db, 'invitation', invitation.id);
	db.invitationTombstones = [...db.invitationTombstones.filter(t => t.at >= oldest && t.id !== invitation.id), {id: invitation.id, tenantId: invitation.tenantId, fate, at: now.toISOString(), by, secretHash: invitation.secretHash}];
}
