import type {AuditActor} from './audit.js';
import type {AuditEvent} from './model.js';

/** What the core knows of a refusal an anonymous web client caused. */
export type RefusalFacts = {
	readonly who: AuditActor;
	readonly action: string;
	readonly target: string;
	readonly result: AuditEvent['result'];
	readonly reason?: string | undefined;
};

/** A refusal an anonymous web client caused, before it is counted into the audit. */
export type AnonymousRefusal = RefusalFacts & {
	/** The client address as it is audited. */
	readonly clientAddress: string;
	/** The address group that shares a budget (an IPv6 /64): refusals are counted per group. */
	readonly group: string;
};

/** One counted event: the first refusal of its kind from an address group in a minute, and how many followed. */
export type TalliedRefusal = AnonymousRefusal & {readonly time: string; readonly count: number; readonly eventId: string};

/** At most this many distinct (action, group, minute) counters are held; beyond it refusals are counted into one per action. */
export const TALLY_MAX_KEYS = 2_000;

/**
 * Counts anonymous refusals (a dead invitation link, a refused sign-up) per action, client
 * address group and minute, so that a flood costs one audit event per address and minute, and the
 * store one write per flush, whatever the rate (DESIGN §4 "Bounded"). Pure: the web server drains
 * it on a timer and when it stops.
 */
export class RefusalTally {
	readonly #counts = new Map<string, {first: AnonymousRefusal; time: string; count: number; written: number; eventId: string}>();
	constructor(
		private readonly now: () => Date,
		private readonly newId: () => string,
	) {}

	take(refusal: AnonymousRefusal): void {
		const time = this.now().toISOString();
		const minute = time.slice(0, 16);
		// Counters of minutes that are over and written are let go.
		for (const [key, entry] of this.#counts) if (entry.time.slice(0, 16) !== minute && entry.written === entry.count) this.#counts.delete(key);
		let key = `${refusal.action}\u0000${refusal.group}\u0000${minute}`;
		if (!this.#counts.has(key) && this.#counts.size >= TALLY_MAX_KEYS) key = `${refusal.action}\u0000*\u0000${minute}`;
		const entry = this.#counts.get(key);
		if (entry) entry.count++;
		else this.#counts.set(key, {first: key.includes('\u0000*\u0000') ? {...refusal, clientAddress: 'many', group: '*'} : refusal, time, count: 1, written: 0, eventId: this.newId()});
	}

	/** How many counters have refusals not yet written. */
	get size(): number {
		return [...this.#counts.values()].filter(e => e.count > e.written).length;
	}

	/**
	 * What was counted since the last drain: per action, address group and minute, the event to
	 * write (or to update, `eventId`, when the minute's event was written already).
	 */
	drain(): TalliedRefusal[] {
		const out: TalliedRefusal[] = [];
		for (const e of this.#counts.values()) {
			if (e.count === e.written) continue;
			out.push({...e.first, time: e.time, count: e.count, eventId: e.eventId});
			e.written = e.count;
		}
		return out;
	}
}

/** The target of a counted event: the first refusal's, and how many like it came from the same address in that minute. */
export function talliedTarget(refusal: TalliedRefusal): string {
	if (refusal.count === 1) return refusal.target;
	const from = refusal.group === '*' ? 'from many addresses' : refusal.group === refusal.clientAddress ? 'from this address' : `from ${refusal.group}`;
	return `${refusal.count} refused ${from} in the minute from ${refusal.time.slice(0, 16)}Z; the first: ${refusal.target}`;
}
