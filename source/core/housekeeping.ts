import {THROTTLE} from './accounts.js';
import type {Context} from './context.js';
import {newId} from './ids.js';
import {TOMBSTONE_DAYS} from './invitations/record.js';
import type {AuditEvent, Database} from './model.js';
import {plural} from './words.js';

/**
 * The store stays bounded (DESIGN §4 "Bounded"): what anonymous or refused input leaves behind,
 * and what has served its time, is removed on a schedule, and the audit says what went.
 *
 * - expired sessions; expired sign-ups waiting for their code (with the code's queued mail);
 * - throttle entries quiet for a day and not locked, and beyond THROTTLE.maxUnknown entries for
 *   identifiers that name no account, the longest quiet first;
 * - the tombstones of accepted and revoked invitations after TOMBSTONE_DAYS;
 * - single sign-on's expired records: AuthnRequests past their 10 minutes, used assertion ids
 *   past the time their assertion could be valid (the replay cache needs them no longer), and
 *   terminal sign-ins past their code's 10 minutes (core/saml/);
 * - audit events older than the policy's `auditRetentionDays`, then beyond `auditMaxEvents` the
 *   oldest refusals of anonymous web clients, and only when none is left the oldest real events.
 *
 * Expired invitations stay: Resend renews them (DESIGN §3), and only a signed-in user makes them.
 */
export const HOUSEKEEPING = {everySeconds: 3600} as const;

/** How many records one run removed, by kind. */
export type Pruned = {
	readonly sessions: number;
	readonly pendingSignups: number;
	readonly throttles: number;
	readonly tombstones: number;
	readonly samlRequests: number;
	readonly samlAssertions: number;
	readonly deviceLogins: number;
	/** Audit events older than the retention (auditRetentionDays). */
	readonly auditEvents: number;
	/** Over the cap (auditMaxEvents): refusals of anonymous web clients, which go first. */
	readonly anonymousOverCap: number;
	/** Over the cap, once no anonymous refusal was left: the oldest real events. */
	readonly auditOverCap: number;
};

/**
 * An audit event an anonymous web client caused: a refusal (or failure) with a client address and
 * no signed-in actor. Over the cap these go first; a real event goes only when none is left.
 */
export function isAnonymousEvent(event: Pick<AuditEvent, 'result' | 'clientAddress'>): boolean {
	return event.result !== 'ok' && event.clientAddress !== undefined;
}

/** Lists may overrun their bound by this much before a run is due ahead of its hour, so that pruning is not a cost of every event. */
function slack(bound: number): number {
	return Math.max(100, Math.floor(bound / 100));
}

/** Whether a run is due: an hour since the last (or the clock went back), or the audit or the throttles well over their bound. */
export function housekeepingDue(db: Database, now: Date): boolean {
	const last = db.housekeeping.lastRun === null ? Number.NaN : Date.parse(db.housekeeping.lastRun);
	const since = now.getTime() - last;
	if (!(since >= 0 && since < HOUSEKEEPING.everySeconds * 1000)) return true;
	const maxEvents = db.settings.policy.auditMaxEvents;
	return db.audit.length > maxEvents + slack(maxEvents) || db.throttles.length > THROTTLE.maxUnknown + slack(THROTTLE.maxUnknown);
}

/** Removes what has served its time (see above) and returns how much of each kind went. */
export function pruneStore(db: Database, now: Date): Pruned {
	const at = now.toISOString();
	const count = <T,>(list: readonly T[], keep: (item: T) => boolean): [T[], number] => {
		const kept = list.filter(keep);
		return [kept, list.length - kept.length];
	};

	const [sessions, sessionsGone] = count(db.sessions, s => s.expires > at);
	const [pending, pendingGone] = count(db.pendingSignups, p => p.expires > at);
	const pendingIds = new Set(pending.map(p => p.id));

	const forget = new Date(now.getTime() - THROTTLE.forgetSeconds * 1000).toISOString();
	let [throttles] = count(db.throttles, t => (t.lockedUntil !== null && t.lockedUntil > at) || t.last > forget);
	// Keys of what was typed (any spray of made-up names grows these); an account's own key stays.
	const unknown = throttles.filter(t => t.key.startsWith('login:') || t.key.startsWith('unknown:'));
	if (unknown.length > THROTTLE.maxUnknown) {
		const evicted = new Set(unknown.sort((a, b) => a.last.localeCompare(b.last)).slice(0, unknown.length - THROTTLE.maxUnknown));
		throttles = throttles.filter(t => !evicted.has(t));
	}

	const buried = new Date(now.getTime() - TOMBSTONE_DAYS * 86_400_000).toISOString();
	const [tombstones, tombstonesGone] = count(db.invitationTombstones, t => t.at >= buried);

	const [samlRequests, samlRequestsGone] = count(db.samlRequests, r => r.expires > at);
	const [samlAssertions, samlAssertionsGone] = count(db.samlAssertions, a => a.expires > at);
	const [deviceLogins, deviceLoginsGone] = count(db.deviceLogins, d => d.expires > at);

	const {auditRetentionDays, auditMaxEvents} = db.settings.policy;
	const oldest = new Date(now.getTime() - auditRetentionDays * 86_400_000).toISOString();
	const [kept, auditOld] = count(db.audit, e => e.time >= oldest);
	let audit = kept;
	// The run's own event is added after: keep room for it. Anonymous refusals go first, the oldest first.
	let anonymousOverCap = 0;
	let auditOverCap = 0;
	const over = audit.length - (auditMaxEvents - 1);
	if (over > 0) {
		const anonymous = audit.filter(isAnonymousEvent);
		const dropped = new Set(anonymous.slice(0, over));
		anonymousOverCap = dropped.size;
		audit = audit.filter(e => !dropped.has(e));
		auditOverCap = over - anonymousOverCap;
		if (auditOverCap > 0) audit = audit.slice(auditOverCap);
	}

	const pruned: Pruned = {
		sessions: sessionsGone,
		pendingSignups: pendingGone,
		throttles: db.throttles.length - throttles.length,
		tombstones: tombstonesGone,
		samlRequests: samlRequestsGone,
		samlAssertions: samlAssertionsGone,
		deviceLogins: deviceLoginsGone,
		auditEvents: auditOld,
		anonymousOverCap,
		auditOverCap,
	};
	// Assign only what changed: the store rewrites and re-checks a list only when it is replaced.
	if (pruned.sessions) db.sessions = sessions;
	if (pruned.pendingSignups) {
		db.pendingSignups = pending;
		db.outbox = db.outbox.filter(m => m.kind !== 'signup-code' || m.ref === null || pendingIds.has(m.ref));
	}
	if (pruned.throttles) db.throttles = throttles;
	if (pruned.tombstones) db.invitationTombstones = tombstones;
	if (pruned.samlRequests) db.samlRequests = samlRequests;
	if (pruned.samlAssertions) db.samlAssertions = samlAssertions;
	if (pruned.deviceLogins) db.deviceLogins = deviceLogins;
	if (pruned.auditEvents || anonymousOverCap || auditOverCap) db.audit = audit;
	return pruned;
}

/** "2 expired sessions, 1,000 audit events past retention": what a run removed, for its audit event. */
export function describePruned(pruned: Pruned, cap: number): string {
	const parts = [
		[pruned.sessions, plural(pruned.sessions, 'expired session')],
		[pruned.pendingSignups, plural(pruned.pendingSignups, 'expired sign-up')],
		[pruned.throttles, `${pruned.throttles} throttle ${pruned.throttles === 1 ? 'entry' : 'entries'}`],
		[pruned.tombstones, plural(pruned.tombstones, 'old invitation tombstone')],
		[pruned.samlRequests, plural(pruned.samlRequests, 'expired SAML request')],
		[pruned.samlAssertions, plural(pruned.samlAssertions, 'expired SAML assertion id')],
		[pruned.deviceLogins, plural(pruned.deviceLogins, 'expired terminal sign-in')],
		[pruned.auditEvents, `${plural(pruned.auditEvents, 'audit event')} past retention`],
		[pruned.anonymousOverCap, `${plural(pruned.anonymousOverCap, 'anonymous refused request')} over the cap of ${cap.toLocaleString('en-US')} audit events`],
		[pruned.auditOverCap, `${plural(pruned.auditOverCap, 'audit event')} over the cap of ${cap.toLocaleString('en-US')} (the oldest; no anonymous ones were left)`],
	] as const;
	return parts
		.filter(([n]) => n > 0)
		.map(([, text]) => text)
		.join(', ');
}

/**
 * Runs the housekeeping inside the caller's transaction when it is due (core/audit.ts calls this
 * after every audit event, so whatever grows the store also prunes it). A run that removed
 * anything leaves an audit event `store.prune` saying what.
 */
export function keepBounded(db: Database, ctx: Pick<Context, 'now'>): void {
	const now = ctx.now();
	if (!housekeepingDue(db, now)) return;
	const pruned = pruneStore(db, now);
	db.housekeeping = {lastRun: now.toISOString()};
	const removed = describePruned(pruned, db.settings.policy.auditMaxEvents);
	if (removed === '') return;
	db.audit.push({id: newId(), time: now.toISOString(), actor: 'system', tenantId: null, action: 'store.prune', target: `removed ${removed}`, result: 'ok'});
}
