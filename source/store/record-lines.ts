import {z} from 'zod';
import {checkInvariants, INVARIANT_FIELDS, type GuardedField} from '../core/invariants.js';
import {databaseSchema, databaseVersionSchema, type Database} from '../core/model.js';
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
 *     {"id":"…","name":"acme",…}          ,
 *     {"id":"…","name":"beta",…}
 *
 *     ],
 *     …
 *     "outbox":[
 *     ],
 *     "housekeeping":{"lastRun":…},
 *     "recentChanges":{…}
 *     }
 *
 * Each record's line ends with spaces, room for it to grow, before its comma (a space instead for
 * the last of a list), and each list ends with a line of spaces, room for records added: a commit
 * then writes over a copy of the file only the lines that changed ({@link RecordLines.patch},
 * atomic-file.ts). The last line is the index of recent changes (change-index.ts), which lets a reader read only
 * the lines that changed. It is ordinary JSON (any tool, and lowdb, reads it), diffs well when edited by hand, and lets a
 * commit or a re-read touch only what changed: each record's line is remembered once validated, so
 * a commit validates only records whose line differs, and a re-read parses only lines it has not
 * seen. Validating and serialising 10,000 users on every change is what made a commit cost
 * 109 ms median here; see bench/store-commit.ts.
 */

/**
 * A section of the database (a key of databaseSchema) as a read and a commit go through it. Its
 * schemas are the model's, taken when a record is first checked: a read of a file this build
 * validated checks none (validated.ts), and building them is work for nothing then (model.ts).
 */
class Section {
	private schemas: {readonly schema: z.ZodType; readonly element: z.ZodType | undefined} | undefined;
	constructor(
		readonly key: keyof Database & string,
		/** A list of records (else one value). */
		readonly list: boolean,
		/** Fields the invariants read, for lists they read. */
		readonly guarded: readonly GuardedField[] | undefined,
		/** The {@link SHARED_FIELDS} its records (the element's, for a list) have. */
		readonly shared: readonly string[],
		private readonly schemaVersion: number,
	) {}

	/** The schema of the section's value (the whole list, for a list). */
	get schema(): z.ZodType {
		return (this.schemas ??= this.resolve()).schema;
	}

	/** The schema of one record of a list; undefined for a section that is one value. Read per record: resolved once. */
	get element(): z.ZodType | undefined {
		return (this.schemas ??= this.resolve()).element;
	}

	private resolve(): {schema: z.ZodType; element: z.ZodType | undefined} {
		const schema =
			this.key === 'schemaVersion' ? z.literal(this.schemaVersion) : this.key === 'version' ? databaseVersionSchema() : (databaseSchema().shape[this.key] as z.ZodType);
		return {schema, element: this.list && schema instanceof z.ZodArray ? (schema.element as z.ZodType) : undefined};
	}
}

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

/**
 * Where in `list` (one of the {@link UNIQUE_IDS}, after a patched commit) the records with the keys
 * `wanted` are, without reading every record's key (9 ms a commit at 100,000 users): a key this
 * commit wrote is where it wrote it (`wrote`), any other where the index of the file patched put it
 * (`hints`: a patch moves no record), each read back to be sure. Ids are unique (checked on open,
 * and by the invariants whenever an id changes), so a record found so is the only one with its key.
 * Undefined when a key is found neither way (a key a record gave up, a hint gone stale): the
 * caller then looks at every record.
 */
function placesOf(list: readonly object[], wanted: ReadonlySet<string>, wrote: ReadonlyMap<string, readonly number[]> | undefined, hints: Readonly<Record<string, readonly number[]>> | undefined): Array<[string, number]> | undefined {
	const found: Array<[string, number]> = [];
	for (const key of wanted) {
		const written = wrote?.get(key);
		if (written) {
			for (const at of written) found.push([key, at]);
			continue;
		}
		const triples = hints && Object.hasOwn(hints, key) ? hints[key] : undefined;
		const at = triples?.length === 3 ? triples[0]! : -1;
		if (!(Number.isInteger(at) && at >= 0 && at < list.length && recordKey(list[at]!) === key)) return undefined;
		found.push([key, at]);
	}
	// In list order, as the look at every record gives them.
	return found.sort((a, b) => a[1] - b[1]);
}

/**
 * Lists a console's first frame (the Users section) does not show: on a first read of bytes this
 * build vouched for (validated.ts), their lines are cut and laid out as any list's, but parsed
 * only when the list is first read ({@link RecordLines.fromLines}, lazyNextRead); at once after
 * all unless the file is as orgctl's writer left it (atomic-file.ts, writtenAsRead).
 */
const LAZY_LISTS: ReadonlySet<string> = new Set(['invitations', 'audit']);

/**
 * Puts at `key` of `db` a property that makes its list (`make`, once) when first read, then holds
 * it as an ordinary one: a reader, a spread or Object.entries sees the list as if it had been there
 * from the start, and a writer that sets the key sets it. A copy made with the descriptors
 * ({@link copyDatabase}) makes the same list once for both.
 */
function defineLazy(db: object, key: string, make: () => unknown[]): void {
	let list: unknown[] | undefined;
	const settle = (target: object, value: unknown) => {
		Object.defineProperty(target, key, {value, writable: true, enumerable: true, configurable: true});
	};
	Object.defineProperty(db, key, {
		enumerable: true,
		configurable: true,
		get(this: object) {
			list ??= make();
			settle(this, list);
			return list;
		},
		set(this: object, value: unknown) {
			settle(this, value);
		},
	});
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

/** The records of one list as last taken, and where each one's values start. */
type TakenList = {records: readonly unknown[]; starts: Int32Array; byRecord?: Map<unknown, number>};

/** Compares a record with the values taken of it: see {@link comparatorFor}. */
type Compare = (record: Record<string, unknown>, values: readonly unknown[], start: number) => boolean;

const comparators = new WeakMap<readonly string[], Compare>();

/** Whether a nested value (`now`) still holds what was taken of it (`was`, its {@link Nested}). */
function sameNested(now: unknown, was: unknown): boolean {
	return was instanceof Nested && isNested(now) && sameDeep(now, was.copy);
}

/**
 * Whether `now` holds what `copy` (a value JSON.parse made) holds: the same JSON but for key order,
 * by walking both, without serialising `now` (20,000 invitations' mail status: 15 ms a commit).
 * Where it cannot tell as JSON would (an object other than a plain one or an array, a key holding
 * undefined), it says "changed": the record is then checked and written, never lost.
 */
function sameDeep(now: unknown, copy: unknown): boolean {
	if (now === copy) return typeof now !== 'number' || Number.isFinite(now);
	if (typeof now !== 'object' || now === null || typeof copy !== 'object' || copy === null) return false;
	if (Array.isArray(now)) {
		if (!Array.isArray(copy) || now.length !== copy.length) return false;
		for (let i = 0; i < now.length; i++) if (!sameDeep(now[i], copy[i])) return false;
		return true;
	}
	const prototype: unknown = Object.getPrototypeOf(now);
	if (Array.isArray(copy) || (prototype !== Object.prototype && prototype !== null)) return false;
	const a = now as Record<string, unknown>;
	const b = copy as Record<string, unknown>;
	let count = 0;
	for (const key in a) {
		if (!Object.hasOwn(a, key) || !Object.hasOwn(b, key) || !sameDeep(a[key], b[key])) return false;
		count++;
	}
	for (const key in b) if (Object.hasOwn(b, key)) count--;
	return count === 0;
}

/**
 * The exact compare for records of one shape (`keys`, shared per shape by shapeOf), made once per
 * shape as a function of its own: every field read by name, so V8 reads it by the records' hidden
 * class instead of looking each key up. The record must have as many keys as the shape and, for
 * each of the shape's keys, hold it (an own key, when the value taken was undefined) with the value
 * taken: then its keys are the shape's keys, and its values what was taken. Key order does not
 * count: it changes nothing any reader sees. At 100,000 users: 5 ms against 18 for a loop over
 * the keys (bench in the commit message).
 */
function comparatorFor(keys: readonly string[]): Compare {
	let compare = comparators.get(keys);
	if (compare) return compare;
	const body = [`let n = 0; for (const k in r) n++; if (n !== ${keys.length}) return false; let x, w;`];
	for (const [i, key] of keys.entries()) {
		const name = JSON.stringify(key);
		body.push(`x = r[${name}]; w = v[s + ${i + 1}]; if (x !== w && !same(x, w)) return false; if (w === undefined && !hasOwn(r, ${name})) return false;`);
	}
	body.push('return true;');
	// eslint-disable-next-line @typescript-eslint/no-implied-eval -- the body is made of the shape's keys, each quoted by JSON.stringify
	const make = new Function('same', 'hasOwn', `"use strict"; return function compare(r, v, s) {\n${body.join('\n')}\n};`) as (same: typeof sameNested, hasOwn: typeof Object.hasOwn) => Compare;
	compare = make(sameNested, Object.hasOwn);
	comparators.set(keys, compare);
	return compare;
}

/**
 * What every record of the database held when last committed or read, kept from one change to
 * the next: a change edits records in place, so this is how a commit tells the records it touched
 * from the others (which need neither validating nor serialising again), and how a change that
 * failed is undone. Outside a change nobody edits a record (StorePort.read), so a record still in
 * its list by identity holds what was taken of it; each commit replaces the records it wrote by
 * copies (RecordLines.committed) and each read gives changed lines new records, so {@link update}
 * takes only those. Taking every record at the start of each change was 55 ms per commit at
 * 100,000 users, and the array of the values 14 MB, which the previous code kept anyway.
 *
 * The values of all records are in one flat array, each record's keys (one shared array per
 * shape) first, nested values as {@link Nested}: taking it costs no allocation per flat record.
 * Records taken again are added at its end; the array is taken afresh once half of it is stale.
 */
class Before {
	values: unknown[] = [];
	/** How many slots of {@link values} are taken. */
	private used = 0;
	/** How many of them belong to records still in their lists. */
	private live = 0;
	private lists = new Map<string, TakenList>();
	private singles = new Map<string, {readonly record: unknown; readonly start: number}>();
	/** The shape of the record taken last. */
	private shape: readonly string[] = [];

	/** Takes what the records of `db` hold that are not already taken as they are (by identity). */
	update(db: Readonly<Record<string, unknown>>): void {
		if (this.used > 1 << 16 && this.used > 2 * this.live) {
			// Mostly stale: start afresh.
			this.values = [];
			this.used = 0;
			this.lists = new Map();
			this.singles = new Map();
		}
		let live = 0;
		for (const [key, value] of Object.entries(db)) {
			if (Array.isArray(value)) {
				const records: readonly unknown[] = value;
				const old = this.lists.get(key);
				if (old && sameMembers(old.records, records)) {
					old.records = records;
					live += this.span(old);
					continue;
				}
				// A list of the same length takes its records' places in the old array (nothing else holds it):
				// a new one per commit was 400 kB of garbage at 100,000 users.
				const starts = old && old.records.length === records.length ? old.starts : new Int32Array(records.length);
				for (let i = 0; i < records.length; i++) {
					const record = records[i];
					if (old && i < old.records.length && old.records[i] === record) starts[i] = old.starts[i]!;
					// A record elsewhere in the list as taken (one removed or added before it) is found
					// by identity; where the lengths agree it is a new record (a commit's copy), taken
					// without building that map of the whole list (28 ms at 100,000 users).
					else {
						const at = old && old.records.length !== records.length && isRecord(record) ? this.lookup(old, record) : -1;
						starts[i] = at >= 0 ? at : this.take(record);
					}
				}
				const list: TakenList = {records, starts};
				this.lists.set(key, list);
				live += this.span(list);
			} else if (isRecord(value)) {
				const old = this.singles.get(key);
				if (!old || old.record !== value) this.singles.set(key, {record: value, start: this.take(value)});
				live += 1 + (this.values[this.singles.get(key)!.start] as readonly string[]).length;
			}
		}
		this.live = live;
	}

	/** Roughly how many slots the records of `list` take. */
	private span(list: TakenList): number {
		const first = list.starts.length > 0 ? list.starts[0]! : -1;
		return first < 0 ? list.records.length : list.records.length * (1 + (this.values[first] as readonly string[]).length);
	}

	private lookup(list: TakenList, record: unknown): number {
		if (!list.byRecord) {
			list.byRecord = new Map();
			for (let i = 0; i < list.records.length; i++) list.byRecord.set(list.records[i], list.starts[i]!);
		}
		return list.byRecord.get(record) ?? -1;
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

	/** The records of list `section` as taken and where each one's values start. */
	listOf(section: string): TakenList | undefined {
		return this.lists.get(section);
	}

	/** Where the values of `record` start (`hint`: its likely index in the list), or -1 when no such record was taken there. */
	find(section: string, record: object, hint: number): number {
		const list = this.lists.get(section);
		if (!list) {
			const single = this.singles.get(section);
			return single && single.record === record ? single.start : -1;
		}
		if (list.records[hint] === record) return list.starts[hint]!;
		return this.lookup(list, record);
	}

	/**
	 * The first index from `from` on where `list` does not hold, by identity, the record `before`
	 * and the records taken hold there, or holds it edited since it was taken; `before.length` when
	 * there is none. One tight loop over a list of 100,000, the compare of its records' shape called
	 * from one place: 5 ms a commit less than a call of {@link unchanged} per record.
	 */
	nextChanged(list: readonly unknown[], before: readonly unknown[], known: TakenList, from: number): number {
		const {values} = this;
		const {records, starts} = known;
		let keys: unknown;
		let compare: Compare | undefined;
		for (let i = from; i < before.length; i++) {
			const record = list[i];
			if (record !== before[i] || records[i] !== record) return i;
			const start = starts[i]!;
			if (start < 0) return i;
			const shape = values[start];
			if (shape !== keys) {
				keys = shape;
				compare = comparatorFor(shape as readonly string[]);
			}
			if (!compare!(record as Record<string, unknown>, values, start)) return i;
		}
		return before.length;
	}

	/** The shape compared last, and its compare: records of a list mostly share one. */
	private compared: readonly string[] | undefined;
	private compare: Compare | undefined;

	/** True while `record` holds exactly what it held at `start`. */
	unchanged(record: Record<string, unknown>, start: number): boolean {
		const keys = this.values[start] as readonly string[];
		if (keys !== this.compared) {
			this.compared = keys;
			this.compare = comparatorFor(keys);
		}
		return this.compare!(record, this.values, start);
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

/**
 * Where the values of a file written here lie, so that the next commit can patch a copy of it in
 * place of writing it whole (atomic-file.ts): each record is followed on its line by spaces, room
 * to grow, then its comma (a space for the last of a list), and each list ends with a line of
 * spaces, room for records added. Spaces between tokens are JSON whitespace: the file is ordinary
 * JSON of the whole state, whatever reads it.
 */
export type Layout = {
	/** A value on its own (the version, the settings): where it starts and where its line ends (after the "\n"), the comma before that. */
	readonly singles: ReadonlyMap<string, Slot>;
	readonly lists: ReadonlyMap<string, ListSlots>;
	/** Where the line of the index of recent changes starts: the end of the data. */
	readonly indexAt: number;
};

export type Slot = {readonly start: number; readonly end: number; readonly length: number; readonly line: string};

/**
 * Record i of a list starts at starts[i] (its line: the record's JSON, lengths[i] bytes, spaces, a
 * comma or a space, "\n"); the line ends where the next one starts, the last one's at `slack`;
 * from there to `close` (where "]" is) are spaces and a "\n".
 *
 * The two arrays belong to the one layout a process holds: a commit that patches the file (and a
 * follower that learns another's patch) updates them in place rather than copying 100,000 entries
 * (800 kB of garbage per commit each, which V8 kept until a full collection: the store process's
 * peak memory grew with every commit). So a layout whose commit did not land is dropped.
 */
export type ListSlots = {readonly starts: number[]; readonly lengths: number[]; readonly slack: number; readonly close: number};

/** Room to grow left after a record of `bytes` bytes: a last sign-in (null to a time) takes 22 more. */
function roomFor(bytes: number): number {
	return 24 + (bytes >> 4);
}

/** Room after a value on its own (the settings may gain an SMTP server or a certificate). */
function roomForSingle(key: string, bytes: number): number {
	if (key === 'schemaVersion') return 0;
	return key === 'version' ? Math.max(0, 20 - bytes) : 256 + (bytes >> 2);
}

/**
 * Room left at the end of a list of `bytes` bytes for records added: a sixteenth of the list, at
 * most 256 KB (a thousand audit events), at least 512 bytes (a small store is cheap to write whole,
 * and a dozen lists of room would be most of its file).
 */
function roomAtEnd(bytes: number): number {
	return Math.max(512, Math.min(bytes >> 4, 256 * 1024));
}

const SPACES = ' '.repeat(4096);

function spaces(count: number): string {
	return count <= SPACES.length ? SPACES.slice(0, count) : ' '.repeat(count);
}

/** Lines of a file, one at a time, with a look at the next: the whole text need never be in memory. */
export type LineSource = {
	next(): string | undefined;
	peek(): string | undefined;
	/** Where the line next() returned last starts in the file (bytes), and its length in bytes without its "\n"; when known. */
	readonly lineStart?: number;
	readonly lineBytes?: number;
	/** True when those may be wrong (bytes that are not UTF-8). */
	readonly lossy?: boolean;
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
	/** Where the data was written (without the index: atomic-file.ts adds where it starts). */
	readonly layout: Omit<Layout, 'indexAt'>;
};

/** A database brought up to date, and what changed on the way (undefined: anything may have). */
export type Applied = {
	readonly db: Database;
	readonly change: {readonly lists: ReadonlyMap<string, {readonly removed: readonly object[]; readonly added: readonly object[]}>; readonly settings: boolean} | undefined;
};

/**
 * The database's sections in the file's order: whether each is a list, and the {@link SHARED_FIELDS}
 * its records have (a user has one of the eight, and looking up the seven others by name in each
 * record read is work for nothing). What a read needs before it checks any record; written out
 * rather than taken from databaseSchema, which would build every schema (model.ts), and held to it
 * by test/record-lines-sections.test.ts.
 */
export const SECTION_LAYOUT: ReadonlyArray<readonly [key: keyof Database & string, list: boolean, shared: readonly string[]]> = [
	['schemaVersion', false, []],
	['version', false, []],
	['tenants', true, []],
	['users', true, ['tenantId']],
	['invitations', true, ['tenantId', 'invitedBy']],
	['invitationTombstones', true, ['tenantId']],
	['signupDomains', true, ['tenantId', 'createdBy']],
	['pendingSignups', true, ['tenantId', 'domainId']],
	['projects', true, ['tenantId', 'owner']],
	['tokens', true, ['tenantId', 'owner', 'projectId']],
	['sessions', true, []],
	['throttles', true, []],
	['settings', false, []],
	['audit', true, ['tenantId', 'actor', 'action']],
	['outbox', true, []],
	['housekeeping', false, []],
	['samlRequests', true, []],
	['samlAssertions', true, []],
	['deviceLogins', true, []],
];

/** The {@link SHARED_FIELDS} that records of `schema` have (a schema that is not an object gets all eight): what SECTION_LAYOUT writes out. */
export function sharedFieldsOf(schema: z.ZodType): readonly string[] {
	if (!(schema instanceof z.ZodObject)) return SHARED_FIELDS;
	const shape = schema.shape as Record<string, unknown>;
	return SHARED_FIELDS.filter(field => Object.hasOwn(shape, field));
}

function sectionsFor(schemaVersion: number): readonly Section[] {
	return SECTION_LAYOUT.map(([key, list, shared]) => new Section(key, list, INVARIANT_FIELDS[key], shared, schemaVersion));
}

/**
 * A database kept together with what it takes to tell, at a commit, which records the change
 * touched (what they held when it began, {@link Before}), so that unchanged records need neither
 * validating nor serialising again (with {@link keepLines}, their lines are remembered too). One
 * per open store.
 */
/** Notes that a commit touched the record named `key` of `section` (the index of recent changes lists it). */
function noteTouched(touched: Map<string, Set<string>>, section: string, key: string | undefined): void {
	if (key === undefined) return;
	let keys = touched.get(section);
	if (!keys) touched.set(section, (keys = new Set<string>()));
	keys.add(key);
}

/**
 * `text` without the whitespace JSON allows at its end (space, tab, CR): String.prototype.trimEnd
 * also strips what JSON does not allow (a no-break space, a BOM, U+2028), and a line padded with
 * those would open here while JSON.parse and jq refuse the file (red team, test/store-patch-attack).
 */
function trimJsonSpace(text: string): string {
	const end = jsonSpaceEnd(text, text.length);
	return end === text.length ? text : text.slice(0, end);
}

/** Where `text` up to `end` ends without the JSON whitespace at its end (see {@link trimJsonSpace}). */
function jsonSpaceEnd(text: string, end: number): number {
	while (end > 0) {
		const code = text.charCodeAt(end - 1);
		if (code !== 32 && code !== 9 && code !== 13) break;
		end--;
	}
	return end;
}

/**
 * The lists a read or a commit may have changed in a way a cross-record rule reads (records added,
 * removed or moved, or a guarded field changed), whose rules are then checked (checkInvariants);
 * 'every list' when nothing was known before (a first read).
 */
type Changed = Set<string> | 'every list';

/** Whether `key`'s rules are checked already. */
function changes(changed: Changed, key: string): boolean {
	return changed === 'every list' || changed.has(key);
}

function note(changed: Changed, key: string): void {
	if (changed !== 'every list') changed.add(key);
}

export class RecordLines {
	/** record → its line as last committed or read, while {@link keepLines}; read it through {@link lines}. */
	private lineMap = new WeakMap<object, string>();
	/**
	 * The records a trusted read took and their lines, in order, not yet in {@link lineMap}: a
	 * trusted read is the console's, whose first frame needs no line, and the map is filled when
	 * first looked at, or at the latest by {@link verify}, which that reader runs after its first
	 * frame. Setting 14,000 keys as they were parsed (12,000 users and invitations) cost 4.5 ms of
	 * that open here, scavenges included: a weak map whose keys are young is work for each scavenge.
	 */
	private unmapped: {records: object[]; lines: string[]} | undefined;

	private get lines(): WeakMap<object, string> {
		return this.mapLines();
	}

	/** {@link lineMap}, with what a trusted read left to put in it put there first. */
	private mapLines(): WeakMap<object, string> {
		const pending = this.unmapped;
		if (pending) {
			this.unmapped = undefined;
			for (let i = 0; i < pending.records.length; i++) this.lineMap.set(pending.records[i]!, pending.lines[i]!);
		}
		return this.lineMap;
	}
	/** What the records held when last committed or read, brought up to date as a change begins ({@link snapshot}). */
	private readonly taken = new Before();
	/** {@link taken} while a change is under way; undefined outside one. */
	private before: Before | undefined;
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
		if (!keep && this.keepingLines) {
			this.lineMap = new WeakMap();
			this.unmapped = undefined;
		}
		this.keepingLines = keep;
	}

	private keepingLines = true;
	/** One string per value of the {@link SHARED_FIELDS}, up to {@link MAX_SHARED} values. */
	private readonly shared = new Map<string, string>();
	/** The next read takes records without checking them (StoreOptions.deferValidation); {@link verify} checks them later. */
	trustNextRead = false;
	/**
	 * The next read is a first read of bytes a MAC proves this build validated (validated.ts): the
	 * {@link LAZY_LISTS} are parsed when first read, not before the first frame. Only such bytes:
	 * every line of them parses and passes the checks, so parsing later cannot fail or differ.
	 */
	lazyNextRead = false;
	/**
	 * A list parsed when first read had lines that are not one record each (see parseLazy): the
	 * layout of the read does not say where its records are, so no commit patches the file until one
	 * has written it whole.
	 */
	private misplaced = false;
	/** The database of the last read, while it holds a list not yet parsed, and those lists' keys. */
	private lazyDb: {readonly db: object; readonly keys: Set<string>} | undefined;
	/** Records were taken unchecked: the next commit checks them all, as {@link verify} does. */
	private unverified = false;
	/** Set during a trusted read. */
	private trusting = false;
	/** The index line of the file the last fromLines() read, if it had one, and its JSON value (not checked to be an index). */
	indexLine: string | undefined;
	indexValue: unknown;
	/**
	 * Where the data lies in the file the last fromLines() read (from a source that knows where its
	 * lines are), when every line has the form a commit can patch and each record read is exactly
	 * what its line holds; else undefined.
	 */
	readLayout: Layout | undefined;
	/** A record read was replaced by its schema's clean copy: the data is not what the file holds. */
	private cleaned = false;

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
			if (section.list && Array.isArray(value)) {
				const records: object[] = [];
				for (const [i, item] of value.entries()) {
					records.push(this.adopt(section, false, item, section.key, i));
					// Let the parsed original go as soon as it is adopted: it halves the peak at 100,000 users.
					value[i] = undefined;
				}
				db[section.key] = records;
			} else {
				db[section.key] = isRecord(value) ? this.adopt(section, true, value, section.key, -1) : check(section.schema, value, section.key);
			}
		}
		return this.accept(db as Database, 'every list');
	}

	/**
	 * The database a whole parsed file holds, taken as it is, unchecked: only for bytes a MAC proves
	 * this build validated (validated.ts), which a check would have taken exactly as they were read.
	 * Nothing else is built (no record's line, no shared strings, no layout): a process that reads
	 * once and ends needs none of it. Undefined when the file lacks a section or is of another
	 * schema version (then it is read as any other file).
	 */
	fromVouched(raw: unknown): Database | undefined {
		if (!isRecord(raw) || raw['schemaVersion'] !== this.schemaVersion) return undefined;
		const db: Record<string, unknown> = {};
		for (const section of this.sections) {
			const value = raw[section.key];
			if (section.list ? !Array.isArray(value) : value === undefined) return undefined;
			db[section.key] = value;
		}
		this.startRead();
		this.indexLine = undefined;
		this.indexValue = undefined;
		this.trusting = false;
		return this.accept(db as Database, new Set());
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
		this.indexValue = undefined;
		if (lines.next() !== '{') return undefined;
		const db: Record<string, unknown> = {};
		// Where each value lies, while every line has the form a patch needs (see Layout).
		let capture = typeof lines.lineStart === 'number';
		const singles = new Map<string, Slot>();
		const slots = new Map<string, ListSlots>();
		/** How many bytes `body` takes of `line` (the line just read), which holds it and around it only ASCII (a key, spaces, a comma). */
		const bytesOf = (line: string, body: string) => lines.lineBytes! - (line.length - body.length);
		// The lists whose guarded fields or members may have changed (every list on a first read): their rules are checked.
		const changed: Changed = previous === undefined ? 'every list' : new Set();
		let indexFollows = false;
		const lazy = this.lazyNextRead && this.trusting && previous === undefined && this.keepLines;
		this.lazyNextRead = false;
		const lazyKeys = new Set<string>();
		for (const [index, section] of this.sections.entries()) {
			const isLast = index === this.sections.length - 1;
			const comma = isLast ? '' : ',';
			// The last section (a list, or a record such as the housekeeping) ends with a comma when the index of recent changes follows it.
			const close = `]${comma}`;
			const closes = (line: string) => line === close || (isLast && line === '],');
			const key = `"${section.key}":`;
			if (section.list) {
				if (lines.next() !== `${key}[`) return undefined;
				const old = (previous?.[section.key] ?? []) as unknown as readonly object[];
				const records: unknown[] = [];
				// A record of `previous` is reused at most once, so no two entries share one object. While
				// records are only reused at their own place that holds by itself; the set (100,000 entries
				// of garbage per re-read of a big store) is only made once one is looked up by its line.
				let taken: Set<object> | undefined;
				let byLine: Map<string, object[]> | undefined;
				const lazyList = lazy && LAZY_LISTS.has(section.key);
				// Each record's line may end with spaces (room to grow in place), before its comma or
				// instead of it for the last; the list may end with a line of spaces (room for more).
				let more = false;
				const starts: number[] = [];
				const lengths: number[] = [];
				let slack = -1;
				for (;;) {
					const line = lines.next();
					if (line === undefined) return undefined;
					if (closes(line)) {
						if (more) return undefined;
						indexFollows = line === '],' && isLast;
						if (capture && slack >= 0) slots.set(section.key, {starts, lengths, slack, close: lines.lineStart!});
						else capture = false;
						break;
					}
					// The record's JSON ends before the spaces, the comma and the spaces before it: found in one pass and taken in one slice.
					let end = jsonSpaceEnd(line, line.length);
					if (end === 0) {
						// Room for more: only after the last record.
						if (more) return undefined;
						if (slack >= 0) capture = false;
						slack = lines.lineStart ?? 0;
						continue;
					}
					if (records.length > 0 && !more) return undefined;
					more = line.charCodeAt(end - 1) === 44;
					if (more) end = jsonSpaceEnd(line, end - 1);
					const body = end === line.length ? line : line.slice(0, end);
					if (capture) {
						// A patch writes up to the last two bytes of the line: the comma (a space for the last record) and the "\n".
						if (slack >= 0 || !line.endsWith(more ? ',' : ' ')) capture = false;
						starts.push(lines.lineStart!);
						lengths.push(bytesOf(line, body));
					}
					if (lazyList) {
						// Parsed when the list is first read (see lazyNextRead).
						records.push(body);
						continue;
					}
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
					const record = this.adopt(section, false, value, section.key, records.length, previous ? undefined : body);
					if (section.guarded && !changes(changed, section.key)) {
						// A record that replaces the one at its place and agrees with it on the guarded fields
						// cannot break an invariant; the one it replaces is used up, so it cannot reappear elsewhere.
						const was = old[records.length] as Record<string, unknown> | undefined;
						if (was && !taken?.has(was) && sameGuarded(section.guarded, record, field => was[field])) (taken ??= new Set(records.filter((r, i) => r === old[i]) as object[])).add(was);
						else note(changed, section.key);
					}
					records.push(record);
				}
				if (section.guarded && records.length !== old.length) note(changed, section.key);
				if (lazyList) {
					lazyKeys.add(section.key);
					defineLazy(db, section.key, () => this.parseLazy(db, section, records as string[]));
				} else db[section.key] = records;
			} else {
				const read = lines.next();
				if (read === undefined || !read.startsWith(key)) return undefined;
				const line = trimJsonSpace(read);
				// The last section ends with a comma too when the index of recent changes follows it.
				const ends = isLast && line.endsWith(',') ? ',' : comma;
				if (!line.endsWith(ends)) return undefined;
				if (isLast) indexFollows = ends === ',';
				// Spaces before the comma are room for the value to grow in place.
				const body = trimJsonSpace(line.slice(key.length, line.length - ends.length));
				if (capture && read.endsWith(',')) {
					const start = lines.lineStart! + key.length;
					singles.set(section.key, {start, end: lines.lineStart! + lines.lineBytes! + 1, length: bytesOf(read, body), line: body});
				} else capture = false;
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
				db[section.key] = isRecord(value) ? this.adopt(section, true, value, section.key, -1) : check(section.schema, value, section.key);
			}
		}
		let closing = lines.next();
		let indexAt = -1;
		if (indexFollows) {
			if (!closing?.startsWith(INDEX_PREFIX)) return undefined;
			// The line holds one JSON value and nothing after it. Whatever follows it (',"users":[…]') is more keys to
			// JSON.parse of the whole file, where a key given twice takes its last value: a one-shot open, jq and lowdb
			// would see records this read never checked, and the digest it records would vouch for them (red team).
			try {
				this.indexValue = JSON.parse(closing.slice(INDEX_PREFIX.length));
			} catch {
				return undefined;
			}
			this.indexLine = closing;
			indexAt = lines.lineStart ?? -1;
			closing = lines.next();
		}
		if (closing !== '}') return undefined;
		for (let rest = lines.next(); rest !== undefined; rest = lines.next()) if (rest !== '') return undefined;
		const accepted = this.accept(db as Database, changed, lazyKeys.size > 0 ? {db, keys: lazyKeys} : undefined);
		if (capture && indexAt >= 0 && !lines.lossy && !this.cleaned) this.readLayout = {singles, lists: slots, indexAt};
		return accepted;
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
		const singles = new Map<string, Slot>();
		const slots = new Map<string, ListSlots>();
		const lines: Array<[Record<string, unknown>, string, Record<string, unknown>]> = [];
		const touched = new Map<string, Set<string>>();
		const where = new Map<string, Map<string, number[]>>();
		const counts: Record<string, number> = {};
		const lists = new Map<string, {removed: object[]; added: object[]}>();
		let settings = false;
		let reordered = false;
		const changed = new Set<string>();
		const touch = (section: string, key: string | undefined) => noteTouched(touched, section, key);
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
			if (guarded && !(was >= 0 && sameGuarded(guarded, value, field => taken!.field(was, field)))) changed.add(section);
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
			if (!section.list) {
				out.write(`"${section.key}":`);
				const offset = out.position;
				const {line, fresh} = see(section.key, 0, section.schema, value, section.key);
				out.write(line);
				const length = out.position - offset;
				out.write(spaces(roomForSingle(section.key, length)));
				// The comma (or for the last section what follows it) and the line's end come next.
				singles.set(section.key, {start: offset, end: out.position + 2, length, line});
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
			const listStart = out.position;
			const starts: number[] = [];
			const lengths: number[] = [];
			counts[section.key] = list.length;
			const before = this.lists.get(section.key) as readonly object[] | undefined;
			if (section.guarded && !(before && sameMembers(before, list))) changed.add(section.key);
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
				const seen = see(section.key, hint, section.element!, record, `${section.key}.${i}`, section.guarded);
				out.write(seen.line);
				const length = out.position - offset;
				starts.push(offset);
				lengths.push(length);
				out.write(spaces(roomFor(length)));
				out.write(i < list.length - 1 ? ',\n' : ' \n');
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
				if (key !== undefined && (seen.fresh || keys?.has(key) === true)) place(section.key, key, i, offset, length);
			}
			if (before && !reordered) while (was < before.length) gone(before[was++]!);
			const slack = out.position;
			out.write(`${spaces(roomAtEnd(slack - listStart))}\n`);
			slots.set(section.key, {starts, lengths, slack, close: out.position});
			out.write(']');
			if (removed.length > 0 || added.length > 0) lists.set(section.key, {removed, added});
		}
		if (changed.size > 0 || this.unverified) {
			// After a trusted read no rule was checked yet: all of them.
			const problem = checkInvariants(db, this.unverified ? undefined : changed);
			if (problem) throw new Invalid('', problem);
		}
		return {lines, touched, where, counts, change: reordered ? undefined : {lists, settings}, layout: {singles, lists: slots}};
	}

	/**
	 * What a commit of `db` changes in the file this process wrote last, laid out as `layout`
	 * says, as bytes to write over a copy of it (offset, text): each record changed in place into
	 * its own line, each record added to the end of its list into the room there, and the version.
	 * Undefined when it takes more than that: a record removed or moved, one that outgrew its line,
	 * no room left at the end of a list, records not yet checked (a trusted read), a list sorted or
	 * a record replaced by another object; the caller then writes the whole file (serialize). Every
	 * record that changed is checked as serialize checks it, and the invariants when a change may
	 * break one; says what the commit touched and where, as serialize does.
	 */
	patch(db: Database, layout: Layout, indexed: ReadonlyMap<string, ReadonlySet<string>> = new Map(), hints?: ChangeIndex['where']): {commit: Commit; writes: Array<[number, string]>} | undefined {
		const taken = this.before;
		if (!taken || this.unverified || this.misplaced) return undefined;
		const writes: Array<[number, string]> = [];
		const lines: Array<[Record<string, unknown>, string, Record<string, unknown>]> = [];
		const touched = new Map<string, Set<string>>();
		const counts: Record<string, number> = {};
		const lists = new Map<string, {removed: object[]; added: object[]}>();
		const singles = new Map(layout.singles);
		const slots = new Map(layout.lists);
		let settings = false;
		const guardedLists = new Set<string>();
		/** Entries of the layout's arrays to set (an index at the end of one appends), once nothing can fail any more. */
		const updates: Array<[number[], number, number]> = [];
		const touch = (section: string, key: string | undefined) => noteTouched(touched, section, key);
		/** Per list, the index of each record this commit wrote, by key: where the index says they are. */
		const wroteAt = new Map<string, Map<string, number[]>>();
		const wrote = (section: string, key: string | undefined, at: number) => {
			if (key === undefined) return;
			let keys = wroteAt.get(section);
			if (!keys) wroteAt.set(section, (keys = new Map<string, number[]>()));
			const indices = keys.get(key);
			if (indices) indices.push(at);
			else keys.set(key, [at]);
		};
		/** The line of a record that changed (`was`: where what it held is taken, -1 if added), checked as serialize() checks it. */
		const fresh = (value: Record<string, unknown>, schema: z.ZodType, at: string, was: number, guarded: readonly GuardedField[] | undefined): string => {
			if (guarded && !(was >= 0 && sameGuarded(guarded, value, field => taken.field(was, field)))) guardedLists.add(at.split('.')[0]!);
			const clean = check(schema, value, at);
			const unknown = unknownKey(value, clean);
			if (unknown) throw new Invalid(at, `unknown field ${unknown}`);
			const written = sameJson(value, clean) ? value : (clean as Record<string, unknown>);
			const line = JSON.stringify(written);
			lines.push([value, line, written]);
			return line;
		};
		for (const section of this.sections) {
			const value = db[section.key] as unknown;
			if (!section.list) {
				const slot = layout.singles.get(section.key);
				if (!slot) return undefined;
				let line: string;
				if (isRecord(value)) {
					const was = taken.find(section.key, value, 0);
					if (was >= 0 && taken.unchanged(value, was)) continue;
					line = fresh(value, section.schema, section.key, was, section.guarded);
					touch(section.key, '');
					if (section.key === 'settings') settings = true;
				} else {
					check(section.schema, value, section.key);
					line = JSON.stringify(value);
					if (line === slot.line) continue;
					// Only the version moves on its own; anything else is written whole.
					if (section.key !== 'version') return undefined;
				}
				const length = Buffer.byteLength(line);
				const room = slot.end - 2 - slot.start;
				if (length > room) return undefined;
				writes.push([slot.start, line + spaces(room - length)]);
				singles.set(section.key, {start: slot.start, end: slot.end, length, line});
				continue;
			}
			if (!Array.isArray(value)) throw new Invalid(section.key, 'not a list');
			const list = value as readonly unknown[];
			const before = this.lists.get(section.key);
			const slot = layout.lists.get(section.key);
			if (!before || !slot || list.length < before.length || slot.starts.length !== before.length) return undefined;
			counts[section.key] = list.length;
			const removed: object[] = [];
			const added: object[] = [];
			// Updated in place once the whole plan stands (see ListSlots and `updates`).
			const {starts, lengths} = slot;
			let changed = false;
			const known = taken.listOf(section.key);
			if (!known) return undefined;
			// Only where a record is not as taken (or not where it was) is there more to see.
			for (let i = taken.nextChanged(list, before, known, 0); i < before.length; i = taken.nextChanged(list, before, known, i + 1)) {
				const record = list[i];
				// Removed, moved or replaced by another object: written whole.
				if (record !== before[i] || typeof record !== 'object' || record === null) return undefined;
				const was = known.records[i] === record ? known.starts[i]! : taken.find(section.key, record, i);
				if (was < 0) return undefined;
				if (taken.unchanged(record as Record<string, unknown>, was)) continue;
				if (!isRecord(record)) return undefined;
				const line = fresh(record, section.element!, `${section.key}.${i}`, was, section.guarded);
				const length = Buffer.byteLength(line);
				const end = i + 1 < before.length ? slot.starts[i + 1]! : slot.slack;
				const room = end - 2 - slot.starts[i]!;
				if (length > room) return undefined;
				writes.push([slot.starts[i]!, line + spaces(room - length)]);
				updates.push([lengths, i, length]);
				changed = true;
				const key = recordKey(record);
				touch(section.key, key);
				wrote(section.key, key, i);
				const old = taken.field(was, 'id') ?? taken.field(was, 'key');
				if (typeof old === 'string' && old !== key) touch(section.key, old);
				removed.push(record);
				added.push(record);
			}
			let at = slot.slack;
			if (list.length > before.length) {
				if (section.guarded) guardedLists.add(section.key);
				changed = true;
				// The last record's line ends with a space where the comma goes once another follows.
				if (before.length > 0) writes.push([slot.slack - 2, ',']);
				for (let i = before.length; i < list.length; i++) {
					const record = list[i];
					if (!isRecord(record)) return undefined;
					const line = fresh(record, section.element!, `${section.key}.${i}`, -1, section.guarded);
					const length = Buffer.byteLength(line);
					const text = `${line}${spaces(roomFor(length))}${i < list.length - 1 ? ',' : ' '}\n`;
					const size = length + text.length - line.length;
					// One "\n" stays before the "]".
					if (at + size > slot.close - 1) return undefined;
					writes.push([at, text]);
					updates.push([starts, i, at], [lengths, i, length]);
					at += size;
					touch(section.key, recordKey(record));
					wrote(section.key, recordKey(record), i);
					added.push(record);
				}
			}
			if (changed) slots.set(section.key, {starts, lengths, slack: at, close: slot.close});
			if (removed.length > 0 || added.length > 0) lists.set(section.key, {removed, added});
		}
		if (guardedLists.size > 0) {
			const problem = checkInvariants(db, guardedLists);
			if (problem) throw new Invalid('', problem);
		}
		// The plan stands: the layout's arrays take the new lines (the caller drops the layout if the commit then fails).
		for (const [array, at, value] of updates) array[at] = value;
		// Where the records named by this commit and by those the index keeps now are.
		const where = new Map<string, Map<string, number[]>>();
		for (const section of this.sections) {
			const wanted = new Set([...(indexed.get(section.key) ?? []), ...(touched.get(section.key) ?? [])]);
			if (wanted.size === 0) continue;
			const placed = new Map<string, number[]>();
			where.set(section.key, placed);
			const place = (key: string, at: number, offset: number, length: number) => {
				const triples = placed.get(key);
				if (triples) triples.push(at, offset, length);
				else placed.set(key, [at, offset, length]);
			};
			if (!section.list) {
				const slot = singles.get(section.key)!;
				if (wanted.has('') && isRecord(db[section.key])) place('', 0, slot.start, slot.length);
				continue;
			}
			const list = db[section.key] as unknown as readonly object[];
			const slot = slots.get(section.key)!;
			const found = UNIQUE_IDS.has(section.key) ? placesOf(list, wanted, wroteAt.get(section.key), hints?.[section.key]) : undefined;
			if (found) {
				for (const [key, at] of found) place(key, at, slot.starts[at]!, slot.lengths[at]!);
				continue;
			}
			for (let i = 0; i < list.length; i++) {
				const key = recordKey(list[i]!);
				if (key !== undefined && wanted.has(key)) place(key, i, slot.starts[i]!, slot.lengths[i]!);
			}
		}
		return {commit: {lines, touched, where, counts, change: {lists, settings}, layout: {singles, lists: slots}}, writes};
	}

	/**
	 * Brings `previous` (the state `entries` start from) to the state a bound index describes,
	 * reading only the lines of the records the entries touched: `read(offset, length)` returns
	 * one line of the file. Records left alone keep their objects and their order; each touched one
	 * is taken from where the index says it now is, validated like any record read. Undefined when
	 * what it finds does not add up (a list of another length than the index says, a line that is
	 * not a record): the caller then reads the whole file.
	 *
	 * The invariants are checked when a touched record may break one (records added or removed, or
	 * one whose guarded fields changed), as a re-read of the lines checks them: an index bound to
	 * the file does not prove that orgctl wrote those lines. Whoever can write the file can edit a
	 * touched record's line in place and put the mtime back, and the binding still holds (red team,
	 * test/store-trusted-read-redteam: a console then held two users of one name in one tenant).
	 */
	fromIndex(previous: Database, index: ChangeIndex, entries: readonly LogEntry[], read: (offset: number, length: number) => string): Applied | undefined {
		this.trusting = false;
		this.cleaned = false;
		const db: Record<string, unknown> = {...previous, version: index.version};
		const lists = new Map<string, {removed: object[]; added: object[]}>();
		let settings = false;
		const changed = new Set<string>();
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
					if (!isRecord(value) || (section.list && recordKey(value) !== name)) return undefined;
					placed.push([at, this.adopt(section, !section.list, value, key, section.list ? at : -1, line)]);
				}
			}
			if (!section.list) {
				if (placed.length !== 1) return undefined;
				const was = previous[section.key] as unknown;
				if (section.guarded && !(isRecord(was) && sameGuarded(section.guarded, placed[0]![1], field => was[field]))) changed.add(section.key);
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
				const guarded = section.guarded;
				if (guarded && placed.some(([, record], i) => !sameGuarded(guarded, record, field => (edited.removed[i] as Record<string, unknown>)[field]))) changed.add(section.key);
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
			if (section.guarded) changed.add(section.key);
			db[key] = merged;
			lists.set(key, {removed, added: placed.map(p => p[1])});
		}
		for (const section of this.sections) {
			const count = index.counts[section.key];
			if (section.list && count !== undefined && (db[section.key] as unknown[]).length !== count) return undefined;
		}
		if (changed.size > 0) {
			const problem = checkInvariants(db as Database, changed);
			if (problem) throw new Invalid('', problem);
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
		// The lines a trusted read left out of the map go in now, whether or not the records need checking.
		this.mapLines();
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
			if (section.list && Array.isArray(value)) {
				for (const [i, record] of value.entries()) value[i] = checked(record, section.element!, `${section.key}.${i}`);
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

	/** Whether every record the last read took holds exactly what its line holds (none replaced by its schema's clean copy). */
	get asRead(): boolean {
		return !this.cleaned;
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
		this.readLayout = undefined;
		this.misplaced = false;
		this.cleaned = false;
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
		// Patches refused while the layout was not one line per record: this commit wrote the whole file.
		this.misplaced = false;
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
			if (!section.list) {
				if (isRecord(value) && copies.has(value)) data[section.key] = copies.get(value);
				continue;
			}
			// Lists the change says nothing of are left as they are; when it cannot tell, all are looked at.
			if (change && !change.lists.has(section.key)) continue;
			const list = value as readonly object[];
			if (change && change.lists.get(section.key)!.added.length <= 16) {
				// A few records: found by identity (a pointer compare per record), not looked up in a map for each of 100,000.
				const next = list.slice();
				for (const record of change.lists.get(section.key)!.added) {
					const copy = copies.get(record);
					if (copy) for (let i = next.indexOf(record); i >= 0; i = next.indexOf(record, i + 1)) next[i] = copy;
				}
				data[section.key] = next;
			} else if (change || list.some(record => copies.has(record))) data[section.key] = list.map(record => copies.get(record) ?? record);
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
		this.taken.update(copy);
		this.before = this.taken;
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
	 * Parses now the lists the last read left to parse when first read (see lazyNextRead); false
	 * when a line of them is not JSON (the caller then reads the file whole).
	 */
	parseLazyNow(): boolean {
		const pending = this.lazyDb;
		if (!pending) return true;
		try {
			for (const key of [...pending.keys]) Reflect.get(pending.db, key);
		} catch (error) {
			if (error instanceof SyntaxError) return false;
			throw error;
		}
		return true;
	}

	/**
	 * The records of a list a first read left unparsed (see lazyNextRead), from their lines, taken as
	 * that read would have taken them (unchecked: bytes this build validated). While `db` is still the
	 * state last read, the list is remembered as the lists read then were.
	 */
	private parseLazy(db: object, section: Section, bodies: readonly string[]): unknown[] {
		let records: unknown[] = [];
		const trusting = this.trusting;
		this.trusting = true;
		try {
			for (const [i, body] of bodies.entries()) records.push(this.adopt(section, false, JSON.parse(body), section.key, i, body));
		} catch (error) {
			if (!(error instanceof SyntaxError)) throw error;
			// Not one record per line (a record over two lines, two on one), in bytes a check vouched for whole and whose index
			// and mtime were put back. The list's text is its lines without their spaces, joined by the commas cut from them:
			// parsed so, it is the list a whole read gives. Its records get no line, and the layout is not used.
			this.misplaced = true;
			const values = JSON.parse(`[${bodies.join(',')}]`) as unknown[];
			records = values.map((value, i) => this.adopt(section, false, value, section.key, i));
		} finally {
			this.trusting = trusting;
		}
		const pending = this.lazyDb;
		if (pending?.db === db && pending.keys.delete(section.key)) {
			this.lists.set(section.key, records);
			if (pending.keys.size === 0) this.lazyDb = undefined;
		}
		return records;
	}

	/**
	 * Validates a record read from a file and remembers it. Keeps the parsed object itself when
	 * validation dropped nothing from it (no copy: the file's records are most of our memory).
	 */
	private adopt(section: Section, whole: boolean, value: unknown, key: string, at: number, line?: string): Record<string, unknown> {
		// Where it is (`users.12`; `at` -1 for a value on its own) is spelt out only for a check, which a trusted read skips.
		const clean = (this.trusting && isRecord(value) ? value : check(whole ? section.schema : section.element!, value, at < 0 ? key : `${key}.${at}`)) as Record<string, unknown>;
		const kept = isRecord(value) && (clean === value || sameJson(value, clean));
		if (!kept) this.cleaned = true;
		const record = kept ? value : clean;
		if (this.keepLines) {
			const text = kept && line !== undefined ? line : JSON.stringify(record);
			if (this.trusting) {
				const pending = (this.unmapped ??= {records: [], lines: []});
				pending.records.push(record);
				pending.lines.push(text);
			} else this.lines.set(record, text);
		}
		if (section.shared.length > 0) this.share(record, section.shared);
		return record;
	}

	/**
	 * Makes the fields of a record read from the file that name what many records share (the
	 * tenant, an inviter, an owner, the actor and action of an audit event) hold one string per
	 * value: JSON.parse gives every record its own copy, and at 100,000 users the copies of the one
	 * tenant's id alone were 4.7 MB. Equal strings are interchangeable: no reader can tell.
	 */
	private share(record: Record<string, unknown>, fields: readonly string[]): void {
		for (const field of fields) {
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
	private accept(db: Database, changed: Changed, lazy?: {readonly db: object; readonly keys: Set<string>}): Database {
		this.trustNextRead = false;
		this.lazyNextRead = false;
		this.lazyDb = lazy;
		if (this.trusting) {
			this.trusting = false;
			this.unverified = true;
		} else if (changed === 'every list' || changed.size > 0) {
			const problem = checkInvariants(db, changed === 'every list' ? undefined : changed);
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
			if (!section.list) continue;
			// A list not yet parsed is remembered once it is (parseLazy): reading it here would parse it.
			if (this.lazyDb?.db === db && this.lazyDb.keys.has(section.key)) continue;
			const list = db[section.key] as unknown as readonly unknown[];
			const kept = this.lists.get(section.key);
			const same = kept !== undefined && ((changed !== undefined && !changed.has(section.key)) || kept === list || sameMembers(kept, list));
			lists.set(section.key, same ? kept : list);
		}
		this.lists = lists;
	}
}
