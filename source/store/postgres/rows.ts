import type {z} from 'zod';
import {INVARIANT_FIELDS} from '../../core/invariants.js';
import {databaseSchema, type Database} from '../../core/model.js';
import {check, entryFor, Invalid, isRecord, recordOf, remembered, sameGuarded, sameMembers, unchanged, unknownKey, type Entry} from '../record-entry.js';
import {keyOf, parameterOf, quote, SINGLE, TABLES, type Table} from './tables.js';
import {once} from '../../core/once.js';

/** One table of the store as this process holds it: the list's records as last synced, with their places. */
type Held = {
	/** The list as last synced with the database (a copy: the core edits its own). */
	list: readonly object[];
	/** key → seq, the record's place in its list. */
	readonly seq: Map<string, number>;
	/** The highest seq this process has seen in the table. */
	maxSeq: number;
};

/** A record to write: the table, its key, its new place, the record. */
type Upsert = {readonly key: string; readonly seq: number; readonly record: Record<string, unknown>};

/**
 * What one change does to one table: the rows to write and the keys to delete, and the records that
 * left the list as this process held it (deleted, replaced, or edited in place: then the edited
 * object itself), as StorePort.subscribe tells them.
 */
export type TableChange = {readonly table: Table; readonly upserts: Upsert[]; readonly removed: string[]; readonly left: object[]};

/** What changed, list by list (records by object), and whether the settings did: a StoreChange without its version. */
export type ListsChanged = {readonly lists: Map<string, {readonly removed: readonly object[]; readonly added: readonly object[]}>; readonly settings: boolean};

/** What a change does to the store: the tables it touches, and whether the invariants must be checked. */
export type Change = {readonly tables: TableChange[]; readonly guarded: boolean};

/** The zod schema of one record of a list (the settings are one record). */
function elementSchema(table: Table): z.ZodType {
	const schema = databaseSchema().shape[table.list] as z.ZodType & {element?: z.ZodType};
	return schema.element ?? schema;
}

/** Each table's record schema, made when a first record is checked (the model's schemas are built when first needed, model.ts). */
const schemas = once(() => new Map(TABLES.map(t => [t.list, elementSchema(t)])));
function schemaOf(table: Table): z.ZodType {
	return schemas().get(table.list)!;
}

/** PostgreSQL's text cannot hold U+0000; the file can. A record carrying one is refused, never altered. */
function nulIn(record: Record<string, unknown>, table: Table): string | undefined {
	for (const c of table.columns) {
		if (c.kind !== 'text' && c.kind !== 'text[]') continue;
		const value = record[c.field];
		const texts = Array.isArray(value) ? value : [value];
		if (texts.some(t => typeof t === 'string' && t.includes('\u0000'))) return c.field;
	}
	return undefined;
}

/**
 * The records of the store as last read from or written to PostgreSQL, and the diff of a change
 * against them: which rows to insert, update or delete, each validated as the file store validates
 * a changed record. One per open PostgreSQL store.
 */
export class RowMemory {
	private readonly entries = new WeakMap<object, Entry>();
	private readonly held = new Map<string, Held>();
	/** Records were taken without validation (deferValidation): the next check looks at them all. */
	unverified = false;

	/** Takes a whole database as read (every record is in the database already). */
	adopt(db: Database, seqs: ReadonlyMap<string, ReadonlyMap<string, number>>): void {
		this.held.clear();
		for (const table of TABLES) {
			const list = listOf(db, table);
			const seq = new Map(seqs.get(table.list) ?? []);
			let maxSeq = 0;
			for (const s of seq.values()) if (s > maxSeq) maxSeq = s;
			for (const record of list) this.entries.set(record, entryFor(record as Record<string, unknown>, undefined));
			this.held.set(table.list, {list: list.slice(), seq, maxSeq});
		}
	}

	/**
	 * Folds rows another host committed into `db`, returning the new database (a new object, with
	 * new lists where they changed): `rows` are records with their seq, `removed` keys per list.
	 */
	merge(db: Database, rows: ReadonlyMap<string, ReadonlyArray<{record: Record<string, unknown>; seq: number}>>, removed: ReadonlyMap<string, ReadonlySet<string>>): {db: Database; guarded: boolean; change: ListsChanged} {
		const next = {...db} as Record<string, unknown>;
		let guarded = false;
		const lists: ListsChanged['lists'] = new Map();
		let settings = false;
		for (const table of TABLES) {
			const fresh = rows.get(table.list) ?? [];
			const gone = removed.get(table.list) ?? new Set<string>();
			if (fresh.length === 0 && gone.size === 0) continue;
			const fields = INVARIANT_FIELDS[table.list];
			const held = this.held.get(table.list)!;
			for (const {record} of fresh) this.entries.set(record, entryFor(record, undefined));
			if (table.key === undefined) {
				const row = fresh.at(-1);
				if (row) {
					if (table.list === 'settings') settings = true;
					next[table.list] = row.record;
					held.list = [row.record];
					held.seq.set(keyOf(table, row.record), row.seq);
				}
				continue;
			}
			const byKey = new Map(fresh.map(r => [keyOf(table, r.record), r]));
			const left: object[] = [];
			const list: object[] = [];
			// The list as held is in seq order; it stays so while each row replaces one in its place
			// (the same seq) and new rows come after the last. Only otherwise is the list sorted again.
			let sorted = true;
			for (const record of held.list) {
				const key = keyOf(table, record as Record<string, unknown>);
				const row = byKey.get(key);
				if (row === undefined) {
					if (gone.size > 0 && gone.has(key)) {
						held.seq.delete(key);
						left.push(record);
						if (fields) guarded = true;
						continue;
					}
					list.push(record);
					continue;
				}
				byKey.delete(key);
				left.push(record);
				if (held.seq.get(key) !== row.seq) {
					sorted = false;
					held.seq.set(key, row.seq);
				}
				// The invariants are checked again only when what they read changed (as a commit does).
				if (fields && !sameGuarded(fields, row.record, field => (record as Record<string, unknown>)[field])) guarded = true;
				list.push(row.record);
			}
			let last = held.maxSeq;
			for (const [key, row] of byKey) {
				if (row.seq <= last) sorted = false;
				last = Math.max(last, row.seq);
				held.seq.set(key, row.seq);
				list.push(row.record);
				if (fields) guarded = true;
			}
			for (const {seq} of fresh) if (seq > held.maxSeq) held.maxSeq = seq;
			if (!sorted) list.sort((a, b) => held.seq.get(keyOf(table, a as Record<string, unknown>))! - held.seq.get(keyOf(table, b as Record<string, unknown>))!);
			held.list = list;
			next[table.list] = list.slice();
			lists.set(table.list, {removed: left, added: fresh.map(r => r.record)});
		}
		return {db: next as Database, guarded, change: {lists, settings}};
	}

	/**
	 * What `db` changes against the records last synced: the rows to write (validated) and the keys
	 * to delete. Throws {@link Invalid} for a record the model refuses.
	 */
	diff(db: Database): Change {
		const tables: TableChange[] = [];
		let guarded = false;
		for (const table of TABLES) {
			const held = this.held.get(table.list)!;
			const value = (db as unknown as Record<string, unknown>)[table.list];
			if (table.key === undefined ? !isRecord(value) : !Array.isArray(value)) throw new Invalid(table.list, table.key === undefined ? 'not a record' : 'not a list');
			const list = (table.key === undefined ? [value] : value) as unknown[];
			const fields = INVARIANT_FIELDS[table.list];
			const quick = this.unverified ? undefined : this.diffInPlace(table, held, list);
			if (quick) {
				if (quick.guarded) guarded = true;
				if (quick.change) tables.push(quick.change);
				continue;
			}
			const sameList = sameMembers(held.list, list);
			if (fields && !sameList) guarded = true;
			const upserts: Upsert[] = [];
			const left: object[] = [];
			/** The held records by key, made only when a record was replaced by another object or deleted. */
			let heldByKey: Map<string, object> | undefined;
			const heldRecord = (key: string) => (heldByKey ??= new Map(held.list.map(r => [keyOf(table, r as Record<string, unknown>), r]))).get(key);
			const seen = new Set<string>();
			let last = 0;
			let nextSeq = held.maxSeq;
			let rekeyed = false;
			for (const [i, item] of list.entries()) {
				const where = table.key === undefined ? table.list : `${table.list}.${i}`;
				if (!isRecord(item)) throw new Invalid(where, 'not a record');
				const key = keyOf(table, item);
				if (seen.has(key)) throw new Invalid(where, `two records share the ${table.key} ${key}`);
				seen.add(key);
				const entry = this.entries.get(item);
				const was = held.seq.get(key);
				const syncedKey = entry === undefined ? undefined : table.key === undefined ? SINGLE : String(remembered(entry, table.key));
				// A record whose key was edited in place leaves its old key behind: that row goes.
				if (syncedKey !== undefined && syncedKey !== key) rekeyed = true;
				const sameRecord = was !== undefined && syncedKey === key;
				const placed = was !== undefined && was > last;
				const seq = placed ? was : ++nextSeq;
				last = seq;
				if (sameRecord && placed && unchanged(item, entry!)) {
					// Taken unchecked (deferValidation): checked now, not written again.
					if (this.unverified) this.validate(table, item, where);
					continue;
				}
				if (fields && !(sameRecord && sameGuarded(fields, item, field => remembered(entry!, field)))) guarded = true;
				this.validate(table, item, where);
				upserts.push({key, seq, record: item});
				// The record as held leaves the list: this object, edited in place, or the one it replaced.
				if (entry !== undefined) left.push(item);
				else if (was !== undefined) {
					const old = heldRecord(key);
					if (old !== undefined) left.push(old);
				}
			}
			const removed: string[] = [];
			if (!sameList || rekeyed) {
				for (const key of held.seq.keys()) {
					if (seen.has(key)) continue;
					removed.push(key);
					const old = heldRecord(key);
					// A record whose key was edited in place left already, as itself.
					if (old !== undefined && !left.includes(old)) left.push(old);
				}
			}
			if (upserts.length > 0 || removed.length > 0) tables.push({table, upserts, removed, left});
		}
		return {tables, guarded: guarded || this.unverified};
	}

	/**
	 * The diff of one list in the usual case, where the change edited records in place and appended
	 * new ones (the audit event every change adds): the list as held is the start of the list as it
	 * is, object for object. Then a record's key and place are those it was synced with, and a record
	 * is looked at only to see whether it is unchanged; the sets and maps of the whole list that
	 * the general diff builds are not needed (at 100,000 users they were most of a commit's time).
	 * Undefined when the list is otherwise (records removed, replaced or moved, a key edited, a key
	 * appended twice or again): the general diff then looks at the whole list.
	 */
	private diffInPlace(table: Table, held: Held, list: readonly unknown[]): {change: TableChange | undefined; guarded: boolean} | undefined {
		const before = held.list;
		if (list.length < before.length) return undefined;
		for (let i = 0; i < before.length; i++) if (list[i] !== before[i]) return undefined;
		const fields = INVARIANT_FIELDS[table.list];
		let guarded = fields !== undefined && list.length !== before.length;
		const upserts: Upsert[] = [];
		const left: object[] = [];
		for (let i = 0; i < before.length; i++) {
			const item = list[i] as Record<string, unknown>;
			const entry = this.entries.get(item);
			if (entry === undefined) return undefined;
			if (unchanged(item, entry)) continue;
			const key = keyOf(table, item);
			const synced = table.key === undefined ? SINGLE : String(remembered(entry, table.key));
			const seq = held.seq.get(key);
			if (synced !== key || seq === undefined) return undefined;
			if (fields && !sameGuarded(fields, item, field => remembered(entry, field))) guarded = true;
			this.validate(table, item, table.key === undefined ? table.list : `${table.list}.${i}`);
			upserts.push({key, seq, record: item});
			left.push(item);
		}
		let nextSeq = held.maxSeq;
		const added = new Set<string>();
		for (let i = before.length; i < list.length; i++) {
			const item = list[i];
			const where = `${table.list}.${i}`;
			if (!isRecord(item)) throw new Invalid(where, 'not a record');
			const key = keyOf(table, item);
			if (held.seq.has(key) || added.has(key) || this.entries.has(item)) return undefined;
			added.add(key);
			this.validate(table, item, where);
			upserts.push({key, seq: ++nextSeq, record: item});
		}
		return {change: upserts.length > 0 ? {table, upserts, removed: [], left} : undefined, guarded};
	}

	/** Checks one record against the model, as the file store does for a changed record. */
	validate(table: Table, record: Record<string, unknown>, where: string): void {
		const clean = check(schemaOf(table), record, where);
		const stray = unknownKey(record, clean);
		if (stray) throw new Invalid(where, `unknown field ${stray}`);
		const nul = nulIn(record, table);
		if (nul) throw new Invalid(`${where}.${nul}`, 'PostgreSQL cannot store the NUL character (U+0000)');
	}

	/**
	 * Records that a change is committed (its rows are now what the database holds) and makes the
	 * commit visible by identity, as the file store does: each record written is replaced in `db` by
	 * a copy, and each list the change touched gets a new array, so a front end that caches per
	 * record sees what changed by comparing objects. Returns what changed: the records that left
	 * (as held, edited) and the copies that entered.
	 */
	committed(db: Database, change: Change): ListsChanged {
		const data = db as unknown as Record<string, unknown>;
		const lists: ListsChanged['lists'] = new Map();
		let settings = false;
		for (const {table, upserts, removed, left} of change.tables) {
			const held = this.held.get(table.list)!;
			for (const key of removed) held.seq.delete(key);
			const copies = new Map<object, Record<string, unknown>>();
			for (const u of upserts) {
				const copy = {...u.record};
				copies.set(u.record, copy);
				this.entries.set(copy, entryFor(copy, undefined));
				held.seq.set(u.key, u.seq);
				if (u.seq > held.maxSeq) held.maxSeq = u.seq;
			}
			if (table.key === undefined) {
				const copy = copies.get(data[table.list] as object);
				if (copy) data[table.list] = copy;
				held.list = [data[table.list] as object];
				if (table.list === 'settings') settings = true;
				continue;
			}
			const list = (data[table.list] as readonly object[]).map(record => copies.get(record) ?? record);
			data[table.list] = list;
			held.list = list.slice();
			lists.set(table.list, {removed: left, added: [...copies.values()]});
		}
		// Every list whose members or order changed is in the change (a record out of its place gets a new seq).
		this.unverified = false;
		return {lists, settings};
	}

	/**
	 * Undoes a change that failed: the lists as last synced (a change starts from them), with every
	 * record edited in place replaced by its synced state.
	 */
	restore(db: Database): Database {
		const copy: Record<string, unknown> = {...db};
		for (const table of TABLES) {
			const list = this.held.get(table.list)!.list.map(record => this.pristine(record));
			copy[table.list] = table.key === undefined ? list[0] : list;
		}
		return copy as Database;
	}

	private pristine(value: unknown): unknown {
		if (!isRecord(value)) return value;
		const entry = this.entries.get(value);
		if (!entry || unchanged(value, entry)) return value;
		const fresh = recordOf(entry);
		this.entries.set(fresh, entry);
		return fresh;
	}
}

function listOf(db: Database, table: Table): object[] {
	const value = (db as unknown as Record<string, unknown>)[table.list];
	return (table.key === undefined ? [value] : value) as object[];
}

/** The most parameters one statement carries (PostgreSQL's limit is 65,535). */
const MAX_PARAMETERS = 30_000;

/** A statement and its parameters. */
export type Statement = {readonly text: string; readonly values: unknown[]};

/** The statements that write a change at store version `version`: deletions first, then inserts and updates, each in key order. */
export function statementsFor(change: Change, version: number): Statement[] {
	const statements: Statement[] = [];
	for (const {table, removed} of change.tables) {
		if (removed.length === 0) continue;
		const keys = [...removed].sort();
		const keyColumn = table.key === undefined ? 'singleton' : table.columns.find(c => c.field === table.key)!.column;
		statements.push({text: `DELETE FROM ${quote(table.table)} WHERE ${quote(keyColumn)}::text = ANY($1::text[])`, values: [keys]});
		statements.push({text: 'INSERT INTO orgctl_removed (tbl, key, version) SELECT $1::text, unnest($2::text[]), $3::bigint', values: [table.list, keys, version]});
	}
	for (const {table, upserts} of change.tables) {
		if (upserts.length === 0) continue;
		const sorted = [...upserts].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
		statements.push(...upsertStatements(table, sorted, version));
	}
	return statements;
}

/** INSERT … ON CONFLICT DO UPDATE for rows of one table, in batches under the parameter limit. */
export function upsertStatements(table: Table, rows: readonly Upsert[], version: number): Statement[] {
	const columns = [...table.columns.map(c => c.column), 'seq', 'changed'];
	const conflict = table.key === undefined ? 'singleton' : table.columns.find(c => c.field === table.key)!.column;
	const head = `INSERT INTO ${quote(table.table)} (${columns.map(quote).join(', ')}) VALUES `;
	const tail = ` ON CONFLICT (${quote(conflict)}) DO UPDATE SET ${columns.map(c => `${quote(c)} = EXCLUDED.${quote(c)}`).join(', ')}`;
	const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
	const statements: Statement[] = [];
	for (let start = 0; start < rows.length; start += perStatement) {
		const batch = rows.slice(start, start + perStatement);
		const values: unknown[] = [];
		const tuples = batch.map(row => {
			const at = values.length;
			for (const c of table.columns) values.push(parameterOf(c, row.record));
			values.push(row.seq, version);
			return `(${columns.map((_, i) => `$${at + i + 1}`).join(', ')})`;
		});
		statements.push({text: head + tuples.join(', ') + tail, values});
	}
	return statements;
}
