import {touch} from '../accounts.js';
import {allowed, authorize, checked, perform} from '../audit.js';
import type {Actor, Context} from '../context.js';
import {notFound, refused} from '../errors.js';
import {byIdPrefix} from '../ids.js';
import type {Database, Invitation} from '../model.js';
import {deliverIssued, type SentInvitation} from './create.js';
import {invitationLink} from './link.js';
import {invitationFacts} from './list.js';
import {auditTarget, buryInvitation, isExpired, issueSecret, linkOf, queueInvitationMail, type IssuedInvitation} from './record.js';

/** Finds an invitation of the tenant by id prefix and checks the actor may manage it. */
function findManaged(db: Database, actor: Actor, idPrefix: string): Invitation {
	authorize(actor, 'invitations.manage');
	// Among those the actor may see (a member: their own), so a prefix tells nobody of another's invitation.
	const everyone = allowed(actor, 'invitations.list-all');
	const invitation = byIdPrefix(
		db.invitations.filter(i => i.tenantId === actor.tenant.id && (everyone || i.invitedBy === actor.user.id)),
		idPrefix,
		'invitation',
	);
	authorize(actor, 'invitations.manage', invitationFacts(db, invitation));
	return invitation;
}

/** Runs a managing change on the invitation an id prefix names, re-found inside the transaction. */
async function manage<T>(ctx: Context, actor: Actor, action: string, idPrefix: string, change: (db: Database, invitation: Invitation) => T): Promise<T> {
	// Refusals are audited even when nothing was found to act on.
	const found = await checked(ctx, actor, action, `invitation ${idPrefix}`, db => findManaged(db, actor, idPrefix));
	return perform(ctx, actor, action, auditTarget(found), db => {
		const invitation = db.invitations.find(i => i.id === found.id);
		if (!invitation) throw notFound(`The invitation for ${found.username} was accepted or deleted meanwhile.`);
		authorize(actor, 'invitations.manage', invitationFacts(db, invitation));
		return change(db, invitation);
	});
}

/**
 * Resend Email's transaction: queues the invitation mail again, without sending it. A live
 * invitation keeps its link; an expired one is renewed with a fresh secret and expiry, so its old
 * link stays dead.
 */
export async function queueResend(ctx: Context, actor: Actor, idPrefix: string): Promise<IssuedInvitation & {renewed: boolean}> {
	return manage(ctx, actor, 'invitation.resend', idPrefix, (db, invitation) => {
		const renewed = isExpired(invitation, ctx.now());
		const link = renewed ? invitationLink(db.settings.publicUrl, invitation.id, issueSecret(ctx, db, invitation)) : linkOf(ctx, db, invitation);
		const outboxId = queueInvitationMail(db, ctx, invitation, link, true);
		touch(invitation);
		return {invitation, link, outboxId, renewed};
	});
}

/** Resend Email, whole: queues the mail again (renewing an expired link), sends it, and returns what became of it. */
export async function resendInvitation(ctx: Context, actor: Actor, idPrefix: string): Promise<SentInvitation & {renewed: boolean}> {
	const resent = await queueResend(ctx, actor, idPrefix);
	const {mail, error} = await deliverIssued(ctx, [resent]);
	return {...resent, mail: mail.get(resent.invitation.id)!, ...(error === undefined ? {} : {deliveryError: error})};
}

/** Copy Invite Link: the working link of a live invitation (audited: whoever holds it can accept). */
export async function copyInvitationLink(ctx: Context, actor: Actor, idPrefix: string): Promise<{invitation: Invitation; link: string}> {
	return manage(ctx, actor, 'invitation.link', idPrefix, (db, invitation) => {
		if (isExpired(invitation, ctx.now())) {
			throw refused(`The invitation for ${invitation.username} expired on ${invitation.expires}; resend it to renew the link (orgctl invites resend ${invitation.id.slice(0, 8)}).`);
		}
		return {invitation, link: linkOf(ctx, db, invitation)};
	});
}

/** Revokes an invitation: it leaves the list and its link stops working at once (and says it was revoked). */
export async function revokeInvitation(ctx: Context, actor: Actor, idPrefix: string): Promise<Invitation> {
	return manage(ctx, actor, 'invitation.revoke', idPrefix, (db, invitation) => {
		buryInvitation(db, ctx, invitation, 'revoked', actor.user.username);
		return invitation;
	});
}
