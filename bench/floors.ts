// The floors every figure is printed beside (DESIGN §8), measured in the same run as the figures:
// `node -e 0` for whole processes, an Ink "hello" bundled as dist/ is for the console, and for a
// commit the atomic write DESIGN §4 prescribes (copy, fsync, rename, fsync the folder) of a file the
// store's size, with none of orgctl's work: at 100,000 users that is the disk's time to flush 62 MB.
// On a shared machine absolute times move from run to run; a figure's ratio to its floor holds.
import {spawnSync} from 'node:child_process';
import {closeSync, constants, copyFileSync, fsyncSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
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

/**
 * The cheapest commit DESIGN §4 allows, of the file at `path`: a copy of it to a temp file beside it,
 * fsync, rename, fsync of the folder (then the copy is removed). Median and p95 wall time, ms. Nothing
 * orgctl does (lock, re-read, validate, patch) is in it: what a commit costs above it is orgctl's.
 */
export function atomicWriteFloor(path: string, runs: number): {median: number; p95: number} {
	const folder = dirname(path);
	const temp = join(folder, '.floor-copy.tmp');
	const renamed = join(folder, '.floor-copy');
	const samples: number[] = [];
	try {
		for (let i = 0; i < runs + 1; i++) {
			const start = performance.now();
			copyFileSync(path, temp, constants.COPYFILE_EXCL);
			const fd = openSync(temp, 'r+');
			fsyncSync(fd);
			closeSync(fd);
			renameSync(temp, renamed);
			const dir = openSync(folder, 'r');
			fsyncSync(dir);
			closeSync(dir);
			const ms = performance.now() - start;
			rmSync(renamed);
			if (i > 0) samples.push(ms); // the first warms the page cache
		}
	} finally {
		rmSync(temp, {force: true});
		rmSync(renamed, {force: true});
	}
	return summarize(samples);
}
