import type {ReactNode} from 'react';
import {Box} from 'ink';
import {Text} from '../../components/text.js';
import type {SettingsView} from '../../../core/server-settings.js';
import {OutcomeLines} from '../../components/outcome.js';
import type {Outcome} from '../../hooks/use-recorded-run.js';
import type {Command} from '../../keymap.js';
import {PRIORITY, useKeys} from '../../input-router.js';
import {theme} from '../../theme.js';

/** What every pane of Server Settings gets. */
export type PaneProps = {readonly view: SettingsView; readonly width: number; readonly height: number; readonly onBack: () => void};

/**
 * One pane shown (not edited): its title, its rows, the last outcome, and its keys. `keys` gets the
 * pane's own commands (its `contexts`, after `settings-pane`'s `e`); Esc goes back to the list.
 */
export function PaneView({title, contexts, onKey, onBack, outcome, width, active = true, children}: {
	readonly title: string;
	readonly contexts: readonly string[];
	readonly onKey: (command: Command) => boolean;
	readonly onBack: () => void;
	readonly outcome: Outcome | undefined;
	readonly width: number;
	readonly active?: boolean;
	readonly children: ReactNode;
}) {
	useKeys(
		['detail', 'settings-pane', ...contexts],
		command => {
			if (command === 'view.back') {
				onBack();
				return true;
			}
			return command !== undefined && onKey(command);
		},
		{priority: PRIORITY.detail, active},
	);
	return (
		<Box flexDirection="column" width={width}>
			<Text {...theme.heading} wrap="truncate-end">
				{title} <Text {...theme.muted}>(Esc: back to Server Settings)</Text>
			</Text>
			<Text> </Text>
			{children}
			<OutcomeLines outcome={outcome} width={width} />
		</Box>
	);
}

/** A warning line (an expiring certificate, an unreachable public URL). */
export function Warning({text, width}: {readonly text: string | undefined; readonly width: number}) {
	if (!text) return null;
	return (
		<Box width={width} marginTop={1}>
			<Text {...theme.warning} wrap="wrap">
				⚠ {text}
			</Text>
		</Box>
	);
}
