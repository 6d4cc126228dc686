// The measuring side of bench/store-commit.ts, run as a process of its own and bundled as dist/ is
// (bench/floors.ts `bundle`), so its memory is the shipped code's and not the tsx loader's:
// node store-commit-child.mjs STORE COMMITS  → one JSON line on stdout.
import {utimesSync, statSync} from 'node:fs';
import {touch} from '../source/core/accounts.js';
import type {Role} from '../source/core/model.js';
import {VALIDATOR_ID} from '../source/app/validator-id.js';
import {Store} from '../source/store/store.js';
import {peakRssMb} from './types.js';

export type ChildResult = {
	openMs: number;
	soleWriter: number[];
	afterOtherWriter: number[];
	/** CPU time (user + system, all threads) of each commit: less at the mercy of a busy machine than wall time. */
	soleWriterCpu: number[];
	afterOtherWriterCpu: number[];
	peakMb: number;
	/** Peak resident memory before the store is opened: node and the bundle loaded. */
	baselineMb: number;
	fileMb: number;
};

/**
 * Opens the store like a console does (with the bundle's validator id), then times committed changes (one user's role, found by
 * id, revision bumped): as the sole writer, then each after another process's write.
 */
async function measure(path: string, commits: number): Promise<ChildResult> {
	const baselineMb = peakRssMb();
	const t0 = performance.now();
	// As the shipped bundle opens it (source/app/context.ts): with its validator id, every commit records the MAC of validated state.
	const store = await Store.open(path, VALIDATOR_ID === undefined ? {} : {validatorId: VALIDATOR_ID});
	const openMs = performance.now() - t0;
	const ids = store.read().users.slice(1, commits * 2 + 1).map(u => u.id);
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
	for (let i = 0; i < commits; i++) soleWriter.push(await changeOneRole());
	const soleWriterCpu = cpu.splice(0);
	// Another console wrote since our last look: the file's stamp moves, so every commit re-reads it.
	const afterOtherWriter: number[] = [];
	for (let i = 0; i < commits; i++) {
		const when = new Date(Date.now() + 1000 + i * 10);
		utimesSync(path, when, when);
		afterOtherWriter.push(await changeOneRole());
	}
	const afterOtherWriterCpu = cpu.splice(0);
	const {size} = statSync(path);
	return {openMs, soleWriter, afterOtherWriter, soleWriterCpu, afterOtherWriterCpu, peakMb: peakRssMb(), baselineMb, fileMb: size / 1024 / 1024};
}

const result = await measure(process.argv[2]!, Number(process.argv[3]));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
