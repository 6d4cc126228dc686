import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {build, type Plugin} from 'esbuild';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {BUNDLE_OPTIONS} from '../../scripts/bundle-options.mjs';
import {inkEnvironment} from '../helpers/ink-env.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'orgctl-test', `ink-frames-${process.pid}`);

/** test/fixtures/ink-frames.tsx bundled as dist/ is, with or without the frame caches. */
async function bundled(name: string, plugins: readonly Plugin[]): Promise<string> {
	const outdir = join(OUT, name);
	mkdirSync(outdir, {recursive: true});
	await build({...BUNDLE_OPTIONS, plugins: [...plugins], entryPoints: {'ink-frames': join(ROOT, 'test', 'fixtures', 'ink-frames.tsx')}, outdir});
	return join(outdir, 'ink-frames.mjs');
}

function framesOf(script: string, steps: number): string[] {
	// Colours on: the styled pieces are what the caches split and slice. Not as CI, where Ink draws only the last frame.
	const out = execFileSync(process.execPath, [script, String(steps)], {encoding: 'utf8', env: inkEnvironment({FORCE_COLOR: '3'}), timeout: 60_000});
	return JSON.parse(out) as string[];
}

describe("Ink's frame caches (scripts/ink-frame-caches.mjs, in every bundle)", () => {
	let patched: string;
	let plain: string;
	afterAll(() => {
		rmSync(OUT, {recursive: true, force: true});
	});
	beforeAll(async () => {
		const plugins = BUNDLE_OPTIONS.plugins ?? [];
		patched = await bundled('patched', plugins);
		plain = await bundled('plain', plugins.filter(plugin => plugin.name !== 'ink-frame-caches'));
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
});
