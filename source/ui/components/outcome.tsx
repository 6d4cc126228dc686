import {Box} from 'ink';
import {Text} from './text.js';
import type {Outcome} from '../hooks/use-recorded-run.js';
import {theme} from '../theme.js';

/** The last action's sentence and its `orgctl` command, wrapped to the pane's width. */
export function OutcomeLines({outcome, width}: {readonly outcome: Outcome | undefined; readonly width: number}) {
	if (!outcome) return null;
	return (
		<Box flexDirection="column" width={width} marginTop={1}>
			<Text {...(outcome.ok ? theme.success : theme.error)} wrap="wrap">
				{outcome.ok ? '✓ ' : '✗ '}
				{outcome.text}
			</Text>
			{outcome.command ? (
				<Text {...theme.muted} wrap="wrap">
					$ {outcome.command}
				</Text>
			) : null}
		</Box>
	);
}
