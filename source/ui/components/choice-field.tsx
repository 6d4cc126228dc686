import {Text} from './text.js';
import {theme} from '../theme.js';

type Props = {
	readonly value: string;
	readonly options: readonly string[];
	readonly focused: boolean;
	/** Columns the field may take. */
	readonly width: number;
};

/** How a choice field is drawn in `width` columns: every option in a row when they fit, else the one chosen and where it is among them. */
export function choiceLayout(options: readonly string[], value: string, width: number): {kind: 'row'} | {kind: 'one'; text: string} {
	const row = options.reduce((sum, o) => sum + [...o].length + 2, 0) + options.length - 1;
	if (row <= width) return {kind: 'row'};
	const at = options.indexOf(value);
	return {kind: 'one', text: `${at > 0 ? '‹' : ' '} ${value} ${at < options.length - 1 ? '›' : ' '} ${at + 1} of ${options.length}`};
}

/**
 * A pick-one field of a form, moved with ←/→ by form-state.ts (stopping at the ends). Every option
 * shows in its order (guest member admin), the chosen one marked, so the user sees what the next
 * arrow gives before pressing it.
 *
 * Ours rather than the design card's ink-select-input, because that component cannot do what the
 * console needs (checked against ink-select-input 6.2): it reads keys with its own `useInput`, so
 * its 1–9 shortcuts would pick an item while the console's global 1–9 switch the section, and j/k
 * are compared with the whole input, so a burst (`jj`) moves nothing; its cursor lives in a closure,
 * so two quick arrows move one row; and it draws a vertical list that wraps around rather than
 * a windowed, filterable one. Long pick-one lists (a new owner for migrated items) use <List/>.
 */
export function ChoiceField({value, options, focused, width}: Props) {
	const layout = choiceLayout(options, value, width);
	if (layout.kind === 'one') return <Text {...(focused ? theme.selected : {})}>{layout.text}</Text>;
	return (
		<Text>
			{options.map((option, i) => {
				const chosen = option === value;
				return (
					<Text key={option}>
						{i > 0 ? ' ' : ''}
						{chosen ? <Text {...(focused ? theme.selected : theme.heading)}>[{option}]</Text> : <Text {...theme.muted}> {option} </Text>}
					</Text>
				);
			})}
		</Text>
	);
}
