import {Text} from './text.js';
import {lineWindow, type Line} from '../line-edit.js';

type Props = {
	readonly line: Line;
	/** Columns for the value, the cursor's cell included. */
	readonly width: number;
	readonly focused: boolean;
	/** Shown instead of each character (passwords). */
	readonly mask?: string;
};

/**
 * One line of a form, drawn from the form's own state: the value, underlined to the field's
 * width, scrolled so the cursor stays in view, the cursor in inverse.
 *
 * Ours rather than the design card's ink-text-input, because that component cannot do what the
 * console needs (checked against ink-text-input 6.0): it reads keys with its own `useInput`, outside
 * the console's input router, so a dialog over a form or the global keys would reach it too; it
 * keeps the value and cursor in a closure, so the second key of a burst overwrites the first; it
 * inserts a pasted `user\tpass\r` whole into one field instead of filling the fields in turn; it
 * has none of readline's Home/End/Ctrl-A/E/K/U/W (DESIGN §7), and Ctrl-letters type the letter; and
 * a long value wraps instead of scrolling. The editing is a pure function (line-edit.ts) that
 * form-state.ts applies per key, which keeps every form's keys the same and testable without Ink.
 */
export function TextField({line, width, focused, mask}: Props) {
	const shown = mask === undefined ? line : {value: mask.repeat([...line.value].length), cursor: line.cursor};
	if (line.selected && focused) {
		// A pre-filled value, selected: typing replaces it (form-state.ts), so it shows as a selection from its start.
		const {before, at, after} = lineWindow({value: shown.value, cursor: 0}, width);
		const text = `${before}${at}${after}`;
		return (
			<Text wrap="truncate-end">
				<Text inverse>{text}</Text>
				<Text underline>{' '.repeat(Math.max(0, width - [...text].length))}</Text>
			</Text>
		);
	}
	const {before, at, after} = lineWindow(shown, width);
	const pad = ' '.repeat(Math.max(0, width - [...before].length - 1 - [...after].length));
	return (
		<Text wrap="truncate-end">
			<Text underline>{before}</Text>
			{focused ? <Text inverse>{at}</Text> : <Text underline>{at}</Text>}
			<Text underline>
				{after}
				{pad}
			</Text>
		</Text>
	);
}
