import {touchedBy, type ChangeIndex, type LogEntry} from './change-index.js';
import type {Layout, ListSlots, Slot} from './record-lines.js';

/** `length` bytes of the new file from `offset` (fewer at its end). */
type Read = (offset: number, length: number) => Buffer;

/** Where the lines of the new file lie, and the byte ranges of it that may differ from the file held (for the MAC's block hashes). */
export type Followed = {readonly layout: Layout; readonly ranges: readonly number[]};

const SPACE = 0x20;
const NEWLINE = 0x0a;
const COMMA = 0x2c;
const BRACE = 0x7d;
/** How far past a record's JSON its line's end is looked for (its room to grow is 24 bytes and a sixteenth of it). */
const LONGEST_ROOM = 64 * 1024;

/**
 * Where the lines of a file another orgctl process just committed lie, worked out from where they
 * lay in the file this process held (`held`, the layout of the file `heldFile` names, fileKey),
 * so that this process's next commit patches a copy too instead of writing 60 MB whole.
 *
 * Only for exactly one commit since, one that says it patched a copy of that very file (its
 * `patchOf` names the file by inode, size, mtime and ctime: a file written in place since, even
 * with its mtime put back, has another ctime), with the index line where it was: such a file is
 * the held one with only the lines of the records it touched, the version, the ends of the lists
 * it grew and the index written over it (record-lines.ts `patch`). Everything else keeps its place.
 * The index says where each touched record now is; every such line is read back and must have the
 * form a patch leaves (the record's JSON, spaces, its comma or a space, "\n", ending where the next
 * line starts), and so must the version's line. Undefined whenever anything does not add up: the
 * next commit then writes the whole file, as it did before. A layout is only ever a belief about
 * bytes; a wrong one would write a line at a wrong offset, so it is never guessed.
 */
export function followedLayout(held: Layout, heldFile: string, index: ChangeIndex, entries: readonly LogEntry[], read: Read): Followed | undefined {
	if (entries.length !== 1 || entries[0]!.patchOf !== heldFile || index.at !== held.indexAt) return undefined;
	const touched = touchedBy(entries);
	const ranges: number[] = [];
	const singles = new Map<string, Slot>(held.singles);
	for (const key of touched.keys()) if (!held.singles.has(key) && !held.lists.has(key)) return undefined;
	for (const [key, slot] of held.singles) {
		const keys = touched.get(key);
		let length: number;
		let line: string;
		if (key === 'version') {
			line = String(index.version);
			length = Buffer.byteLength(line);
			if (keys) return undefined;
		} else if (keys) {
			// A record on its own (the settings, the housekeeping) is named by the key "", where it was.
			const triples = index.where[key]?.[''];
			if (keys.size !== 1 || !keys.has('') || triples?.length !== 3 || triples[0] !== 0 || triples[1] !== slot.start) return undefined;
			length = triples[2]!;
			line = '';
		} else continue;
		const bytes = read(slot.start, slot.end - slot.start);
		// A value on its own ends with spaces, then the comma and "\n" before the next key (or the index).
		if (!lineForm(bytes, length, COMMA, key !== 'version')) return undefined;
		if (key === 'version' && bytes.toString('latin1', 0, length) !== line) return undefined;
		if (key !== 'version') line = bytes.toString('utf8', 0, length);
		singles.set(key, {start: slot.start, end: slot.end, length, line});
		ranges.push(slot.start, slot.end - slot.start);
	}
	const lists = new Map<string, ListSlots>(held.lists);
	/** Per list, the lines the commit wrote (index → offset, length): the held arrays take them once everything is proved. */
	const moves: Array<[ListSlots, Map<number, readonly [number, number]>]> = [];
	for (const [key, slot] of held.lists) {
		const count = index.counts[key];
		const old = slot.starts.length;
		const keys = touched.get(key);
		if (count === undefined || count < old) return undefined;
		if (!keys) {
			if (count !== old) return undefined;
			continue;
		}
		const placed = new Map<number, readonly [number, number]>();
		const where = index.where[key] ?? {};
		for (const name of keys) {
			const triples = where[name];
			if (!triples) continue;
			for (let t = 0; t < triples.length; t += 3) {
				const [at, offset, length] = [triples[t]!, triples[t + 1]!, triples[t + 2]!];
				if (at >= count || placed.has(at)) return undefined;
				// Changed in place: its line starts where it started. Added: where the index says.
				if (at < old && offset !== slot.starts[at]) return undefined;
				placed.set(at, [offset, length]);
			}
		}
		for (let at = old; at < count; at++) if (!placed.has(at)) return undefined;
		const startOf = (at: number) => placed.get(at)?.[0] ?? slot.starts[at]!;
		const lengthOf = (at: number) => placed.get(at)?.[1] ?? slot.lengths[at]!;
		let slack = slot.slack;
		if (count > old) {
			// Records added fill the room at the end of the list from where it began, one after another.
			if (startOf(old) !== slot.slack) return undefined;
			const from = startOf(count - 1) + lengthOf(count - 1);
			if (from >= slot.close) return undefined;
			const tail = read(from, Math.min(LONGEST_ROOM, slot.close - from));
			const end = tail.indexOf(NEWLINE);
			if (end < 0) return undefined;
			slack = from + end + 1;
			// One "\n" stays before the "]".
			if (slack > slot.close - 1) return undefined;
			if (old > 0 && !placed.has(old - 1)) {
				// The last record held ended with a space where the comma now is.
				if (!read(slot.slack - 2, 2).equals(Buffer.from(',\n'))) return undefined;
				ranges.push(slot.slack - 2, 2);
			}
			ranges.push(slot.slack, slack - slot.slack);
		}
		for (const at of placed.keys()) {
			const start = startOf(at);
			const end = at + 1 < count ? startOf(at + 1) : slack;
			if (end - start < lengthOf(at) + 2) return undefined;
			if (!lineForm(read(start, end - start), lengthOf(at), at + 1 < count ? COMMA : SPACE)) return undefined;
			ranges.push(start, end - start);
		}
		const next = {starts: slot.starts, lengths: slot.lengths, slack, close: slot.close};
		lists.set(key, next);
		moves.push([next, placed]);
	}
	// Proved: the held arrays become this file's (updated in place, not copied: record-lines.ts ListSlots), the records added in order.
	for (const [slot, placed] of moves) {
		for (const at of [...placed.keys()].sort((a, b) => a - b)) {
			const [offset, length] = placed.get(at)!;
			slot.starts[at] = offset;
			slot.lengths[at] = length;
		}
	}
	return {layout: {singles, lists, indexAt: index.at}, ranges};
}

/**
 * Whether `bytes` is one line as a patch leaves it: a value of `length` bytes (a record's ends with
 * its "}"), then only spaces, then `last` and "\n".
 */
function lineForm(bytes: Buffer, length: number, last: number, record = true): boolean {
	const n = bytes.length;
	if (length < 1 || n < length + 2 || bytes[n - 1] !== NEWLINE || bytes[n - 2] !== last) return false;
	if (record ? bytes[length - 1] !== BRACE : bytes[length - 1] === SPACE) return false;
	for (let i = length; i < n - 2; i++) if (bytes[i] !== SPACE) return false;
	return true;
}
