import {isIPv6} from 'node:net';

/**
 * The address group a client's budgets belong to: an IPv4 address as it is, an IPv4-mapped IPv6
 * address as its IPv4 address, and any other IPv6 address as its /64 prefix (one host is usually
 * given a whole /64, so per-address budgets would be unlimited there).
 */
export function clientGroup(address: string): string {
	const plain = address.replace(/%.*$/, '').toLowerCase();
	if (!isIPv6(plain)) return plain;
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
	if (mapped) return mapped[1]!;
	const [head = '', tail = ''] = plain.split('::');
	const left = head === '' ? [] : head.split(':');
	const right = plain.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
	// An embedded IPv4 tail counts as two groups; it never reaches the first four.
	const width = (parts: string[]) => parts.reduce((n, p) => n + (p.includes('.') ? 2 : 1), 0);
	const groups = plain.includes('::') ? [...left, ...Array<string>(8 - width(left) - width(right)).fill('0'), ...right] : left;
	return `${groups
		.slice(0, 4)
		.map(g => g.replace(/^0+(?=.)/, ''))
		.join(':')}::/64`;
}

/**
 * Fixed-window counters: at most `max` takes per key in each window of `windowMs`. Holds at most
 * `maxKeys` keys (a window's keys are dropped when it ends; past the bound, the key that has been
 * quiet longest goes, so a flood of addresses cannot grow it without end).
 */
export class Budget {
	readonly #counts = new Map<string, {start: number; count: number}>();
	constructor(
		readonly max: number,
		readonly windowMs: number,
		private readonly now: () => number,
		private readonly maxKeys = 50_000,
	) {}

	/** Counts one use; the milliseconds until the key's window ends when it is spent, else 0. */
	take(key: string): number {
		const now = this.now();
		let entry = this.#counts.get(key);
		if (!entry || now - entry.start >= this.windowMs) {
			this.#counts.delete(key);
			entry = {start: now, count: 0};
			if (this.#counts.size >= this.maxKeys) this.#counts.delete(this.#counts.keys().next().value!);
			this.#counts.set(key, entry);
		}
		entry.count++;
		return entry.count > this.max ? Math.max(1, entry.start + this.windowMs - now) : 0;
	}
}
