import {assertAccountFree, checkPassword, clearFailures, countFailure, lockedSeconds, newUser} from '../accounts.js';
import {perform, refuse} from '../audit.js';
import {actorAsNow, type Context} from '../context.js';
import {authFailed, invalid, notFound, refused} from '../errors.js';
import {secretMatches, sha256} from '../ids.js';
import type {AuthMethod, Database, Invitation, InvitationTombstone, Role, Tenant, User} from '../model.js';
import {parseInvitationToken} from './link.js';
import {usersById} from '../users.js';
import {auditTarget, buryInvitation, isExpired, suspension} from './record.js';
import {plural} from '../words.js';

// A hash to compare against when the link names no invitation, so every answer costs the same.
const DECOY_SECRET_HASH = sha256('orgctl decoy invitation secret');

/** The error codes of a dead link, one per way it can be dead (a web page shows each its own way). */
export const DEAD_LINK = {invalid: 'invitation.invalid', revoked: 'invitation.revoked', used: 'invitation.used', expired: 'invitation.expired', suspended: 'invitation.suspended'} as const;

const TAMPERED = 'This invitation link is not valid: it is incomplete, mistyped or was replaced by a newer invitation; copy the whole link from the latest invitation e-mail.';

type Token = {readonly id: string; readonly secret: string};

/**
 * Why a link that names no pending invitation is dead, from the tombstone the invitation left, told
 * only to a link whose secret matches the one the invitation had (`matches`): a wrong secret for a
 * used or revoked id is "not valid" like any tampered link, and learns no account name nor revoker.
 */
function deadLink(tombstone: InvitationTombstone | undefined, matches: boolean): Error {
	switch (matches ? tombstone?.fate : undefined) {
		case 'revoked':
			return refused(`This invitation was revoked on ${tombstone!.at} by ${tombstone!.by}; ask for a new invitation.`, {code: DEAD_LINK.revoked});
		case 'accepted':
			return refused(`This invitation was already used on ${tombstone!.at}: the account ${tombstone!.by} exists; sign in with orgctl login --username ${tombstone!.by}.`, {code: DEAD_LINK.used});
		case undefined:
			return authFailed(TAMPERED, {code: DEAD_LINK.invalid});
	}
}

/**
 * Checks a presented link against the store and returns its invitation, or throws one sentence
 * for each way it can be dead: tampered (or unknown), revoked, already used, expired.
 */
function checkLink(ctx: Context, db: Database, token: Token | undefined): Invitation {
	const invitation = token ? db.invitations.find(i => i.id === token.id) : undefined;
	const tombstone = token && !invitation ? db.invitationTombstones.find(t => t.id === token.id) : undefined;
	// Always one constant-time comparison, whether the id is pending, buried or unknown (a tombstone without the hash, from before it was kept, matches nothing).
	const matches = secretMatches(token?.secret ?? '', invitation?.secretHash ?? tombstone?.secretHash ?? DECOY_SECRET_HASH) && (invitation !== undefined || tombstone?.secretHash !== undefined);
	if (!token) throw authFailed(TAMPERED, {code: DEAD_LINK.invalid});
	if (!invitation) throw deadLink(tombstone, matches);
	if (!matches) throw authFailed(TAMPERED, {code: DEAD_LINK.invalid});
	if (isExpired(invitation, ctx.now())) {
		const inviter = usersById(db).get(invitation.invitedBy)?.username ?? 'an admin';
		throw refused(`This invitation expired on ${invitation.expires}; ask ${inviter} to resend it, which renews the link.`, {code: DEAD_LINK.expired});
	}
	assertSenderStands(db, invitation);
	return invitation;
}

/**
 * An invitation is only as good as its sender's standing now (record.ts `suspension`): checked by
 * every way of accepting (this file, and single sign-on in saml/sign-in.ts) inside the transaction
 * that creates the account. The invitee is not told why, only that it is on hold.
 */
export function assertSenderStands(db: Database, invitation: Invitation): void {
	if (suspension(db, invitation) === undefined) return;
	throw refused(`This invitation is on hold: whoever sent it may no longer invite with the ${invitation.role} role; ask an admin of the organization for a new invitation.`, {code: DEAD_LINK.suspended});
}

/**
 * What accepting needs: the link (or bare token), and a password: the new one for password users,
 * the system account's own for PAM users (checked through PAM, so the invitee proves the account is theirs).
 */
export type AcceptInput = {readonly link: string; readonly password?: string};

/** Failed PAM confirmations count per system account, as failed logins do. */
function pamThrottleKey(username: string): string {
	return `pam:${username.toLowerCase()}`;
}

/**
 * The invitee of a PAM invitation proves they hold the system account: its password, checked
 * through PAM, throttled like logins. Returns nothing, or throws why not (audited by the caller).
 */
async function confirmPamAccount(ctx: Context, invitation: Invitation, password: string | undefined): Promise<void> {
	if (password === undefined) throw invalid(`Confirm the system account ${invitation.username}: type its password (checked through PAM).`);
	const key = pamThrottleKey(invitation.username);
	// As login does: the lock-out read and the try reserved (counted as failed until PAM says yes) in
	// one transaction before PAM is asked, so parallel attempts get no more than the free tries.
	const seconds = await ctx.store.transact(db => {
		const left = lockedSeconds(db, key, ctx.now());
		if (left === 0) countFailure(db, key, ctx.now());
		return left;
	});
	if (seconds > 0) throw refused(`Too many wrong passwords for the system account ${invitation.username}; try again in ${plural(seconds, 'second')}.`);
	if (await ctx.pam(invitation.username, password)) return;
	throw authFailed(`The password of the system account ${invitation.username} is wrong (it is checked through PAM).`);
}

/** What the link shows before accepting: who is invited, to where, and whether a password is needed. */
export type InvitationPreview = {
	readonly username: string;
	readonly email: string;
	readonly role: Role;
	readonly method: AuthMethod;
	readonly tenant: string;
	/** Who sent it, by username. */
	readonly invitedBy: string;
	readonly expires: string;
	readonly minPasswordLength: number;
};

export function inspectInvitation(ctx: Context, link: string): InvitationPreview {
	const db = ctx.store.read();
	const invitation = checkLink(ctx, db, parseInvitationToken(link));
	return {
		username: invitation.username,
		email: invitation.email,
		role: invitation.role,
		method: invitation.method,
		tenant: db.tenants.find(t => t.id === invitation.tenantId)?.name ?? '?',
		invitedBy: usersById(db).get(invitation.invitedBy)?.username ?? '(deleted user)',
		expires: invitation.expires,
		minPasswordLength: db.settings.policy.minPasswordLength,
	};
}

/**
 * inspectInvitation for the accept flow: a dead link (garbage, tampered, used, revoked, expired) is
 * audited as a refused invitation.accept before it is thrown (DESIGN §2: every refusal is audited).
 */
export async function inspectInvitationAudited(ctx: Context, link: string): Promise<InvitationPreview> {
	try {
		return inspectInvitation(ctx, link);
	} catch (error) {
		await auditRefusal(ctx, parseInvitationToken(link), error);
		throw error;
	}
}

/**
 * Accepts an invitation: the invited person becomes a user with the invited role and method
 * (password users set their password, at least the policy's minimum length), the invitation
 * disappears, and the link never works again. Refusals are audited.
 */
export async function acceptInvitation(ctx: Context, input: AcceptInput): Promise<{user: User; tenant: Tenant}> {
	const token = parseInvitationToken(input.link);
	const db = ctx.store.read();
	let invitation: Invitation;
	try {
		invitation = checkLink(ctx, db, token);
		if (invitation.method === 'password') {
			if (input.password === undefined) throw invalid(`Choose a password for ${invitation.username} (at least ${db.settings.policy.minPasswordLength} characters).`);
			checkPassword(input.password, db.settings.policy.minPasswordLength);
		} else if (invitation.method === 'pam') {
			await confirmPamAccount(ctx, invitation, input.password);
		} else {
			// Only the identity provider can say the invitee is who the invitation names (core/saml/sign-in.ts).
			throw refused(`This invitation is accepted through single sign-on: open ${linkPath(input.link)} in a browser and choose Continue with single sign-on.`, {code: 'invitation.saml'});
		}
	} catch (error) {
		await auditRefusal(ctx, token, error);
		throw error;
	}
	// scrypt costs ~300 ms: hash before taking the lock.
	const passwordHash = invitation.method === 'password' ? await ctx.hasher.hash(input.password!) : null;
	const who = {label: invitation.username, tenantId: invitation.tenantId};
	return perform(ctx, who, 'invitation.accept', auditTarget(invitation), d => {
		const current = checkLink(ctx, d, token);
		const tenant = d.tenants.find(t => t.id === current.tenantId);
		if (!tenant) throw notFound('The organization of this invitation no longer exists.');
		assertAccountFree(d, tenant.id, current.username, current.email, {invitationId: current.id});
		const user = newUser(ctx, {tenantId: tenant.id, username: current.username, email: current.email, role: current.role, method: current.method, passwordHash});
		d.users.push(user);
		buryInvitation(d, ctx, current, 'accepted', user.username);
		if (current.method === 'pam') clearFailures(d, pamThrottleKey(current.username));
		return actorAsNow(user, tenant);
	});
}

/** The link as the invitee opened it, or a word for it when only the token was given. */
function linkPath(link: string): string {
	return /^https?:\/\//.test(link.trim()) ? 'the invitation link' : 'the invitation link (not just its token)';
}

async function auditRefusal(ctx: Context, token: {id: string} | undefined, error: unknown): Promise<void> {
	const invitation = token ? ctx.store.read().invitations.find(i => i.id === token.id) : undefined;
	const target = invitation ? auditTarget(invitation) : `invitation ${token?.id ?? '(malformed link)'}`;
	// refuse() counts a web client's refusal per address and minute (ctx.deferRefusal) instead of writing it.
	await refuse(ctx, {label: 'anonymous', tenantId: invitation?.tenantId ?? null}, 'invitation.accept', target, error).catch(() => undefined);
}
