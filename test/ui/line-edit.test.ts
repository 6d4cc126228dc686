import {describe, expect, it} from 'vitest';
import {keyPressesOf, textRun, type KeyPress} from '../../source/ui/key-press.js';
import {cursorRowColumn, editLine, lineAtEnd, lineWindow, type Line} from '../../source/ui/line-edit.js';

const key = (name: string): KeyPress => ({name, text: ''});
const apply = (line: Line, ...keys: KeyPress[]): Line => keys.reduce((l, k) => editLine(l, k) ?? l, line);
const applyMulti = (line: Line, ...keys: KeyPress[]): Line => keys.reduce((l, k) => editLine(l, k, {multiline: true}) ?? l, line);
const typed = (text: string) => keyPressesOf(text);

describe('a text field edits in place with readline’s keys', () => {
	it('types at the cursor, and ← → Home End move it', () => {
		const line = apply(lineAtEnd('bob@example.com'), key('home'), ...typed('x'), key('end'), key('left'), key('left'), key('left'), ...typed('-'));
		expect(line).toEqual({value: 'xbob@example.-com', cursor: 14});
		expect(apply(line, key('ctrl-a'))).toMatchObject({cursor: 0});
		expect(apply(line, key('ctrl-e'))).toMatchObject({cursor: 17});
		expect(apply(lineAtEnd('ab'), key('left'), key('left'), key('left'))).toMatchObject({cursor: 0});
	});

	it('typing abcdef ← ← X gives abcdXef, not abcdefX', () => {
		expect(apply(lineAtEnd(''), ...typed('abcdef'), ...typed('\u001b[D'), ...typed('\u001b[D'), ...typed('X'))).toEqual({value: 'abcdXef', cursor: 5});
	});

	it('Backspace erases before the cursor, Delete and Ctrl-D under it', () => {
		const line = apply(lineAtEnd('carol'), key('left'), key('left'));
		expect(apply(line, key('backspace'))).toEqual({value: 'caol', cursor: 2});
		expect(apply(line, key('ctrl-d'))).toEqual({value: 'carl', cursor: 3});
		expect(apply(line, ...typed('\u001b[3~'))).toEqual({value: 'carl', cursor: 3});
		expect(apply(lineAtEnd(''), key('backspace'))).toEqual({value: '', cursor: 0});
	});

	it('Alt-B and Alt-F move by words, Alt-Backspace and Alt-D cut one', () => {
		const line = lineAtEnd('alice.smith@example.com');
		expect(apply(line, ...typed('\u001bb'))).toMatchObject({cursor: 20});
		expect(apply(line, ...typed('\u001bb'), ...typed('\u001bb'))).toMatchObject({cursor: 12});
		expect(apply({...line, cursor: 0}, ...typed('\u001bf'))).toMatchObject({cursor: 5});
		expect(apply(line, ...typed('\u001b\u007f'))).toEqual({value: 'alice.smith@example.', cursor: 20});
		expect(apply({...line, cursor: 0}, ...typed('\u001bd'))).toEqual({value: '.smith@example.com', cursor: 0});
	});

	it('a paste arrives as one run and is inserted at the cursor whole', () => {
		const run = textRun(typed('bob@'));
		expect(run.name).toBe('text');
		expect(apply({value: 'example.com', cursor: 0}, run)).toEqual({value: 'bob@example.com', cursor: 4});
	});

	it('Ctrl-K cuts to the end, Ctrl-U to the start, Ctrl-W the word before the cursor', () => {
		const line = apply(lineAtEnd('first second third'), key('left'), key('left'), key('left'), key('left'), key('left'), key('left'));
		expect(apply(line, key('ctrl-k'))).toEqual({value: 'first second', cursor: 12});
		expect(apply(line, key('ctrl-u'))).toEqual({value: ' third', cursor: 0});
		expect(apply(line, key('ctrl-w'))).toEqual({value: 'first  third', cursor: 6});
	});

	it('keys that are not edits are left to the form (Tab, Enter, ↑ ↓)', () => {
		for (const name of ['tab', 'enter', 'up', 'down', 'escape']) expect(editLine(lineAtEnd('x'), key(name))).toBeUndefined();
	});

	it('a selected pre-filled value is replaced by typing and kept by moving', () => {
		const prefilled: Line = {value: 'alice', cursor: 5, selected: true};
		expect(apply(prefilled, ...typed('b'))).toEqual({value: 'b', cursor: 1});
		expect(apply(prefilled, key('backspace'))).toEqual({value: '', cursor: 0});
		expect(apply(prefilled, key('home'))).toEqual({value: 'alice', cursor: 0});
	});

	it('a long value scrolls so the cursor stays in view, cut ends marked …', () => {
		const long = lineAtEnd('abcdefghijklmnopqrstuvwxyz');
		expect(lineWindow(long, 10)).toEqual({before: '…stuvwxyz', at: ' ', after: ''});
		expect(lineWindow({...long, cursor: 0}, 10)).toEqual({before: '', at: 'a', after: 'bcdefghi…'});
		expect(lineWindow(lineAtEnd('short'), 10)).toEqual({before: 'short', at: ' ', after: ''});
		const middle = lineWindow({...long, cursor: 13}, 10);
		expect(middle.at).toBe('n');
		expect(`${middle.before}${middle.at}${middle.after}`.length).toBeLessThanOrEqual(10);
	});
});

describe('a multi-line field (the bulk-invite list)', () => {
	const list = 'ann,ann@corp.com\nbob,bob@corp.com\ncy@corp.com';

	it('↑ and ↓ move between lines at the same column, or the end of a shorter line', () => {
		const end = lineAtEnd(list);
		const up = applyMulti(end, key('up'));
		expect(cursorRowColumn(up)).toMatchObject({row: 1, column: 11});
		const top = applyMulti(up, key('up'), key('up'));
		expect(cursorRowColumn(top)).toMatchObject({row: 0, column: 11});
		expect(cursorRowColumn(applyMulti(top, key('down'), key('down')))).toMatchObject({row: 2, column: 11});
	});

	it('Enter breaks the line; Home, End, Ctrl-U and Ctrl-K work on the line the cursor is on', () => {
		const second = applyMulti({value: list, cursor: 20}, key('home'));
		expect(cursorRowColumn(second)).toMatchObject({row: 1, column: 0});
		expect(applyMulti(second, key('ctrl-k')).value).toBe('ann,ann@corp.com\n\ncy@corp.com');
		expect(applyMulti(applyMulti(second, key('end')), key('ctrl-u')).value).toBe('ann,ann@corp.com\n\ncy@corp.com');
		expect(applyMulti(second, ...typed('dee,dee@corp.com'), key('enter')).value).toBe('ann,ann@corp.com\ndee,dee@corp.com\nbob,bob@corp.com\ncy@corp.com');
	});

	it('a one-line field leaves ↑ ↓ to the form and never takes a line break from a paste', () => {
		expect(editLine(lineAtEnd('x'), key('up'))).toBeUndefined();
		expect(editLine(lineAtEnd(''), {name: 'text', text: 'a\nb'})).toEqual({value: 'ab', cursor: 2});
	});
});
