// The measuring side of bench/store-commit.ts, run as a process of its own and bundled as dist/ is
// (bench/floors.ts `bundle`), so its memory is the shipped code's and not the tsx loader's:
// node store-commit-child.mjs STORE COMMITS  → one JSON line on stdout.
import {spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import {utimesSync, statSync} from 'node:fs';
import {touch} from '../source/core/accounts.js';
import type {Role} from '../source/core/model.js';
import {VALIDATOR_ID} from '../source/app/validator-id.js';
import {collectStartupGarbage, keepYoungGenerationSmall} from '../source/app/console-heap.js';
import {Store} from '../source/store/store.js';
import {peakRssMb} from './types.js';

export type ChildResult = {
	openMs: number;
	soleWriter: number[];
	afterOtherWriter: number[];
	/** CPU time (user + system, all threads) of each commit: less at the mercy of a busy machine than wall time. */
	soleWriterCpu: number[];
	afterOtherWriterCpu: number[];
	/** Each after a real commit by another process (a second console): the file's index says what changed. */
	afterOtherCommit: number[];
	afterOtherCommitCpu: number[];
	peakMb: number;
	/** Peak resident memory before the store is opened: node and the bundle loaded. */
	baselineMb: number;
	fileMb: number;
};

/**
 * Opens the store like a console does (with the bundle's validator id and heap settings), then times committed changes (one user's role, found by
 * id, revision bumped): as the sole writer, then each after another process's write.
 */
async function measure(path: string, commits: number): Promise<ChildResult> {
	const baselineMb = peakRssMb();
	keepYoungGenerationSmall();
	const t0 = performance.now();
	// As the shipped bundle opens it (source/app/context.ts): with its validator id, every commit records the MAC of validated state.
	const store = await Store.open(path, VALIDATOR_ID === undefined ? {} : {validatorId: VALIDATOR_ID});
	const openMs = performance.now() - t0;
	// With the console's heap settings (source/app/console.tsx): a small young generation from before the store is read, and
	// one full collection once start-up is over. Without that collection the first open's checking leaves about 100 MB
	// of garbage V8 keeps growing from (peak 351–362 MB over the commits below, against 244–261 MB with it).
	collectStartupGarbage();
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
	// Something outside orgctl touched the file since our last look: its stamp moves and no index
	// vouches for what it holds, so every commit first reads its bytes and compares their blocks'
	// SHA-256 with those of the bytes held (store/validated.ts sameBlocks); a file that differs is read whole.
	const afterOtherWriter: number[] = [];
	for (let i = 0; i < commits; i++) {
		const when = new Date(Date.now() + 1000 + i * 10);
		utimesSync(path, when, when);
		afterOtherWriter.push(await changeOneRole());
	}
	const afterOtherWriterCpu = cpu.splice(0);
	// Another console committed since our last look, through the store as orgctl does: its index
	// names what changed, so this process reads only that before its own commit.
	const writer = spawn(process.execPath, [process.argv[1]!, path, String(commits), '--writer'], {stdio: ['pipe', 'pipe', 'inherit']});
	const answers = createInterface({input: writer.stdout!})[Symbol.asyncIterator]();
	const next = async (): Promise<string> => {
		const answer = await answers.next();
		if (answer.done) throw new Error('the other writer exited');
		return answer.value as string;
	};
	if ((await next()) !== 'ready') throw new Error('the other writer did not start');
	await store.transact(() => undefined); // catch up with the writer's open (its first look may have migrated nothing, but be sure)
	const afterOtherCommit: number[] = [];
	for (let i = 0; i < commits; i++) {
		writer.stdin!.write('commit\n');
		if ((await next()) !== 'done') throw new Error('the other writer failed');
		afterOtherCommit.push(await changeOneRole());
	}
	const afterOtherCommitCpu = cpu.splice(0);
	writer.stdin!.end();
	const {size} = statSync(path);
	return {openMs, soleWriter, afterOtherWriter, soleWriterCpu, afterOtherWriterCpu, afterOtherCommit, afterOtherCommitCpu, peakMb: peakRssMb(), baselineMb, fileMb: size / 1024 / 1024};
}

/** The other console: opens the store, then commits one change (a role, from the end of the list) for each line it reads. */
async function otherWriter(path: string, commits: number): Promise<void> {
	const store = await Store.open(path, VALIDATOR_ID === undefined ? {} : {validatorId: VALIDATOR_ID});
	const ids = store.read().users.slice(-commits).map(u => u.id);
	let n = 0;
	process.stdout.write('ready\n');
	for await (const line of createInterface({input: process.stdin})) {
		if (line !== 'commit') continue;
		const id = ids[n++ % ids.length]!;
		await store.transact(db => {
			const user = db.users.find(u => u.id === id);
			if (!user) throw new Error(`user ${id} vanished`);
			user.role = (user.role === 'member' ? 'guest' : 'member') satisfies Role;
			touch(user);
		});
		process.stdout.write('done\n');
	}
	await store.close();
}

if (process.argv.includes('--writer')) {
	await otherWriter(process.argv[2]!, Number(process.argv[3]));
	process.exit(0);
}
const result = await measure(process.argv[2]!, Number(process.argv[3]));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
