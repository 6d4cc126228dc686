import type {Actor, Context} from './context.js';
import {isOrgError, refused} from './errors.js';
import {keepBounded} from './housekeeping.js';
import {newId} from './ids.js';
import {capText} from './inert.js';
import {AUDIT_REASON_MAX, AUDIT_TEXT_MAX, type AuditEvent, type Database} from './model.js';
import {decide, type Action, type TargetFacts} from './policy.js';
import {actorFacts} from './context.js';

/** Who an audit event names: an actor, or a fixed word for what acts without one. */
export type AuditActor = Actor | {readonly label: string; readonly tenantId: string | null};

function actorLabel(who: AuditActor): {actor: string; tenantId: string | null} {
	return 'label' in who ? {actor: who.label, tenantId: who.tenantId} : {actor: who.tokenId === undefined ? who.user.username : `${who.user.username} (token ${who.tokenId.slice(0, 8)})`, tenantId: who.tenant.id};
}

/**
 * Appends one audit event. What it quotes (the actor as typed, the target, the reason) is kept to
 * AUDIT_TEXT_MAX characters and marked as cut, `…[+N]`: a refused 100 KB identifier costs the
 * store a few hundred bytes. Each event is also when the store is kept bounded: once the
 * housekeeping is due (core/housekeeping.ts), it runs in the same transaction.
 */
export function appendAudit(db: Database, ctx: Context, who: AuditActor, event: Pick<AuditEvent, 'action' | 'target' | 'result'> & {reason?: string}): void {
	const {actor, tenantId} = actorLabel(who);
	db.audit.push({
		id: newId(),
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

/**
 * Runs one change as one transaction and audits it: the change and its audit event commit
 * together; a refusal (any error with a reason for the user) is audited in a transaction of its
 * own and then thrown on.
 */
export async function perform<T>(ctx: Context, who: AuditActor, action: string, target: string, change: (db: Database) => T): Promise<T> {
	try {
		return await ctx.store.transact(db => {
			const result = change(db);
			appendAudit(db, ctx, who, {action, target, result: 'ok'});
			return result;
		});
	} catch (error) {
		await auditError(ctx, who, action, target, error);
		throw error;
	}
}

/**
 * Audits an error that stopped an action outside perform(): refused, or failed when a service was
 * unavailable; errors of the store itself are not (the store could not record them anyway).
 */
export async function auditError(ctx: Context, who: AuditActor, action: string, target: string, error: unknown): Promise<void> {
	if (isOrgError(error) && error.kind !== 'store') {
		const result = error.kind === 'unavailable' ? 'failed' : 'refused';
		await ctx.store.transact(db => appendAudit(db, ctx, who, {action, target, result, reason: error.message})).catch(() => undefined);
	}
}

/**
 * A read that may be refused (showing settings, listing tenants): the result, or the refusal
 * audited and thrown (DESIGN §2: every refusal is audited, reads included).
 */
export async function auditedRead<T>(ctx: Context, who: AuditActor, action: string, target: string, read: () => T): Promise<T> {
	try {
		return read();
	} catch (error) {
		await auditError(ctx, who, action, target, error);
		throw error;
	}
}

/** Throws the policy's sentence when the actor may not take the action. */
export function authorize(actor: Actor, action: Action, target: TargetFacts = {}): void {
	const decision = decide(actorFacts(actor), action, target);
	if (!decision.allowed) throw refused(decision.reason);
}

/** The audit log, newest first, for admins of the tenant (their tenant's events) and superusers (all). */
export function listAudit(ctx: Context, actor: Actor, options: {since?: Date} = {}): AuditEvent[] {
	return listAuditIn(ctx.store.read(), actor, options);
}

/** listAudit over data already read (the console derives its rows from the data it renders). */
export function listAuditIn(db: Database, actor: Actor, options: {since?: Date} = {}): AuditEvent[] {
	authorize(actor, 'audit.view');
	const since = options.since?.toISOString();
	return db.audit
		.filter(e => (actor.user.superuser || e.tenantId === actor.tenant.id) && (!since || e.time >= since))
		.reverse();
}
