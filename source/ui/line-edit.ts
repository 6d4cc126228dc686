import type {KeyPress} from './key-press.js';

/**
 * Text being edited: the value, and the cursor as a count of code points before it. `selected`
 * marks a pre-filled value not yet touched: it shows selected, and typing replaces it (as a
 * browser's field does), so a default can be kept with Enter or overwritten without erasing it first.
 */
export type Line = {readonly value: string; readonly cursor: number; readonly selected?: boolean};

/** A line with the cursor at its end, where typing continues. */
export function lineAtEnd(value: string): Line {
	return {value, cursor: [...value].length};
}

export type EditOptions = {
	/** Several lines (the bulk-invite list): Enter breaks the line, ↑ ↓ move between lines. */
	readonly multiline?: boolean;
};

const isSpace = (ch: string) => /\s/u.test(ch);
/** Readline's words for Alt-B/F/D/Backspace: letters and digits. */
const isWordChar = (ch: string) => /[\p{L}\p{N}]/u.test(ch);

function backOver(chars: readonly string[], at: number, inWord: (ch: string) => boolean, floor: number): number {
	let i = at;
	while (i > floor && !inWord(chars[i - 1]!)) i--;
	while (i > floor && inWord(chars[i - 1]!)) i--;
	return i;
}

function forwardOver(chars: readonly string[], at: number, inWord: (ch: string) => boolean, ceiling: number): number {
	let i = at;
	while (i < ceiling && !inWord(chars[i]!)) i++;
	while (i < ceiling && inWord(chars[i]!)) i++;
	return i;
}

/** Start and end of the line the cursor is on (the whole value when it has no line breaks). */
function lineBounds(chars: readonly string[], at: number): {start: number; end: number} {
	let start = at;
	while (start > 0 && chars[start - 1] !== '\n') start--;
	let end = at;
	while (end < chars.length && chars[end] !== '\n') end++;
	return {start, end};
}

/** The cursor one line up or down, at the same column or the end of a shorter line. */
function verticalMove(chars: readonly string[], at: number, direction: -1 | 1): number | undefined {
	const {start, end} = lineBounds(chars, at);
	const column = at - start;
	if (direction === -1) {
		if (start === 0) return undefined;
		const above = lineBounds(chars, start - 1);
		return Math.min(above.start + column, above.end);
	}
	if (end === chars.length) return undefined;
	const below = lineBounds(chars, end + 1);
	return Math.min(below.start + column, below.end);
}

/** What a key does to a pre-filled, selected value: typing replaces it, erasing clears it, moving keeps it. */
function editSelected(line: Line, chars: readonly string[], key: KeyPress): Line | undefined {
	if (key.text !== '') return lineAtEnd(key.text);
	switch (key.name) {
		case 'backspace':
		case 'delete':
		case 'ctrl-d':
		case 'ctrl-k':
		case 'ctrl-u':
		case 'ctrl-w':
		case 'meta-backspace':
		case 'meta-d':
			return {value: '', cursor: 0};
		case 'left':
		case 'home':
		case 'ctrl-a':
			return {value: line.value, cursor: 0};
		case 'right':
		case 'end':
		case 'ctrl-e':
			return {value: line.value, cursor: chars.length};
		default:
			return undefined;
	}
}

/**
 * Applies one key with readline's keys (DESIGN §7): typing inserts at the cursor; ← → move; Home
 * and Ctrl-A go to the start of the line, End and Ctrl-E to its end; Alt-B and Alt-F (or Ctrl-← →)
 * move by words; Backspace erases before the cursor, Delete and Ctrl-D under it; Ctrl-K cuts to
 * the end of the line, Ctrl-U to its start, Ctrl-W the word before the cursor (to a space),
 * Alt-Backspace and Alt-D a word back or forward. With `multiline`, Enter breaks the line and ↑ ↓
 * move between lines. Undefined when the key does not edit (Tab, Enter, ↑ ↓ on one line: the form's keys).
 */
export function editLine(line: Line, key: KeyPress, options: EditOptions = {}): Line | undefined {
	const chars = [...line.value];
	const at = Math.min(Math.max(0, line.cursor), chars.length);
	if (line.selected) {
		const edited = editSelected(line, chars, key);
		if (edited || key.name !== 'enter' || !options.multiline) return edited;
	}
	const make = (before: readonly string[], after: readonly string[]): Line => ({value: [...before, ...after].join(''), cursor: before.length});
	const moveTo = (cursor: number): Line => ({value: line.value, cursor});
	const {start, end} = lineBounds(chars, at);
	if (key.text !== '') {
		const typed = options.multiline ? [...key.text.replace(/\r\n?/g, '\n')] : [...key.text].filter(ch => ch !== '\n' && ch !== '\r');
		return make([...chars.slice(0, at), ...typed], chars.slice(at));
	}
	switch (key.name) {
		case 'left':
			return moveTo(Math.max(0, at - 1));
		case 'right':
			return moveTo(Math.min(chars.length, at + 1));
		case 'home':
		case 'ctrl-a':
			return moveTo(start);
		case 'end':
		case 'ctrl-e':
			return moveTo(end);
		case 'meta-b':
		case 'ctrl-left':
		case 'meta-left':
			return moveTo(backOver(chars, at, isWordChar, 0));
		case 'meta-f':
		case 'ctrl-right':
		case 'meta-right':
			return moveTo(forwardOver(chars, at, isWordChar, chars.length));
		case 'backspace':
			return at === 0 ? moveTo(0) : make(chars.slice(0, at - 1), chars.slice(at));
		case 'delete':
		case 'ctrl-d':
			return make(chars.slice(0, at), chars.slice(at + 1));
		case 'ctrl-k':
			return make(chars.slice(0, at), chars.slice(at === end && options.multiline ? end + 1 : end));
		case 'ctrl-u':
			return make(chars.slice(0, start), chars.slice(at));
		case 'ctrl-w':
			return make(chars.slice(0, backOver(chars, at, ch => !isSpace(ch), start)), chars.slice(at));
		case 'meta-backspace':
			return make(chars.slice(0, backOver(chars, at, isWordChar, start)), chars.slice(at));
		case 'meta-d':
			return make(chars.slice(0, at), chars.slice(forwardOver(chars, at, isWordChar, end)));
		case 'enter':
			return options.multiline ? make([...chars.slice(0, at), '\n'], chars.slice(at)) : undefined;
		case 'up':
		case 'down': {
			if (!options.multiline) return undefined;
			const next = verticalMove(chars, at, key.name === 'up' ? -1 : 1);
			return next === undefined ? moveTo(at) : moveTo(next);
		}
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

/** The lines of a multi-line value and where the cursor is among them (row, and column in its row). */
export function cursorRowColumn(line: Line): {lines: string[]; row: number; column: number} {
	const lines = line.value.split('\n');
	let left = Math.min(Math.max(0, line.cursor), [...line.value].length);
	for (let row = 0; row < lines.length; row++) {
		const length = [...lines[row]!].length;
		if (left <= length) return {lines, row, column: left};
		left -= length + 1;
	}
	return {lines, row: lines.length - 1, column: [...lines.at(-1)!].length};
}
