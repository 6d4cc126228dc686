import type {KeyPress} from './key-press.js';

/** One line of text being edited: the value, and the cursor as a count of code points before it. */
export type Line = {readonly value: string; readonly cursor: number};

/** A line with the cursor at its end, where typing continues. */
export function lineAtEnd(value: string): Line {
	return {value, cursor: [...value].length};
}

/** Where the word before `at` starts: back over spaces, then over the word (readline's Ctrl-W). */
function wordStart(chars: readonly string[], at: number): number {
	let i = at;
	while (i > 0 && /\s/.test(chars[i - 1]!)) i--;
	while (i > 0 && !/\s/.test(chars[i - 1]!)) i--;
	return i;
}

/**
 * Applies one key to a line with readline's keys: typing inserts at the cursor; ← → move; Home and
 * Ctrl-A go to the start, End and Ctrl-E to the end; Backspace erases before the cursor and Ctrl-D
 * under it; Ctrl-K cuts to the end, Ctrl-U to the start, Ctrl-W the word before the cursor.
 * Undefined when the key does not edit a line (Tab, Enter, ↑ ↓: the form's keys).
 */
export function editLine(line: Line, key: KeyPress): Line | undefined {
	const chars = [...line.value];
	const at = Math.min(Math.max(0, line.cursor), chars.length);
	const make = (before: readonly string[], after: readonly string[]): Line => ({value: [...before, ...after].join(''), cursor: before.length});
	if (key.text !== '') return make([...chars.slice(0, at), ...key.text], chars.slice(at));
	switch (key.name) {
		case 'left':
			return {value: line.value, cursor: Math.max(0, at - 1)};
		case 'right':
			return {value: line.value, cursor: Math.min(chars.length, at + 1)};
		case 'home':
		case 'ctrl-a':
			return {value: line.value, cursor: 0};
		case 'end':
		case 'ctrl-e':
			return {value: line.value, cursor: chars.length};
		case 'backspace':
			return at === 0 ? {value: line.value, cursor: 0} : make(chars.slice(0, at - 1), chars.slice(at));
		case 'ctrl-d':
			return make(chars.slice(0, at), chars.slice(at + 1));
		case 'ctrl-k':
			return make(chars.slice(0, at), []);
		case 'ctrl-u':
			return make([], chars.slice(at));
		case 'ctrl-w':
			return make(chars.slice(0, wordStart(chars, at)), chars.slice(at));
		default:
			return undefined;
	}
}

/**
 * What of a long line fits `width` columns with the cursor in view: the text before the cursor,
 * the character under it (a space at the end), and the text after; `…` marks a cut at either end.
 */
export function lineWindow(line: Line, width: number): {before: string; at: string; after: string} {
	const chars = [...line.value];
	const cursor = Math.min(Math.max(0, line.cursor), chars.length);
	const room = Math.max(2, width);
	// The cursor's cell counts: a line as long as the field scrolls so the cursor after it shows.
	let start = Math.max(0, cursor - room + 1);
	if (chars.length + 1 <= room) start = 0;
	const end = Math.min(chars.length, start + room - (cursor === chars.length ? 1 : 0));
	const before = chars.slice(start, cursor);
	const after = chars.slice(cursor + 1, end);
	if (start > 0) before[0] = '…';
	if (end < chars.length && after.length > 0) after[after.length - 1] = '…';
	return {before: before.join(''), at: chars[cursor] ?? ' ', after: after.join('')};
}
