import {describe, expect, it} from 'vitest';
import {listSearch} from '../../source/ui/list-search.js';
import {matchesQuery} from '../../source/ui/list-state.js';

const NAMES = Array.from({length: 2000}, (_, i) => `${['ada', 'alan', 'grace', 'edsger'][i % 4]}.${['lovelace', 'turing', 'hopper'][i % 3]}${i} ${i % 5 === 0 ? 'admin' : 'member'}`);

describe('the / filter of a list (ui/list-search.ts)', () => {
	it('answers every query of typing, correcting and retyping as a search of all the rows would', () => {
		const search = listSearch(NAMES, name => name);
		const keys = ['a', 'ad', 'ada', 'ad', 'a', '', 'g', 'gr', 'gr ', 'gr a', 'gr ad', 'gr adm', 'gr ad', 'gr', 'GR', 'gra', 'x', '', 'ada 1', 'ada 12', 'ada 1'];
		for (const query of keys) {
			const expected = query.trim() === '' ? NAMES : NAMES.filter(name => matchesQuery(name.toLowerCase(), query));
			expect(search.match(query), JSON.stringify(query)).toEqual(expected);
		}
	});

	it('after the rows change, answers as a fresh search does, lowering only the rows that are new objects', () => {
		type Row = {readonly name: string};
		const rows: Row[] = NAMES.map(name => ({name}));
		let lowered = 0;
		const text = (row: Row) => {
			lowered++;
			return row.name;
		};
		const first = listSearch(rows, text);
		first.warm();
		expect(lowered).toBe(rows.length);
		// Two rows replaced in place, one removed, one added: the store's objects for the others stay.
		const next = [...rows];
		next[10] = {name: 'ADA.changed 10'};
		next[1500] = {name: 'zed 1500'};
		next.splice(700, 1);
		next.splice(900, 0, {name: 'inserted ada'});
		lowered = 0;
		const second = listSearch(next, text, first);
		for (const query of ['ada', 'zed', 'ada ch', 'inserted', 'lovelace1']) {
			expect(second.match(query), query).toEqual(next.filter(row => matchesQuery(row.name.toLowerCase(), query)));
		}
		expect(lowered).toBe(3);
		// A search made with another text function does not take the texts of the first.
		lowered = 0;
		const other = listSearch(
			next,
			(row: Row) => {
				lowered++;
				return `${row.name} x`;
			},
			first,
		);
		expect(other.match('zed 1500 x')).toEqual(next.filter(row => row.name === 'zed 1500'));
		expect(lowered).toBe(next.length);
	});

	it('holds no texts until it is searched or warmed, and after a change starts from the last texts built', () => {
		type Row = {readonly name: string};
		const rows: Row[] = NAMES.slice(0, 100).map(name => ({name}));
		let lowered = 0;
		const text = (row: Row) => {
			lowered++;
			return row.name;
		};
		const idle = listSearch(rows, text);
		expect(idle.built()).toBeUndefined();
		idle.match('');
		expect(lowered).toBe(0);
		idle.warm();
		const changed = [...rows];
		changed[5] = {name: 'grace.new5'};
		// Two versions later, never warmed in between: still lowers only the one new row.
		const between = listSearch(changed, text, idle);
		const later = listSearch([...changed], text, between);
		lowered = 0;
		expect(later.match('grace.new')).toEqual([changed[5]]);
		expect(lowered).toBe(1);
	});
});
