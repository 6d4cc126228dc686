import {appendFileSync, closeSync, openSync, readFileSync, renameSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {AtomicJsonFile} from '../source/store/atomic-file.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {asJson, fileState, promote, seededStore, stepsOf, tempFiles} from './helpers/writers.js';

// Every store of this file copies ahead (source/store/copier.ts: the copy a patched commit needs is made on a thread of
// its own while the change is worked out), at any size; so do the writer processes the imported tests start.
beforeAll(() => {
	AtomicJsonFile.copyAheadFrom = 0;
	process.env['ORGCTL_TEST_COPY_AHEAD'] = '0';
});
afterAll(() => {
	AtomicJsonFile.copyAheadFrom = undefined;
	delete process.env['ORGCTL_TEST_COPY_AHEAD'];
});

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);

/** A store this process has committed to once, so its next commit patches a copy (started before the change runs). */
async function patchingStore(): Promise<Store> {
	const store = await seededStore(NAMES);
	await store.transact(db => {
		touch(db.users[0]!);
	});
	return store;
}


/** Writes `text` over the store file at `offset`, in place, and puts its mtime back (`cp -p`, `rsync --inplace -t`). */
function editInPlace(path: string, offset: number, text: string): void {
	const {atime, mtime} = statSync(path);
	const fd = openSync(path, 'r+');
	try {
		writeSync(fd, text, offset);
	} finally {
		closeSync(fd);
	}
	utimesSync(path, atime, mtime);
}

describe('a commit whose copy is made while the change is worked out (store/copier.ts) lands only on the file it was made on', () => {
	it('patches the copy made ahead: the file holds the whole new state, and no temp file is left', async () => {
		const store = await patchingStore();
		const seen = await stepsOf(() =>
			store.transact(promote('w7')),
		);
		expect(seen).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect(tempFiles(store.path)).toEqual([]);
		expect((await Store.open(store.path)).read().users.find(u => u.username === 'w7')!.role).toBe('member');
	});

	it('one byte changed in place while the change runs (the copy already under way, mtime put back) is never replaced by the copy: the commit is refused, the edit stays', async () => {
		const store = await patchingStore();
		const offset = readFileSync(store.path).indexOf('"username":"w20"') + '"username":"w2'.length;
		await expect(
			store.transact(db => {
				// The copy was started under the lock, before this runs.
				editInPlace(store.path, offset, '9');
				const user = db.users.find(u => u.username === 'w3')!;
				user.role = 'member';
				touch(user);
			}),
		).rejects.toThrow(/another program replaced the file/);
		const raw = JSON.parse(readFileSync(store.path, 'utf8')) as {users: Array<{username: string; role: string}>};
		expect(raw.users.some(u => u.username === 'w29')).toBe(true);
		expect(raw.users.find(u => u.username === 'w3')!.role).toBe('guest');
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('one byte changed in place after the copy was made, before the rename (mtime put back), is never replaced by the copy', async () => {
		const store = await patchingStore();
		const offset = readFileSync(store.path).indexOf('"username":"w20"') + '"username":"w2'.length;
		AtomicJsonFile.onPatchStep = step => {
			if (step === 'sync') editInPlace(store.path, offset, '9');
		};
		try {
			await expect(
				store.transact(promote('w3')),
			).rejects.toThrow(/another program replaced the file/);
		} finally {
			AtomicJsonFile.onPatchStep = undefined;
		}
		const raw = JSON.parse(readFileSync(store.path, 'utf8')) as {users: Array<{username: string; role: string}>};
		expect(raw.users.some(u => u.username === 'w29')).toBe(true);
		expect(raw.users.find(u => u.username === 'w3')!.role).toBe('guest');
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('another file renamed into place while the change runs is never replaced by the copy of the old one', async () => {
		const store = await patchingStore();
		const other = join(store.path, '..', 'other.json');
		await expect(
			store.transact(db => {
				writeFileSync(other, readFileSync(store.path), {mode: 0o600});
				renameSync(other, store.path);
				const user = db.users.find(u => u.username === 'w3')!;
				user.role = 'member';
				touch(user);
			}),
		).rejects.toThrow(/another program replaced the file/);
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('a change that throws leaves no copy behind, and the next commit patches', async () => {
		const store = await patchingStore();
		await expect(
			store.transact(() => {
				throw new Error('changed my mind');
			}),
		).rejects.toThrow('changed my mind');
		expect(tempFiles(store.path)).toEqual([]);
		const seen = await stepsOf(() =>
			store.transact(promote('w5')),
		);
		expect(seen).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
	});

	it('a change a patch cannot take (a user removed) writes the file whole, the copy made ahead discarded', async () => {
		const store = await patchingStore();
		const seen = await stepsOf(() =>
			store.transact(db => {
				db.users.splice(
					db.users.findIndex(u => u.username === 'w9'),
					1,
				);
			}),
		);
		expect(seen).toEqual([]);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect(store.read().users.some(u => u.username === 'w9')).toBe(false);
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('a change refused by the checks leaves no copy behind and the file as it was', async () => {
		const store = await patchingStore();
		const before = readFileSync(store.path);
		await expect(
			store.transact(db => {
				db.users.find(u => u.username === 'w4')!.role = 'owner' as never;
			}),
		).rejects.toThrow();
		expect(readFileSync(store.path).equals(before)).toBe(true);
		expect(tempFiles(store.path)).toEqual([]);
	});
});

describe('after the file was touched outside orgctl, a commit starts its copy before it compares the bytes, and lands only if they are the ones it holds', () => {
	/** A store this process holds with its blocks' digests (a validator), its file then touched: stat moved, bytes the same. */
	async function touchedStore(): Promise<Store> {
		const seeded = await seededStore(NAMES);
		KeyFile.load(seeded.path);
		const store = await Store.open(seeded.path, {validatorId: 'copy-ahead-test'});
		await store.transact(db => {
			touch(db.users[1]!);
		});
		const when = new Date(Date.now() + 5000);
		utimesSync(store.path, when, when);
		return store;
	}
	const offsetOfW20 = (path: string) => readFileSync(path).indexOf('"username":"w20"') + '"username":"'.length;
	const w3ToMember = (db: {users: Array<{username: string; role: string}>}) => {
		const user = db.users.find(u => u.username === 'w3')!;
		user.role = 'member';
		touch(user as never);
	};

	it('bytes the same: the commit patches the copy made while they were compared', async () => {
		const store = await touchedStore();
		const seen = await stepsOf(() => store.transact(w3ToMember));
		expect(seen).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('one byte changed in place (and the stamp with it): the file is read whole, the edit kept, the copy made ahead discarded', async () => {
		const store = await touchedStore();
		editInPlace(store.path, offsetOfW20(store.path), 'x');
		const when = new Date(Date.now() + 9000);
		utimesSync(store.path, when, when);
		const seen = await stepsOf(() => store.transact(w3ToMember));
		expect(seen).toEqual([]);
		const names = store.read().users.map(u => u.username);
		expect(names).toContain('x20');
		expect(names).not.toContain('w20');
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('one byte changed in place after the bytes were compared, before the rename (mtime put back), is never replaced by the copy', async () => {
		const store = await touchedStore();
		const offset = offsetOfW20(store.path);
		await expect(
			store.transact(db => {
				editInPlace(store.path, offset, 'x');
				w3ToMember(db);
			}),
		).rejects.toThrow(/another program replaced the file/);
		expect(readFileSync(store.path, 'utf8')).toContain('"username":"x20"');
		expect(tempFiles(store.path)).toEqual([]);
	});

	for (const [how, edit] of [
		['grows', (path: string) => appendFileSync(path, ' ')],
		['shrinks', (path: string) => truncateSync(path, statSync(path).size - 1)],
	] as const) {
		it(`a file that ${how} after the bytes were compared, before the rename, is never replaced by the copy`, async () => {
			const store = await touchedStore();
			const {mtime} = statSync(store.path);
			await expect(
				store.transact(db => {
					edit(store.path);
					utimesSync(store.path, mtime, mtime);
					w3ToMember(db);
				}),
			).rejects.toThrow(/another program replaced the file/);
			expect(tempFiles(store.path)).toEqual([]);
		});
	}
});

// The store's commit, follow and attack tests again, every copy made ahead.
await import('./store-patch.test.js');
await import('./store-patch-attack.test.js');
await import('./store-follow.test.js');
await import('./store-follow-attack.test.js');
