import {z} from 'zod';
import {checkInvariants, INVARIANT_FIELDS, type GuardedField} from '../core/invariants.js';
import {databaseSchema, type Database} from '../core/model.js';
import {check, entryFor, Invalid, isRecord, recordOf, remembered, sameGuarded, sameJson, sameMembers, unchanged, unknownKey, type Entry} from './record-entry.js';

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
 *     }
 *
 * It is ordinary JSON (any tool, and lowdb, reads it), diffs well when edited by hand, and lets a
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

function sectionsFor(schemaVersion: number): readonly Section[] {
	return Object.entries(databaseSchema.shape).map(([key, schema]) => {
		const guarded = INVARIANT_FIELDS[key as keyof Database];
		if (key === 'schemaVersion') return {key, schema: z.literal(schemaVersion), element: undefined, guarded};
		return {key: key as Section['key'], schema: schema as z.ZodType, element: schema instanceof z.ZodArray ? (schema.element as z.ZodType) : undefined, guarded};
	});
}

/**
 * A database kept together with what each record held when last committed or read, so that
 * unchanged records need neither validating nor serialising again. One per open store.
 */
export class RecordLines {
	/** record → what it held when last committed or read. */
	private readonly entries = new WeakMap<object, Entry>();
	/** The lists as last committed or read: to see whether a change added, removed or moved a record, and to undo one. */
	private lists = new Map<string, readonly unknown[]>();
	private readonly sections: readonly Section[];
	/**
	 * Whether to remember each record's line, so a commit writes unchanged records without
	 * serialising them again. The store turns it off for big files: at 100,000 users the lines
	 * (54 MB) pushed peak memory over its budget, and there no commit budget applies.
	 */
	keepLines = true;
	/** The next read takes records without checking them (StoreOptions.deferValidation); {@link verify} checks them later. */
	trustNextRead = false;
	/** Records were taken unchecked: the next commit checks them all, as {@link verify} does. */
	private unverified = false;
	/** Set during a trusted read. */
	private trusting = false;

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
		if (lines.next() !== '{') return undefined;
		const db: Record<string, unknown> = {};
		let guardedChange = previous === undefined;
		for (const [index, section] of this.sections.entries()) {
			const comma = index === this.sections.length - 1 ? '' : ',';
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
					if (line === `]${comma}`) break;
					const last = lines.peek() === `]${comma}`;
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
					// Without a remembered line, compare what the line holds with what the record held.
					const entry = free && sameLine === undefined ? this.entries.get(same) : undefined;
					if (entry && isRecord(value) && unchanged(value, entry)) {
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
				if (line === undefined || !line.startsWith(key) || !line.endsWith(comma)) return undefined;
				const body = line.slice(key.length, line.length - comma.length);
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
		if (lines.next() !== '}') return undefined;
		for (let rest = lines.next(); rest !== undefined; rest = lines.next()) if (rest !== '') return undefined;
		return this.accept(db as Database, guardedChange);
	}

	/**
	 * Validates `db` after a change and lays it out as text pieces, handed to `emit` one after another
	 * (so a big file is never whole in memory; on a throw, discard what was emitted). Only records
	 * that differ from what was last committed are validated and (with keepLines) serialised. Call
	 * {@link committed} with `changed` once the pieces are safely written.
	 */
	serialize(db: Database, emit: (piece: string) => void): Array<[Record<string, unknown>, string]> {
		const pieces = {push: (...texts: string[]) => texts.forEach(emit)};
		pieces.push('{\n');
		const changed: Array<[Record<string, unknown>, string]> = [];
		let guardedChange = false;
		const see = (schema: z.ZodType, value: unknown, where: string, guarded?: readonly GuardedField[]): string => {
			if (!isRecord(value)) {
				check(schema, value, where);
				return JSON.stringify(value);
			}
			const entry = this.entries.get(value);
			if (entry && !this.unverified && unchanged(value, entry)) return (entry[0] as string | undefined) ?? JSON.stringify(value);
			if (guarded && !(entry && sameGuarded(guarded, value, field => remembered(entry, field)))) guardedChange = true;
			const clean = check(schema, value, where);
			// zod drops keys it does not know; a record carrying one is a bug, not something to write.
			const unknown = unknownKey(value, clean);
			if (unknown) throw new Invalid(where, `unknown field ${unknown}`);
			const line = JSON.stringify(value);
			changed.push([value, line]);
			return line;
		};
		for (const [index, section] of this.sections.entries()) {
			const comma = index === this.sections.length - 1 ? '\n' : ',\n';
			const value = db[section.key];
			if (section.element) {
				if (!Array.isArray(value)) throw new Invalid(section.key, 'not a list');
				pieces.push(`"${section.key}":[\n`);
				const last = value.length - 1;
				const before = this.lists.get(section.key);
				if (section.guarded && !(before && sameMembers(before, value))) guardedChange = true;
				for (let i = 0; i <= last; i++) pieces.push(see(section.element, value[i], `${section.key}.${i}`, section.guarded), i === last ? '\n' : ',\n');
				pieces.push(']', comma);
			} else {
				pieces.push(`"${section.key}":`, see(section.schema, value, section.key), comma);
			}
		}
		pieces.push('}\n');
		if (guardedChange || this.unverified) {
			const problem = checkInvariants(db);
			if (problem) throw new Invalid('', problem);
		}
		return changed;
	}

	/**
	 * Checks every record of `db` and the invariants, after a trusted read. A record carrying fields
	 * the schema does not know is replaced by its clean copy, as a checked read would have done.
	 */
	verify(db: Database): void {
		if (!this.unverified) return;
		for (const section of this.sections) {
			const value = db[section.key] as unknown;
			const checked = (record: unknown, schema: z.ZodType, where: string): unknown => {
				const clean = check(schema, record, where);
				if (!isRecord(record) || sameJson(record, clean)) return record;
				this.entries.set(clean as object, entryFor(clean as Record<string, unknown>, this.keepLines ? JSON.stringify(clean) : undefined));
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
	}

	/** A read that fails or falls back to parsing the whole text starts again with the same trust. */
	private startRead(): void {
		this.trusting = this.trustNextRead;
	}

	/** Records what a successful write of `db` committed. */
	committed(db: Database, changed: ReadonlyArray<readonly [Record<string, unknown>, string]>): void {
		this.unverified = false;
		for (const [record, line] of changed) this.entries.set(record, entryFor(record, this.keepLines ? line : undefined));
		this.remember(db);
	}

	/**
	 * Undoes a change that failed: puts back the sections of `before` (from {@link snapshot}) and
	 * replaces every record that was edited in place by a fresh copy of its committed state.
	 */
	restore(before: Database): Database {
		const db: Record<string, unknown> = {};
		for (const section of this.sections) {
			const value = before[section.key];
			db[section.key] = Array.isArray(value) ? value.map(record => this.pristine(record)) : this.pristine(value);
		}
		return db as Database;
	}

	/**
	 * A shallow copy of `db` whose lists are copies too, for {@link restore}. The copies of the
	 * committed lists are reused: copying 100,000 entries on every commit made garbage that V8 keeps
	 * in its large-object space until a full collection.
	 */
	snapshot(db: Database): Database {
		const copy: Record<string, unknown> = {};
		for (const [key, value] of Object.entries(db)) copy[key] = Array.isArray(value) ? this.copyOf(key, value) : value;
		return copy as Database;
	}

	/** The remembered copy of the list `key` if it still has the same members in the same order, else a new copy. */
	private copyOf(key: string, list: readonly unknown[]): readonly unknown[] {
		const kept = this.lists.get(key);
		return kept && sameMembers(kept, list) ? kept : list.slice();
	}

	private lineOf(record: object): string | undefined {
		return this.entries.get(record)?.[0] as string | undefined;
	}

	private pristine(value: unknown): unknown {
		if (!isRecord(value)) return value;
		const entry = this.entries.get(value);
		if (!entry || unchanged(value, entry)) return value;
		const fresh = recordOf(entry);
		this.entries.set(fresh, entryFor(fresh, entry[0] as string | undefined));
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
		this.entries.set(record, entryFor(record, !this.keepLines ? undefined : kept && line !== undefined ? line : JSON.stringify(record)));
		return record;
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

	private remember(db: Database): void {
		const lists = new Map<string, readonly unknown[]>();
		for (const section of this.sections) if (section.element) lists.set(section.key, this.copyOf(section.key, db[section.key] as unknown as unknown[]));
		this.lists = lists;
	}
}
