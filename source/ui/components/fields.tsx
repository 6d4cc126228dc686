import {Box} from 'ink';
import {Text} from './text.js';
import type {ReactNode} from 'react';
import {theme} from '../theme.js';

type Props = {
	readonly rows: ReadonlyArray<readonly [label: string, value: ReactNode]>;
	/** The columns the rows may use: values wrap inside what the labels leave, never cut. */
	readonly width: number;
};

/** Width of the label column of a detail view. */
export const LABEL_WIDTH = 16;

/** Label-value lines of a detail view: labels muted in one column, every value whole (wrapped, never cut). */
export function Fields({rows, width}: Props): ReactNode {
	const valueWidth = Math.max(10, width - LABEL_WIDTH);
	// Keyed by position: continuation rows (a fingerprint's second line) have no label of their own.
	return rows.map(([label, value], i) => (
		<Box key={`${i}:${label}`} width={width}>
			<Box width={LABEL_WIDTH} flexShrink={0}>
				<Text {...theme.muted}>{label}</Text>
			</Box>
			<Box width={valueWidth} flexShrink={0}>
				<Text wrap="wrap">{value}</Text>
			</Box>
		</Box>
	));
}
