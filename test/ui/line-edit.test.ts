import {describe, expect, it} from 'vitest';
import {keyPresses, type InkKey, type KeyPress} from '../../source/ui/key-press.js';
import {editLine, lineAtEnd, lineWindow, type Line} from '../../source/ui/line-edit.js';

const key = (name: string): KeyPress => ({name, text: ''});
const none: InkKey = {upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false};
const apply = (line: Line, ...keys: KeyPress[]): Line => keys.reduce((l, k) => editLine(l, k) ?? l, line);
const typed = (text: string) => keyPresses(text, none);

describe('a text field edits in place with readline’s keys', () => {
	it('types at the cursor, and ← → Home End move it', () => {
		const line = apply(lineAtEnd('bob@example.com'), key('home'), ...typed('x'), key('end'), key('left'), key('left'), key('left'), ...typed('-'));
		expect(line).toEqual({value: 'xbob@example.-com', cursor: 14});
		expect(apply(line, key('ctrl-a'))).toMatchObject({cursor: 0});
		expect(apply(line, key('ctrl-e'))).toMatchObject({cursor: 17});
		expect(apply(lineAtEnd('ab'), key('left'), key('left'), key('left'))).toMatchObject({cursor: 0});
	});

	it('Backspace erases before the cursor, Ctrl-D under it', () => {
		const line = apply(lineAtEnd('carol'), key('left'), key('left'));
		expect(apply(line, key('backspace'))).toEqual({value: 'caol', cursor: 2});
		expect(apply(line, key('ctrl-d'))).toEqual({value: 'carl', cursor: 3});
		expect(apply(lineAtEnd(''), key('backspace'))).toEqual({value: '', cursor: 0});
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
