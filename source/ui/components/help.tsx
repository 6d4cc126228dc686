import {Box} from 'ink';
import {Text} from './text.js';
import type {ActorFacts} from '../../core/policy.js';
import {useBurstState} from '../hooks/use-burst-reducer.js';
import {CONTEXT_TITLES, KEYMAP, policyRefusal} from '../keymap.js';
import {PRIORITY, useKeys} from '../input-router.js';
import {editLine, type Line as EditedLine} from '../line-edit.js';
import {theme} from '../theme.js';
import {TextField} from './text-field.js';

type Props = {
	readonly width: number;
	readonly height: number;
	/** Titles for section contexts (section id → title). */
	readonly sectionTitles: Readonly<Record<string, string>>;
	/** Who is signed in: keys their role never allows are marked. */
	readonly facts?: ActorFacts | undefined;
	/** Contexts of sections this user cannot see: their keys are not offered here either. */
	readonly hiddenContexts?: readonly string[];
	readonly onClose: () => void;
};

export type HelpLine = {readonly heading?: string; readonly label?: string; readonly description?: string; readonly command?: string; readonly group: string};

/** Every line of help, built from the key map itself: what the handlers do is what help says. Each context's rows appear once, under its heading; the contexts of sections the user cannot see are left out. */
export function helpLines(sectionTitles: Readonly<Record<string, string>>, hiddenContexts: readonly string[] = []): HelpLine[] {
	const order: string[] = [];
	for (const where of [...Object.keys(CONTEXT_TITLES), ...Object.keys(sectionTitles), ...KEYMAP.map(b => b.where)]) if (!order.includes(where) && !hiddenContexts.includes(where)) order.push(where);
	const groups = new Map<string, HelpLine[]>();
	for (const where of order) {
		const rows = KEYMAP.filter(b => b.where === where);
		if (rows.length === 0) continue;
		const heading = sectionTitles[where] ?? CONTEXT_TITLES[where] ?? where;
		// Contexts that share a title (a form and a form that can be cancelled) read as one group.
		const group = groups.get(heading) ?? [];
		groups.set(heading, group);
		for (const row of rows) group.push({label: row.label, description: row.description, command: row.command, group: heading});
	}
	return [...groups].flatMap(([heading, rows]) => [{heading, group: heading}, ...rows]);
}

/** The lines that match a search (every word, in the key, its description or its heading), each under its heading. */
export function searchHelp(lines: readonly HelpLine[], query: string): HelpLine[] {
	const words = query.toLowerCase().split(/\s+/).filter(w => w !== '');
	if (words.length === 0) return [...lines];
	const matches = (line: HelpLine) => {
		const text = `${line.group} ${line.label ?? ''} ${line.description ?? ''}`.toLowerCase();
		return words.every(w => text.includes(w));
	};
	const result: HelpLine[] = [];
	for (const line of lines) {
		if (line.heading !== undefined || !matches(line)) continue;
		if (!result.some(l => l.heading === line.group)) result.push({heading: line.group, group: line.group});
		result.push(line);
	}
	return result;
}

type View = {readonly offset: number; readonly query: EditedLine; readonly searching: boolean};

/**
 * The `?` overlay: the whole key map, grouped by where it works, paged with ↑↓ PgUp PgDn g G and
 * searched with `/`. A page that starts inside a group repeats its heading, so every row reads
 * under the heading it belongs to.
 */
export function Help({width, height, sectionTitles, facts, hiddenContexts = [], onClose}: Props) {
	const all = helpLines(sectionTitles, hiddenContexts);
	const [view, setView, latest] = useBurstState<View>({offset: 0, query: {value: '', cursor: 0}, searching: false});
	const lines = searchHelp(all, view.query.value);
	const searchLine = view.searching || view.query.value !== '' ? 1 : 0;
	const visible = Math.max(1, height - 1 - searchLine);
	const maxOffset = Math.max(0, lines.length - visible);
	const offset = Math.min(view.offset, maxOffset);
	const scroll = (to: (offset: number, page: number, max: number) => number) => {
		const current = latest();
		const max = Math.max(0, searchHelp(all, current.query.value).length - visible);
		setView({...current, offset: Math.max(0, Math.min(max, to(Math.min(current.offset, max), Math.max(1, visible - 1), max)))});
	};
	useKeys(
		['help'],
		command => {
			switch (command) {
				case 'help.close':
					onClose();
					break;
				case 'help.up':
					scroll(o => o - 1);
					break;
				case 'help.down':
					scroll(o => o + 1);
					break;
				case 'help.pageUp':
					scroll((o, page) => o - page);
					break;
				case 'help.pageDown':
					scroll((o, page) => o + page);
					break;
				case 'help.first':
					scroll(() => 0);
					break;
				case 'help.last':
					scroll((_o, _p, max) => max);
					break;
				case 'help.search':
					setView({...latest(), searching: true});
					break;
				default:
					break;
			}
			return true;
		},
		{priority: PRIORITY.help, kind: 'modal', active: !view.searching},
	);
	useKeys(
		['filter'],
		(command, key) => {
			const current = latest();
			if (command === 'filter.keep') setView({...current, searching: false});
			else if (command === 'filter.clear') setView({offset: 0, query: {value: '', cursor: 0}, searching: false});
			else {
				const query = editLine(current.query, key);
				if (query) setView({...current, query, offset: 0});
			}
			return true;
		},
		{priority: PRIORITY.help + 1, kind: 'text', active: view.searching},
	);
	const labelWidth = 14;
	const shown = lines.slice(offset, offset + visible);
	// A page that starts inside a group shows its heading first.
	const first = shown[0];
	if (first && first.heading === undefined) shown.splice(0, 1, {heading: `${first.group} (continued)`, group: first.group});
	const position = lines.length === 0 ? 'no match' : `${offset + 1}–${Math.min(lines.length, offset + visible)} of ${lines.length}`;
	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Box justifyContent="space-between" width={width}>
				<Text {...theme.title}>Keys</Text>
				<Text {...theme.muted}>{`${position} · PgDn/PgUp · / search · Esc closes`}</Text>
			</Box>
			{searchLine ? (
				<Text wrap="truncate-end">
					<Text {...theme.key}>/</Text>
					{view.searching ? <TextField line={view.query} width={Math.max(10, width - 2)} focused /> : <Text>{view.query.value}</Text>}
					{view.searching ? null : <Text {...theme.muted}> (/ again to change, Esc closes help)</Text>}
				</Text>
			) : null}
			{shown.map((line, i) =>
				line.heading !== undefined ? (
					<Text key={`${offset + i}`} {...theme.heading} wrap="truncate-end">
						{line.heading}
					</Text>
				) : (
					<Text key={`${offset + i}`} wrap="truncate-end">
						{'  '}
						<Text {...theme.key}>{(line.label ?? '').padEnd(labelWidth)}</Text>
						{line.description}
						{notForYou(line, facts) ? <Text {...theme.muted}> (not for your role)</Text> : null}
					</Text>
				),
			)}
		</Box>
	);
}

function notForYou(line: HelpLine, facts: ActorFacts | undefined): boolean {
	const binding = KEYMAP.find(b => b.command === line.command);
	return binding !== undefined && policyRefusal(binding, facts) !== undefined;
}
