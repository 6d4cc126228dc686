import {useState} from 'react';
import {Box, useStdout} from 'ink';
import {Text} from './text.js';
import {copyToClipboard, describeCopy} from '../../adapters/clipboard.js';
import type {Revealed} from '../console-context.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';

type Props = {
	readonly revealed: Revealed;
	readonly width: number;
	readonly height: number;
	readonly onClose: () => void;
	/** Told where a copy went (for the status line). */
	readonly onCopied?: (text: string) => void;
};

/**
 * A value shown whole across the screen: a token's secret (76 characters: one line at 80
 * columns), the last command. `y` copies it (OSC 52, tmux or the system clipboard); it stays on
 * screen either way, since no terminal confirms a copy.
 */
export function ValueView({revealed, width, height, onClose, onCopied}: Props) {
	const {stdout} = useStdout();
	const [copied, setCopied] = useState<string | undefined>(undefined);
	useKeys(
		['value'],
		command => {
			if (command === 'value.close') onClose();
			else if (command === 'value.copy') {
				void copyToClipboard(revealed.value, {output: stdout}).then(result => {
					const text = `${revealed.what} ${describeCopy(result)}.`;
					setCopied(text);
					onCopied?.(text);
				});
			}
			return true;
		},
		{priority: PRIORITY.value, kind: 'modal'},
	);
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Text {...theme.title} wrap="truncate-end">
				{revealed.title}
			</Text>
			<Text> </Text>
			{(revealed.lead ?? []).map(line => (
				<Text key={line} wrap="wrap" {...(revealed.warning ? theme.warning : {})}>
					{line}
				</Text>
			))}
			{revealed.lead?.length ? <Text> </Text> : null}
			<Text wrap="wrap" {...theme.accent}>
				{revealed.value}
			</Text>
			<Text> </Text>
			{revealed.note ? (
				<Text {...theme.muted} wrap="wrap">
					{revealed.note}
				</Text>
			) : null}
			{copied ? (
				<Text {...theme.success} wrap="wrap">
					✓ {copied}
				</Text>
			) : (
				<Text {...theme.muted}>y copies it · Esc closes</Text>
			)}
		</Box>
	);
}
