// The floors every figure is printed beside (DESIGN §8), measured in the same run as the figures:
// `node -e 0` for whole processes and the store, an Ink "hello" bundled as dist/ is for the console.
// On a shared machine absolute times move from run to run; a figure's ratio to its floor holds.
import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {build} from 'esbuild';
import {BUNDLE_OPTIONS} from '../scripts/bundle-options.mjs';
import {spawnConsole} from '../test/helpers/term.js';
import {peakRssMbOf, summarize} from './types.js';

/** Where the benchmarks bundle what they run (floors, measuring children): out of the way of dist/. */
export const BENCH_BUILD = join(import.meta.dirname, '..', 'node_modules', '.cache', 'orgctl-bench');

/** Bundles `entry` (a file in bench/) exactly as scripts/build.mjs bundles orgctl; returns the script to run. */
export async function bundle(entry: string, name: string): Promise<string> {
	const outdir = join(BENCH_BUILD, name);
	rmSync(outdir, {recursive: true, force: true});
	mkdirSync(outdir, {recursive: true});
	await build({...BUNDLE_OPTIONS, entryPoints: {[name]: join(import.meta.dirname, entry)}, outdir});
	return join(outdir, `${name}.mjs`);
}

export type NodeFloor = {
	/** Median and p95 wall time of `node -e 0`, ms. */
	readonly median: number;
	readonly p95: number;
	/** Its peak resident memory, MB. */
	readonly peakMb: number;
};

/** `node -e 0`: the cheapest whole process (wall time), and the memory of a node that does nothing. */
export function nodeFloor(runs: number): NodeFloor {
	const samples: number[] = [];
	for (let i = 0; i < runs + 1; i++) {
		const start = performance.now();
		const result = spawnSync(process.execPath, ['-e', '0']);
		if (result.status !== 0) throw new Error('node -e 0 failed');
		if (i > 0) samples.push(performance.now() - start);
	}
	const memory = spawnSync(process.execPath, ['-e', "process.stdout.write(/^VmHWM:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1])"], {encoding: 'utf8'});
	return {...summarize(samples), peakMb: Number(memory.stdout) / 1024};
}

export type InkFloor = {
	/** Spawn to the "hello" drawn and taking keys (its ready marker), in a PTY as the console is measured. */
	readonly start: {readonly median: number; readonly p95: number};
	/** Key written → the next frame drawn. */
	readonly key: {readonly median: number; readonly p95: number};
	/** Peak resident memory of the hello after its keys, MB. */
	readonly peakMb: number;
};

/** The bundled Ink "hello" (bench/ink-hello.tsx) started `starts` times, then `keys` keys into one. */
export async function inkFloor(starts: number, keys: number): Promise<InkFloor> {
	const script = await bundle('ink-hello.tsx', 'ink-hello');
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-hello-'));
	try {
		const startSamples: number[] = [];
		for (let i = 0; i < starts + 1; i++) {
			const t = spawnConsole({dir, script});
			await t.waitReady('hello', 30_000);
			if (i > 0) startSamples.push(t.readyAt('hello')! - t.startedAt);
			t.kill('SIGKILL');
			await t.exited;
		}
		const t = spawnConsole({dir, script});
		try {
			await t.waitReady('hello', 30_000);
			await t.settle(300);
			const keySamples: number[] = [];
			for (let i = 0; i < keys; i++) keySamples.push(await t.writeAndWaitForChange('x'));
			return {start: summarize(startSamples), key: summarize(keySamples), peakMb: peakRssMbOf(t.pid)};
		} finally {
			t.kill('SIGKILL');
			await t.exited;
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
