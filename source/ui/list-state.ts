import type {KeyPress} from './key-press.js';
import {editLine} from './line-edit.js';

/**
 * Navigation state of a windowed list, as a pure reducer: a cursor, the first visible row, and a
 * filter. Only the rows in the window are rendered (TUI.md pitfall 9), so the cost of a key does not
 * grow with the list. Each action carries the current row count and window height, so the reducer
 * clamps without knowing the data (bursts like `jjj` accumulate correctly).
 */
export type ListState = {
	readonly cursor: number;
	readonly top: number;
	readonly query: string;
	/** Where the filter's cursor is (code points before it); undefined: at its end. */
	readonly queryCursor?: number;
	/** True while the user types the filter. */
	readonly filtering: boolean;
};

/** How many rows there are (after filtering) and how many fit. */
export type ListFrame = {readonly count: number; readonly height: number};

export type ListAction =
	| ({readonly type: 'move'; readonly delta: number} & ListFrame)
	| ({readonly type: 'page'; readonly direction: 1 | -1} & ListFrame)
	| ({readonly type: 'first'} & ListFrame)
	| ({readonly type: 'last'} & ListFrame)
	| ({readonly type: 'select'; readonly index: number} & ListFrame)
	| {readonly type: 'filter.start'}
	| {readonly type: 'filter.type'; readonly query: string}
	/** A key typed into the filter; applied to the latest query, so a burst types every character. */
	| {readonly type: 'filter.key'; readonly key: KeyPress}
	| {readonly type: 'filter.keep'}
	| {readonly type: 'filter.clear'};

export const initialListState: ListState = {cursor: 0, top: 0, query: '', filtering: false};

/** Puts the cursor inside [0, count) and the window around it. */
export function clampView(state: ListState, frame: ListFrame): ListState {
	const height = Math.max(1, frame.height);
	const cursor = frame.count === 0 ? 0 : Math.min(Math.max(0, state.cursor), frame.count - 1);
	let top = Math.min(Math.max(0, state.top), Math.max(0, frame.count - height));
	if (cursor < top) top = cursor;
	if (cursor >= top + height) top = cursor - height + 1;
	return cursor === state.cursor && top === state.top ? state : {...state, cursor, top};
}

export function listReducer(state: ListState, action: ListAction): ListState {
	switch (action.type) {
		case 'move': {
			// Clamp first: the data may have shrunk since the last key (a filter, a refresh).
			const base = clampView(state, action);
			return clampView({...base, cursor: base.cursor + action.delta}, action);
		}
		case 'page': {
			const base = clampView(state, action);
			const step = Math.max(1, action.height - 1);
			return clampView({...base, cursor: base.cursor + action.direction * step, top: base.top + action.direction * step}, action);
		}
		case 'first':
			return clampView({...state, cursor: 0, top: 0}, action);
		case 'last':
			return clampView({...state, cursor: action.count - 1, top: action.count}, action);
		case 'select':
			return clampView({...state, cursor: action.index}, action);
		case 'filter.start':
			return {...state, filtering: true};
		case 'filter.type':
			return {...state, query: action.query, queryCursor: [...action.query].length, cursor: 0, top: 0};
		case 'filter.key': {
			const line = editLine({value: state.query, cursor: state.queryCursor ?? [...state.query].length}, action.key);
			if (!line) return state;
			if (line.value === state.query) return line.cursor === state.queryCursor ? state : {...state, queryCursor: line.cursor};
			return {...state, query: line.value, queryCursor: line.cursor, cursor: 0, top: 0};
		}
		case 'filter.keep':
			return {...state, filtering: false};
		case 'filter.clear':
			return {...state, query: '', queryCursor: 0, filtering: false, cursor: 0, top: 0};
	}
}

/** The rows to render: [from, to) of the (filtered) rows. */
export function visibleRange(state: ListState, frame: ListFrame): {from: number; to: number} {
	const view = clampView(state, frame);
	return {from: view.top, to: Math.min(frame.count, view.top + Math.max(1, frame.height))};
}

/** "12–30 of 5000", or "none" for an empty list; names the unfiltered total when a filter is on. */
export function positionLabel(state: ListState, frame: ListFrame, total: number): string {
	const filtered = state.query !== '' ? ` (filter of ${total})` : '';
	if (frame.count === 0) return state.query !== '' ? `no match${filtered}` : 'none';
	const {from, to} = visibleRange(state, frame);
	return `${from + 1}–${to} of ${frame.count}${filtered}`;
}

/** Case-insensitive match of every word of the query, in any order, against a lower-cased haystack. */
export function matchesQuery(haystack: string, query: string): boolean {
	return matchesWords(haystack, queryWords(query));
}

/** The words of a query, lower-cased: split once per query, not once per row (100,000 per key). */
export function queryWords(query: string): readonly string[] {
	return query
		.toLowerCase()
		.split(/\s+/)
		.filter(word => word !== '');
}

/** Whether a lower-cased haystack holds every one of `words` (from {@link queryWords}). */
export function matchesWords(haystack: string, words: readonly string[]): boolean {
	for (const word of words) if (!haystack.includes(word)) return false;
	return true;
}
