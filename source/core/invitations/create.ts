import {assertAccountFree, checkUsername, type AccountViewer} from '../accounts.js';
import {allowed, appendAudit, authorize, perform, recordRefusal} from '../audit.js';
import type {Actor, Context} from '../context.js';
import {parseAddress} from '../email.js';
import {invalid, isOrgError} from '../errors.js';
import {newId} from '../ids.js';
import {plural} from '../words.js';
import type {Database, Invitation, MailStatus} from '../model.js';
import {deliverOutbox, type DeliveryReport} from '../outbox.js';
import {invitationLink} from './link.js';
import type {InvitationList} from './csv.js';
import {auditTarget, issueSecret, NO_EMAIL_REASON, queueInvitationMail, type InvitationInput, type InviteOptions, type IssuedInvitation} from './record.js';


/** Whose pending invitations a sender may be told of: all for admins, their own for members. */
function viewerOf(actor: Actor): AccountViewer {
	return {userId: actor.user.id, seesAllInvitations: allowed(actor, 'invitations.list-all')};
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
 * The mail is queued in the same transaction; `sendInvitation` also sends it.
 */
export async function createInvitation(ctx: Context, actor: Actor, input: InvitationInput, options: InviteOptions = {}): Promise<IssuedInvitation> {
	return perform(ctx, actor, 'invitation.create', `${input.username} <${input.email}>`, db =>
		addInvitation(db, ctx, actor, input, options, (username, email) => assertAccountFree(db, actor.tenant.id, username, email, {viewer: viewerOf(actor)})),
	);
}

/** One row of a bulk invitation and what became of it. */
export type BulkResult = {readonly line: number; readonly username: string; readonly email: string} & (
	| ({readonly ok: true} & IssuedInvitation)
	| {readonly ok: false; readonly reason: string}
);

/**
 * Invites many people in one transaction. Each row succeeds or fails on its own (a bad address,
 * a taken name, a role above the actor's, a line of the list that could not be read) and is
 * audited; the good rows are committed together. Results come in line order.
 */
export async function createInvitations(ctx: Context, actor: Actor, list: InvitationList, options: InviteOptions = {}): Promise<BulkResult[]> {
	const {rows, unreadable} = list;
	return perform(ctx, actor, 'invitation.create-bulk', plural(rows.length + unreadable.length, 'invitation'), db => {
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
			if (names.has(username.toLowerCase()) || emails.has(email.toLowerCase())) assertAccountFree(db, actor.tenant.id, username, email, {viewer: viewerOf(actor)});
		};
		const results = rows.map((row): BulkResult => {
			const {line} = row;
			try {
				const issued = addInvitation(db, ctx, actor, row, options, assertFree);
				names.add(issued.invitation.username.toLowerCase());
				emails.add(issued.invitation.email.toLowerCase());
				appendAudit(db, ctx, actor, {action: 'invitation.create', target: auditTarget(issued.invitation), result: 'ok'});
				return {line, username: issued.invitation.username, email: issued.invitation.email, ok: true, ...issued};
			} catch (error) {
				if (!isOrgError(error)) throw error;
				recordRefusal(db, ctx, actor, 'invitation.create', `${row.username} <${row.email}>`, error);
				return {line, username: row.username, email: row.email, ok: false, reason: error.message};
			}
		});
		for (const {line, reason} of unreadable) {
			const sentence = `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`;
			recordRefusal(db, ctx, actor, 'invitation.create', `line ${line}`, invalid(sentence));
			results.push({line, username: '', email: '', ok: false, reason: sentence});
		}
		return results.sort((a, b) => a.line - b.line);
	});
}

export type ProgressOptions = {readonly onProgress?: (done: number, total: number) => void};

/**
 * Sends the queued mail of invitations just created or resent (call it after the transaction has
 * committed: it sends outside the store lock).
 */
export async function mailInvitations(ctx: Context, issued: ReadonlyArray<Pick<IssuedInvitation, 'outboxId'>>, options: ProgressOptions = {}): Promise<DeliveryReport> {
	const ids = issued.map(i => i.outboxId).filter((id): id is string => id !== null);
	if (ids.length === 0) return {results: [], sent: 0, retrying: 0, failed: 0, notSent: 0};
	return deliverOutbox(ctx, undefined, {ids, ...(options.onProgress ? {onProgress: options.onProgress} : {})});
}

/** An invitation whose mail was tried: its working link, and what became of the mail. */
export type SentInvitation = IssuedInvitation & {
	readonly mail: MailStatus;
	/**
	 * Set when delivering broke down itself (the store, not the SMTP server, whose refusals are in
	 * `mail`): the invitation stands and its link works; the caller reports this after the link.
	 */
	readonly deliveryError?: Error;
};

/** For a front end with nothing to show before the error: the invitation, or the delivery's own failure thrown. */
export function delivered<T extends {readonly deliveryError?: Error}>(sent: T): T {
	if (sent.deliveryError !== undefined) throw sent.deliveryError;
	return sent;
}

/** Sends what `issued` queued and reads back each invitation's mail status. */
export async function deliverIssued(ctx: Context, issued: readonly IssuedInvitation[], options: ProgressOptions = {}): Promise<{mail: ReadonlyMap<string, MailStatus>; error?: Error}> {
	let error: Error | undefined;
	await mailInvitations(ctx, issued, options).catch((caught: unknown) => {
		error = caught instanceof Error ? caught : new Error(String(caught));
	});
	const ids = new Set(issued.map(i => i.invitation.id));
	const mail = new Map<string, MailStatus>();
	for (const invitation of ctx.store.read().invitations) if (ids.has(invitation.id)) mail.set(invitation.id, invitation.mail);
	for (const i of issued) if (!mail.has(i.invitation.id)) mail.set(i.invitation.id, i.invitation.mail);
	return error === undefined ? {mail} : {mail, error};
}

/**
 * Invite Someone, whole: creates the invitation (refusals throw), hands it to `onCreated` before any
 * mail goes out (so a slow or failing SMTP server cannot lose the link), sends the mail unless
 * `sendEmail` is false, and returns the invitation with its mail status.
 */
export async function sendInvitation(ctx: Context, actor: Actor, input: InvitationInput, options: InviteOptions & {onCreated?: (issued: IssuedInvitation) => void} = {}): Promise<SentInvitation> {
	const issued = await createInvitation(ctx, actor, input, options);
	options.onCreated?.(issued);
	const {mail, error} = await deliverIssued(ctx, [issued]);
	return {...issued, mail: mail.get(issued.invitation.id)!, ...(error === undefined ? {} : {deliveryError: error})};
}

/** One row of a bulk invitation after its mail was tried. */
export type SentRow = BulkResult & {readonly mail?: MailStatus};

/** What a bulk invitation did: each row, and the counts people read. */
export type SentInvitations = {
	readonly rows: readonly SentRow[];
	readonly invited: number;
	readonly mailed: number;
	readonly refused: number;
	readonly deliveryError?: Error;
	/** "12 of 14 invited, 12 mailed; 2 refused." */
	readonly summary: string;
};

/** Invite Many, whole: invites every row in one transaction, then mails the invited through one pool, with progress. */
export async function sendInvitations(ctx: Context, actor: Actor, list: InvitationList, options: InviteOptions & ProgressOptions = {}): Promise<SentInvitations> {
	const results = await createInvitations(ctx, actor, list, options);
	const created = results.filter((r): r is Extract<BulkResult, {ok: true}> => r.ok);
	const {mail, error} = await deliverIssued(ctx, created, options);
	const sent = results.map((r): SentRow => (r.ok ? {...r, mail: mail.get(r.invitation.id)!} : r));
	const mailed = sent.filter(r => r.mail?.state === 'sent').length;
	const refused = results.length - created.length;
	const summary = `${created.length} of ${results.length} invited${options.sendEmail === false ? '' : `, ${mailed} mailed`}${refused ? `; ${refused} refused` : ''}.`;
	return {rows: sent, invited: created.length, mailed, refused, summary, ...(error === undefined ? {} : {deliveryError: error})};
}
