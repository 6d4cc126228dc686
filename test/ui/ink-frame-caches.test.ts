import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {inkEnvironment} from '../helpers/ink-env.js';
import {withAndWithout} from '../helpers/bundle.js';

function framesOf(script: string, steps: number): string[] {
	// Colours on: the styled pieces are what the caches split and slice. Not as CI, where Ink draws only the last frame.
	const out = execFileSync(process.execPath, [script, String(steps)], {encoding: 'utf8', env: inkEnvironment({FORCE_COLOR: '3'}), timeout: 60_000});
	return JSON.parse(out) as string[];
}

describe("Ink's frame caches (scripts/ink-frame-caches.mjs, in every bundle)", () => {
	let patched: string;
	let plain: string;
	let remove = (): void => undefined;
	afterAll(() => remove());
	beforeAll(async () => {
		({patched, plain, remove} = await withAndWithout('ink-frames.tsx', 'ink-frame-caches'));
	});

	it('is in the bundle dist/ is built with', () => {
		expect(readFileSync(patched, 'utf8')).toContain('frameCaches');
		expect(readFileSync(plain, 'utf8')).not.toContain('frameCaches');
	});

	it('draws every frame exactly as Ink without them does: cursor moves, rows changed in place, clipped and wide text, a screen drawn again after others', () => {
		const steps = 60;
		const expected = framesOf(plain, steps);
		const actual = framesOf(patched, steps);
		// The run is what it says: one frame a step, in colour, most of them different from the one before.
		expect(expected.length).toBeGreaterThanOrEqual(steps);
		expect(expected.join('')).toContain('\u001b[');
		expect(expected.join('')).toContain('名前');
		expect(new Set(expected).size).toBeGreaterThan(15);
		expect(actual).toEqual(expected);
	});

	it('draws generated frames (styled, wide, clipped, overlapping, transformed texts) exactly as Ink without them does', async () => {
		const generated = await withAndWithout('ink-output-frames.ts', 'ink-frame-caches');
		try {
			const run = (script: string, seed: number) => (JSON.parse(execFileSync(process.execPath, [script, '200', String(seed)], {encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024})) as {frames: string[]}).frames;
			expect(readFileSync(generated.patched, 'utf8')).toContain('frameCaches');
			for (const seed of [5, 29, 2026]) {
				const expected = run(generated.plain, seed);
				expect(new Set(expected).size).toBeGreaterThan(150);
				expect(expected.join('')).toContain('\u001B[');
				expect(run(generated.patched, seed)).toEqual(expected);
			}
		} finally {
			generated.remove();
		}
	});
});
