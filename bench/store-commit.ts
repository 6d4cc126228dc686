import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {BUDGETS} from './budgets.js';
import {atomicWriteFloor, bundle, nodeFloor} from './floors.js';
import {generateStore} from './generate.js';
import type {ChildResult} from './store-commit-child.js';
import {samplesFor, summarize, type Benchmark, type Figure} from './types.js';

/** Committed changes timed per scenario (DESIGN §8 asks for a median of at least 30). */
const COMMITS = samplesFor(40, 15);

function runChild(script: string, path: string): ChildResult {
	const out = execFileSync(process.execPath, [script, path, String(COMMITS)], {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
		maxBuffer: 16 * 1024 * 1024,
	});
	return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

function count(n: number): string {
	return n.toLocaleString('en-US');
}

/** One committed change at 10,000 and 100,000 users, and the store process's peak memory at 100,000. */
export const storeCommit: Benchmark = {
	name: 'store',
	async run() {
		const script = await bundle('store-commit-child.ts', 'store-commit-child');
		const figures: Figure[] = [];
		for (const users of [10_000, 100_000]) {
			const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-'));
			try {
				const path = join(dir, 'orgctl.json');
				generateStore(path, {users, invitations: users / 5, auditEvents: users / 5});
				const floor = nodeFloor(samplesFor(10, 5));
				// The disk's part of a commit, measured just before and just after the commits (the machine's load moves).
				const writeBefore = atomicWriteFloor(path, samplesFor(6, 3));
				const result = runChild(script, path);
				const writeAfter = atomicWriteFloor(path, samplesFor(6, 3));
				const write = {floor: (writeBefore.median + writeAfter.median) / 2, floorOf: 'copy + fsync + rename of the file'};
				const size = `${count(users)} users, ${count(users / 5)} invitations, ${result.fileMb.toFixed(1)} MB file`;
				const budget = users === 10_000 ? BUDGETS.commit10k : BUDGETS.commit100k;
				const node = {floor: floor.median, floorOf: 'node -e 0'};
				const cpu = (samples: number[]) => `CPU median ${summarize(samples).median.toFixed(1)} ms`;
				figures.push({name: `store open (${size})`, unit: 'ms', value: result.openMs, ...node});
				figures.push({name: `commit one change, sole writer (${count(users)} users)`, unit: 'ms', ...summarize(result.soleWriter), samples: result.soleWriter.length, budget, ...write, note: cpu(result.soleWriterCpu)});
				figures.push({name: `commit one change after another console's commit (${count(users)} users)`, unit: 'ms', ...summarize(result.afterOtherCommit), samples: result.afterOtherCommit.length, budget, ...write, note: cpu(result.afterOtherCommitCpu)});
				figures.push({name: `commit one change after the file was touched outside orgctl, its bytes compared (${count(users)} users)`, unit: 'ms', ...summarize(result.afterOtherWriter), samples: result.afterOtherWriter.length, budget, ...write, note: cpu(result.afterOtherWriterCpu)});
				figures.push({
					name: `peak memory of the store process, open + ${3 * COMMITS} commits (${count(users)} users, bundled)`,
					unit: 'MB',
					value: result.peakMb,
					...(users === 100_000 ? {budget: BUDGETS.peakMemory100k} : {}),
					floor: floor.peakMb,
					floorOf: 'node -e 0',
					note: `${result.baselineMb.toFixed(0)} MB of it before opening`,
				});
			} finally {
				rmSync(dir, {recursive: true, force: true});
			}
		}
		return figures;
	},
};
