import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {newId} from '../source/core/ids.js';
import {checkInvariants} from '../source/core/invariants.js';
import {Store} from '../source/store/store.js';
import {seededStore, sleep, startWorker, tempFiles, type Worker} from './helpers/writers.js';

/** Longer than the stale time after which the old lock (proper-lockfile, 2 s in its tests) was taken over from a stalled holder. */
const STALL_MS = 3_000;
const ROUNDS = Number(process.env['ORGCTL_STALL_ROUNDS'] ?? 20);

/** Linux's view of a process: 'T' while it is stopped. */
function processState(pid: number): string {
	return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
}

/** Starts a writer that stops itself (SIGSTOP) inside the lock, with its change made but not yet written. */
async function stalledWriter(path: string, name: string, tag: string): Promise<Worker> {
	const writer = await startWorker([path, name, tag], {fixture: 'stalled-writer.ts'});
	await writer.line(/^inside \d+$/);
	for (let i = 0; processState(writer.pid) !== 'T' && i < 100; i++) await sleep(10);
	expect(processState(writer.pid)).toBe('T');
	return writer;
}

describe('a writer stalled inside the lock', () => {
	it(`keeps every acknowledged change when it is stopped (SIGSTOP) past the old stale time while another writer commits, ${ROUNDS} rounds in a row`, async () => {
		const store = await seededStore(['stalled', 'other']);
		let acknowledged = 0;
		for (let round = 0; round < ROUNDS; round++) {
			const before = store.read().version;
			const writer = await stalledWriter(store.path, 'stalled', `stalled-${round}`);
			const bytes = readFileSync(store.path);
			let settled = false;
			const other = store
				.transact(db => {
					const user = db.users.find(u => u.username === 'other')!;
					touch(user);
					db.audit.push({id: newId(), time: '2026-01-01T00:00:00.000Z', actor: 'other', tenantId: user.tenantId, action: 'test.other', target: `other-${round}`, result: 'ok'});
					return user.revision;
				})
				.finally(() => (settled = true));
			await sleep(STALL_MS);
			// The other writer waits for the stopped one instead of taking its lock over, and nothing was written.
			expect(settled).toBe(false);
			expect(readFileSync(store.path).equals(bytes)).toBe(true);
			writer.kill('SIGCONT');
			const otherRevision = await other;
			await writer.exited;
			expect(writer.acks).toHaveLength(1);
			acknowledged += 2;

			const db = (await Store.open(store.path)).read();
			expect(db.version).toBe(before + 2);
			expect(db.users.find(u => u.username === 'stalled')!.revision).toBe(writer.acks[0]);
			expect(db.users.find(u => u.username === 'other')!.revision).toBe(otherRevision);
			const targets = db.audit.map(e => e.target);
			expect(targets).toContain(`stalled-${round}`);
			expect(targets).toContain(`other-${round}`);
			expect(checkInvariants(db)).toBeUndefined();
		}
		const db = store.read();
		const landed = db.audit.filter(e => e.action === 'test.stalled' || e.action === 'test.other').length;
		expect(db.audit.filter(e => e.action === 'test.stalled')).toHaveLength(ROUNDS);
		expect(db.audit.filter(e => e.action === 'test.other')).toHaveLength(ROUNDS);
		expect(tempFiles(store.path)).toEqual([]);
		console.info(`SIGSTOP: ${ROUNDS} rounds, a writer stopped inside the lock for ${STALL_MS} ms each while another committed; ${acknowledged} changes acknowledged, ${landed} of them in the store`);
	}, 60_000 + ROUNDS * (STALL_MS + 3_000));

	it('makes a waiter that runs out of time fail with a message naming the process that holds the lock', async () => {
		const store = await seededStore(['stalled']);
		const writer = await stalledWriter(store.path, 'stalled', 'stalled');
		try {
			const impatient = await Store.open(store.path, {lockTimeoutMs: 500});
			const bytes = readFileSync(store.path);
			const started = performance.now();
			await expect(impatient.transact(db => touch(db.users[0]!))).rejects.toMatchObject({
				kind: 'store',
				message: expect.stringMatching(new RegExp(`^Cannot use the store ${store.path}: another orgctl has held its lock for over 1 s \\(the last to take it was process ${writer.pid} on ".+"\\); .*kill -CONT`)),
			});
			expect(performance.now() - started).toBeGreaterThanOrEqual(450);
			expect(readFileSync(store.path).equals(bytes)).toBe(true);
		} finally {
			writer.kill('SIGCONT');
			await writer.exited;
		}
		// Once the holder goes on, it commits, and the store takes changes again.
		expect(writer.acks).toHaveLength(1);
		await store.transact(db => touch(db.users[0]!));
		expect(store.read().audit.map(e => e.target)).toContain('stalled');
	});

	it('is let go by the kernel when its holder is killed, so the next writer goes ahead at once', async () => {
		const store = await seededStore(['stalled']);
		const writer = await stalledWriter(store.path, 'stalled', 'never');
		const started = performance.now();
		const waiting = store.transact(db => touch(db.users[0]!));
		await sleep(200);
		writer.kill('SIGKILL');
		await writer.exited;
		await waiting;
		expect(performance.now() - started).toBeLessThan(5_000);
		const db = store.read();
		// The killed writer's change was never acknowledged, and is not there.
		expect(db.audit.map(e => e.target)).not.toContain('never');
		expect(db.users[0]!.revision).toBe(2);
	});
});
