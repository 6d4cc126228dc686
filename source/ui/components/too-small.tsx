import {useState} from 'react';
import {Box} from 'ink';
import {Text} from './text.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';

/** The smallest terminal the console draws in: what an SSH session opens at. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

type Props = {readonly columns: number; readonly rows: number; readonly dirty: boolean; readonly onQuit: () => void};

/**
 * Shown instead of the console while the terminal is smaller than 80×24, rather than a screen
 * drawn over itself. What is open stays open underneath (a form keeps what was typed) and comes
 * back when the window is big enough; keys are held meanwhile, except q and Ctrl-C, which quit
 * (a second time when a form has unsaved input).
 */
export function TooSmall({columns, rows, dirty, onQuit}: Props) {
	const [warned, setWarned] = useState(false);
	useKeys(
		['too-small'],
		(_command, key) => {
			if (key.name === 'ctrl-c' || key.name === 'q') {
				if (dirty && !warned) setWarned(true);
				else onQuit();
			}
			return true;
		},
		{priority: PRIORITY.screen, kind: 'modal'},
	);
	const lines = [
		`orgctl needs a terminal of at least ${MIN_COLUMNS}×${MIN_ROWS};`,
		`this one is ${columns}×${rows}.`,
		'Make the window larger: everything',
		'comes back as it was.',
		warned ? 'A form has unsaved input: q again quits.' : 'q quits.',
	];
	return (
		<Box flexDirection="column" width={columns} height={Math.max(1, rows - 1)} overflow="hidden">
			{lines.map(line => (
				<Text key={line} wrap="wrap" {...(line.startsWith('orgctl') ? theme.warning : {})}>
					{line}
				</Text>
			))}
		</Box>
	);
}
