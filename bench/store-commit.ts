import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, statSync, utimesSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {touch} from '../source/core/accounts.js';
import type {Role} from '../source/core/model.js';
import {Store} from '../source/store/store.js';
import {generateStore} from './generate.js';
import {peakRssMb, summarize, type Benchmark, type Figure} from './types.js';

/** Committed changes timed per scenario (DESIGN §8 asks for a median of at least 30). */
const COMMITS = 40;

type ChildResult = {
	openMs: number;
	soleWriter: number[];
	afterOtherWriter: number[];
	/** CPU time (user + system, all threads) of each commit: less at the mercy of a busy machine than wall time. */
	soleWriterCpu: number[];
	afterOtherWriterCpu: number[];
	peakMb: number;
	/** Resident memory before the store is opened: node plus the tsx loader this benchmark runs under. */
	baselineMb: number;
	fileMb: number;
};

/**
 * Runs in a fresh process so that its peak memory is the store's alone: opens the store like a
 * console does, then times committed changes (one user's role, found by id, revision bumped).
 */
async function measure(path: string): Promise<ChildResult> {
	const baselineMb = peakRssMb();
	const t0 = performance.now();
	const store = await Store.open(path);
	const openMs = performance.now() - t0;
	const ids = store.read().users.slice(1, COMMITS * 2 + 1).map(u => u.id);
	let n = 0;
	const cpu: number[] = [];
	const changeOneRole = async (): Promise<number> => {
		const id = ids[n++ % ids.length]!;
		const cpuStart = process.cpuUsage();
		const start = performance.now();
		await store.transact(db => {
			const user = db.users.find(u => u.id === id);
			if (!user) throw new Error(`user ${id} vanished`);
			user.role = (user.role === 'member' ? 'guest' : 'member') satisfies Role;
			touch(user);
		});
		const took = performance.now() - start;
		const used = process.cpuUsage(cpuStart);
		cpu.push((used.user + used.system) / 1000);
		return took;
	};
	await changeOneRole(); // warm-up: JIT and the first lock probe
	const soleWriter: number[] = [];
	cpu.length = 0;
	for (let i = 0; i < COMMITS; i++) soleWriter.push(await changeOneRole());
	const soleWriterCpu = cpu.splice(0);
	// Another console wrote since our last look: the file's stamp moves, so every commit re-reads it.
	const afterOtherWriter: number[] = [];
	for (let i = 0; i < COMMITS; i++) {
		const when = new Date(Date.now() + 1000 + i * 10);
		utimesSync(path, when, when);
		afterOtherWriter.push(await changeOneRole());
	}
	const afterOtherWriterCpu = cpu.splice(0);
	const {size} = statSync(path);
	return {openMs, soleWriter, afterOtherWriter, soleWriterCpu, afterOtherWriterCpu, peakMb: peakRssMb(), baselineMb, fileMb: size / 1024 / 1024};
}

function runChild(path: string): ChildResult {
	const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'measure', path], {
		encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'inherit'],
		maxBuffer: 16 * 1024 * 1024,
	});
	return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

function count(n: number): string {
	return n.toLocaleString('en-US');
}

/** One committed change at 10,000 and 100,000 users, and peak memory at 100,000. */
export const storeCommit: Benchmark = {
	name: 'store',
	// Runs its children synchronously; the interface is async for the benchmarks that are not.
	run() {
		const figures: Figure[] = [];
		for (const users of [10_000, 100_000]) {
			const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-'));
			try {
				const path = join(dir, 'orgctl.json');
				generateStore(path, {users, invitations: users / 5, auditEvents: users / 5});
				const result = runChild(path);
				const size = `${count(users)} users, ${count(users / 5)} invitations, ${result.fileMb.toFixed(1)} MB file`;
				const budget = users === 10_000 ? ({of: 'median', limit: 40} as const) : undefined;
				figures.push({name: `store open (${size})`, unit: 'ms', value: result.openMs});
				const cpu = (samples: number[]) => `CPU median ${summarize(samples).median.toFixed(1)} ms`;
				figures.push({name: `commit one change, sole writer (${count(users)} users)`, unit: 'ms', ...summarize(result.soleWriter), samples: result.soleWriter.length, budget, note: cpu(result.soleWriterCpu)});
				figures.push({name: `commit one change after another console wrote (${count(users)} users)`, unit: 'ms', ...summarize(result.afterOtherWriter), samples: result.afterOtherWriter.length, budget, note: cpu(result.afterOtherWriterCpu)});
				figures.push({
					name: `peak memory, open + ${2 * COMMITS} commits (${count(users)} users)`,
					unit: 'MB',
					value: result.peakMb,
					budget: users === 100_000 ? {of: 'value', limit: 300} : undefined,
					note: `${result.baselineMb.toFixed(0)} MB of it before opening (node + tsx loader)`,
				});
			} finally {
				rmSync(dir, {recursive: true, force: true});
			}
		}
		return Promise.resolve(figures);
	},
};

if (process.argv[2] === 'measure' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const result = await measure(process.argv[3]!);
	process.stdout.write(`${JSON.stringify(result)}\n`);
	process.exit(0);
}
