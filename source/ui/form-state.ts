import type {KeyPress} from './key-press.js';
import {editLine, type Line} from './line-edit.js';
import type {Command} from './keymap.js';

/** One field of a form. Choices move with ←/→ and stop at the ends; passwords show as dots. */
export type FormField = {
	readonly name: string;
	readonly label: string;
	readonly kind?: 'text' | 'password' | 'choice';
	/** The values of a choice field, in the order they are shown (roles: guest, member, admin); the first is the default unless `initial` says otherwise. */
	readonly options?: readonly string[];
	/** A pre-filled value: shown selected, so typing replaces it and Enter keeps it. */
	readonly initial?: string;
	/** A short hint shown after the field, or under it while it is focused when the line is too narrow. */
	readonly hint?: string;
};

/** A button after the fields; the first one is what Enter on the last field does. */
export type FormButton = {readonly id: string; readonly label: string};

/** An operation's refusal as a form shows it: beside the field at fault when it names one. */
export type FormError = {readonly message: string; readonly field?: string | undefined};

export type FormState = {
	readonly values: Readonly<Record<string, string>>;
	/** Each text field's cursor (code points before it); a field not listed has it at its end. */
	readonly cursors: Readonly<Record<string, number>>;
	/** Pre-filled values not touched yet: typing replaces them. */
	readonly selected: Readonly<Record<string, boolean>>;
	/** Index into fields, then buttons. */
	readonly focus: number;
};

export type FormOutcome = {
	readonly state: FormState;
	readonly handled: boolean;
	/** A button to press (the first button when Enter is pressed on the last field). */
	readonly press?: string;
	readonly cancel?: boolean;
};

function initialValue(field: FormField): string {
	return field.initial ?? (field.kind === 'choice' ? (field.options?.[0] ?? '') : '');
}

export function initialFormState(fields: readonly FormField[]): FormState {
	const values: Record<string, string> = {};
	const selected: Record<string, boolean> = {};
	for (const field of fields) {
		values[field.name] = initialValue(field);
		if (field.kind !== 'choice' && (field.initial ?? '') !== '') selected[field.name] = true;
	}
	return {values, cursors: {}, selected, focus: 0};
}

/** A text field as a line being edited: its value, where its cursor is (where it was left, else at the end) and whether it is still the selected pre-filled value. */
export function lineOf(state: FormState, name: string): Line {
	const value = state.values[name] ?? '';
	return {value, cursor: state.cursors[name] ?? [...value].length, selected: state.selected[name] === true};
}

/** True when any field differs from its initial value: Esc and Ctrl-C then ask before dropping it. */
export function isDirty(fields: readonly FormField[], state: FormState): boolean {
	return fields.some(f => f.kind !== 'choice' && state.values[f.name] !== initialValue(f));
}

/** The choice to the left or right of the current one; the ends stop (no wrap-around: one key too many never lands on admin). */
function stepChoice(field: FormField, value: string, direction: -1 | 1): string {
	const options = field.options ?? [];
	const at = Math.max(0, options.indexOf(value));
	return options[Math.min(options.length - 1, Math.max(0, at + direction))] ?? value;
}

/** Applies one key to a form: pure, so a pasted burst (`user\tpass\r`) lands field by field. */
export function formKey(fields: readonly FormField[], buttons: readonly FormButton[], state: FormState, command: Command | undefined, key: KeyPress): FormOutcome {
	const count = fields.length + buttons.length;
	const field = fields[state.focus];
	const focusTo = (focus: number): FormOutcome => ({state: {...state, focus: (focus + count) % count}, handled: true});
	if (field && field.kind !== 'choice') {
		// Text first: a space or a `j` typed in a field is text, never a command; the readline keys
		// edit in place (line-edit.ts).
		const line = editLine(lineOf(state, field.name), key);
		if (line) {
			return {
				state: {...state, values: {...state.values, [field.name]: line.value}, cursors: {...state.cursors, [field.name]: line.cursor}, selected: {...state.selected, [field.name]: false}},
				handled: true,
			};
		}
	}
	if (field?.kind === 'choice' && (key.name === 'left' || key.name === 'right')) {
		const value = stepChoice(field, state.values[field.name] ?? '', key.name === 'left' ? -1 : 1);
		return {state: value === state.values[field.name] ? state : {...state, values: {...state.values, [field.name]: value}}, handled: true};
	}
	switch (command) {
		case 'form.next':
			return focusTo(state.focus + 1);
		case 'form.previous':
			return focusTo(state.focus - 1);
		case 'form.submit':
			if (state.focus < fields.length - 1) return focusTo(state.focus + 1);
			if (state.focus === fields.length - 1) return buttons[0] ? {state, handled: true, press: buttons[0].id} : {state, handled: false};
			return {state, handled: true, press: buttons[state.focus - fields.length]!.id};
		case 'form.cancel':
			return {state, handled: true, cancel: true};
		default:
			return {state, handled: false};
	}
}
