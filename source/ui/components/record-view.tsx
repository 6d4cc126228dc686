import {Box} from 'ink';
import {Text} from './text.js';
import type {ReactNode} from 'react';
import {PRIORITY, useKeys, type KeyHandler, type Refusal} from '../input-router.js';
import type {Command} from '../keymap.js';
import {theme} from '../theme.js';
import {Fields} from './fields.js';

type Props = {
	readonly title: string;
	readonly rows: ReadonlyArray<readonly [label: string, value: ReactNode]>;
	readonly width: number;
	readonly height: number;
	readonly onBack: () => void;
	/** Key contexts of the section, so its keys (r, y, d...) work here on this record too. */
	readonly contexts?: readonly string[];
	/** The section's commands on this record; return true when handled. */
	readonly onCommand?: (command: Parameters<KeyHandler>[0], key: Parameters<KeyHandler>[1]) => boolean;
	/** Why a section command is refused on this record (see List's `refusal`). */
	readonly refusal?: Refusal;
	readonly hidden?: readonly Command[];
	/** Lines after the fields (a note on what the user may do). */
	readonly children?: ReactNode;
};

/**
 * Enter on a row: every field of the record, whole (DESIGN §7: wrapped, never cut), Esc back. The
 * section's keys keep working on the record shown (passed through `onCommand`).
 */
export function RecordView({title, rows, width, height, onBack, contexts = [], onCommand, refusal, hidden, children}: Props) {
	useKeys(
		['detail', ...contexts],
		(command, key) => {
			if (command === 'view.back') {
				onBack();
				return true;
			}
			return onCommand ? onCommand(command, key) : false;
		},
		{priority: PRIORITY.detail, ...(refusal ? {refusal} : {}), ...(hidden ? {hidden} : {})},
	);
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Text wrap="truncate-end">
				<Text {...theme.heading}>{title}</Text>
				<Text {...theme.muted}> (Esc: back)</Text>
			</Text>
			<Text> </Text>
			<Fields rows={rows} width={width} />
			{children}
		</Box>
	);
}
