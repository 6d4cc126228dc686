import {describe, expect, it} from 'vitest';
import {changeBetween, followRows} from '../../source/ui/follow-rows.js';

type Row = {readonly name: string; readonly tenant: string};
const byName = (a: Row, b: Row) => a.name.localeCompare(b.name);
const inA = (r: Row) => r.tenant === 'a';
const build = (list: readonly Row[]) => list.filter(inA).sort(byName);

/** A small deterministic random generator, so a failure can be replayed. */
function random(seed: number): () => number {
	let s = seed;
	return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe("a section's rows follow the store's list by what changed", () => {
	it('are what a fresh filter and sort gives after any run of edits in place, appends and removals', () => {
		const next = random(7);
		let list: Row[] = Array.from({length: 200}, (_, i) => ({name: `user${Math.floor(next() * 1000)}-${i}`, tenant: next() < 0.8 ? 'a' : 'b'}));
		const follow = followRows(build, inA, byName);
		follow(list);
		for (let step = 0; step < 300; step++) {
			const copy = [...list];
			const what = next();
			const at = Math.floor(next() * copy.length);
			if (what < 0.5) copy[at] = {...copy[at]!, name: `renamed${step}`};
			else if (what < 0.7) copy.push({name: `new${step}`, tenant: next() < 0.5 ? 'a' : 'b'});
			else if (what < 0.9) copy.splice(at, 1 + Math.floor(next() * 3));
			else copy.reverse();
			list = copy;
			expect(follow(list)).toEqual(build(list));
		}
	});

	it('keeps the very rows when nothing in the list changed', () => {
		const list = [{name: 'b', tenant: 'a'}, {name: 'a', tenant: 'a'}];
		const follow = followRows(build, inA, byName);
		const rows = follow(list);
		expect(follow([...list])).toBe(rows);
	});

	it('sees a list read whole again (every object new) as too much changed, or as moved records, never as a small change', () => {
		const list = Array.from({length: 2000}, (_, i) => ({name: `u${i}`, tenant: 'a'}));
		expect(changeBetween(list, list.map(r => ({...r})))).toBeUndefined();
		expect(changeBetween(list.slice(0, 3), [list[1]!, list[0]!, list[2]!])).toBeUndefined();
		expect(changeBetween(list.slice(0, 3), [list[0]!, list[2]!])).toEqual({removed: new Set([list[1]]), added: []});
	});
});
