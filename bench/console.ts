import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildContext} from '../source/app/context.js';
import {createSession} from '../source/core/accounts.js';
import {Store} from '../source/store/store.js';
import {KeyFile} from '../source/store/secrets.js';
import {spawnConsole, type ConsoleTerm} from '../test/helpers/term.js';
import {generateStore} from './generate.js';
import {BUDGETS} from './budgets.js';
import {inkFloor} from './floors.js';
import {peakRssMbOf, samplesFor, summarize, type Benchmark, type Figure} from './types.js';

const STARTS = samplesFor(15, 7);
const MOVES = samplesFor(150, 60);
const FILTER_ROUNDS = samplesFor(25, 8);

/** A generated store in a temp folder with a session for its first user (admin + superuser), as `orgctl login` leaves it. */
export async function signedInStore(users: number, invitations: number): Promise<string> {
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-console-'));
	const path = join(dir, 'orgctl.json');
	generateStore(path, {users, invitations});
	const store = await Store.open(path);
	const db = store.read();
	const session = await createSession(buildContext(store, KeyFile.load(path)), {user: db.users[0]!, tenant: db.tenants[0]!});
	writeFileSync(join(dir, 'session.json'), JSON.stringify({store: store.path, ...session}), {mode: 0o600});
	return dir;
}

async function quit(t: ConsoleTerm): Promise<void> {
	await t.press('q');
	await t.exited;
}

/** Spawn to the ready marker of the Users section: drawn and taking keys (the built console, in a PTY). */
async function startUp(dir: string): Promise<number[]> {
	const samples: number[] = [];
	for (let i = 0; i < STARTS; i++) {
		const t = spawnConsole({dir});
		await t.waitReady('main:users', 30_000);
		samples.push(t.readyAt('main:users')! - t.startedAt);
		await quit(t);
	}
	return samples;
}

/** First letters of the filter typing that starts a new query each round. */
const NEW_LETTERS = 'bcdfghjklmnprstvwyzqu0123456789';

/** Key written to the PTY → the frame it causes fully drawn on the headless terminal. */
async function keyToFrame(dir: string): Promise<{move: number[]; filter: number[]; fresh: number[]; firstFilterKey: number; peakMb: number}> {
	const t = spawnConsole({dir});
	try {
		await t.waitReady('main:users', 60_000);
		await t.waitFor('of 100000');
		// Not measured: the store check deferred to after the first frame, which
		// the first keys would wait for. A key's frame is only told apart from a late one when all is quiet.
		await t.settle(1500);
		await t.writeAndWaitForChange('j', 120_000);
		await t.settle(500);
		const move: number[] = [];
		for (let i = 0; i < MOVES; i++) move.push(await t.writeAndWaitForChange(i % 3 === 2 ? 'k' : 'j'));
		for (let i = 0; i < 20; i++) move.push(await t.writeAndWaitForChange(i % 2 === 0 ? '\u001b[6~' : '\u001b[5~'));
		await t.settle(300);
		const firstFilterKey = await t.writeAndWaitForChange('/');
		await t.settle(300);
		const filter: number[] = [];
		for (let round = 0; round < FILTER_ROUNDS; round++) {
			for (const ch of 'ada') filter.push(await t.writeAndWaitForChange(ch));
			for (let i = 0; i < 3; i++) filter.push(await t.writeAndWaitForChange('\u007f'));
		}
		// The same keys with a new first letter each round: 'ada' again is answered from the matches
		// the filter kept, a new letter searches all 100,000 rows.
		const fresh: number[] = [];
		for (let round = 0; round < FILTER_ROUNDS; round++) {
			for (const ch of `${NEW_LETTERS[round % NEW_LETTERS.length]!}ex`) fresh.push(await t.writeAndWaitForChange(ch));
			for (let i = 0; i < 3; i++) fresh.push(await t.writeAndWaitForChange('\u007f'));
		}
		return {move, filter, fresh, firstFilterKey, peakMb: peakRssMbOf(t.pid)};
	} finally {
		t.kill('SIGKILL');
		await t.exited;
	}
}

/** The console's figures of DESIGN §8: start-up at 10,000 users, key to frame at 100,000. */
export const consoleBench: Benchmark = {
	name: 'console',
	async run(): Promise<Figure[]> {
		const small = await signedInStore(10_000, 2_000);
		const large = await signedInStore(100_000, 2_000);
		try {
			const floor = await inkFloor(STARTS, samplesFor(60, 30));
			const start = summarize(await startUp(small));
			const keys = await keyToFrame(large);
			const move = summarize(keys.move);
			const filter = summarize(keys.filter);
			const fresh = summarize(keys.fresh);
			const hello = {floorOf: 'Ink hello'};
			return [
				{name: 'console start to Users drawn and taking keys (10,000 users + 2,000 invitations, session)', unit: 'ms', ...start, samples: STARTS, budget: BUDGETS.consoleStart, floor: floor.start.median, ...hello},
				{name: 'key to frame: move j/k/PgDn/PgUp (100,000 users)', unit: 'ms', ...move, samples: keys.move.length, budget: BUDGETS.keyToFrame, floor: floor.key.p95, ...hello},
				{name: 'key to frame: filter typing (100,000 users)', unit: 'ms', ...filter, samples: keys.filter.length, budget: BUDGETS.keyToFrame, floor: floor.key.p95, ...hello},
				{name: 'key to frame: filter typing, a new first letter each round (100,000 users)', unit: 'ms', ...fresh, samples: keys.fresh.length, budget: BUDGETS.keyToFrame, floor: floor.key.p95, ...hello},
				{name: 'key to frame: "/" opening the filter (100,000 users, once)', unit: 'ms', value: keys.firstFilterKey, floor: floor.key.median, ...hello},
				{name: 'peak memory of the console, 100,000 users, after its keys (dist/)', unit: 'MB', value: keys.peakMb, budget: BUDGETS.peakMemory100k, floor: floor.peakMb, ...hello},
			];
		} finally {
			rmSync(small, {recursive: true, force: true});
			rmSync(large, {recursive: true, force: true});
		}
	},
};
