import {useState} from 'react';
import {Box, Text} from 'ink';
import {CONTEXT_TITLES, KEYMAP} from '../keymap.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {theme} from '../theme.js';

type Props = {
	readonly width: number;
	readonly height: number;
	/** Titles for section contexts (section id → title). */
	readonly sectionTitles: Readonly<Record<string, string>>;
	/** Contexts of sections this user cannot see: their keys are not offered here either. */
	readonly hiddenContexts?: readonly string[];
	readonly onClose: () => void;
};

type Line = {readonly heading?: string; readonly label?: string; readonly description?: string};

/** Every line of help, built from the key map itself: what the handlers do is what help says. */
export function helpLines(sectionTitles: Readonly<Record<string, string>>, hiddenContexts: readonly string[] = []): Line[] {
	const order = [...Object.keys(CONTEXT_TITLES), ...Object.keys(sectionTitles)].filter(where => !hiddenContexts.includes(where));
	for (const binding of KEYMAP) if (!order.includes(binding.where) && !hiddenContexts.includes(binding.where)) order.push(binding.where);
	const lines: Line[] = [];
	for (const where of order) {
		const rows = KEYMAP.filter(b => b.where === where);
		if (rows.length === 0) continue;
		const heading = sectionTitles[where] ?? CONTEXT_TITLES[where] ?? where;
		// Contexts that share a title (a form and a form that can be cancelled) read as one group.
		if (!lines.some(l => l.heading === heading)) lines.push({heading});
		for (const row of rows) lines.push({label: row.label, description: row.description});
	}
	return lines;
}

/** The `?` overlay: the whole key map, grouped by where it works, scrollable. */
export function Help({width, height, sectionTitles, hiddenContexts = [], onClose}: Props) {
	const lines = helpLines(sectionTitles, hiddenContexts);
	const [offset, setOffset] = useState(0);
	const visible = Math.max(1, height - 2);
	const maxOffset = Math.max(0, lines.length - visible);
	useKeys(
		['help'],
		command => {
			if (command === 'help.close') onClose();
			else if (command === 'help.up') setOffset(o => Math.max(0, o - 1));
			else if (command === 'help.down') setOffset(o => Math.min(maxOffset, o + 1));
			return true;
		},
		{priority: PRIORITY.help, kind: 'modal'},
	);
	const labelWidth = 14;
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Box justifyContent="space-between" width={width}>
				<Text {...theme.title}>Keys</Text>
				<Text {...theme.muted}>{maxOffset > 0 ? `↑↓ scroll · ${offset + 1}–${Math.min(lines.length, offset + visible)} of ${lines.length} · ` : ''}Esc closes</Text>
			</Box>
			{lines.slice(offset, offset + visible).map((line, i) =>
				line.heading ? (
					<Text key={i} {...theme.heading}>
						{line.heading}
					</Text>
				) : (
					<Text key={i} wrap="truncate-end">
						{'  '}
						<Text {...theme.key}>{(line.label ?? '').padEnd(labelWidth)}</Text>
						{line.description}
					</Text>
				),
			)}
		</Box>
	);
}
