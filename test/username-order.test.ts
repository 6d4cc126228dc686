import {describe, expect, it} from 'vitest';
import {byUsername, firstByUsername, sortByUsername, usernameKey} from '../source/core/users.js';

const collator = new Intl.Collator('en', {sensitivity: 'base', numeric: true});
const ALPHABET = 'aAbBzZ0123456789._-';

/** A random name of the username alphabet, digits and punctuation often, so runs and ties are common. */
function randomName(random: () => number): string {
	const length = 1 + Math.floor(random() * 8);
	let name = '';
	for (let i = 0; i < length; i++) name += ALPHABET[Math.floor(random() * ALPHABET.length)];
	return name;
}

/** A small seeded generator: the same cases on every run. */
function seeded(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state * 1103515245 + 12345) % 2 ** 31;
		return state / 2 ** 31;
	};
}

describe('username order by key (core/users.ts)', () => {
	it('agrees with Intl.Collator (en, base, numeric) on the sign of every comparison, ties included', () => {
		const random = seeded(18);
		const names = ['a', 'A', 'a0', 'a00', 'a01', 'a1', 'a10', 'a2', 'a-', 'a_', 'a.', 'a-b', 'a_b', 'a.b', 'ab', 'user2', 'user10', 'User10', '007', '7', '0', '00', 'x1.10', 'x1.9', '9'.repeat(40), `${'9'.repeat(39)}8`];
		for (let i = 0; i < 3000; i++) names.push(randomName(random));
		let compared = 0;
		const disagree: string[] = [];
		for (let i = 0; i < names.length; i++) {
			for (let j = i; j < names.length; j += 1 + Math.floor(random() * 7)) {
				const a = names[i]!;
				const b = names[j]!;
				if (Math.sign(byUsername({username: a}, {username: b})) !== Math.sign(collator.compare(a, b))) disagree.push(`${a} vs ${b}`);
				compared++;
			}
		}
		expect(disagree.slice(0, 5)).toEqual([]);
		expect(compared).toBeGreaterThan(100_000);
	});

	it('sorts as sort(byUsername) would, ties in their order; a name outside the alphabet falls back to the collator', () => {
		const random = seeded(7);
		const users = Array.from({length: 5000}, (_, i) => ({username: randomName(random), i}));
		const expected = [...users].sort((a, b) => collator.compare(a.username, b.username));
		expect(sortByUsername([...users])).toEqual(expected);
		expect(usernameKey('ünïcode')).toBeUndefined();
		const mixed = [{username: 'zoë'}, {username: 'Zoe'}, {username: 'adam'}];
		expect(sortByUsername([...mixed]).map(u => u.username)).toEqual([...mixed].sort((a, b) => collator.compare(a.username, b.username)).map(u => u.username));
	});

	it('a key lower-cases, marks punctuation and writes a digit run as its length and its significant digits', () => {
		expect(usernameKey('User007.x-y_z')).toBe('user\u0004!7\u0003x\u0002y\u0001z');
		expect(usernameKey('a000')).toBe('a\u0004!0');
		expect(usernameKey('')).toBe('');
	});

	it('a name with a letter that lower-cases into a-z (the Kelvin sign, İ) is outside the alphabet: the collator orders it', () => {
		for (const name of ['\u212A', 'a\u212Ab', 'x\u0130y', '\u017F', 'a b', 'a+b']) expect(usernameKey(name), name).toBeUndefined();
	});

	it('firstByUsername gives the first n of sortByUsername, ties in their order, for every n and with names outside the alphabet', () => {
		const random = seeded(21);
		const users = Array.from({length: 3000}, (_, i) => ({username: randomName(random), i}));
		// Names that begin alike (one group holds many) and the empty name, which sorts first.
		for (let i = 0; i < 400; i++) users.push({username: `a${randomName(random)}`, i: 3000 + i});
		users.push({username: '', i: 3400});
		const sorted = sortByUsername([...users]);
		for (const n of [0, 1, 2, 17, 60, 200, 1000, 3400, 3401, 5000]) expect(firstByUsername(users, n), `n=${n}`).toEqual(sorted.slice(0, n));
		// The groups are not all sorted: the first page takes fewer keys than the whole list.
		expect(users.map(u => u.username)).not.toEqual(sorted.map(u => u.username));
		const outside = [...users.slice(0, 500), {username: 'zoë', i: -1}, {username: 'Zoe', i: -2}, {username: 'a b', i: -3}];
		expect(firstByUsername(outside, 40)).toEqual(sortByUsername([...outside]).slice(0, 40));
		expect(firstByUsername([{username: '\u0010'}, {username: '0'}], 2).map(u => u.username)).toEqual(sortByUsername([{username: '\u0010'}, {username: '0'}]).map(u => u.username));
		// The list is left as it was.
		expect(users[0]!.i).toBe(0);
	});
});
