import {Text} from './text.js';
import type {ReactNode} from 'react';
import {theme} from '../theme.js';

type Props = {readonly rows: ReadonlyArray<readonly [label: string, value: ReactNode]>};

/** Label-value lines of a detail view, labels muted in one column. */
export function Fields({rows}: Props): ReactNode {
	return rows.map(([label, value]) => (
		<Text key={label} wrap="truncate-end">
			<Text {...theme.muted}>{label.padEnd(16)}</Text>
			{value}
		</Text>
	));
}
