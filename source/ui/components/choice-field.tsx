import {Text} from './text.js';
import {theme} from '../theme.js';

type Props = {readonly value: string; readonly focused: boolean; readonly hint?: string | undefined};

/**
 * A pick-one field of a form: ‹ value ›, cycled with ←/→/Space by form-state.ts.
 *
 * Ours rather than the design card's ink-select-input, because that component cannot do what the
 * console needs (checked against ink-select-input 6.2): it reads keys with its own `useInput`, so
 * its 1–9 shortcuts would pick an item while the console's global 1–9 switch the section, and j/k
 * are compared with the whole input, so a burst (`jj`) moves nothing; its cursor lives in a closure,
 * so two quick arrows move one row; and it draws a vertical list that wraps around rather than
 * a windowed, filterable one. Long pick-one lists (a new owner for migrated items) use <List/>.
 */
export function ChoiceField({value, focused, hint}: Props) {
	return (
		<Text>
			<Text {...(focused ? theme.selected : {})}>‹ {value} ›</Text>
			{hint ? <Text {...theme.muted}> {hint}</Text> : null}
		</Text>
	);
}
