import type {KeyPress} from './key-press.js';
import {editLine} from './line-edit.js';
import type {Command} from './keymap.js';

/** One field of a form. Choices cycle with ←/→/Space; passwords show as dots. */
export type FormField = {
	readonly name: string;
	readonly label: string;
	readonly kind?: 'text' | 'password' | 'choice';
	/** The values of a choice field, the first being the default unless `initial` says otherwise. */
	readonly options?: readonly string[];
	readonly initial?: string;
	/** A short hint shown after the field (e.g. "default: member"). */
	readonly hint?: string;
};

/** A button after the fields; the first one is what Enter on the last field does. */
export type FormButton = {readonly id: string; readonly label: string};

export type FormState = {
	readonly values: Readonly<Record<string, string>>;
	/** Each text field's cursor (code points before it); a field not listed has it at its end. */
	readonly cursors: Readonly<Record<string, number>>;
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

export function initialFormState(fields: readonly FormField[]): FormState {
	const values: Record<string, string> = {};
	for (const field of fields) values[field.name] = field.initial ?? (field.kind === 'choice' ? (field.options?.[0] ?? '') : '');
	return {values, cursors: {}, focus: 0};
}

/** Where a text field's cursor is: where it was left, else at the end of the value. */
export function cursorOf(state: FormState, name: string): number {
	return state.cursors[name] ?? [...(state.values[name] ?? '')].length;
}

/** True when any field differs from its initial value: Ctrl-C then asks before quitting. */
export function isDirty(fields: readonly FormField[], state: FormState): boolean {
	const initial = initialFormState(fields).values;
	return fields.some(f => f.kind !== 'choice' && state.values[f.name] !== initial[f.name]);
}

/** Applies one key to a form: pure, so a pasted burst (`user\tpass\r`) lands field by field. */
export function formKey(fields: readonly FormField[], buttons: readonly FormButton[], state: FormState, command: Command | undefined, key: KeyPress): FormOutcome {
	const count = fields.length + buttons.length;
	const field = fields[state.focus];
	const focusTo = (focus: number): FormOutcome => ({state: {...state, focus: (focus + count) % count}, handled: true});
	if (field && field.kind !== 'choice') {
		// Text first: a space or a `j` typed in a field is text, never a command; ← → Home End and
		// Ctrl-A/E/K/U/W/D edit in place (line-edit.ts).
		const value = state.values[field.name] ?? '';
		const line = editLine({value, cursor: cursorOf(state, field.name)}, key);
		if (line) return {state: {...state, values: {...state.values, [field.name]: line.value}, cursors: {...state.cursors, [field.name]: line.cursor}}, handled: true};
	}
	if (field?.kind === 'choice' && (key.name === 'left' || key.name === 'right' || key.name === ' ')) {
		const options = field.options ?? [];
		const at = options.indexOf(state.values[field.name] ?? '');
		const value = options[(at + (key.name === 'left' ? -1 : 1) + options.length) % options.length] ?? '';
		return {state: {...state, values: {...state.values, [field.name]: value}}, handled: true};
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
