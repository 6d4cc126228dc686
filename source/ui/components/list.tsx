import {memo, useEffect, useMemo, type ReactNode} from 'react';
import {Box} from 'ink';
import {Text} from './text.js';
import type {KeyPress} from '../key-press.js';
import {editLine} from '../line-edit.js';
import type {Command} from '../keymap.js';
import {TextField} from './text-field.js';
import {useKeys, PRIORITY} from '../input-router.js';
import useBurstReducer from '../hooks/use-burst-reducer.js';
import {followFit, table, type Column} from '../columns.js';
import {followSearch, type Rows} from '../list-search.js';
import {clampView, initialListState, listReducer, positionLabel, visibleRange, type ListFrame} from '../list-state.js';
import {theme} from '../theme.js';

type Props<T> = {
	readonly items: readonly T[];
	/** A stable key per item (an id). */
	readonly keyOf: (item: T) => string;
	/** The table's columns, declared once: they make the header and every row (see columns.ts). */
	readonly columns?: readonly Column<T>[];
	/** Without `columns`: one line for an item, at most `width` columns. */
	readonly renderRow?: (item: T, width: number) => string;
	/** The text `/` filters on (e.g. username and e-mail); without it the list has no filter. */
	readonly filterText?: (item: T) => string;
	/** Without `columns`: a line above the rows; counts towards `height`. */
	readonly header?: string;
	readonly title?: string;
	readonly width: number;
	/** Rows available, including title, header and the filter line. */
	readonly height: number;
	readonly onOpen?: (item: T) => void;
	/**
	 * The section's own commands on the selected row (key map rows whose `where` is in `contexts`).
	 * Return true when handled.
	 */
	readonly onCommand?: (command: Command, item: T | undefined) => boolean;
	/** Extra key contexts this list serves, e.g. the section id, so its keys show in the status bar. */
	readonly contexts?: readonly string[];
	/**
	 * Why a section command is refused on this row (the core's own check, e.g. an admin on a
	 * superuser's row): the key stays offered, and pressing it says why before any form opens.
	 */
	readonly refusal?: (command: Command, item: T | undefined) => string | undefined;
	/** How the audit names the selected item when one of its keys is refused (its key when not given). */
	readonly targetOf?: (item: T) => string;
	/** Section commands not offered here at all (left out of the status bar). */
	readonly hidden?: readonly Command[];
	/** False while a detail view or dialog covers the list. */
	readonly active?: boolean;
	readonly emptyText?: string;
};

/**
 * The rows that match the filter (see list-search.ts). The search texts (one lower-cased string
 * per row: 8.6 MB at 100,000 users) are held only while the filter is in use: built as `/` opens
 * it, before the first letter is typed, kept while a query applies (a change of the rows then
 * lowers only the rows that changed), and let go when the filter is closed and cleared. A console
 * that sits on its list holds none.
 */
function useFilteredRows<T>(items: readonly T[], filterText: ((item: T) => string) | undefined, query: string, filtering: boolean): Rows<T> {
	const inUse = filtering || query !== '';
	const searchOf = useMemo(() => followSearch(filterText), [filterText]);
	const search = useMemo(() => searchOf(items, inUse), [searchOf, items, inUse]);
	useEffect(() => {
		if (!filterText || !inUse) return undefined;
		// Right after the frame that opened the filter line, so that `/` itself is drawn at once.
		const timer = setTimeout(() => {
			search.warm();
		}, 0);
		return () => {
			clearTimeout(timer);
		};
	}, [search, filterText, inUse]);
	return useMemo(() => search.match(query), [search, query]);
}

/**
 * The columns fitted to the rows' content (columns.ts): measured over every row once, then, when
 * the rows change by a few records, over those records only.
 */
function useFittedColumns<T>(columns: readonly Column<T>[] | undefined, items: readonly T[]): readonly Column<T>[] | undefined {
	const fit = useMemo(() => (columns ? followFit(columns) : undefined), [columns]);
	return useMemo(() => fit?.(items), [fit, items]);
}

const Row = memo(function Row({line, selected}: {readonly line: string; readonly selected: boolean}) {
	return (
		<Text wrap="truncate-end" {...(selected ? theme.selected : {})}>
			{selected ? theme.pointer : ' '}
			{line}
		</Text>
	);
});

/**
 * The windowed list every section uses: cursor and scroll window in a pure reducer, only visible
 * rows rendered, `/` filter, g/G, PgUp/PgDn, and the position ("12–30 of 5000").
 */
export function List<T>(props: Props<T>): ReactNode {
	const {items, keyOf, columns, filterText, title, width, height, onOpen, onCommand, contexts = [], active = true, emptyText = 'Nothing here yet.', refusal, targetOf, hidden = []} = props;
	const fitted = useFittedColumns(columns, items);
	// The pointer takes one column of the width.
	const layout = useMemo(() => (fitted ? table(fitted, width - 1) : undefined), [fitted, width]);
	const header = layout?.header ?? props.header;
	const renderRow = layout ? layout.line : (item: T) => props.renderRow?.(item, width - 1) ?? '';
	// Keys that arrive before the next frame (j then d, a few milliseconds apart) must act on the
	// row the cursor is on now, not on the row of the last frame drawn.
	const [raw, dispatch, latest] = useBurstReducer(listReducer, initialListState);

	const rows = useFilteredRows(items, filterText, raw.query, raw.filtering);

	const showFilterLine = raw.filtering || raw.query !== '';
	const chrome = 1 + (header ? 1 : 0) + (showFilterLine ? 1 : 0);
	const frame: ListFrame = {count: rows.length, height: Math.max(1, height - chrome)};
	const state = clampView(raw, frame);
	/** The row under the cursor as of the last key handled, which may be ahead of the last frame. */
	const current = (): T | undefined => rows.at(clampView(latest(), frame).cursor);

	const onFilterKey = (command: Command | undefined, key: KeyPress): boolean => {
		if (command === 'filter.keep') {
			dispatch({type: 'filter.keep'});
			return true;
		}
		if (command === 'filter.clear') {
			dispatch({type: 'filter.clear'});
			return true;
		}
		// Arrows still move while typing, so the user can watch the matches.
		if (key.name === 'up' || key.name === 'down') {
			dispatch({type: 'move', delta: key.name === 'up' ? -1 : 1, ...frame});
			return true;
		}
		const query = latest().query;
		if (editLine({value: query, cursor: latest().queryCursor ?? [...query].length}, key) === undefined) return false;
		dispatch({type: 'filter.key', key});
		return true;
	};

	useKeys(
		['list', ...contexts],
		(command, key) => {
			// `/` then a fast `z`: the filter field's own layer registers only after the next frame,
			// so until then the list hands keys to the filter itself rather than dropping them.
			if (latest().filtering) return onFilterKey(command === 'list.clearFilter' ? 'filter.clear' : command === 'list.open' ? 'filter.keep' : undefined, key);
			switch (command) {
				case 'list.up':
					dispatch({type: 'move', delta: -1, ...frame});
					return true;
				case 'list.down':
					dispatch({type: 'move', delta: 1, ...frame});
					return true;
				case 'list.pageUp':
					dispatch({type: 'page', direction: -1, ...frame});
					return true;
				case 'list.pageDown':
					dispatch({type: 'page', direction: 1, ...frame});
					return true;
				case 'list.first':
					dispatch({type: 'first', ...frame});
					return true;
				case 'list.last':
					dispatch({type: 'last', ...frame});
					return true;
				case 'list.filter':
					if (!filterText) return false;
					dispatch({type: 'filter.start'});
					return true;
				case 'list.clearFilter':
					if (latest().query === '') return false;
					dispatch({type: 'filter.clear'});
					return true;
				case 'list.open': {
					const item = current();
					if (item === undefined || !onOpen) return false;
					onOpen(item);
					return true;
				}
				case undefined:
					return false;
				default:
					return onCommand ? onCommand(command, current()) : false;
			}
		},
		{
			priority: PRIORITY.list,
			active: active && !raw.filtering,
			refusal: command => refusal?.(command, current()),
			target: () => {
				const item = current();
				return item === undefined ? undefined : (targetOf ?? keyOf)(item);
			},
			// Enter is offered only where it opens something.
			hidden: onOpen ? hidden : ['list.open', ...hidden],
		},
	);

	useKeys(
		['filter'],
		(command, key) => onFilterKey(command, key),
		{priority: PRIORITY.text, kind: 'text', active: active && raw.filtering},
	);

	const {from, to} = visibleRange(state, frame);
	const visible: ReactNode[] = [];
	for (let i = from; i < to; i++) {
		const item = rows.at(i)!;
		const isSelected = i === state.cursor;
		// Keyed by its position modulo the window's height, not by the item: a Row holds no state, so
		// a filter key or a page that shows other items updates the 20-odd Rows' text instead of
		// unmounting them and mounting new ones (a fiber, an Ink node and a Yoga node each), and a
		// scroll by one row keeps every Row still in view as it was and reuses the one that left.
		visible.push(<Row key={i % frame.height} line={renderRow(item)} selected={isSelected} />);
	}
	const position = positionLabel(state, frame, items.length);

	return (
		<Box flexDirection="column" width={width} height={height} overflow="hidden">
			<Box width={width} justifyContent="space-between">
				<Text {...theme.heading} wrap="truncate-end">
					{title ?? ''}
				</Text>
				<Text {...theme.muted}>{position}</Text>
			</Box>
			{showFilterLine ? (
				<Text wrap="truncate-end">
					<Text {...theme.key}>/</Text>
					{raw.filtering ? <TextField line={{value: state.query, cursor: state.queryCursor ?? [...state.query].length}} width={Math.max(10, width - 2)} focused /> : state.query}
					{raw.filtering ? null : <Text {...theme.muted}> (Esc clears)</Text>}
				</Text>
			) : null}
			{header ? (
				<Text {...theme.muted} wrap="truncate-end">
					{' '}
					{header}
				</Text>
			) : null}
			{rows.length === 0 ? <Text {...theme.muted}> {raw.query !== '' ? 'No row matches the filter.' : emptyText}</Text> : visible}
		</Box>
	);
}
