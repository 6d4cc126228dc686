import {execFileSync} from 'node:child_process';
import {chmodSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {AtomicJsonFile} from '../source/store/atomic-file.js';
import {tempPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {tempDir} from './helpers/store.js';
import {asJson, fileState, promote, seededStore, startWorker, stepsOf, tempFiles} from './helpers/writers.js';

// Red team on the copy made on a thread of its own (source/store/copier.ts, 2026-12-02): every store of this file
// copies ahead at any size, as test/store-copy-ahead.test.ts does.
beforeAll(() => {
	AtomicJsonFile.copyAheadFrom = 0;
});
afterAll(() => {
	AtomicJsonFile.copyAheadFrom = undefined;
});

// An attacker who wins the race for the copy's temp file (puts a folder there as the copier creates it) is played by
// naming the next temp file in advance: the next randomBytes(6) after `planted.hex` is set returns it, once.
const planted = vi.hoisted(() => ({hex: undefined as string | undefined}));
vi.mock('node:crypto', async importOriginal => {
	const real = await importOriginal<typeof import('node:crypto')>();
	const randomBytes = ((size: number, ...rest: unknown[]) => {
		if (size === 6 && rest.length === 0 && planted.hex !== undefined) {
			const hex = planted.hex;
			planted.hex = undefined;
			return Buffer.from(hex, 'hex');
		}
		return (real.randomBytes as (...args: unknown[]) => Buffer)(size, ...rest);
	}) as typeof real.randomBytes;
	return {...real, default: {...real, randomBytes}, randomBytes};
});

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);

/** A store this process has committed to once, so its next commit patches a copy made ahead. */
async function patchingStore(path?: string): Promise<Store> {
	const store = await seededStore(NAMES, path === undefined ? {} : {path});
	await store.transact(db => {
		touch(db.users[0]!);
	});
	return store;
}

function roles(path: string): Record<string, string> {
	const raw = JSON.parse(readFileSync(path, 'utf8')) as {users: Array<{username: string; role: string}>};
	return Object.fromEntries(raw.users.map(u => [u.username, u.role]));
}


describe('the copier thread is one per process: two stores committing at once each land on their own file', () => {
	it('two stores on two files, their commits interleaved, each patch a copy of their own file and every change lands', async () => {
		const a = await patchingStore();
		const b = await patchingStore();
		const seen = await stepsOf(() => Promise.all(NAMES.slice(1, 21).flatMap(name => [a.transact(promote(name)), b.transact(promote(name, 'admin'))])));
		// Every commit of both patched (the copy ahead or, when the thread was busy, its own): none wrote its copy into the other's file.
		expect(seen.filter(step => step === 'rename')).toHaveLength(40);
		for (const name of NAMES.slice(1, 21)) {
			expect(roles(a.path)[name]).toBe('member');
			expect(roles(b.path)[name]).toBe('admin');
		}
		expect(roles(a.path)['w30']).toBe('guest');
		expect(fileState(a.path)).toEqual(asJson(a.read()));
		expect(fileState(b.path)).toEqual(asJson(b.read()));
		expect(tempFiles(a.path)).toEqual([]);
		expect(tempFiles(b.path)).toEqual([]);
	});

	it('two stores on one file in one process, committing at once, lose no change of the other', async () => {
		const a = await patchingStore();
		const b = await Store.open(a.path);
		await b.transact(promote('w1'));
		await Promise.all(NAMES.slice(2, 22).map((name, i) => (i % 2 === 0 ? a : b).transact(promote(name, i % 3 === 0 ? 'admin' : 'member'))));
		const onDisk = roles(a.path);
		NAMES.slice(2, 22).forEach((name, i) => expect(onDisk[name]).toBe(i % 3 === 0 ? 'admin' : 'member'));
		expect(onDisk['w1']).toBe('member');
		expect(fileState(a.path)).toEqual(asJson((await Store.open(a.path)).read()));
		expect(tempFiles(a.path)).toEqual([]);
	});
});

describe('a file changed in any way after the copy was started is never replaced by it', () => {
	it('the store replaced by a symbolic link to a byte-for-byte copy of itself while the change runs: refused, the link left as it was', async () => {
		const store = await patchingStore();
		const twin = join(store.path, '..', 'twin.json');
		writeFileSync(twin, readFileSync(store.path), {mode: 0o600});
		await expect(
			store.transact(db => {
				unlinkSync(store.path);
				symlinkSync(twin, store.path);
				promote('w3')(db);
			}),
		).rejects.toThrow(/another program replaced the file/);
		expect(statSync(twin).nlink).toBe(1);
		expect(roles(twin)['w3']).toBe('guest');
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('a hard link made to the store and removed again while the change runs (same inode, size, mtime and bytes): refused', async () => {
		const store = await patchingStore();
		const other = join(store.path, '..', 'other-name.json');
		await expect(
			store.transact(db => {
				linkSync(store.path, other);
				unlinkSync(other);
				promote('w3')(db);
			}),
		).rejects.toThrow(/another program replaced the file/);
		expect(roles(store.path)['w3']).toBe('guest');
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('the store moved aside and back while the copy is made (same inode, bytes and mtime): refused', async () => {
		const store = await patchingStore();
		const aside = `${store.path}.aside`;
		await expect(
			store.transact(db => {
				renameSync(store.path, aside);
				renameSync(aside, store.path);
				promote('w3')(db);
			}),
		).rejects.toThrow(/another program replaced the file/);
		expect(tempFiles(store.path)).toEqual([]);
	});
});

describe('the copy is private', () => {
	it('a store left readable by its group (0640): the copy patched and renamed over it is 0600', async () => {
		const store = await patchingStore();
		chmodSync(store.path, 0o640);
		const seen = await stepsOf(() => store.transact(promote('w3')));
		expect(seen).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(statSync(store.path).mode & 0o777).toBe(0o600);
		expect(roles(store.path)['w3']).toBe('member');
	});
});

describe('a copier thread that cannot copy never hangs a commit or the process', () => {
	it('a FIFO swapped in at the store path while the copier opens it, the store then put back: the commit is refused at once and the process ends', async () => {
		const seeded = await seededStore(NAMES, {path: join(tempDir(), 'orgctl.json')});
		await seeded.transact(promote('w1'));
		const fifo = join(seeded.path, '..', 'swap.fifo');
		execFileSync('mkfifo', ['-m', '600', fifo]);
		const started = Date.now();
		const worker = await startWorker([seeded.path, fifo], {fixture: 'copy-fifo.ts'});
		const timer = setTimeout(() => worker.kill(), 20_000);
		try {
			await worker.exited;
		} finally {
			clearTimeout(timer);
		}
		expect(worker.lines[0]).toBe('copy-ahead started');
		// Before: the commit waited the copier's 30 s patience, and the process then never ended (a thread stuck in open(2)
		// keeps it from exiting, even by process.exit): killed here at 20 s with no outcome printed.
		expect(worker.lines[1]).toMatch(/^refused in \d+ ms: .*another program replaced the file/);
		expect(Number(/in (\d+) ms/.exec(worker.lines[1]!)![1])).toBeLessThan(5000);
		expect(Date.now() - started).toBeLessThan(15_000);
		expect(roles(seeded.path)['w3']).toBe('guest');
		expect(tempFiles(seeded.path)).toEqual([]);
	}, 40_000);
});

describe('a re-read under the lock that refuses the file leaves no copy behind', () => {
	it('a file touched outside orgctl whose bytes now break a rule (same size): the commit is refused, the copy started during the compare removed', async () => {
		const seeded = await seededStore(NAMES);
		KeyFile.load(seeded.path);
		const store = await Store.open(seeded.path, {validatorId: 'copy-attack-test'});
		await store.transact(db => {
			touch(db.users[1]!);
		});
		const text = readFileSync(store.path, 'utf8');
		const at = text.indexOf('"role":"guest"');
		writeFileSync(store.path, text.slice(0, at) + '"role":"ghost"' + text.slice(at + '"role":"guest"'.length), {mode: 0o600});
		const when = new Date(Date.now() + 7000);
		utimesSync(store.path, when, when);
		await expect(store.transact(promote('w3'))).rejects.toThrow(/does not validate/);
		expect(readFileSync(store.path, 'utf8')).toContain('"role":"ghost"');
		expect(tempFiles(store.path)).toEqual([]);
	});
});

// Last in this file: before the fix it killed the process's copier thread.
describe('a copier thread that fails to copy answers the commit at once', () => {
	it('a folder put at the copy\'s temp name (a same-user attacker who won the race for it): the commit lands at once, written whole, and the folder is not taken for the store', async () => {
		const store = await patchingStore();
		const hex = 'a1b2c3d4e5f6';
		const trap = tempPathOf(store.path, hex);
		mkdirSync(trap, {mode: 0o700});
		planted.hex = hex;
		const started = Date.now();
		const seen = await stepsOf(() => store.transact(promote('w3')));
		// Before: the copier's catch could not remove a folder (rmSync throws EISDIR), the thread died without answering,
		// the commit waited the full 30 s patience and then failed with the raw "Path is a directory" error.
		expect(Date.now() - started).toBeLessThan(5000);
		expect(seen).toEqual([]);
		expect(roles(store.path)['w3']).toBe('member');
		expect(fileState(store.path)).toEqual(asJson((await Store.open(store.path)).read()));
		expect(statSync(trap).isDirectory()).toBe(true);
		// And the thread still copies for the next commit.
		const next = await stepsOf(() => store.transact(promote('w4')));
		expect(next).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(roles(store.path)['w4']).toBe('member');
	}, 45_000);

	it('the same folder in the way of a commit that copies on its own (no copy made ahead): the commit lands, written whole', async () => {
		const store = await patchingStore();
		const hex = 'f6e5d4c3b2a1';
		const trap = tempPathOf(store.path, hex);
		mkdirSync(trap, {mode: 0o700});
		AtomicJsonFile.copyAheadFrom = undefined;
		planted.hex = hex;
		try {
			// Before: the copy's cleanup threw the raw "Path is a directory" error out of the commit.
			await store.transact(promote('w5'));
		} finally {
			AtomicJsonFile.copyAheadFrom = 0;
		}
		expect(roles(store.path)['w5']).toBe('member');
		expect(fileState(store.path)).toEqual(asJson((await Store.open(store.path)).read()));
		expect(statSync(trap).isDirectory()).toBe(true);
	});
});
