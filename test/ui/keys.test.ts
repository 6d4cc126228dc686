import {describe, expect, it} from 'vitest';
import {routeKey, type KeyHandler} from '../../source/ui/input-router.js';
import {editText, keyPresses, type InkKey} from '../../source/ui/key-press.js';
import {KEYMAP, commandFor} from '../../source/ui/keymap.js';
import {formKey, initialFormState, isDirty, type FormField} from '../../source/ui/form-state.js';
import {helpLines} from '../../source/ui/components/help.js';
import {keysLine} from '../../source/ui/components/status-bar.js';

const none: InkKey = {upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false};

describe('keys', () => {
	it('a burst like jjj arrives as three keys', () => {
		expect(keyPresses('jjj', none).map(k => k.name)).toEqual(['j', 'j', 'j']);
	});

	it('a pasted line splits into text, Tab and Enter', () => {
		expect(keyPresses('ab\tc\r', none).map(k => k.name)).toEqual(['a', 'b', 'tab', 'c', 'enter']);
	});

	it('names special keys as the key map writes them', () => {
		expect(keyPresses('', {...none, tab: true, shift: true})).toEqual([{name: 'shift-tab', text: ''}]);
		expect(keyPresses('', {...none, delete: true})).toEqual([{name: 'backspace', text: ''}]);
		expect(keyPresses('c', {...none, ctrl: true})).toEqual([{name: 'ctrl-c', text: ''}]);
		expect(keyPresses('G', {...none, shift: true})).toEqual([{name: 'G', text: 'G'}]);
	});

	it('edits a field at its end', () => {
		expect(editText('ab', {name: 'c', text: 'c'})).toBe('abc');
		expect(editText('ab', {name: 'backspace', text: ''})).toBe('a');
		expect(editText('ab', {name: 'ctrl-u', text: ''})).toBe('');
		expect(editText('ab', {name: 'up', text: ''})).toBeUndefined();
	});

	it('no key runs two commands in the same context', () => {
		const seen = new Map<string, string>();
		for (const binding of KEYMAP) {
			for (const key of binding.keys) {
				const id = `${binding.where}:${key}`;
				expect(seen.get(id), `${id} is bound to ${seen.get(id)} and ${binding.command}`).toBeUndefined();
				seen.set(id, binding.command);
			}
		}
	});

	it('help lists every command of the key map', () => {
		const lines = helpLines({users: 'Users'});
		expect(lines.filter(l => l.description).length).toBe(KEYMAP.length);
	});

	it('the status bar shows the keys of the live contexts, help and quit at the end', () => {
		const {keys, tail} = keysLine(['list', 'users', 'global'], 80);
		expect(keys).toContain('/ filter');
		expect(tail).toBe('? help  q quit');
		expect(keysLine(['form'], 80).tail).toBe('Ctrl-C quit');
	});
});

describe('the input router', () => {
	const layer = (id: number, priority: number, contexts: string[], kind: 'normal' | 'text' | 'modal', log: string[], consume: (c: string | undefined) => boolean) => ({
		id,
		priority,
		contexts,
		kind,
		handler: {
			current: ((command, key) => {
				log.push(`${contexts[0]}:${command ?? key.name}`);
				return consume(command);
			}) as KeyHandler,
		},
	});

	it('a focused text field never lets q reach the global quit', () => {
		const log: string[] = [];
		const layers = [layer(1, 0, ['global'], 'normal', log, c => c === 'app.quit'), layer(2, 30, ['form'], 'text', log, () => false)];
		expect(routeKey(layers, {name: 'q', text: 'q'})).toBe(false);
		expect(log).toEqual(['form:q']);
	});

	it('Ctrl-C passes a text field and reaches the global layer', () => {
		const log: string[] = [];
		const layers = [layer(1, 0, ['global'], 'normal', log, c => c === 'app.interrupt'), layer(2, 30, ['form'], 'text', log, () => false)];
		expect(routeKey(layers, {name: 'ctrl-c', text: ''})).toBe(true);
		expect(log).toEqual(['form:ctrl-c', 'global:app.interrupt']);
	});

	it('keys a list does not use fall through to the global layer', () => {
		const log: string[] = [];
		const layers = [layer(1, 0, ['global'], 'normal', log, c => c !== undefined), layer(2, 20, ['list', 'users'], 'normal', log, c => c?.startsWith('list.') === true)];
		routeKey(layers, {name: 'j', text: 'j'});
		routeKey(layers, {name: 'tab', text: ''});
		expect(log).toEqual(['list:list.down', 'list:tab', 'global:section.next']);
		expect(commandFor('2', ['global'])).toBe('section.goto');
	});
});

describe('forms', () => {
	const fields: FormField[] = [
		{name: 'user', label: 'User'},
		{name: 'password', label: 'Password', kind: 'password'},
		{name: 'role', label: 'Role', kind: 'choice', options: ['member', 'guest', 'admin']},
	];
	const buttons = [{id: 'save', label: 'Save'}];

	it('a pasted burst fills the fields in order and Enter on the last field presses the first button', () => {
		let state = initialFormState(fields);
		for (const key of keyPresses('bob\tq j\t', none)) {
			const outcome = formKey(fields, buttons, state, commandFor(key.name, ['form']), key);
			state = outcome.state;
		}
		expect(state.values).toMatchObject({user: 'bob', password: 'q j', role: 'member'});
		const right = formKey(fields, buttons, state, commandFor('right', ['form']), {name: 'right', text: ''});
		expect(right.state.values['role']).toBe('guest');
		const pressed = formKey(fields, buttons, right.state, 'form.submit', {name: 'enter', text: ''}).press;
		expect(pressed).toBe('save');
		expect(isDirty(fields, state)).toBe(true);
		expect(isDirty(fields, initialFormState(fields))).toBe(false);
	});
});
