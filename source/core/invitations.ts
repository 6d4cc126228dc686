import {assertAccountFree, checkPassword, checkUsername, clearFailures, countFailure, lockedSeconds, newUser, touch} from './accounts.js';
import {checkPamPassword} from '../adapters/pam.js';
import {appendAudit, authorize, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {parseAddress} from './email.js';
import {authFailed, invalid, isOrgError, notFound, refused} from './errors.js';
import {byIdPrefix, newId, newSecret, secretMatches, sha256} from './ids.js';
import {invitationMail} from './invitation-mail.js';
import type {AuthMethod, Database, Invitation, Role, Tenant, User} from './model.js';
import {deliverOutbox, dropMail, enqueueMail, type DeliveryReport} from './outbox.js';
import {hashPassword} from './passwords.js';
import {usersById} from './users.js';
import {decide} from './policy.js';
import {actorFacts} from './context.js';

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

const TOKEN = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

/** `{public URL}/invite/{id}.{secret}` */
export function invitationLink(publicUrl: string, id: string, secret: string): string {
	return `${publicUrl.replace(/\/+$/, '')}/invite/${id}.${secret}`;
}

/** The id and secret in a link or a bare token, or undefined when it is not one of ours. */
export function parseInvitationToken(input: string): {id: string; secret: string} | undefined {
	let text = input.trim();
	const marker = text.lastIndexOf('/invite/');
	if (marker >= 0) text = text.slice(marker + '/invite/'.length);
	text = text.replace(/[?#].*$/, '').replace(/\/+$/, '');
	const match = TOKEN.exec(text);
	return match ? {id: match[1]!, secret: match[2]!} : undefined;
}

/** How an audit event names an invitation, so a dead link can later say what happened to it. */
function auditTarget(invitation: Pick<Invitation, 'id' | 'username'>): string {
	return `${invitation.username} (invitation ${invitation.id})`;
}

export function isExpired(invitation: Invitation, now: Date): boolean {
	return new Date(invitation.expires) <= now;
}

/** A fresh secret and expiry; only the hash and a sealed copy are kept. */
function issueSecret(ctx: Context, db: Database, invitation: Pick<Invitation, 'secretHash' | 'secretSealed' | 'expires'>, from = ctx.now()): string {
	const secret = newSecret();
	invitation.secretHash = sha256(secret);
	invitation.secretSealed = ctx.secrets.seal(secret);
	invitation.expires = new Date(from.getTime() + db.settings.policy.invitationLifetimeSeconds * 1000).toISOString();
	return secret;
}

/** Queues the invitation mail carrying `link`, replacing any message still queued for it (`replace`). */
function queueInvitationMail(db: Database, ctx: Context, invitation: Invitation, link: string, replace: boolean): string {
	const tenant = db.tenants.find(t => t.id === invitation.tenantId)!;
	const inviter = db.users.find(u => u.id === invitation.invitedBy);
	if (replace) dropMail(db, 'invitation', invitation.id);
	invitation.mail = {state: 'queued', at: ctx.now().toISOString()};
	return enqueueMail(db, ctx, {...invitationMail({invitation, inviter, tenant, link}), kind: 'invitation', ref: invitation.id}).id;
}

/** Builds, stores and (unless told not to) queues the mail of one invitation, inside a transaction. */
function addInvitation(db: Database, ctx: Context, actor: Actor, input: InvitationInput, options: InviteOptions, assertFree: (username: string, email: string) => void): IssuedInvitation {
	const username = checkUsername(input.username);
	const email = parseAddress(input.email).address;
	const role = input.role ?? 'member';
	const method = input.method ?? 'password';
	authorize(actor, 'invitations.send', {role});
	assertFree(username, email);
	const created = ctx.now();
	const now = created.toISOString();
	const invitation: Invitation = {
		id: newId(),
		tenantId: actor.tenant.id,
		username,
		email,
		role,
		method,
		invitedBy: actor.user.id,
		created: now,
		expires: now,
		secretHash: '',
		secretSealed: '',
		mail: {state: 'not-sent', at: now, reason: NO_EMAIL_REASON},
		sentCount: 0,
		revision: 1,
	};
	const secret = issueSecret(ctx, db, invitation, created);
	const link = invitationLink(db.settings.publicUrl, invitation.id, secret);
	db.invitations.push(invitation);
	const outboxId = options.sendEmail === false ? null : queueInvitationMail(db, ctx, invitation, link, false);
	return {invitation, link, outboxId};
}

/**
 * Invites one person. A member invites with roles up to member, an admin up to admin, guests not
 * at all; the username and e-mail must be free among the tenant's users and pending invitations.
 * The mail is queued in the same transaction; send it with `mailInvitations` once this returns.
 */
export async function createInvitation(ctx: Context, actor: Actor, input: InvitationInput, options: InviteOptions = {}): Promise<IssuedInvitation> {
	return perform(ctx, actor, 'invitation.create', `${input.username} <${input.email}>`, db =>
		addInvitation(db, ctx, actor, input, options, (username, email) => assertAccountFree(db, actor.tenant.id, username, email)),
	);
}

/** One row of a bulk invitation and what became of it. */
export type BulkResult = {readonly line: number; readonly username: string; readonly email: string} & (
	| ({readonly ok: true} & IssuedInvitation)
	| {readonly ok: false; readonly reason: string}
);

/**
 * Invites many people in one transaction. Each row succeeds or fails on its own (a bad address,
 * a taken name, a role above the actor's) and is audited; the good rows are committed together.
 */
export async function createInvitations(ctx: Context, actor: Actor, rows: ReadonlyArray<InvitationInput & {line?: number}>, options: InviteOptions = {}): Promise<BulkResult[]> {
	return perform(ctx, actor, 'invitation.create-bulk', `${rows.length} invitation${rows.length === 1 ? '' : 's'}`, db => {
		authorize(actor, 'invitations.send');
		// An index of taken names keeps a list of thousands linear; assertAccountFree words the refusal.
		const names = new Set<string>();
		const emails = new Set<string>();
		for (const record of [...db.users, ...db.invitations]) {
			if (record.tenantId !== actor.tenant.id) continue;
			names.add(record.username.toLowerCase());
			emails.add(record.email.toLowerCase());
		}
		const assertFree = (username: string, email: string) => {
			if (names.has(username.toLowerCase()) || emails.has(email.toLowerCase())) assertAccountFree(db, actor.tenant.id, username, email);
		};
		return rows.map((row, index): BulkResult => {
			const line = row.line ?? index + 1;
			try {
				const issued = addInvitation(db, ctx, actor, row, options, assertFree);
				names.add(issued.invitation.username.toLowerCase());
				emails.add(issued.invitation.email.toLowerCase());
				appendAudit(db, ctx, actor, {action: 'invitation.create', target: auditTarget(issued.invitation), result: 'ok'});
				return {line, username: issued.invitation.username, email: issued.invitation.email, ok: true, ...issued};
			} catch (error) {
				if (!isOrgError(error)) throw error;
				appendAudit(db, ctx, actor, {action: 'invitation.create', target: `${row.username} <${row.email}>`, result: 'refused', reason: error.message});
				return {line, username: row.username, email: row.email, ok: false, reason: error.message};
			}
		});
	});
}

/**
 * Sends the queued mail of invitations just created or resent (call it after the transaction has
 * committed: it sends outside the store lock) and returns the invitations with their new status.
 */
export async function mailInvitations(
	ctx: Context,
	issued: ReadonlyArray<Pick<IssuedInvitation, 'outboxId'>>,
	options: {onProgress?: (done: number, total: number) => void} = {},
): Promise<DeliveryReport> {
	const ids = issued.map(i => i.outboxId).filter((id): id is string => id !== null);
	if (ids.length === 0) return {results: [], sent: 0, retrying: 0, failed: 0, notSent: 0};
	return deliverOutbox(ctx, undefined, {ids, ...(options.onProgress ? {onProgress: options.onProgress} : {})});
}

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
	authorize(actor, 'invitations.manage');
	return ctx.store
		.read()
		.invitations.filter(i => i.tenantId === actor.tenant.id && decide(actorFacts(actor), 'invitations.manage', {invitedBy: i.invitedBy}).allowed)
		.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
}

/** Finds an invitation of the tenant by id prefix and checks the actor may manage it. */
function findManaged(db: Database, actor: Actor, idPrefix: string): Invitation {
	authorize(actor, 'invitations.manage');
	const invitation = byIdPrefix(
		db.invitations.filter(i => i.tenantId === actor.tenant.id),
		idPrefix,
		'invitation',
	);
	authorize(actor, 'invitations.manage', {invitedBy: invitation.invitedBy, role: invitation.role});
	return invitation;
}

/** Runs a managing change on the invitation an id prefix names, re-found inside the transaction. */
async function manage<T>(ctx: Context, actor: Actor, action: string, idPrefix: string, change: (db: Database, invitation: Invitation) => T): Promise<T> {
	let found: Invitation;
	try {
		found = findManaged(ctx.store.read(), actor, idPrefix);
	} catch (error) {
		// Refusals are audited even when nothing was found to act on.
		return perform(ctx, actor, action, `invitation ${idPrefix}`, () => {
			throw error;
		});
	}
	return perform(ctx, actor, action, auditTarget(found), db => {
		const invitation = db.invitations.find(i => i.id === found.id);
		if (!invitation) throw notFound(`The invitation for ${found.username} was accepted or deleted meanwhile.`);
		authorize(actor, 'invitations.manage', {invitedBy: invitation.invitedBy, role: invitation.role});
		return change(db, invitation);
	});
}

/**
 * Resend Email: queues the invitation mail again. A live invitation keeps its link; an expired
 * one is renewed with a fresh secret and expiry, so its old link stays dead.
 */
export async function resendInvitation(ctx: Context, actor: Actor, idPrefix: string): Promise<IssuedInvitation & {renewed: boolean}> {
	return manage(ctx, actor, 'invitation.resend', idPrefix, (db, invitation) => {
		const renewed = isExpired(invitation, ctx.now());
		const secret = renewed ? issueSecret(ctx, db, invitation) : ctx.secrets.unseal(invitation.secretSealed);
		const link = invitationLink(db.settings.publicUrl, invitation.id, secret);
		const outboxId = queueInvitationMail(db, ctx, invitation, link, true);
		touch(invitation);
		return {invitation, link, outboxId, renewed};
	});
}

/** Copy Invite Link: the working link of a live invitation (audited: whoever holds it can accept). */
export async function copyInvitationLink(ctx: Context, actor: Actor, idPrefix: string): Promise<{invitation: Invitation; link: string}> {
	return manage(ctx, actor, 'invitation.link', idPrefix, (db, invitation) => {
		if (isExpired(invitation, ctx.now())) {
			throw refused(`The invitation for ${invitation.username} expired on ${invitation.expires}; resend it to renew the link (orgctl invites resend ${invitation.id.slice(0, 8)}).`);
		}
		return {invitation, link: invitationLink(db.settings.publicUrl, invitation.id, ctx.secrets.unseal(invitation.secretSealed))};
	});
}

/** Revokes an invitation: it leaves the list and its link stops working at once. */
export async function revokeInvitation(ctx: Context, actor: Actor, idPrefix: string): Promise<Invitation> {
	return manage(ctx, actor, 'invitation.revoke', idPrefix, (db, invitation) => {
		db.invitations = db.invitations.filter(i => i.id !== invitation.id);
		dropMail(db, 'invitation', invitation.id);
		return invitation;
	});
}

// A hash to compare against when the link names no invitation, so every answer costs the same.
const DECOY_SECRET_HASH = sha256('orgctl decoy invitation secret');

/** What became of an invitation that is no longer pending, from the audit log. */
function fateOf(db: Database, id: string): {action: 'accept' | 'revoke'; time: string; actor: string} | undefined {
	const suffix = `(invitation ${id})`;
	for (let i = db.audit.length - 1; i >= 0; i--) {
		const event = db.audit[i]!;
		if (event.result !== 'ok' || !event.target.endsWith(suffix)) continue;
		if (event.action === 'invitation.accept') return {action: 'accept', time: event.time, actor: event.actor};
		if (event.action === 'invitation.revoke') return {action: 'revoke', time: event.time, actor: event.actor};
	}
	return undefined;
}

/** The error codes of a dead link, one per way it can be dead (a web page shows each its own way). */
export const DEAD_LINK = {invalid: 'invitation.invalid', revoked: 'invitation.revoked', used: 'invitation.used', expired: 'invitation.expired'} as const;

const TAMPERED = 'This invitation link is not valid: it is incomplete, mistyped or was replaced by a newer invitation; copy the whole link from the latest invitation e-mail.';

/**
 * Checks a presented link against the store and returns its invitation, or throws one sentence
 * for each way it can be dead: tampered (or unknown), revoked, already used, expired.
 */
function checkLink(ctx: Context, db: Database, token: {id: string; secret: string} | undefined): Invitation {
	const invitation = token ? db.invitations.find(i => i.id === token.id) : undefined;
	// Always one constant-time comparison, whether or not the id exists.
	const matches = secretMatches(token?.secret ?? '', invitation?.secretHash ?? DECOY_SECRET_HASH);
	if (!token) throw authFailed(TAMPERED, DEAD_LINK.invalid);
	if (!invitation) {
		const fate = fateOf(db, token.id);
		if (fate?.action === 'revoke') throw refused(`This invitation was revoked on ${fate.time} by ${fate.actor}; ask for a new invitation.`, DEAD_LINK.revoked);
		if (fate?.action === 'accept') throw refused(`This invitation was already used on ${fate.time}: the account ${fate.actor} exists; sign in with orgctl login --username ${fate.actor}.`, DEAD_LINK.used);
		throw authFailed(TAMPERED, DEAD_LINK.invalid);
	}
	if (!matches) throw authFailed(TAMPERED, DEAD_LINK.invalid);
	if (isExpired(invitation, ctx.now())) {
		const inviter = usersById(db).get(invitation.invitedBy)?.username ?? 'an admin';
		throw refused(`This invitation expired on ${invitation.expires}; ask ${inviter} to resend it, which renews the link.`, DEAD_LINK.expired);
	}
	return invitation;
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
	const seconds = lockedSeconds(ctx.store.read(), key, ctx.now());
	if (seconds > 0) throw refused(`Too many wrong passwords for the system account ${invitation.username}; try again in ${seconds} seconds.`);
	if (await checkPamPassword(invitation.username, password)) return;
	await ctx.store.transact(db => countFailure(db, key, ctx.now()));
	throw authFailed(`The password of the system account ${invitation.username} is wrong (it is checked through PAM).`);
}


/** What the link shows before accepting: who is invited, to where, and whether a password is needed. */
export function inspectInvitation(ctx: Context, link: string): {username: string; email: string; role: Role; method: AuthMethod; tenant: string; invitedBy: string; expires: string; minPasswordLength: number} {
	const db = ctx.store.read();
	const invitation = checkLink(ctx, db, parseInvitationToken(link));
	return {
		username: invitation.username,
		invitedBy: usersById(db).get(invitation.invitedBy)?.username ?? '(deleted user)',
		email: invitation.email,
		role: invitation.role,
		method: invitation.method,
		tenant: db.tenants.find(t => t.id === invitation.tenantId)?.name ?? '?',
		expires: invitation.expires,
		minPasswordLength: db.settings.policy.minPasswordLength,
	};
}

/**
 * inspectInvitation for the accept flow: a dead link (garbage, tampered, used, revoked, expired) is
 * audited as a refused invitation.accept before it is thrown (DESIGN §2: every refusal is audited).
 */
export async function inspectInvitationAudited(ctx: Context, link: string): Promise<ReturnType<typeof inspectInvitation>> {
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
		}
	} catch (error) {
		await auditRefusal(ctx, token, error);
		throw error;
	}
	// scrypt costs ~300 ms: hash before taking the lock.
	const passwordHash = invitation.method === 'password' ? await hashPassword(input.password!) : null;
	const who = {label: invitation.username, tenantId: invitation.tenantId};
	return perform(ctx, who, 'invitation.accept', auditTarget(invitation), d => {
		const current = checkLink(ctx, d, token);
		const tenant = d.tenants.find(t => t.id === current.tenantId);
		if (!tenant) throw notFound('The organization of this invitation no longer exists.');
		assertAccountFree(d, tenant.id, current.username, current.email, {invitationId: current.id});
		const user = newUser(ctx, {tenantId: tenant.id, username: current.username, email: current.email, role: current.role, method: current.method, passwordHash});
		d.users.push(user);
		d.invitations = d.invitations.filter(i => i.id !== current.id);
		dropMail(d, 'invitation', current.id);
		if (current.method === 'pam') clearFailures(d, pamThrottleKey(current.username));
		return {user, tenant};
	});
}

async function auditRefusal(ctx: Context, token: {id: string} | undefined, error: unknown): Promise<void> {
	if (!isOrgError(error)) return;
	await ctx.store
		.transact(db => {
			const invitation = token ? db.invitations.find(i => i.id === token.id) : undefined;
			appendAudit(db, ctx, {label: 'anonymous', tenantId: invitation?.tenantId ?? null}, {
				action: 'invitation.accept',
				target: invitation ? auditTarget(invitation) : `invitation ${token?.id ?? '(malformed link)'}`,
				result: 'refused',
				reason: error.message,
			});
		})
		.catch(() => undefined);
}
