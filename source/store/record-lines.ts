import {z} from 'zod';
import {checkInvariants, INVARIANT_FIELDS, type GuardedField} from '../core/invariants.js';
import {databaseSchema, type Database} from '../core/model.js';
import {INDEX_PREFIX, recordKey, touchedBy, type ChangeIndex, type LogEntry} from './change-index.js';
import {check, Invalid, isRecord, Nested, sameGuarded, sameJson, sameMembers, shapeOf, unknownKey} from './record-entry.js';

export {Invalid} from './record-entry.js';

/**
 * The store file holds one record per line:
 *
 *     {
 *     "schemaVersion":1,
 *     "version":42,
 *     "tenants":[
 *     {"id":"…","name":"acme",…},
 *     {"id":"…","name":"beta",…}
 *     ],
 *     …
 *     "outbox":[
 *     ],
 *     "housekeeping":{"lastRun":…},
 *     "recentChanges":{…}
 *     }
 *
 * The last line is the index of recent changes (change-index.ts), which lets a reader read only
 * the lines that changed. It is ordinary JSON (any tool, and lowdb, reads it), diffs well when edited by hand, and lets a
 * commit or a re-read touch only what changed: each record's line is remembered once validated, so
 * a commit validates only records whose line differs, and a re-read parses only lines it has not
 * seen. Validating and serialising 10,000 users on every change is what made a commit cost
 * 109 ms median here; see bench/store-commit.ts.
 */

type Section = {
	readonly key: keyof Database & string;
	readonly schema: z.ZodType;
	readonly element: z.ZodType | undefined;
	/** Fields the invariants read, for lists they read. */
	readonly guarded: readonly GuardedField[] | undefined;
};

/**
 * Lists whose records have ids no two of them share (invariants.ts, uniqueIds): checked on open and
 * before every commit, so a record found at its index in the list as it was is the only one with its id.
 */
const UNIQUE_IDS: ReadonlySet<string> = new Set(['tenants', 'users', 'invitations', 'projects', 'tokens', 'signupDomains', 'sessions', 'outbox']);

/**
 * The list `old` with records edited in place: when the list keeps its length and each touched
 * id has one record, now at the index where the list as it was had that id, that record is put
 * there and nothing else is looked at (the ids are unique, so no other record of `old` has a
 * touched id). Undefined when the change is of another kind (records added, removed or moved).
 */
function inPlace(old: readonly object[], total: number, keys: ReadonlySet<string>, placed: ReadonlyArray<readonly [number, Record<string, unknown>]>): {merged: object[]; removed: object[]} | undefined {
	if (total !== old.length || placed.length !== keys.size) return undefined;
	const seen = new Set<string | undefined>();
	for (const [at, record] of placed) {
		const was = old[at];
		const key = recordKey(record);
		if (was === undefined || recordKey(was) !== key || seen.has(key)) return undefined;
		seen.add(key);
	}
	const merged = old.slice();
	const removed: object[] = [];
	for (const [at, record] of placed) {
		removed.push(old[at]!);
		merged[at] = record;
	}
	return {merged, removed};
}

/** Fields whose values many records repeat: {@link RecordLines} keeps one string per value. */
const SHARED_FIELDS = ['tenantId', 'owner', 'invitedBy', 'createdBy', 'domainId', 'projectId', 'actor', 'action'] as const;
/** Values beyond this many are left as they are: a store of unusual shape costs what it did before, never more. */
const MAX_SHARED = 4096;

function isNested(value: unknown): value is object {
	return typeof value === 'object' && value !== null;
}

/** True while `value` (a line just parsed) holds exactly what `record` holds, keys in the same order. */
function sameRecord(value: Record<string, unknown>, record: Record<string, unknown>): boolean {
	const keys = Object.keys(record);
	let at = 0;
	for (const key in value) {
		if (keys[at] !== key || !Object.hasOwn(value, key)) return false;
		const now = value[key];
		const was = record[key];
		if (now !== was && !(isNested(now) && isNested(was) && JSON.stringify(now) === JSON.stringify(was))) return false;
		at++;
	}
	return at === keys.length;
}

/** A value as {@link Before} keeps it: a nested one as its JSON, since a change may edit it in place. */
function held(value: unknown): unknown {
	return isNested(value) ? new Nested(JSON.stringify(value)) : value;
}

/** The records of one list as a change found them, and where each one's values start. */
type TakenList = {readonly records: readonly unknown[]; readonly starts: Int32Array; byRecord?: Map<unknown, number>};

/**
 * What every record of the database held when a change began ({@link RecordLines.snapshot}): a
 * change edits records in place, so this is how a commit tells the records it touched from the
 * others (which need neither validating nor serialising again), and how a change that failed is
 * undone. It lives only as long as the change: kept from one commit to the next, one array of
 * values per record was 19 MB at 100,000 users, more than the users themselves, in every process
 * that holds the store open. Outside a change nobody edits a record (StorePort.read), so what a
 * record holds then is what it held when last committed or read.
 *
 * The values of all records are in one flat array, each record's keys (one shared array per
 * shape) first, nested values as {@link Nested}: taking it costs no allocation per flat record.
 */
class Before {
	readonly values: unknown[];
	/** How many slots of {@link values} are taken. */
	private used = 0;
	private readonly lists = new Map<string, TakenList>();
	private readonly singles = new Map<string, {readonly record: unknown; readonly start: number}>();
	/** The shape of the record taken last. */
	private shape: readonly string[] = [];

	/** `spare`: the array of the change before, reused when it has room (a new one per commit piled up as garbage: 14 MB at 100,000 users, kept by V8 until a full collection). */
	constructor(db: Readonly<Record<string, unknown>>, spare: unknown[] | undefined) {
		// Room for every record at the size of the first of its list, so that the array is not copied as it grows.
		let room = 0;
		for (const value of Object.values(db)) {
			const first: unknown = Array.isArray(value) ? value[0] : value;
			if (isRecord(first)) room += (Array.isArray(value) ? value.length : 1) * (1 + Object.keys(first).length);
		}
		this.values = spare && spare.length >= room ? spare : new Array<unknown>(room);
		for (const [key, value] of Object.entries(db)) {
			if (Array.isArray(value)) {
				const records: readonly unknown[] = value;
				const starts = new Int32Array(records.length);
				for (let i = 0; i < records.length; i++) starts[i] = this.take(records[i]);
				this.lists.set(key, {records, starts});
			} else if (isRecord(value)) {
				this.singles.set(key, {record: value, start: this.take(value)});
			}
		}
	}

	/**
	 * Takes what `record` holds. Records of a list mostly share one shape: the keys are checked
	 * against the shape of the record taken before as the values are taken, so a flat record costs
	 * no allocation (an Object.keys() per record doubled the CPU of a commit at 10,000 users).
	 */
	private take(record: unknown): number {
		if (!isRecord(record)) return -1;
		const values = this.values;
		const start = this.used;
		let keys = this.shape;
		let at = start;
		values[at++] = keys;
		for (const key in record) {
			if (keys[at - start - 1] !== key) {
				// Another shape: take the record again with its own keys.
				keys = this.shape = shapeOf(Object.keys(record));
				values[start] = keys;
				at = start + 1;
				for (const name of keys) values[at++] = held(record[name]);
				this.used = at;
				return start;
			}
			values[at++] = held(record[key]);
		}
		// Fewer keys than the shape: the values taken are the record's, in its order.
		if (at - start - 1 !== keys.length) values[start] = this.shape = shapeOf(Object.keys(record));
		this.used = at;
		return start;
	}

	/** Where the values of `record` start (`hint`: its likely index in the list), or -1 when the change found no such record there. */
	find(section: string, record: object, hint: number): number {
		const list = this.lists.get(section);
		if (!list) {
			const single = this.singles.get(section);
			return single && single.record === record ? single.start : -1;
		}
		if (list.records[hint] === record) return list.starts[hint]!;
		if (!list.byRecord) {
			list.byRecord = new Map();
			for (let i = 0; i < list.records.length; i++) list.byRecord.set(list.records[i], list.starts[i]!);
		}
		return list.byRecord.get(record) ?? -1;
	}

	/** True while `record` holds exactly what it held at `start`. */
	unchanged(record: Record<string, unknown>, start: number): boolean {
		const keys = this.values[start] as readonly string[];
		let at = 0;
		for (const key in record) {
			if (keys[at] !== key || !Object.hasOwn(record, key)) return false;
			const value = record[key];
			const was = this.values[start + 1 + at];
			if (value !== was && !(was instanceof Nested && isNested(value) && JSON.stringify(value) === was.json)) return false;
			at++;
		}
		return at === keys.length;
	}

	/** The value the record at `start` held for `key` (a nested value as its {@link Nested}). */
	field(start: number, key: string): unknown {
		const at = (this.values[start] as readonly string[]).indexOf(key);
		return at < 0 ? undefined : this.values[start + 1 + at];
	}

	/** A fresh record holding what the record at `start` held. */
	copy(start: number): Record<string, unknown> {
		const keys = this.values[start] as readonly string[];
		const fresh: Record<string, unknown> = {};
		for (const [i, key] of keys.entries()) {
			const was = this.values[start + 1 + i];
			fresh[key] = was instanceof Nested ? JSON.parse(was.json) : was;
		}
		return fresh;
	}
}

/** Lines of a file, one at a time, with a look at the next: the whole text need never be in memory. */
export type LineSource = {
	next(): string | undefined;
	peek(): string | undefined;
};

/** The lines of a text already in memory. */
export function textLines(text: string): LineSource {
	const lines = text.split('\n');
	let at = 0;
	return {next: () => lines[at++], peek: () => lines[at]};
}

/** Where serialize() writes: text pieces, and how many bytes it has written so far. */
export type Output = {
	write(piece: string): void;
	readonly position: number;
};

/** What serialize() found a commit changed, and where the records it touched now are. */
export type Commit = {
	/** Records serialised anew, with their lines and what the line holds (the schema's copy when it differs): for {@link RecordLines.committed}. */
	readonly lines: Array<[Record<string, unknown>, string, Record<string, unknown>]>;
	/** Per section, the keys of the records the commit added, changed or removed. */
	readonly touched: ReadonlyMap<string, ReadonlySet<string>>;
	/** Per section, key → [index, offset, length, …] of every record written with a touched or indexed key. */
	readonly where: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
	/** Each list's length. */
	readonly counts: Readonly<Record<string, number>>;
	/** What changed, list by list (records by object), for the store's listeners; undefined when a list was reordered. */
	readonly change: Applied['change'];
};

/** A database brought up to date, and what changed on the way (undefined: anything may have). */
export type Applied = {
	readonly db: Database;
	readonly change: {readonly lists: ReadonlyMap<string, {readonly removed: readonly object[]; readonly added: readonly object[]}>; readonly settings: boolean} | undefined;
};

function sectionsFor(schemaVersion: number): readonly Section[] {
	return Object.entries(databaseSchema.shape).map(([key, schema]) => {
		const guarded = INVARIANT_FIELDS[key as keyof Database];
		if (key === 'schemaVersion') return {key, schema: z.literal(schemaVersion), element: undefined, guarded};
		return {key: key as Section['key'], schema: schema as z.ZodType, element: schema instanceof z.ZodArray ? (schema.element as z.ZodType) : undefined, guarded};
	});
}

/**
 * A database kept together with what it takes to tell, at a commit, which records the change
 * touched (what they held when it began, {@link Before}), so that unchanged records need neither
 * validating nor serialising again (with {@link keepLines}, their lines are remembered too). One
 * per open store.
 */
export class RecordLines {
	/** record → its line as last committed or read, while {@link keepLines}. */
	private lines = new WeakMap<object, string>();
	/** What the records held when the change under way began ({@link snapshot}); undefined outside a change. */
	private before: Before | undefined;
	/** The array the last change took its values into, for the next one (none before this process's first commit). */
	private spare: unknown[] | undefined;
	/** The lists as last committed or read: to see whether a change added, removed or moved a record, and to undo one. */
	private lists = new Map<string, readonly unknown[]>();
	private readonly sections: readonly Section[];
	/**
	 * Whether to remember each record's line, so a commit writes unchanged records without
	 * serialising them again. The store turns it off for big files: at 100,000 users the lines
	 * (54 MB) pushed peak memory over its budget, and there no commit budget applies.
	 */
	get keepLines(): boolean {
		return this.keepingLines;
	}

	set keepLines(keep: boolean) {
		if (!keep && this.keepingLines) this.lines = new WeakMap();
		this.keepingLines = keep;
	}

	private keepingLines = true;
	/** One string per value of the {@link SHARED_FIELDS}, up to {@link MAX_SHARED} values. */
	private readonly shared = new Map<string, string>();
	/** The next read takes records without checking them (StoreOptions.deferValidation); {@link verify} checks them later. */
	trustNextRead = false;
	/** Records were taken unchecked: the next commit checks them all, as {@link verify} does. */
	private unverified = false;
	/** Set during a trusted read. */
	private trusting = false;
	/** The index line of the file the last fromLines() read, if it had one (without checking it). */
	indexLine: string | undefined;

	constructor(readonly schemaVersion: number) {
		this.sections = sectionsFor(schemaVersion);
	}

	/**
	 * Validates a whole parsed file (already migrated to this schema version) and returns the
	 * database it holds. Every record is validated; throws {@link Invalid} with the first problem.
	 */
	fromRaw(raw: Record<string, unknown>): Database {
		this.startRead();
		const db: Record<string, unknown> = {};
		for (const section of this.sections) {
			const value = raw[section.key];
			if (section.element && Array.isArray(value)) {
				const records: object[] = [];
				for (const [i, item] of value.entries()) {
					records.push(this.adopt(section.element, item, `${section.key}.${i}`));
					// Let the parsed original go as soon as it is adopted: it halves the peak at 100,000 users.
					value[i] = undefined;
				}
				db[section.key] = records;
			} else {
				db[section.key] = isRecord(value) ? this.adopt(section.schema, value, section.key) : check(section.schema, value, section.key);
			}
		}
		return this.accept(db as Database, true);
	}

	/**
	 * Reads a file in the one-record-per-line layout, reusing the records of `previous` whose line is
	 * unchanged (without `previous`, every record is parsed and validated). Returns undefined when the
	 * file is laid out otherwise (edited by hand, written by another tool or an older orgctl): the
	 * caller then parses it whole.
	 */
	fromLines(lines: LineSource, previous?: Database): Database | undefined {
		this.startRead();
		this.indexLine = undefined;
		if (lines.next() !== '{') return undefined;
		const db: Record<string, unknown> = {};
		let guardedChange = previous === undefined;
		let indexFollows = false;
		for (const [index, section] of this.sections.entries()) {
			const isLast = index === this.sections.length - 1;
			const comma = isLast ? '' : ',';
			// The last section (a list, or a record such as the housekeeping) ends with a comma when the index of recent changes follows it.
			const closes = (line: string | undefined) => line === `]${comma}` || (isLast && line === '],');
			const key = `"${section.key}":`;
			if (section.element) {
				if (lines.next() !== `${key}[`) return undefined;
				const old = (previous?.[section.key] ?? []) as unknown as readonly object[];
				const records: unknown[] = [];
				// A record of `previous` is reused at most once, so no two entries share one object. While
				// records are only reused at their own place that holds by itself; the set (100,000 entries
				// of garbage per re-read of a big store) is only made once one is looked up by its line.
				let taken: Set<object> | undefined;
				let byLine: Map<string, object[]> | undefined;
				for (;;) {
					const line = lines.next();
					if (line === undefined) return undefined;
					if (closes(line)) {
						indexFollows = line === '],' && isLast;
						break;
					}
					const last = closes(lines.peek());
					if (last === line.endsWith(',')) return undefined;
					const body = last ? line : line.slice(0, -1);
					const same = old[records.length];
					const free = same !== undefined && !taken?.has(same);
					const sameLine = free ? this.lineOf(same) : undefined;
					if (sameLine !== undefined && sameLine === body) {
						records.push(same);
						taken?.add(same!);
						continue;
					}
					if (old.length > 0 && this.keepLines) {
						if (!byLine) {
							byLine = this.index(old);
							taken ??= new Set(records.filter((record, i) => record === old[i]) as object[]);
						}
						const candidates = byLine.get(body);
						let moved = candidates?.pop();
						while (moved && taken!.has(moved)) moved = candidates?.pop();
						if (moved) {
							records.push(moved);
							taken!.add(moved);
							continue;
						}
					}
					let value: unknown;
					try {
						value = JSON.parse(body);
					} catch {
						return undefined;
					}
					// Without a remembered line, compare what the line holds with the record (nobody edits one outside a change).
					if (free && sameLine === undefined && isRecord(value) && isRecord(same) && sameRecord(value, same)) {
						records.push(same);
						taken?.add(same!);
						continue;
					}
					// On a first read the line itself is kept (no copy); later, a fresh one, so that a
					// few changed lines do not keep a whole chunk of an old file alive.
					const record = this.adopt(section.element, value, `${section.key}.${records.length}`, previous ? undefined : body);
					if (section.guarded && !guardedChange) {
						// A record that replaces the one at its place and agrees with it on the guarded fields
						// cannot break an invariant; the one it replaces is used up, so it cannot reappear elsewhere.
						const was = old[records.length] as Record<string, unknown> | undefined;
						if (was && !taken?.has(was) && sameGuarded(section.guarded, record, field => was[field])) (taken ??= new Set(records.filter((r, i) => r === old[i]) as object[])).add(was);
						else guardedChange = true;
					}
					records.push(record);
				}
				if (section.guarded && records.length !== old.length) guardedChange = true;
				db[section.key] = records;
			} else {
				const line = lines.next();
				if (line === undefined || !line.startsWith(key)) return undefined;
				// The last section ends with a comma too when the index of recent changes follows it.
				const ends = isLast && line.endsWith(',') ? ',' : comma;
				if (!line.endsWith(ends)) return undefined;
				if (isLast) indexFollows = ends === ',';
				const body = line.slice(key.length, line.length - ends.length);
				const old = previous?.[section.key];
				if (isRecord(old) && this.lineOf(old) === body) {
					db[section.key] = old;
					continue;
				}
				let value: unknown;
				try {
					value = JSON.parse(body);
				} catch {
					return undefined;
				}
				if (section.key === 'schemaVersion' && value !== this.schemaVersion) return undefined;
				db[section.key] = isRecord(value) ? this.adopt(section.schema, value, section.key) : check(section.schema, value, section.key);
			}
		}
		let closing = lines.next();
		if (indexFollows) {
			if (!closing?.startsWith(INDEX_PREFIX)) return undefined;
			this.indexLine = closing;
			closing = lines.next();
		}
		if (closing !== '}') return undefined;
		for (let rest = lines.next(); rest !== undefined; rest = lines.next()) if (rest !== '') return undefined;
		return this.accept(db as Database, guardedChange);
	}


	/**
	 * Validates `db` after a change and lays it out, handing the text to `out` piece by piece (so a
	 * big file is never whole in memory; on a throw, discard what was written), up to the closing
	 * bracket of the last list: the caller writes the index of recent changes and the closing brace.
	 * Only records that differ from what was last committed are validated and (with keepLines)
	 * serialised. Says what the commit touched and where those records, and the records with a key
	 * in `indexed` (touched by the commits an index keeps), now are. Call {@link committed} with
	 * `lines` once the file is safely written.
	 */
	serialize(db: Database, out: Output, indexed: ReadonlyMap<string, ReadonlySet<string>> = new Map()): Commit {
		out.write('{\n');
		const lines: Array<[Record<string, unknown>, string, Record<string, unknown>]> = [];
		const touched = new Map<string, Set<string>>();
		const where = new Map<string, Map<string, number[]>>();
		const counts: Record<string, number> = {};
		const lists = new Map<string, {removed: object[]; added: object[]}>();
		let settings = false;
		let reordered = false;
		let guardedChange = false;
		const touch = (section: string, key: string | undefined) => {
			if (key === undefined) return;
			let keys = touched.get(section);
			if (!keys) touched.set(section, (keys = new Set<string>()));
			keys.add(key);
		};
		const place = (section: string, key: string, at: number, offset: number, length: number) => {
			let keys = where.get(section);
			if (!keys) where.set(section, (keys = new Map<string, number[]>()));
			const triples = keys.get(key);
			if (triples) triples.push(at, offset, length);
			else keys.set(key, [at, offset, length]);
		};
		const taken = this.before;
		/**
		 * The record's line, and whether it is new or changed (then validated; `was` says where what
		 * it held when the change began is, -1 for a record the change added). `hint`: its likely index in the list as it was.
		 */
		const see = (section: string, hint: number, schema: z.ZodType, value: unknown, at: string, guarded?: readonly GuardedField[]): {line: string; fresh: boolean; was: number} => {
			if (!isRecord(value)) {
				check(schema, value, at);
				return {line: JSON.stringify(value), fresh: false, was: -1};
			}
			const was = taken ? taken.find(section, value, hint) : -1;
			if (was >= 0 && !this.unverified && taken!.unchanged(value, was)) return {line: this.lines.get(value) ?? JSON.stringify(value), fresh: false, was};
			if (guarded && !(was >= 0 && sameGuarded(guarded, value, field => taken!.field(was, field)))) guardedChange = true;
			const clean = check(schema, value, at);
			// zod drops keys it does not know; a record carrying one is a bug, not something to write.
			const unknown = unknownKey(value, clean);
			if (unknown) throw new Invalid(at, `unknown field ${unknown}`);
			// What the schema gives is what is written (z.url() drops a line break from a URL, as every
			// reader's check would): the file, this process and every process that follows it agree.
			const written = sameJson(value, clean) ? value : (clean as Record<string, unknown>);
			const line = JSON.stringify(written);
			lines.push([value, line, written]);
			return {line, fresh: true, was};
		};
		for (const [index, section] of this.sections.entries()) {
			if (index > 0) out.write(',\n');
			const value = db[section.key];
			if (!section.element) {
				out.write(`"${section.key}":`);
				const offset = out.position;
				const {line, fresh} = see(section.key, 0, section.schema, value, section.key);
				out.write(line);
				if (!isRecord(value)) continue;
				// A record on its own (the settings, the housekeeping) is named by the key "".
				if (fresh) {
					touch(section.key, '');
					// The change says whether the settings changed: a housekeeping run (lastRun) is not one.
					if (section.key === 'settings') settings = true;
				}
				if (fresh || indexed.get(section.key)?.has('')) place(section.key, '', 0, offset, out.position - offset);
				continue;
			}
			if (!Array.isArray(value)) throw new Invalid(section.key, 'not a list');
			const list = value as readonly unknown[];
			out.write(`"${section.key}":[\n`);
			counts[section.key] = list.length;
			const before = this.lists.get(section.key) as readonly object[] | undefined;
			if (section.guarded && !(before && sameMembers(before, list))) guardedChange = true;
			const keys = indexed.get(section.key);
			const removed: object[] = [];
			const added: object[] = [];
			const gone = (record: object) => {
				removed.push(record);
				touch(section.key, recordKey(record));
			};
			// Which records left the list: walk the list as it was beside the list as it is (records
			// keep their object from commit to commit); sets only once the two part ways.
			let was = 0;
			let now: Set<unknown> | undefined;
			let then: Set<unknown> | undefined;
			for (let i = 0; i < list.length; i++) {
				const record = list[i];
				if (i > 0) out.write(',\n');
				if (before && !reordered) {
					if (before[was] === record) was++;
					else {
						now ??= new Set(list);
						then ??= new Set(before);
						while (was < before.length && !now.has(before[was])) gone(before[was++]!);
						if (before[was] === record) was++;
						// A record of the old list met out of its order: the list was sorted or moved about.
						else if (then.has(record)) reordered = true;
					}
				}
				const offset = out.position;
				// Where the walk above met the record in the list as it was: where the change found it, most likely.
				const hint = before && was > 0 && before[was - 1] === record ? was - 1 : i;
				const seen = see(section.key, hint, section.element, record, `${section.key}.${i}`, section.guarded);
				out.write(seen.line);
				if (!isRecord(record)) continue;
				const key = recordKey(record);
				if (seen.fresh) {
					touch(section.key, key);
					added.push(record);
					if (seen.was >= 0) {
						// Changed in place: it leaves and enters the list; a key that changed names the old record too.
						removed.push(record);
						const old = taken!.field(seen.was, 'id') ?? taken!.field(seen.was, 'key');
						if (typeof old === 'string' && old !== key) touch(section.key, old);
					}
				}
				if (key !== undefined && (seen.fresh || keys?.has(key) === true)) place(section.key, key, i, offset, out.position - offset);
			}
			if (before && !reordered) while (was < before.length) gone(before[was++]!);
			if (list.length > 0) out.write('\n');
			out.write(']');
			if (removed.length > 0 || added.length > 0) lists.set(section.key, {removed, added});
		}
		if (guardedChange || this.unverified) {
			const problem = checkInvariants(db);
			if (problem) throw new Invalid('', problem);
		}
		return {lines, touched, where, counts, change: reordered ? undefined : {lists, settings}};
	}

	/**
	 * Brings `previous` (the state `entries` start from) to the state a bound index describes,
	 * reading only the lines of the records the entries touched: `read(offset, length)` returns
	 * one line of the file. Records left alone keep their objects and their order; each touched one
	 * is taken from where the index says it now is, validated like any record read. Undefined when
	 * what it finds does not add up (a list of another length than the index says, a line that is
	 * not a record): the caller then reads the whole file.
	 *
	 * The invariants are not checked again: an index bound to the file proves that orgctl wrote
	 * exactly this, and orgctl checks them before every commit that could break one.
	 */
	fromIndex(previous: Database, index: ChangeIndex, entries: readonly LogEntry[], read: (offset: number, length: number) => string): Applied | undefined {
		this.trusting = false;
		const db: Record<string, unknown> = {...previous, version: index.version};
		const lists = new Map<string, {removed: object[]; added: object[]}>();
		let settings = false;
		for (const [key, keys] of touchedBy(entries)) {
			const section = this.sections.find(s => s.key === key);
			if (!section) return undefined;
			const where = index.where[key] ?? {};
			const placed: Array<[number, Record<string, unknown>]> = [];
			for (const name of keys) {
				const triples = where[name];
				if (!triples) continue;
				for (let t = 0; t < triples.length; t += 3) {
					const [at, offset, length] = [triples[t]!, triples[t + 1]!, triples[t + 2]!];
					const line = read(offset, length);
					let value: unknown;
					try {
						value = JSON.parse(line);
					} catch {
						return undefined;
					}
					if (!isRecord(value) || (section.element && recordKey(value) !== name)) return undefined;
					placed.push([at, this.adopt(section.element ?? section.schema, value, section.element ? `${key}.${at}` : key, line)]);
				}
			}
			if (!section.element) {
				if (placed.length !== 1) return undefined;
				db[key] = placed[0]![1];
				if (key === 'settings') settings = true;
				continue;
			}
			const old = previous[section.key] as unknown as readonly object[];
			const total = index.counts[key];
			if (total === undefined) return undefined;
			placed.sort((a, b) => a[0] - b[0]);
			const edited = UNIQUE_IDS.has(key) ? inPlace(old, total, keys, placed) : undefined;
			if (edited) {
				db[key] = edited.merged;
				lists.set(key, {removed: edited.removed, added: placed.map(p => p[1])});
				continue;
			}
			const merged = new Array<object>(total);
			const removed: object[] = [];
			let next = 0;
			let from = 0;
			for (let i = 0; i < total; i++) {
				if (next < placed.length && placed[next]![0] === i) {
					merged[i] = placed[next++]![1];
					continue;
				}
				while (from < old.length && keys.has(recordKey(old[from]!) ?? '')) removed.push(old[from++]!);
				if (from === old.length) return undefined;
				merged[i] = old[from++]!;
			}
			for (; from < old.length; from++) {
				if (!keys.has(recordKey(old[from]!) ?? '')) return undefined;
				removed.push(old[from]!);
			}
			if (next !== placed.length) return undefined;
			db[key] = merged;
			lists.set(key, {removed, added: placed.map(p => p[1])});
		}
		for (const section of this.sections) {
			const count = index.counts[section.key];
			if (section.element && count !== undefined && (db[section.key] as unknown[]).length !== count) return undefined;
		}
		this.remember(db as Database, lists);
		return {db: db as Database, change: {lists, settings}};
	}

	/**
	 * Checks every record of `db` and the invariants, after a trusted read. A record carrying fields
	 * the schema does not know is replaced by its clean copy, as a checked read would have done.
	 * Returns true when no record needed replacing: the data is then exactly what was read.
	 */
	verify(db: Database): boolean {
		if (!this.unverified) return true;
		let asRead = true;
		for (const section of this.sections) {
			const value = db[section.key] as unknown;
			const checked = (record: unknown, schema: z.ZodType, where: string): unknown => {
				const clean = check(schema, record, where);
				if (!isRecord(record) || sameJson(record, clean)) return record;
				asRead = false;
				if (this.keepLines) this.lines.set(clean as object, JSON.stringify(clean));
				return clean;
			};
			if (section.element && Array.isArray(value)) {
				for (const [i, record] of value.entries()) value[i] = checked(record, section.element, `${section.key}.${i}`);
			} else {
				(db as unknown as Record<string, unknown>)[section.key] = checked(value, section.schema, section.key);
			}
		}
		const problem = checkInvariants(db);
		if (problem) throw new Invalid('', problem);
		this.remember(db);
		this.unverified = false;
		return asRead;
	}

	/** Whether the records were taken unchecked and not verified since. */
	get trusted(): boolean {
		return this.unverified;
	}

	/**
	 * Takes records read unchecked as checked: only for bytes a MAC proves this build validated
	 * (validated.ts), which a check would have taken exactly as they were read.
	 */
	vouched(): void {
		this.unverified = false;
	}

	/** A read that fails or falls back to parsing the whole text starts again with the same trust. */
	private startRead(): void {
		this.trusting = this.trustNextRead;
	}

	/**
	 * Records what a successful write of `db` committed, and makes the commit visible by identity,
	 * as a read from the index of recent changes does: a change edits the data in place, so each
	 * record it wrote anew is replaced in its list by a copy, and each list or record it touched gets
	 * a new array or object. A front end that derives rows from a list (and caches per record) then
	 * sees what changed by comparing objects. Returns `change` with the copies as the records that
	 * entered (those that left are the objects as they were in the lists, edited).
	 */
	committed(db: Database, changed: ReadonlyArray<readonly [Record<string, unknown>, string, Record<string, unknown>]>, change: Applied['change']): Applied['change'] {
		this.unverified = false;
		this.endChange();
		const copies = new Map<object, Record<string, unknown>>();
		for (const [record, line, written] of changed) {
			const copy = {...written};
			copies.set(record, copy);
			if (this.keepLines) this.lines.set(copy, line);
		}
		const data = db as unknown as Record<string, unknown>;
		for (const section of this.sections) {
			const value = data[section.key];
			if (!section.element) {
				if (isRecord(value) && copies.has(value)) data[section.key] = copies.get(value);
				continue;
			}
			// Lists the change says nothing of are left as they are; when it cannot tell, all are looked at.
			if (change && !change.lists.has(section.key)) continue;
			const list = value as readonly object[];
			if (change || list.some(record => copies.has(record))) data[section.key] = list.map(record => copies.get(record) ?? record);
		}
		this.remember(db);
		if (!change) return undefined;
		const lists = new Map<string, {readonly removed: readonly object[]; readonly added: readonly object[]}>();
		for (const [key, {removed, added}] of change.lists) lists.set(key, {removed, added: added.map(record => copies.get(record) ?? record)});
		return {lists, settings: change.settings};
	}

	/**
	 * Undoes a change that failed: puts back the sections of `before` (from {@link snapshot}) and
	 * replaces every record that was edited in place by a fresh copy of its committed state.
	 */
	restore(before: Database): Database {
		const db: Record<string, unknown> = {};
		for (const section of this.sections) {
			const value = before[section.key];
			db[section.key] = Array.isArray(value) ? value.map((record, i) => this.pristine(section.key, i, record)) : this.pristine(section.key, 0, value);
		}
		this.endChange();
		return db as Database;
	}

	private endChange(): void {
		this.spare = this.before?.values ?? this.spare;
		this.before = undefined;
	}

	/**
	 * A shallow copy of `db` whose lists are copies too, for {@link restore}. The copies of the
	 * committed lists are reused: copying 100,000 entries on every commit made garbage that V8 keeps
	 * in its large-object space until a full collection.
	 */
	snapshot(db: Database): Database {
		const copy: Record<string, unknown> = {};
		for (const [key, value] of Object.entries(db)) {
			if (!Array.isArray(value)) {
				copy[key] = value;
				continue;
			}
			const list = this.copyOf(key, value);
			copy[key] = list;
			// From here on the change may edit the data's own list: what it was is this copy.
			if (this.lists.has(key)) this.lists.set(key, list);
		}
		this.before = new Before(copy, this.before?.values ?? this.spare);
		return copy as Database;
	}

	/** The remembered copy of the list `key` if it still has the same members in the same order, else a new copy. */
	private copyOf(key: string, list: readonly unknown[]): readonly unknown[] {
		const kept = this.lists.get(key);
		return kept && kept !== list && sameMembers(kept, list) ? kept : list.slice();
	}

	private lineOf(record: object): string | undefined {
		return this.lines.get(record);
	}

	/** `value` (at index `at` of section `key` when the change began) as it was then: itself if the change left it alone, else a fresh copy. */
	private pristine(key: string, at: number, value: unknown): unknown {
		if (!isRecord(value) || !this.before) return value;
		const was = this.before.find(key, value, at);
		if (was < 0 || this.before.unchanged(value, was)) return value;
		const fresh = this.before.copy(was);
		const line = this.lines.get(value);
		if (line !== undefined) this.lines.set(fresh, line);
		return fresh;
	}

	/**
	 * Validates a record read from a file and remembers it. Keeps the parsed object itself when
	 * validation dropped nothing from it (no copy: the file's records are most of our memory).
	 */
	private adopt(schema: z.ZodType, value: unknown, where: string, line?: string): Record<string, unknown> {
		const clean = (this.trusting && isRecord(value) ? value : check(schema, value, where)) as Record<string, unknown>;
		const kept = isRecord(value) && (clean === value || sameJson(value, clean));
		const record = kept ? value : clean;
		if (this.keepLines) this.lines.set(record, kept && line !== undefined ? line : JSON.stringify(record));
		this.share(record);
		return record;
	}

	/**
	 * Makes the fields of a record read from the file that name what many records share (the
	 * tenant, an inviter, an owner, the actor and action of an audit event) hold one string per
	 * value: JSON.parse gives every record its own copy, and at 100,000 users the copies of the one
	 * tenant's id alone were 4.7 MB. Equal strings are interchangeable: no reader can tell.
	 */
	private share(record: Record<string, unknown>): void {
		for (const field of SHARED_FIELDS) {
			const value = record[field];
			if (typeof value !== 'string') continue;
			const shared = this.shared.get(value);
			if (shared !== undefined) record[field] = shared;
			else if (this.shared.size < MAX_SHARED) this.shared.set(value, value);
		}
	}

	private index(records: readonly object[]): Map<string, object[]> {
		const byLine = new Map<string, object[]>();
		for (const record of records) {
			const line = this.lineOf(record);
			if (line === undefined) continue;
			const same = byLine.get(line);
			if (same) same.push(record);
			else byLine.set(line, [record]);
		}
		return byLine;
	}

	/** Checks the invariants when something they read may have changed, then takes `db` as the current state. */
	private accept(db: Database, guardedChange: boolean): Database {
		this.trustNextRead = false;
		if (this.trusting) {
			this.trusting = false;
			this.unverified = true;
		} else if (guardedChange) {
			const problem = checkInvariants(db);
			if (problem) throw new Invalid('', problem);
		}
		this.remember(db);
		return db;
	}

	/**
	 * Takes `db`'s lists as the lists last committed or read. Nobody edits a list outside a change
	 * (StorePort.read), so what is remembered is the data's own array, not a copy: the copy is
	 * made when a change begins ({@link snapshot}), and a copy made then is kept while the list has
	 * the same members. A reader that only follows others' commits copies nothing (a copy of the
	 * users was 800 kB of garbage per change at 100,000 users). With `changed` (a read from the
	 * index), the lists it does not name are the very arrays remembered before: nothing to compare.
	 */
	private remember(db: Database, changed?: ReadonlyMap<string, unknown>): void {
		const lists = new Map<string, readonly unknown[]>();
		for (const section of this.sections) {
			if (!section.element) continue;
			const list = db[section.key] as unknown as readonly unknown[];
			const kept = this.lists.get(section.key);
			const same = kept !== undefined && ((changed !== undefined && !changed.has(section.key)) || kept === list || sameMembers(kept, list));
			lists.set(section.key, same ? kept : list);
		}
		this.lists = lists;
	}
}
