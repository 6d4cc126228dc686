import {Text} from 'ink';
import type {ReactNode} from 'react';
import {theme} from '../theme.js';

type Props = {readonly rows: ReadonlyArray<readonly [label: string, value: ReactNode]>};

/** Label-value lines of a detail view, labels muted in one column. */
export function Fields({rows}: Props): ReactNode {
	// Keyed by position: continuation rows (a fingerprint's second line) have no label of their own.
	return rows.map(([label, value], i) => (
		<Text key={`${i}:${label}`} wrap="truncate-end">
			<Text {...theme.muted}>{label.padEnd(16)}</Text>
			{value}
		</Text>
	));
}
