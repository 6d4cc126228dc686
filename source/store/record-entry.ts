import type {z} from 'zod';
import type {GuardedField} from '../core/invariants.js';

/**
 * What a store remembers of each record it read or committed, to tell cheaply which records a
 * change touched: the file store (record-lines.ts) to validate and serialise only those, the
 * PostgreSQL store (postgres/) to write only those rows. Also the checks both run on a changed
 * record.
 */

/** A nested value (an object or a list inside a record), remembered as its JSON. */
export class Nested {
	constructor(readonly json: string) {}

	private parsed: unknown;

	/** What the JSON holds, parsed once (never handed out: compare with it, copy it to restore). */
	get copy(): unknown {
		if (this.parsed === undefined) this.parsed = JSON.parse(this.json);
		return this.parsed;
	}
}

/**
 * What is remembered of a record: its committed JSON line, its keys (one shared array per shape),
 * then its values in order (nested values as {@link Nested}). Comparing a record with this costs no
 * allocation for flat records, where serialising all 10,000 users on every commit to spot the one
 * that changed would.
 */
export type Entry = unknown[];

const shapes = new Map<string, readonly string[]>();

/** One shared keys array per record shape: the entries are a large part of the memory at 100,000 users. */
export function shapeOf(keys: string[]): readonly string[] {
	const id = keys.join('\u0000');
	let shape = shapes.get(id);
	if (!shape) shapes.set(id, (shape = keys));
	return shape;
}

export function entryFor(record: Record<string, unknown>, line: string | undefined): Entry {
	const keys = shapeOf(Object.keys(record));
	const entry: Entry = new Array<unknown>(keys.length + 2);
	entry[0] = line;
	entry[1] = keys;
	for (let i = 0; i < keys.length; i++) {
		const value = record[keys[i]!];
		entry[i + 2] = typeof value === 'object' && value !== null ? new Nested(JSON.stringify(value)) : value;
	}
	return entry;
}

/**
 * True while `record` holds exactly what `entry` remembers. Runs for every record on every commit
 * (at 100,000 users, most of a commit's time): a key inherited from a prototype needs no check of
 * its own, since records are plain objects and such a key would not be the one remembered there.
 */
export function unchanged(record: Record<string, unknown>, entry: Entry): boolean {
	const keys = entry[1] as readonly string[];
	let at = 0;
	for (const key in record) {
		if (keys[at] !== key) return false;
		const value = record[key];
		const was = entry[at + 2];
		if (value !== was && !(was instanceof Nested && typeof value === 'object' && value !== null && JSON.stringify(value) === was.json)) return false;
		at++;
	}
	return at === keys.length;
}

/** The value `entry` remembers for `key` (a nested value as its {@link Nested}). */
export function remembered(entry: Entry, key: string): unknown {
	const at = (entry[1] as readonly string[]).indexOf(key);
	return at < 0 ? undefined : entry[at + 2];
}

/** Whether two versions of a record agree on every field the invariants read (as far as they read it). */
export function sameGuarded(fields: readonly GuardedField[], record: Record<string, unknown>, before: (key: string) => unknown): boolean {
	return fields.every(guard => (typeof guard === 'string' ? record[guard] === before(guard) : guard.as(record[guard.field]) === guard.as(before(guard.field))));
}

/** Why a text or a change was refused: where (a dotted path, '' for the whole) and what. */
export class Invalid extends Error {
	constructor(
		readonly where: string,
		readonly reason: string,
	) {
		super(`${where || 'the data'}: ${reason}`);
	}
}

/** Validates one value against its schema; returns zod's clean copy (unknown keys dropped). */
export function check(schema: z.ZodType, value: unknown, where: string): unknown {
	const parsed = schema.safeParse(value);
	if (parsed.success) return parsed.data;
	const issue = parsed.error.issues[0]!;
	throw new Invalid([where, ...issue.path.map(String)].filter(Boolean).join('.'), issue.message);
}

export function sameMembers(a: readonly unknown[], b: readonly unknown[]): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first key of `value` (at any depth) that zod's clean copy dropped. */
export function unknownKey(value: unknown, clean: unknown, path = ''): string | undefined {
	if (Array.isArray(value) && Array.isArray(clean)) {
		for (const [i, item] of value.entries()) {
			const deeper = unknownKey(item, clean[i], `${path}${i}.`);
			if (deeper) return deeper;
		}
		return undefined;
	}
	if (!isRecord(value) || !isRecord(clean)) return undefined;
	for (const key of Object.keys(value)) {
		if (value[key] === undefined) continue;
		if (!(key in clean)) return path + key;
		const deeper = unknownKey(value[key], clean[key], `${path}${key}.`);
		if (deeper) return deeper;
	}
	return undefined;
}

/**
 * Deep equality as JSON sees it (keys holding undefined do not count): is zod's clean copy just a copy?
 * Own fields only, as JSON.stringify writes them: zod reads a field a prototype lends, so a value whose
 * checked field is inherited differs from its clean copy (which owns it), and the copy is what is written.
 */
export function sameJson(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
	if (Array.isArray(a) !== Array.isArray(b)) return false;
	if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
	const x = a as Record<string, unknown>;
	const y = b as Record<string, unknown>;
	let count = 0;
	for (const key of Object.keys(x)) {
		if (x[key] === undefined) continue;
		if (!Object.hasOwn(y, key) || !sameJson(x[key], y[key])) return false;
		count++;
	}
	for (const key of Object.keys(y)) if (y[key] !== undefined) count--;
	return count === 0;
}

/** A fresh record holding what `entry` remembers: to undo a change that edited a record in place. */
export function recordOf(entry: Entry): Record<string, unknown> {
	const keys = entry[1] as readonly string[];
	const fresh: Record<string, unknown> = {};
	for (const [i, key] of keys.entries()) {
		const was = entry[i + 2];
		fresh[key] = was instanceof Nested ? JSON.parse(was.json) : was;
	}
	return fresh;
}
