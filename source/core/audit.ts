import type {Actor, Context} from './context.js';
import {isOrgError, refused, type OrgError} from './errors.js';
import {keepBounded} from './housekeeping.js';
import {newId} from './ids.js';
import {capText} from './inert.js';
import {AUDIT_REASON_MAX, AUDIT_TEXT_MAX, type AuditEvent, type Database} from './model.js';
import {decide, type Action, type TargetFacts} from './policy.js';
import {actorFacts} from './context.js';
import {assertStanding} from './standing.js';
import {talliedTarget, type TalliedRefusal} from './refusal-tally.js';

/** Who an audit event names: an actor, or a fixed word for what acts without one. */
export type AuditActor = Actor | {readonly label: string; readonly tenantId: string | null};

function actorLabel(who: AuditActor): {actor: string; tenantId: string | null} {
	return 'label' in who ? {actor: who.label, tenantId: who.tenantId} : {actor: who.tokenId === undefined ? who.user.username : `${who.user.username} (token ${who.tokenId.slice(0, 8)})`, tenantId: who.tenant.id};
}

/**
 * Records what happened: `ok`, or `failed` when an outside service let a done change down (a mail
 * that did not go). A refusal is never written here but through recordRefusal, the one way in.
 */
export function appendAudit(db: Database, ctx: Context, who: AuditActor, event: {action: string; target: string; result: 'ok' | 'failed'; reason?: string}): void {
	writeEvent(db, ctx, who, event);
}

/**
 * Appends one audit event (appendAudit's, recordRefusal's and writeTallied's). What it quotes is
 * kept short and marked as cut, `…[+N]`: the actor as typed and the target to AUDIT_TEXT_MAX
 * characters, the reason to AUDIT_REASON_MAX; a refused 100 KB identifier costs the store a few
 * hundred bytes. Each event is also when the store is kept bounded: once the housekeeping is due
 * (core/housekeeping.ts), it runs in the same transaction.
 */
function writeEvent(db: Database, ctx: Context, who: AuditActor, event: Pick<AuditEvent, 'action' | 'target' | 'result'> & {reason?: string}, id = newId()): void {
	const {actor, tenantId} = actorLabel(who);
	db.audit.push({
		id,
		time: ctx.now().toISOString(),
		actor: capText(actor, AUDIT_TEXT_MAX),
		tenantId,
		action: event.action,
		target: capText(event.target, AUDIT_TEXT_MAX),
		result: event.result,
		...(event.reason === undefined ? {} : {reason: capText(event.reason, AUDIT_REASON_MAX)}),
		...(ctx.clientAddress === undefined ? {} : {clientAddress: ctx.clientAddress.slice(0, 64)}),
	});
	keepBounded(db, ctx);
}

/** Errors already in the audit log: a refusal that passes through several layers is recorded once. */
const recorded = new WeakSet<OrgError>();

/** Errors the audit records: every OrgError but the store's own (the store could not record them anyway). */
function auditable(error: unknown): error is OrgError {
	return isOrgError(error) && error.kind !== 'store';
}

/**
 * THE way a refusal reaches the audit log (DESIGN §2: every refusal is audited, reads and failed
 * authentications included). Writes one event inside the caller's transaction: `refused`, or
 * `failed` when an outside service (SMTP, PAM) was unavailable. The same error is recorded once,
 * however many layers it passes through. Call it only in a transaction that commits: return the
 * refusal from the transaction and throw it after, as login does; or use `refuse`, which runs its
 * own transaction.
 */
export function recordRefusal(db: Database, ctx: Context, who: AuditActor, action: string, target: string, error: unknown): void {
	if (!auditable(error) || recorded.has(error)) return;
	recorded.add(error);
	writeEvent(db, ctx, who, {action, target, result: error.kind === 'unavailable' ? 'failed' : 'refused', reason: error.message});
}

/**
 * Audits a refusal found outside a change (a read, a check before a slow step, an authentication)
 * in a transaction of its own, with `also` (a throttle count, a spent try) in the same
 * transaction, and throws it. Errors that are not refusals are thrown as they are.
 */
export async function refuse(ctx: Context, who: AuditActor, action: string, target: string, error: unknown, also?: (db: Database) => void): Promise<never> {
	if (auditable(error) && !recorded.has(error) && !also && ctx.deferRefusal) {
		// A web client's refusal that changes nothing: counted per address and minute
		// (core/refusal-tally.ts), not a store write of its own, so a flood cannot evict the real
		// trail nor stall every writer.
		recorded.add(error);
		ctx.deferRefusal({who, action, target, result: error.kind === 'unavailable' ? 'failed' : 'refused', reason: error.message});
		throw error;
	}
	if (auditable(error) && (!recorded.has(error) || also)) {
		// Marked before the change, not inside it: a store may run a change again when another host
		// committed first (PostgreSQL), and the second run must write the event the first run did.
		const audit = !recorded.has(error);
		recorded.add(error);
		const written = ctx.store.transact(db => {
			also?.(db);
			if (audit) writeEvent(db, ctx, who, {action, target, result: error.kind === 'unavailable' ? 'failed' : 'refused', reason: error.message});
		});
		// An audit that cannot be written must not hide the refusal itself; what `also` counts (a
		// spent try) must not be lost quietly, so then the store's error is what the caller sees.
		if (also) await written;
		else await written.catch(() => undefined);
	}
	throw error;
}

/** Whether an audit's `who` is a signed-in actor (not a fixed word for what acts without one). */
function isActor(who: AuditActor): who is Actor {
	return !('label' in who);
}

/**
 * Runs one change as one transaction and audits it: the change and its audit event commit
 * together; a refusal (any error with a reason for the user) is audited in a transaction of its
 * own and then thrown on. An actor's standing is asked again first, in the same transaction
 * (core/standing.ts): what it was when the command signed in does not count.
 */
export async function perform<T>(ctx: Context, who: AuditActor, action: string, target: string, change: (db: Database) => T): Promise<T> {
	try {
		return await ctx.store.transact(db => {
			if (isActor(who)) assertStanding(db, ctx, who);
			const result = change(db);
			appendAudit(db, ctx, who, {action, target, result: 'ok'});
			return result;
		});
	} catch (error) {
		return refuse(ctx, who, action, target, error);
	}
}

/**
 * Runs the checks of an operation against the latest data before a slow step (scrypt) or a read:
 * what it returns, or its refusal audited and thrown. Successful reads are not audited. The
 * actor's standing is asked again, as perform asks it.
 */
export async function checked<T>(ctx: Context, who: AuditActor, action: string, target: string, check: (db: Database) => T): Promise<T> {
	try {
		const db = ctx.store.read();
		if (isActor(who)) assertStanding(db, ctx, who);
		return check(db);
	} catch (error) {
		return refuse(ctx, who, action, target, error);
	}
}

/** Throws the policy's sentence when the actor may not take the action. */
export function authorize(actor: Actor, action: Action, target: TargetFacts = {}): void {
	const decision = decide(actorFacts(actor), action, target);
	if (!decision.allowed) throw refused(decision.reason);
}

/** Whether the policy lets the actor take the action (for filters: what a list shows). */
export function allowed(actor: Actor, action: Action, target: TargetFacts = {}): boolean {
	return decide(actorFacts(actor), action, target).allowed;
}

/** The audit log, newest first, for admins of the tenant (their tenant's events) and superusers (all); a refusal is audited. */
export async function listAudit(ctx: Context, actor: Actor, options: {since?: Date} = {}): Promise<AuditEvent[]> {
	return checked(ctx, actor, 'audit.read', options.since ? `since ${options.since.toISOString()}` : 'all', db => listAuditIn(db, actor, options));
}

/** listAudit over data already read (the console derives its rows from the data it renders). */
export function listAuditIn(db: Pick<Database, 'audit'>, actor: Actor, options: {since?: Date} = {}): AuditEvent[] {
	authorize(actor, 'audit.view');
	const everywhere = allowed(actor, 'audit.view-all-tenants');
	const since = options.since?.toISOString();
	return db.audit.filter(e => (everywhere || e.tenantId === actor.tenant.id) && (!since || e.time >= since)).reverse();
}

/**
 * Writes counted anonymous refusals (core/refusal-tally.ts) as audit events in one transaction:
 * each at the time of its first refusal, with its client address and how many there were.
 */
export async function writeTallied(ctx: Context, refusals: readonly TalliedRefusal[]): Promise<void> {
	if (refusals.length === 0) return;
	const {deferRefusal: _deferred, ...direct} = ctx;
	await ctx.store.transact(db => {
		let updated = false;
		for (const r of refusals) {
			const target = talliedTarget(r);
			const index = db.audit.findIndex(e => e.id === r.eventId);
			if (index >= 0) {
				// The minute's event from this address, written by an earlier flush: its count goes up.
				db.audit[index] = {...db.audit[index]!, target: capText(target, AUDIT_TEXT_MAX)};
				updated = true;
				continue;
			}
			const at: Context = {...direct, now: () => new Date(r.time), clientAddress: r.clientAddress};
			writeEvent(db, at, r.who, {action: r.action, target, result: r.result, ...(r.reason === undefined ? {} : {reason: r.reason})}, r.eventId);
		}
		// The store rewrites a list only when it is replaced.
		if (updated) db.audit = [...db.audit];
	});
}
