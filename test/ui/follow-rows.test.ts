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

	it('puts a record edited in place (its name unchanged) where it was, without building the rows again; a renamed one moves to its new place', () => {
		const list: Row[] = Array.from({length: 50}, (_, i) => ({name: `u${String(i).padStart(2, '0')}`, tenant: i % 5 === 0 ? 'b' : 'a'}));
		let builds = 0;
		const follow = followRows(
			(l: readonly Row[]) => {
				builds++;
				return build(l);
			},
			inA,
			byName,
		);
		const rows = follow(list);
		const edited = [...list];
		edited[7] = {...list[7]!, tenant: 'a'};
		const after = follow(edited);
		expect(builds).toBe(1);
		expect(after).not.toBe(rows);
		expect(after).toEqual(build(edited));
		expect(after.filter((row, i) => row !== rows[i])).toEqual([edited[7]]);
		// A record the rows leave out (another tenant) changed: the very same rows.
		const elsewhere = [...edited];
		elsewhere[10] = {...edited[10]!, name: 'u10-renamed'};
		expect(follow(elsewhere)).toBe(after);
		// Renamed: it leaves its place for the one its new name sorts to.
		const renamed = [...elsewhere];
		renamed[3] = {...elsewhere[3]!, name: 'u45b'};
		const moved = follow(renamed);
		expect(moved).toEqual(build(renamed));
		expect(moved.map(r => r.name)).toContain('u45b');
		expect(moved.map(r => r.name)).not.toContain('u03');
		expect(builds).toBe(1);
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
