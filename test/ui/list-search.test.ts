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
});
