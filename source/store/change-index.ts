import {randomBytes} from 'node:crypto';
import type {BigIntStats} from 'node:fs';

/**
 * The index of recent changes: the last line of the store file before its closing brace, so a
 * process holding version N can bring itself to the file's version by reading only the lines that
 * changed since N, not the whole file (57 MB at 100,000 users).
 *
 *     ],
 *     "recentChanges":{"version":44,"head":"c3…","ino":"1234","mtime":"1767…000","at":5712345,
 *       "counts":{"users":100000,…},
 *       "log":[{"id":"b2…","parent":"a1…","version":43,"touched":{"users":["<id>"],"audit":["<id>"]}},
 *              {"id":"c3…","parent":"b2…","version":44,"touched":{"projects":["<id>"],…}}],
 *       "where":{"users":{"<id>":[index,offset,length]},"projects":{…},…}}
 *     }
 *
 * `log` lists the last commits (each names the records it touched by key: `id`, or `key` for
 * throttles; the settings record as ""), chained by random ids: a reader whose data is the state
 * `parent` of an entry applies that entry and every later one. `where` says where each record
 * touched by any entry now is: its index in its list and its line's byte offset and length, one
 * triple per record with that key (none: it was removed). `counts` is each list's length.
 *
 * It is in the same file, so the atomic replace that lands a commit lands its index with it: no
 * crash, at any point, leaves an index that disagrees with the data. And it is bound to that very
 * file: the writer sets the file's mtime to a value it records (`mtime`), with its inode (`ino`)
 * and the offset of this line (`at`). Any other program that writes the file changes its mtime (or
 * its inode, or the length of what precedes), so a file edited by hand, restored from a copy or
 * written by an older orgctl is read whole, as before, and never taken for what the index says.
 */
export type ChangeIndex = {
	readonly version: number;
	/** The id of the state the file holds. */
	readonly head: string;
	readonly ino: string;
	readonly mtime: string;
	readonly at: number;
	readonly counts: Readonly<Record<string, number>>;
	readonly log: readonly LogEntry[];
	readonly where: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>>;
};

export type LogEntry = {
	readonly id: string;
	/** The id of the state this commit was made on. */
	readonly parent: string | null;
	readonly version: number;
	/** Keys of the records this commit added, changed or removed, per section. */
	readonly touched: Readonly<Record<string, readonly string[]>>;
	/**
	 * Set when this commit patched a copy of the file it replaced ({@link fileKey} of that file as
	 * its writer last saw it): its file is that one with only the lines of the records it touched,
	 * the version, the ends of lists it grew and this index written over it. A follower that holds
	 * where the lines of that very file lie then knows where they lie in this one (follow-layout.ts).
	 */
	readonly patchOf?: string;
};

/** The key of the line that holds the index. */
export const INDEX_KEY = 'recentChanges';
export const INDEX_PREFIX = `"${INDEX_KEY}":`;

/** At most this many records are named in the index: a commit that touches more makes readers read the whole file once. */
export const MAX_INDEXED_KEYS = 4096;
/** At most this many commits are kept: a reader further behind reads the whole file. */
export const MAX_LOG_ENTRIES = 64;

/** A new id for a state of the data. */
export function newStateId(): string {
	return randomBytes(8).toString('hex');
}

/**
 * The id of the state a file holds when it has no index bound to it (edited by hand, older
 * orgctl): made of its stat, so every process that read that very file gives it the same id, and a
 * commit made on it can still be followed by the others.
 */
export function statStateId(stat: BigIntStats): string {
	return `stat:${fileKey(stat)}`;
}

/** One file as a stat saw it: its inode, size, mtime and ctime (a write in place moves the ctime, whatever it does to the mtime). */
export function fileKey(stat: {readonly ino: bigint; readonly size: bigint; readonly mtimeNs: bigint; readonly ctimeNs: bigint}): string {
	return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

/** The key that names a record in the index. */
export function recordKey(record: object): string | undefined {
	const r = record as {id?: unknown; key?: unknown};
	const key = r.id ?? r.key;
	return typeof key === 'string' ? key : undefined;
}

/**
 * The mtime a writer gives the file it is about to put in place, in nanoseconds as the file system
 * keeps it: the time the kernel stamped on the file as it was written (`stampedNs`: the store reads
 * no clock of its own), to the millisecond, with random microseconds, and always after the mtime of
 * the file it replaces, so that two commits never look alike to a stat. `toSeconds` is what is
 * handed to futimes; `ns` what a stat of the file then shows, computed as libuv converts it.
 */
export function chooseMtime(stampedNs: bigint, previousNs: bigint | undefined): {toSeconds: number; ns: bigint} {
	let micros = (stampedNs / 1_000_000n) * 1000n + BigInt(Math.floor(Math.random() * 1000));
	if (previousNs !== undefined && micros * 1000n <= previousNs) micros = previousNs / 1000n + 1n;
	const seconds = Number(micros) / 1e6;
	// libuv (uv__fs_to_timespec): whole seconds, then the fraction in nanoseconds truncated to microseconds.
	const whole = Math.trunc(seconds);
	let nanos = Math.trunc((seconds - whole) * 1e9);
	nanos -= nanos % 1000;
	return {toSeconds: seconds, ns: BigInt(whole) * 1_000_000_000n + BigInt(nanos)};
}

/** Parses the body of the index line; undefined when it is not a well-formed index (it is then ignored). */
export function parseIndex(body: string): ChangeIndex | undefined {
	let value: unknown;
	try {
		value = JSON.parse(body);
	} catch {
		return undefined;
	}
	return asIndex(value);
}

/** The body of the index line, parsed, as an index; undefined when it is not a well-formed one (it is then ignored). */
export function asIndex(value: unknown): ChangeIndex | undefined {
	if (!isObject(value)) return undefined;
	const {version, head, ino, mtime, at, counts, log, where} = value;
	if (!Number.isInteger(version) || typeof head !== 'string' || typeof ino !== 'string' || typeof mtime !== 'string' || !Number.isInteger(at)) return undefined;
	if (!isObject(counts) || !Object.values(counts).every(n => Number.isInteger(n))) return undefined;
	if (!Array.isArray(log) || !log.every(isLogEntry)) return undefined;
	if (!isObject(where) || !Object.values(where).every(section => isObject(section) && Object.values(section).every(isTriples))) return undefined;
	return value as ChangeIndex;
}

/** Whether `index` was written with the very file `stat` describes, its line starting at byte `at`. */
export function boundTo(index: ChangeIndex, stat: BigIntStats, at: number): boolean {
	return index.ino === String(stat.ino) && index.mtime === String(stat.mtimeNs) && index.at === at;
}

/**
 * The entries a reader whose data is the state `from` must apply to reach the index's head, in
 * order; [] when it is there already; undefined when the log does not reach back to it (a reader
 * too far behind, or on another line of history: it reads the whole file).
 */
export function entriesSince(index: ChangeIndex, from: string | undefined): readonly LogEntry[] | undefined {
	if (from === undefined) return undefined;
	if (from === index.head) return [];
	const start = index.log.findIndex(entry => entry.parent === from);
	if (start < 0) return undefined;
	const entries = index.log.slice(start);
	for (let i = 1; i < entries.length; i++) if (entries[i]!.parent !== entries[i - 1]!.id || entries[i]!.version !== entries[i - 1]!.version + 1) return undefined;
	const last = entries.at(-1)!;
	return last.id === index.head && last.version === index.version ? entries : undefined;
}

/** The keys touched by `entries`, per section. */
export function touchedBy(entries: readonly LogEntry[]): Map<string, Set<string>> {
	const touched = new Map<string, Set<string>>();
	for (const entry of entries) {
		for (const [section, keys] of Object.entries(entry.touched)) {
			let set = touched.get(section);
			if (!set) touched.set(section, (set = new Set()));
			for (const key of keys) set.add(key);
		}
	}
	return touched;
}

/**
 * The log a commit writes: the entries of the file it replaces that still fit (newest kept), then
 * its own. Undefined when its own entry alone is too big: readers then read the file whole once.
 */
export function nextLog(previous: readonly LogEntry[], own: LogEntry): LogEntry[] | undefined {
	const size = (entry: LogEntry) => Object.values(entry.touched).reduce((sum, keys) => sum + keys.length, 0);
	let total = size(own);
	if (total > MAX_INDEXED_KEYS) return undefined;
	const kept: LogEntry[] = [own];
	// Only a chain that ends where this commit starts is worth keeping.
	let parent = own.parent;
	for (let i = previous.length - 1; i >= 0 && kept.length < MAX_LOG_ENTRIES; i--) {
		const entry = previous[i]!;
		if (entry.id !== parent) break;
		total += size(entry);
		if (total > MAX_INDEXED_KEYS) break;
		kept.unshift(entry);
		parent = entry.parent;
	}
	return kept;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLogEntry(value: unknown): value is LogEntry {
	if (!isObject(value)) return false;
	const {id, parent, version, touched, patchOf} = value;
	if (patchOf !== undefined && typeof patchOf !== 'string') return false;
	return typeof id === 'string' && (parent === null || typeof parent === 'string') && Number.isInteger(version) && isObject(touched) && Object.values(touched).every(keys => Array.isArray(keys) && keys.every(k => typeof k === 'string'));
}

function isTriples(value: unknown): value is number[] {
	return Array.isArray(value) && value.length > 0 && value.length % 3 === 0 && value.every(n => Number.isInteger(n) && (n as number) >= 0);
}
