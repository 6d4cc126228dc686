import {describe, expect, it} from 'vitest';
import {listSearch, type Rows} from '../../source/ui/list-search.js';
import {matchesQuery} from '../../source/ui/list-state.js';

/** The rows a search answered, as an array. */
function all<T>(rows: Rows<T>): T[] {
	return Array.from({length: rows.length}, (_, i) => rows.at(i)!);
}

const NAMES = Array.from({length: 2000}, (_, i) => `${['ada', 'alan', 'grace', 'edsger'][i % 4]}.${['lovelace', 'turing', 'hopper'][i % 3]}${i} ${i % 5 === 0 ? 'admin' : 'member'}`);

describe('the / filter of a list (ui/list-search.ts)', () => {
	it('answers every query of typing, correcting and retyping as a search of all the rows would', () => {
		const search = listSearch(NAMES, name => name);
		const keys = ['a', 'ad', 'ada', 'ad', 'a', '', 'g', 'gr', 'gr ', 'gr a', 'gr ad', 'gr adm', 'gr ad', 'gr', 'GR', 'gra', 'x', '', 'ada 1', 'ada 12', 'ada 1'];
		for (const query of keys) {
			const expected = query.trim() === '' ? NAMES : NAMES.filter(name => matchesQuery(name.toLowerCase(), query));
			expect(all(search.match(query)), JSON.stringify(query)).toEqual(expected);
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
			expect(all(second.match(query)), query).toEqual(next.filter(row => matchesQuery(row.name.toLowerCase(), query)));
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
		expect(all(other.match('zed 1500 x'))).toEqual(next.filter(row => row.name === 'zed 1500'));
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
		expect(all(later.match('grace.new'))).toEqual([changed[5]]);
		expect(lowered).toBe(1);
	});

	it('answers a word every row holds with the rows themselves, not a copy of them', () => {
		const rows = NAMES.map(name => `${name}@example.com`);
		const search = listSearch(rows, row => row);
		expect(search.match('e')).toBe(rows);
		expect(search.match('ex')).toBe(rows);
		const admins = search.match('ex admin');
		expect(admins.length).toBe(NAMES.filter(name => name.includes('admin')).length);
		// Narrowing nothing further keeps the earlier matches as they are.
		expect(search.match('ex admin@')).toBe(admins);
	});

	it('searches all rows again when a longer query does not lower to longer words (a final sigma)', () => {
		const rows = ['ΟΔΟΣ', 'οδος', 'οδοσ', 'ΟΔΟΣΣ'];
		const search = listSearch(rows, row => row);
		// "οδοΣ" lowers to "οδος"; "οδοΣΣ" to "οδοσς", which no match of "οδος" holds.
		expect(all(search.match('οδοΣ'))).toEqual(['ΟΔΟΣ', 'οδος']);
		expect(all(search.match('οδοΣΣ'))).toEqual(['ΟΔΟΣΣ']);
	});

	it('answers random typing, correcting and retyping over random rows exactly as a search of every row does (differential)', () => {
		// A seeded generator: the same sequences on every run, many shapes of rows and queries.
		let seed = 0x2f6e2b1;
		const random = (n: number) => {
			seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
			return (seed >>> 8) % n;
		};
		const ALPHABET = ['a', 'd', 'e', 'x', 'A', 'D', 'ß', 'Σ', 'σ', 'ς', 'İ', '1', '.', '@', ' ', ' ', '\n', '\t'];
		const word = (length: number) => Array.from({length}, () => ALPHABET[random(ALPHABET.length)]!).join('');
		type Row = {readonly id: number; readonly text: string};
		for (let trial = 0; trial < 40; trial++) {
			// Some lists where every row holds a letter (as every e-mail address holds "e"), some empty.
			const common = trial % 3 === 0 ? 'e' : '';
			const rows: Row[] = Array.from({length: random(trial % 5 === 4 ? 3 : 300)}, (_, id) => ({id, text: `${word(random(12))}${common}${word(random(6))}`}));
			const search = listSearch(rows, row => row.text);
			let query = '';
			for (let step = 0; step < 60; step++) {
				const action = random(10);
				if (action < 5) query += ALPHABET[random(ALPHABET.length)]!;
				else if (action < 8) query = [...query].slice(0, -1).join('');
				else if (action < 9) query = word(random(3));
				else query = '';
				const expected = query.trim() === '' ? rows : rows.filter(row => matchesQuery(row.text.toLowerCase(), query));
				const found = search.match(query);
				expect(all(found), `${JSON.stringify(query)} (trial ${trial})`).toEqual(expected);
				expect(found.at(found.length)).toBeUndefined();
				if (found.length > 0) expect(found.at(-1)).toBe(expected.at(-1));
			}
		}
	});
});
