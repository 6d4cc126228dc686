import {describe, expect, it} from 'vitest';
import {clampView, initialListState, listReducer, matchesQuery, positionLabel, visibleRange, type ListAction, type ListState} from '../../source/ui/list-state.js';

const frame = {count: 5000, height: 19};
const run = (actions: ListAction[], state: ListState = initialListState) => actions.reduce(listReducer, state);

describe('the windowed list', () => {
	it('moves the cursor and keeps it inside the window', () => {
		const state = run(Array.from({length: 25}, () => ({type: 'move', delta: 1, ...frame}) as const));
		expect(state.cursor).toBe(25);
		expect(state.top).toBe(25 - 19 + 1);
		expect(visibleRange(state, frame)).toEqual({from: 7, to: 26});
	});

	it('never moves above the first or below the last row', () => {
		expect(run([{type: 'move', delta: -3, ...frame}]).cursor).toBe(0);
		expect(run([{type: 'last', ...frame}, {type: 'move', delta: 5, ...frame}]).cursor).toBe(4999);
	});

	it('jumps to the ends with g and G', () => {
		const last = run([{type: 'last', ...frame}]);
		expect(last).toMatchObject({cursor: 4999, top: 5000 - 19});
		expect(run([{type: 'first', ...frame}], last)).toMatchObject({cursor: 0, top: 0});
	});

	it('pages by a window less one row, so one row stays in view', () => {
		const down = run([{type: 'page', direction: 1, ...frame}]);
		expect(down).toMatchObject({cursor: 18, top: 18});
		expect(run([{type: 'page', direction: -1, ...frame}], down)).toMatchObject({cursor: 0, top: 0});
	});

	it('shows the position as "from–to of total"', () => {
		const state = run([{type: 'select', index: 29, ...frame}]);
		expect(positionLabel(state, frame, 5000)).toBe('12–30 of 5000');
		expect(positionLabel(initialListState, {count: 0, height: 10}, 0)).toBe('none');
	});

	it('a filter resets the cursor, types every key of a burst, and Esc clears it', () => {
		let state = run([{type: 'select', index: 40, ...frame}, {type: 'filter.start'}]);
		for (const ch of 'zed') state = listReducer(state, {type: 'filter.key', key: {name: ch, text: ch}});
		expect(state).toMatchObject({query: 'zed', filtering: true, cursor: 0, top: 0});
		state = listReducer(state, {type: 'filter.key', key: {name: 'backspace', text: ''}});
		expect(state.query).toBe('ze');
		expect(listReducer(state, {type: 'filter.keep'})).toMatchObject({query: 'ze', filtering: false});
		expect(listReducer(state, {type: 'filter.clear'})).toMatchObject({query: '', filtering: false});
		expect(positionLabel({...state, filtering: false}, {count: 3, height: 10}, 5000)).toBe('1–3 of 3 (filter of 5000)');
	});

	it('clamps to data that shrank since the last key', () => {
		const far = run([{type: 'select', index: 300, ...frame}]);
		const small = {count: 10, height: 19};
		expect(clampView(far, small)).toMatchObject({cursor: 9, top: 0});
		expect(listReducer(far, {type: 'move', delta: -1, ...small}).cursor).toBe(8);
	});

	it('matches every word of the filter in any order, ignoring case', () => {
		expect(matchesQuery('zed zed@corp.example guest', 'GUEST zed')).toBe(true);
		expect(matchesQuery('zed zed@corp.example guest', 'zed admin')).toBe(false);
	});
});
