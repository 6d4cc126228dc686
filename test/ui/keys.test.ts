import {describe, expect, it} from 'vitest';
import {routeKey, type KeyHandler} from '../../source/ui/input-router.js';
import {keyPressesOf} from '../../source/ui/key-press.js';
import {KEYMAP, commandFor} from '../../source/ui/keymap.js';
import {formKey, initialFormState, isDirty, type FormField} from '../../source/ui/form-state.js';
import {helpLines} from '../../source/ui/components/help.js';
import {keysLine} from '../../source/ui/components/status-bar.js';

const names = (sequence: string) => keyPressesOf(sequence).map(k => k.name);

describe('keys', () => {
	it('a burst like jjj arrives as three keys', () => {
		expect(names('jjj')).toEqual(['j', 'j', 'j']);
	});

	it('a pasted line splits into text, Tab and Enter', () => {
		expect(names('ab\tc\r')).toEqual(['a', 'b', 'tab', 'c', 'enter']);
	});

	it('names special keys as the key map writes them', () => {
		expect(keyPressesOf('\u001b[Z')).toEqual([{name: 'shift-tab', text: ''}]);
		expect(keyPressesOf('\u0003')).toEqual([{name: 'ctrl-c', text: ''}]);
		expect(keyPressesOf('G')).toEqual([{name: 'G', text: 'G'}]);
		expect(names('\u001b[A')).toEqual(['up']);
		expect(names('\u001bOB')).toEqual(['down']);
		expect(names('\u001b[5~')).toEqual(['pageup']);
		expect(names('\u001b')).toEqual(['escape']);
		expect(names('\u000c')).toEqual(['ctrl-l']);
	});

	it('tells Backspace (DEL) from the Delete key (ESC [ 3 ~), which Ink 6 names alike', () => {
		expect(names('\u007f')).toEqual(['backspace']);
		expect(names('\b')).toEqual(['backspace']);
		expect(names('\u001b[3~')).toEqual(['delete']);
	});

	it('reads Home and End as every common terminal sends them', () => {
		for (const home of ['\u001b[H', '\u001bOH', '\u001b[1~', '\u001b[7~']) expect(names(home)).toEqual(['home']);
		for (const end of ['\u001b[F', '\u001bOF', '\u001b[4~', '\u001b[8~']) expect(names(end)).toEqual(['end']);
	});

	it('reads Alt-B, Alt-F, Alt-D, Alt-Backspace and Ctrl-arrows as word keys', () => {
		expect(names('\u001bb')).toEqual(['meta-b']);
		expect(names('\u001bf')).toEqual(['meta-f']);
		expect(names('\u001bd')).toEqual(['meta-d']);
		expect(names('\u001b\u007f')).toEqual(['meta-backspace']);
		expect(names('\u001b[1;5D')).toEqual(['ctrl-left']);
		expect(names('\u001b[1;3C')).toEqual(['meta-right']);
	});

	it('Esc typed quickly before another key is Esc, then that key (they arrive together)', () => {
		expect(names('\u001bq')).toEqual(['escape', 'q']);
		expect(names('\u001b1')).toEqual(['escape', '1']);
	});

	it('Esc pressed twice quickly is two Escs, not one (they arrive together as ESC ESC)', () => {
		expect(names('\u001b\u001b')).toEqual(['escape', 'escape']);
		expect(names('\u001b')).toEqual(['escape']);
	});

	it('a sequence it does not know (a function key) types nothing', () => {
		expect(names('\u001b[15~')).toEqual([]);
		expect(names('\u001b[M !!')).toEqual([]);
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
		{name: 'role', label: 'Role', kind: 'choice', options: ['guest', 'member', 'admin'], initial: 'member'},
	];
	const buttons = [{id: 'save', label: 'Save'}];

	it('a pasted burst fills the fields in order and Enter on the last field presses the first button', () => {
		let state = initialFormState(fields);
		for (const key of keyPressesOf('bob\tq j\t')) {
			const outcome = formKey(fields, buttons, state, commandFor(key.name, ['form']), key);
			state = outcome.state;
		}
		expect(state.values).toMatchObject({user: 'bob', password: 'q j', role: 'member'});
		const right = formKey(fields, buttons, state, commandFor('right', ['form']), {name: 'right', text: ''});
		expect(right.state.values['role']).toBe('admin');
		const pressed = formKey(fields, buttons, right.state, 'form.submit', {name: 'enter', text: ''}).press;
		expect(pressed).toBe('save');
		expect(isDirty(fields, state)).toBe(true);
		expect(isDirty(fields, initialFormState(fields))).toBe(false);
	});
});

describe('choices', () => {
	const fields: FormField[] = [{name: 'role', label: 'Role', kind: 'choice', options: ['guest', 'member', 'admin'], initial: 'member'}];
	const press = (state: ReturnType<typeof initialFormState>, name: string) => formKey(fields, [], state, commandFor(name, ['form']), {name, text: ''}).state;

	it('move left and right and stop at the ends: no wrap-around from guest to admin', () => {
		let state = initialFormState(fields);
		state = press(state, 'left');
		expect(state.values['role']).toBe('guest');
		state = press(state, 'left');
		expect(state.values['role']).toBe('guest');
		state = press(press(press(state, 'right'), 'right'), 'right');
		expect(state.values['role']).toBe('admin');
	});
});

describe('pre-filled text fields', () => {
	const fields: FormField[] = [{name: 'owner', label: 'Owner', initial: 'alice'}];
	const typed = (state: ReturnType<typeof initialFormState>, text: string) => keyPressesOf(text).reduce((s, key) => formKey(fields, [], s, commandFor(key.name, ['form']), key).state, state);

	it('start selected: typing replaces the value instead of appending to it (no "alicebob")', () => {
		expect(typed(initialFormState(fields), 'bob').values['owner']).toBe('bob');
	});

	it('keep the value when the cursor moves first, and count as unchanged until edited', () => {
		const moved = typed(initialFormState(fields), '\u001b[D');
		expect(moved.selected['owner']).toBe(false);
		expect(typed(moved, 'x').values['owner']).toBe('xalice');
		expect(isDirty(fields, initialFormState(fields))).toBe(false);
		expect(isDirty(fields, typed(initialFormState(fields), 'bob'))).toBe(true);
	});
});
