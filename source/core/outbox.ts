import {appendAudit, authorize, checked} from './audit.js';
import {touch} from './accounts.js';
import type {Actor, Context, OutboxClaim} from './context.js';
import {newId} from './ids.js';
import {capText} from './inert.js';
import {plural} from './words.js';
import type {Mailer, MailerOptions, OutgoingMail, SendOutcome} from './mail.js';
import {MAIL_REASON_MAX, type Database, type MailStatus, type OutboxItem} from './model.js';

/**
 * The outbox: mail is queued in the same transaction as the change it reports, and sent later,
 * outside the store lock, by whichever process calls `deliverOutbox`. A message is claimed in one
 * transaction, sent with no lock held, and its result recorded in another, so a slow or hanging
 * SMTP server never blocks other consoles.
 *
 * The bodies carry secrets (an invitation link, a sign-up code), so `text` and `html` are kept
 * sealed with the key file: a copy of the store alone does not hold a working link.
 */

export type OutboxKind = OutboxItem['kind'];

/** Back-off for temporary failures: 1 min, 4 min, 16 min, ... at most 6 h, giving up after 8 tries. */
export const RETRY = {firstDelaySeconds: 60, factor: 4, maxDelaySeconds: 6 * 3600, maxAttempts: 8} as const;

/** How long a claim holds: longer than the slowest send (socket timeout × retries), short enough to recover from a crash. */
export const CLAIM_SECONDS = 10 * 60;

export const NOT_CONFIGURED = 'SMTP is not configured';

/** Queues a message inside the caller's transaction; it is sent after the transaction commits. */
export function enqueueMail(db: Database, ctx: Context, mail: OutgoingMail & {kind: OutboxKind; ref: string | null}): OutboxItem {
	const now = ctx.now().toISOString();
	const item: OutboxItem = {
		id: newId(),
		kind: mail.kind,
		ref: mail.ref,
		to: mail.to,
		subject: mail.subject,
		text: ctx.secrets.seal(mail.text),
		html: ctx.secrets.seal(mail.html),
		attempts: 0,
		nextAttempt: now,
		created: now,
		claimedUntil: null,
	};
	db.outbox.push(item);
	return item;
}

/** Drops queued messages about a record (a revoked invitation, a resend that replaces the old mail). */
export function dropMail(db: Database, kind: OutboxKind, ref: string): void {
	db.outbox = db.outbox.filter(item => !(item.kind === kind && item.ref === ref));
}

/** Updates the record a message is about with its new mail status, inside the recording transaction. */
export type MailStatusHandler = (db: Database, item: OutboxItem, status: MailStatus) => void;

/**
 * How each kind of message keeps its record's mail status up to date. One row per kind, declared
 * here rather than registered by the modules that queue mail, so what runs does not depend on
 * which modules were imported; a new kind of message fails to compile until it has its row.
 */
const RECORD_STATUS: Readonly<Record<OutboxKind, MailStatusHandler>> = {
	invitation: (db, item, status) => {
		const invitation = db.invitations.find(i => i.id === item.ref);
		// Revoked or accepted meanwhile: nothing left to report on.
		if (!invitation) return;
		invitation.mail = status;
		if (status.state === 'sent') invitation.sentCount += 1;
		touch(invitation);
	},
	// The status of the code's mail is kept on the pending sign-up, like an invitation's.
	'signup-code': (db, item, status) => {
		const pending = db.pendingSignups.find(p => p.id === item.ref);
		if (pending) pending.mail = status;
	},
	// A test message belongs to no record.
	test: () => undefined,
};

/** The outcome of one message, as recorded. */
export type DeliveryResult = {readonly item: OutboxItem; readonly status: MailStatus};

export type DeliveryReport = {
	readonly results: readonly DeliveryResult[];
	readonly sent: number;
	readonly retrying: number;
	readonly failed: number;
	readonly notSent: number;
};

export type DeliverOptions = {
	/** Only these outbox items (the ones a command just queued); otherwise every due item. */
	readonly ids?: readonly string[];
	/** Called after each message, for a progress bar. */
	readonly onProgress?: (done: number, total: number) => void;
	/** Messages in flight at once, one pooled connection each (default: 1 for one message, up to 10 for many). */
	readonly concurrency?: number;
};

/** Opens a mailer for the current SMTP settings, or null when SMTP is not configured; `pool` keeps connections open for bulk sending. */
export async function openMailer(ctx: Context, options: MailerOptions = {}): Promise<Mailer | null> {
	const smtp = ctx.store.read().settings.smtp;
	if (!smtp) return null;
	return ctx.mailer(smtp, options);
}

/** Whether a message is due: its next try has come and no process holds a live claim on it. */
export function isDue(item: OutboxItem, now: Date): boolean {
	return new Date(item.nextAttempt) <= now && (!item.claimedUntil || new Date(item.claimedUntil) <= now);
}

/**
 * Claims the due messages of `db` (among `claim.ids`, when given) inside a store transaction: the
 * one rule both stores apply, the PostgreSQL store to the rows it locked first.
 */
export function claimDueMail(db: Database, claim: OutboxClaim): OutboxItem[] {
	const wanted = claim.ids ? new Set(claim.ids) : undefined;
	const until = claim.until.toISOString();
	const due = db.outbox.filter(item => (!wanted || wanted.has(item.id)) && isDue(item, claim.now));
	for (const item of due) item.claimedUntil = until;
	return due.map(item => ({...item}));
}

/** Whether any message waits to be (re)sent now. */
export function hasDueMail(db: Database, now: Date): boolean {
	return db.outbox.some(item => isDue(item, now));
}

/** The delay before the next try after `attempts` failed ones. */
export function retryDelaySeconds(attempts: number): number {
	return Math.min(RETRY.firstDelaySeconds * RETRY.factor ** Math.max(0, attempts - 1), RETRY.maxDelaySeconds);
}

/**
 * Sends what is due in the outbox. Call it after the transaction that queued mail has committed;
 * it takes the store lock only to claim and to record, never while talking to the SMTP server.
 * `mailer`: undefined opens one from the settings (and closes it), null means SMTP is not
 * configured, so messages are marked "not sent" and dropped (Resend queues them again).
 */
export async function deliverOutbox(ctx: Context, mailer?: Mailer | null, options: DeliverOptions = {}): Promise<DeliveryReport> {
	const now = ctx.now();
	const claimed = await ctx.store.claimOutbox({now, until: new Date(now.getTime() + CLAIM_SECONDS * 1000), ids: options.ids});
	if (claimed.length === 0) return {results: [], sent: 0, retrying: 0, failed: 0, notSent: 0};

	// Measured on loopback: one connection carries ~330 messages/s, ten ~600/s; more gains little.
	const concurrency = options.concurrency ?? Math.min(10, Math.max(1, Math.ceil(claimed.length / 20)));
	const owned = mailer === undefined;
	let transport: Mailer | null;
	try {
		transport = owned ? await openMailer(ctx, {pool: claimed.length > 1, maxConnections: concurrency}) : mailer;
	} catch (error) {
		// The settings cannot be used (say, the CA file is gone): record that for every claimed
		// message rather than leave them claimed and their records "queued" with no reason.
		const reason = (error as Error).message.replace(/\.$/, '');
		return recordResults(ctx, claimed, claimed.map(() => ({result: 'permanent', stage: 'settings', reason})));
	}
	const outcomes: Array<SendOutcome | null> = [];
	try {
		if (transport) {
			let next = 0;
			let done = 0;
			const worker = async () => {
				while (next < claimed.length) {
					const index = next++;
					const item = claimed[index]!;
					outcomes[index] = await sendOne(ctx, transport, item);
					options.onProgress?.(++done, claimed.length);
				}
			};
			await Promise.all(Array.from({length: Math.min(concurrency, claimed.length)}, worker));
		} else {
			claimed.forEach(() => outcomes.push(null));
			options.onProgress?.(claimed.length, claimed.length);
		}
	} finally {
		if (owned) transport?.close();
	}
	return recordResults(ctx, claimed, outcomes);
}

async function sendOne(ctx: Context, mailer: Mailer, item: OutboxItem): Promise<SendOutcome> {
	let text: string;
	let html: string;
	try {
		text = ctx.secrets.unseal(item.text);
		html = ctx.secrets.unseal(item.html);
	} catch (error) {
		return {result: 'permanent', stage: 'settings', reason: (error as Error).message};
	}
	return mailer.send({to: item.to, subject: item.subject, text, html});
}

/** Records what happened to each claimed message in one transaction. `null` = SMTP not configured. */
async function recordResults(ctx: Context, claimed: readonly OutboxItem[], outcomes: ReadonlyArray<SendOutcome | null>): Promise<DeliveryReport> {
	return ctx.store.transact(db => {
		const at = ctx.now().toISOString();
		const byId = new Map(db.outbox.map(item => [item.id, item]));
		const remove = new Set<string>();
		const results: DeliveryResult[] = [];
		const counts = {sent: 0, retrying: 0, failed: 0, notSent: 0};
		claimed.forEach((claim, index) => {
			const item = byId.get(claim.id);
			// Dropped meanwhile (revoked, or replaced by a resend): its record no longer waits for it.
			if (!item) return;
			const outcome = outcomes[index] ?? null;
			// The reason is the SMTP server's own text, foreign and of any length: kept, but not all of it.
			const reasonOf = (text: string) => capText(text, MAIL_REASON_MAX);
			let status: MailStatus;
			if (outcome === null) {
				status = {state: 'not-sent', at, reason: NOT_CONFIGURED};
				remove.add(item.id);
				counts.notSent++;
			} else if (outcome.result === 'sent') {
				status = {state: 'sent', at};
				remove.add(item.id);
				counts.sent++;
			} else if (outcome.result === 'temporary' && item.attempts + 1 < RETRY.maxAttempts) {
				item.attempts += 1;
				item.nextAttempt = new Date(ctx.now().getTime() + retryDelaySeconds(item.attempts) * 1000).toISOString();
				item.claimedUntil = null;
				status = {state: 'retrying', at, reason: reasonOf(outcome.reason)};
				counts.retrying++;
			} else {
				const reason = outcome.result === 'temporary' ? `gave up after ${item.attempts + 1} attempts: ${outcome.reason}` : outcome.reason;
				status = {state: 'failed', at, reason: reasonOf(reason)};
				remove.add(item.id);
				counts.failed++;
			}
			RECORD_STATUS[item.kind](db, item, status);
			results.push({item, status});
		});
		if (remove.size > 0) db.outbox = db.outbox.filter(item => !remove.has(item.id));
		const trouble = results.find(r => r.status.state !== 'sent');
		appendAudit(db, ctx, {label: 'system', tenantId: null}, {
			action: 'mail.deliver',
			target: plural(results.length, 'message'),
			result: trouble ? 'failed' : 'ok',
			...(trouble && 'reason' in trouble.status ? {reason: `${counts.sent} sent, ${counts.retrying} retrying, ${counts.failed} failed, ${counts.notSent} not sent; first: ${trouble.status.reason}`} : {}),
		});
		return {results, ...counts};
	});
}

/**
 * `orgctl invites deliver` (cron): sends whatever is due, for every tenant (admins). Mail queued by
 * an operation is sent by that operation; this is for the retries and what a crash left behind.
 */
export async function deliverQueuedMail(ctx: Context, actor: Actor, options: DeliverOptions = {}): Promise<DeliveryReport> {
	await checked(ctx, actor, 'mail.deliver', 'outbox', () => authorize(actor, 'mail.deliver'));
	return deliverOutbox(ctx, undefined, options);
}

/** One line for people: "sent", "retrying: reason", "failed: reason", "not sent: reason". */
export function describeMailStatus(status: MailStatus): string {
	switch (status.state) {
		case 'queued':
			return 'queued';
		case 'sent':
			return 'sent';
		case 'retrying':
			return `retrying: ${status.reason}`;
		case 'failed':
			return `failed: ${status.reason}`;
		case 'not-sent':
			return `not sent: ${status.reason}`;
	}
}
