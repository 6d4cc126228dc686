import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {checkInvariants} from '../source/core/invariants.js';
import type {Database} from '../source/core/model.js';
import {Store} from '../source/store/store.js';
import {seededStore, sleep, startWorker, tempFiles} from './helpers/writers.js';

/** Kills in all; `.ci/run` runs this file once more with ORGCTL_SOAK_KILLS=1000. */
const KILLS = Number(process.env['ORGCTL_SOAK_KILLS'] ?? 40);
const WRITERS = 4;

/**
 * What must hold after any number of kills: every change a writer was told is saved is there (its
 * user's revision at least the last acknowledged one, and the audit event of every acknowledged
 * even revision), and no change is there twice or half: each commit bumps the version and exactly
 * one user's revision by one, so the version is the seed's plus the sum of all revision steps.
 */
function assertHolds(db: Database, acked: ReadonlyMap<string, readonly number[]>, seedVersion: number): void {
	let steps = 0;
	const targets = new Set(db.audit.map(e => e.target));
	for (const [name, revisions] of acked) {
		const user = db.users.find(u => u.username === name)!;
		steps += user.revision - 1;
		expect(user.revision).toBeGreaterThanOrEqual(Math.max(1, ...revisions));
		for (const revision of revisions) if (revision % 2 === 0) expect(targets.has(`${name}-r${revision}`), `${name}-r${revision}`).toBe(true);
	}
	expect(db.version).toBe(seedVersion + steps);
	expect(checkInvariants(db)).toBeUndefined();
}

describe('writers killed with SIGKILL at random moments', () => {
	it(`never cost an acknowledged change, and the store opens after every kill (${KILLS} kills across ${WRITERS} writers on one store)`, async () => {
		const names = Array.from({length: WRITERS}, (_, i) => `w${i}`);
		const store = await seededStore(names);
		const seedVersion = store.read().version;
		const acked = new Map<string, number[]>(names.map(name => [name, []]));
		const counts = {kills: 0, beforeFirstAck: 0, leftTemp: 0, opens: 0};
		const started = performance.now();

		const writer = async (name: string, kills: number) => {
			for (let kill = 0; kill < kills; kill++) {
				const worker = await startWorker([store.path, name, '1000000']);
				if (Math.random() < 0.2) {
					// While it starts, opens the store, or waits for the lock of a writer just killed.
					await sleep(Math.random() * 150);
					if (worker.acks.length === 0) counts.beforeFirstAck++;
				} else {
					await worker.firstAck;
					await sleep(Math.random() * 100);
				}
				worker.kill();
				await worker.exited;
				counts.kills++;
				acked.get(name)!.push(...worker.acks);
				if (tempFiles(store.path).some(file => file.includes(`-${worker.pid}-`))) counts.leftTemp++;

				const reopened = await Store.open(store.path);
				counts.opens++;
				assertHolds(reopened.read(), acked, seedVersion);
			}
		};
		await Promise.all(names.map((name, i) => writer(name, Math.floor(KILLS / WRITERS) + (i < KILLS % WRITERS ? 1 : 0))));

		// Every writer is gone: their locks with them, and their temp files once the store is opened.
		const after = await Store.open(store.path);
		expect(tempFiles(store.path)).toEqual([]);
		await after.transact(db => touch(db.users[0]!));
		assertHolds(after.read(), acked, seedVersion);
		const total = [...acked.values()].reduce((sum, revisions) => sum + revisions.length, 0);
		expect(total).toBeGreaterThan(0);
		expect(counts.kills).toBe(KILLS);
		console.info(
			`SIGKILL soak: ${counts.kills} kills across ${WRITERS} writers on one store (${counts.beforeFirstAck} before their first commit), ${total} acknowledged changes, all ${total} in the store; ` +
				`${after.read().version - seedVersion - 1} commits landed in all; ${counts.leftTemp} kills left a temp file behind; the store opened ${counts.opens} times; ${((performance.now() - started) / 1000).toFixed(0)} s`,
		);
	}, 120_000 + KILLS * 1_000);
});
