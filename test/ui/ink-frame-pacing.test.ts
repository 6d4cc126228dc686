import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {build, type Plugin} from 'esbuild';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {BUNDLE_OPTIONS} from '../../scripts/bundle-options.mjs';
import {inkEnvironment} from '../helpers/ink-env.js';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'orgctl-test', `ink-pacing-${process.pid}`);

type Frame = {at: number; shows: number[]};

/** test/fixtures/ink-pacing.tsx bundled as dist/ is (or without one plugin), run once: the frames it wrote. */
async function framesOf(name: string, plugins: readonly Plugin[]): Promise<Frame[]> {
	const outdir = join(OUT, name);
	mkdirSync(outdir, {recursive: true});
	await build({...BUNDLE_OPTIONS, plugins: [...plugins], entryPoints: {'ink-pacing': join(ROOT, 'test', 'fixtures', 'ink-pacing.tsx')}, outdir});
	// Not as CI, where Ink draws only the last frame (and the fixture would wait for a first one in vain).
	return JSON.parse(execFileSync(process.execPath, [join(outdir, 'ink-pacing.mjs')], {encoding: 'utf8', env: inkEnvironment(), timeout: 30_000})) as Frame[];
}

const showing = (frames: readonly Frame[], n: number) => frames.find(frame => frame.shows.includes(n));

// The fixture draws at most one frame a second; it changes a counter at 0, 200 and 400 ms, then at 2,800 ms.
// The margins (200 ms) are wide for a busy CI machine; the two pacings differ by 400 ms.
describe('frame pacing (scripts/ink-frame-pacing.mjs, in every bundle)', () => {
	let paced: Frame[];
	let plain: Frame[];
	afterAll(() => {
		rmSync(OUT, {recursive: true, force: true});
	});
	beforeAll(async () => {
		const plugins = BUNDLE_OPTIONS.plugins ?? [];
		[paced, plain] = [await framesOf('paced', plugins), await framesOf('plain', plugins.filter(plugin => plugin.name !== 'ink-frame-pacing'))];
	}, 60_000);

	it('a change after a quiet spell is drawn at once', () => {
		expect(showing(paced, 1)!.at).toBeLessThan(200);
		expect(showing(paced, 4)!.at).toBeGreaterThanOrEqual(2800);
		expect(showing(paced, 4)!.at).toBeLessThan(3000);
	});

	it('changes inside the window after a frame are drawn together when the window ends, not a window after the last of them', () => {
		const second = showing(paced, 3)!;
		expect(second.at).toBeGreaterThanOrEqual(980);
		expect(second.at).toBeLessThan(1200);
		// The frame rate holds: the change at 200 ms had no frame of its own.
		expect(showing(paced, 2)).toBeUndefined();
		expect(paced.filter(frame => frame.at < 2800)).toHaveLength(2);
	});

	it("Ink's own throttle drew the same changes a whole window after the last one (what the plugin fixes)", () => {
		expect(showing(plain, 1)!.at).toBeLessThan(200);
		expect(showing(plain, 3)!.at).toBeGreaterThanOrEqual(1380);
	});
});
