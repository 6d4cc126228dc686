import {execFileSync} from 'node:child_process';
import {readFileSync, statSync, truncateSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {SCHEMA_VERSION} from '../source/core/model.js';
import {AtomicJsonFile} from '../source/store/atomic-file.js';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {MAC_BLOCK, startDigest} from '../source/store/validated.js';
import {seededStore, sleep, startWorker, stepsOf, userRecord} from './helpers/writers.js';

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);

/** Puts back the mtime (to the nanosecond) a file had: what `touch -d @S.N` or `cp -p` does after a hand edit. */
function restoreMtime(path: string, mtimeNs: bigint): void {
	const s = mtimeNs / 1_000_000_000n;
	const ns = (mtimeNs % 1_000_000_000n).toString().padStart(9, '0');
	execFileSync('touch', ['-m', '-d', `@${s}.${ns}`, path]);
}

/** Replaces, in place and keeping the size, the padding spaces after user `name`'s record with `char` (non-JSON whitespace). */
function padWith(path: string, name: string, char: string): void {
	const bytes = readFileSync(path);
	const at = bytes.indexOf(`"username":"${name}"`);
	const end = bytes.indexOf('}', bytes.indexOf('"revision":', at));
	const width = Buffer.byteLength(char);
	const spaces = bytes.indexOf(' '.repeat(width), end);
	expect(spaces).toBe(end + 1);
	Buffer.from(char).copy(bytes, spaces);
	writeFileSync(path, bytes, {flag: 'r+'});
}

describe('a store file that is not JSON is refused, never carried on (store/record-lines.ts fromLines)', () => {
	for (const [name, char] of [['no-break space', '\u00a0'], ['byte-order mark', '\ufeff'], ['ideographic space', '\u3000'], ['line separator', '\u2028']] as const) {
		it(`a ${name} after a record, where only JSON whitespace may be, makes the file refused at open`, async () => {
			const store = await seededStore(NAMES);
			await store.transact(db => touch(db.users[0]!));
			padWith(store.path, 'w5', char);
			expect(() => JSON.parse(readFileSync(store.path, 'utf8'))).toThrow();
			await expect(Store.open(store.path)).rejects.toThrow(/not valid JSON|does not validate/);
		});
	}

	it('a commit after a same-size hand edit never leaves a file JSON readers reject (the patched copy keeps the bytes it did not write)', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => touch(db.users[0]!));
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		padWith(store.path, 'w5', '\u00a0');
		restoreMtime(store.path, mtime);
		let opened: Store | undefined;
		try {
			opened = await Store.open(store.path);
		} catch {
			return; // Refused: what the promise asks.
		}
		await opened.transact(db => touch(db.users[9]!));
		// Whatever orgctl does, the file it acknowledges must be JSON for jq and JSON.parse.
		expect(() => JSON.parse(readFileSync(store.path, 'utf8'))).not.toThrow();
	});
});

describe('a list\'s room line of non-JSON whitespace (store/record-lines.ts fromLines)', () => {
	it('is refused, not taken as room: a record added there would leave half a character, bytes that are not UTF-8', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => touch(db.users[0]!));
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		const bytes = readFileSync(store.path);
		// The line of spaces after the last user, before "],": its spaces become no-break spaces (2 bytes each), same size.
		const close = bytes.indexOf('\n],', bytes.indexOf('"username":"root"'));
		const start = bytes.lastIndexOf('\n', close - 1) + 1;
		expect(bytes.subarray(start, close).toString().trim()).toBe('');
		Buffer.from('\u00a0'.repeat(Math.floor((close - start) / 2))).copy(bytes, start);
		writeFileSync(store.path, bytes, {flag: 'r+'});
		restoreMtime(store.path, mtime);
		let opened: Store | undefined;
		try {
			opened = await Store.open(store.path);
		} catch {
			return; // Refused: what the promise asks.
		}
		await opened.transact(db => void db.users.push(userRecord(db.tenants[0]!.id, 'added')));
		const after = readFileSync(store.path);
		expect(after.equals(Buffer.from(after.toString('utf8'))), 'the file is valid UTF-8').toBe(true);
		expect(() => JSON.parse(after.toString('utf8'))).not.toThrow();
	});
});

describe('held: the MAC of a patched big store binds every byte, block by block (store/validated.ts)', () => {
	const build = 'rules-of-this-build';
	const many = Array.from({length: 900}, (_, i) => `u${i}`);
	const macOf = (path: string, bytes: Buffer) => {
		const key = KeyFile.inspect(path);
		if (typeof key !== 'object') throw new Error('no key file');
		return startDigest({id: build, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')}).update(bytes).digest('hex');
	};

	it('records that straddle a 64 KB boundary, patched and grown with multi-byte text, leave the MAC of the exact bytes', async () => {
		const seeded = await seededStore(many);
		KeyFile.load(seeded.path);
		const writer = await Store.open(seeded.path, {validatorId: build});
		expect(statSync(seeded.path).size).toBeGreaterThan(3 * MAC_BLOCK);
		const bytes = readFileSync(seeded.path);
		// The users whose line crosses a block boundary.
		const straddling = writer.read().users.filter(u => {
			const at = bytes.indexOf(`"id":"${u.id}"`);
			const end = bytes.indexOf('\n', at);
			return Math.floor(at / MAC_BLOCK) !== Math.floor(end / MAC_BLOCK);
		}).map(u => u.username);
		expect(straddling.length).toBeGreaterThan(1);
		let patched = 0;
		for (const name of straddling) {
			AtomicJsonFile.onPatchStep = step => {
				if (step === 'rename') patched++;
			};
			try {
				await writer.transact(db => {
					const user = db.users.find(u => u.username === name)!;
					user.passwordHash = 'é→😀';
					user.lastLogin = '2026-06-01T12:00:00.000Z';
					touch(user);
				});
			} finally {
				AtomicJsonFile.onPatchStep = undefined;
			}
			expect(readFileSync(validatedPathOf(seeded.path), 'utf8').trim()).toBe(macOf(seeded.path, readFileSync(seeded.path)));
		}
		expect(patched).toBe(straddling.length);
	});

	for (const [what, tamper] of [
		['a byte of a block no commit re-hashed (a role no build accepts)', (b: Buffer) => Buffer.concat([b.subarray(0, b.indexOf('"role":"guest"', 10) + 8), Buffer.from('X'), b.subarray(b.indexOf('"role":"guest"', 10) + 9)])],
		['two whole blocks swapped', (b: Buffer) => Buffer.concat([b.subarray(0, MAC_BLOCK), b.subarray(2 * MAC_BLOCK, 3 * MAC_BLOCK), b.subarray(MAC_BLOCK, 2 * MAC_BLOCK), b.subarray(3 * MAC_BLOCK)])],
		['the file truncated at a block boundary', (b: Buffer) => b.subarray(0, 2 * MAC_BLOCK)],
	] as const) {
		it(`a fresh process that trusts MACs does not trust ${what}`, async () => {
			const seeded = await seededStore(many);
			KeyFile.load(seeded.path);
			const writer = await Store.open(seeded.path, {validatorId: build});
			await writer.transact(db => touch(db.users.at(-2)!));
			await writer.transact(db => touch(db.users.at(-3)!));
			const mac = readFileSync(validatedPathOf(seeded.path));
			const mtime = statSync(seeded.path, {bigint: true}).mtimeNs;
			const tampered = tamper(readFileSync(seeded.path));
			// In place (the same inode), as `dd conv=notrunc` or a program that opens it r+ writes.
			writeFileSync(seeded.path, tampered, {flag: 'r+'});
			truncateSync(seeded.path, tampered.length);
			restoreMtime(seeded.path, mtime);
			writeFileSync(validatedPathOf(seeded.path), mac);
			const opened = Store.open(seeded.path, {validatorId: build, deferValidation: true}).then(async store => {
				store.validate();
				return store;
			});
			await expect(opened).rejects.toThrow(/orgctl\.json/);
		});
	}
});

describe('a same-size edit in place, its mtime put back (store/atomic-file.ts fromIndex)', () => {
	it('a running console that re-reads the file does not go on from what it held before, and never writes over the edit unseen', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => touch(db.users[0]!));
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		// A role no orgctl accepts, same size, written into the same inode.
		const bytes = readFileSync(store.path);
		const at = bytes.indexOf('"role":"guest"', bytes.indexOf('"username":"w7"') - 400);
		Buffer.from('"role":"GUEST"').copy(bytes, at);
		writeFileSync(store.path, bytes, {flag: 'r+'});
		restoreMtime(store.path, mtime);
		// A fresh process sees the edit and refuses the file.
		await expect(Store.open(store.path)).rejects.toThrow(/does not validate/);
		// The console open since before must not commit over it as if nothing happened.
		await expect(store.transact(db => touch(db.users[9]!))).rejects.toThrow(/orgctl\.json/);
		expect(readFileSync(store.path, 'utf8')).toContain('"role":"GUEST"');
	});
});

describe('held: writers in real processes, stopped and resumed at random, with readers parsing the file all along', () => {
	it('every acknowledged change lands, every file a reader sees is whole JSON of one version', async () => {
		const names = ['w0', 'w1', 'w2'];
		const store = await seededStore(names);
		const workers = await Promise.all(names.map(name => startWorker([store.path, name, '40'])));
		let reading = true;
		let reads = 0;
		let lastVersion = 0;
		const reader = (async () => {
			while (reading) {
				const raw = JSON.parse(readFileSync(store.path, 'utf8')) as {version: number; users: Array<{username: string; revision: number}>};
				expect(raw.version).toBeGreaterThanOrEqual(lastVersion);
				lastVersion = raw.version;
				reads++;
				await sleep(1);
			}
		})();
		const stopper = (async () => {
			while (reading) {
				const worker = workers[Math.floor(Math.random() * workers.length)]!;
				worker.kill('SIGSTOP');
				await sleep(Math.random() * 30);
				worker.kill('SIGCONT');
				await sleep(Math.random() * 20);
			}
		})();
		await Promise.all(workers.map(w => w.exited));
		reading = false;
		await Promise.all([reader, stopper]);
		const final = (await Store.open(store.path)).read();
		for (const [i, name] of names.entries()) {
			expect(workers[i]!.acks).toHaveLength(40);
			expect(final.users.find(u => u.username === name)!.revision).toBe(Math.max(...workers[i]!.acks));
			for (const revision of workers[i]!.acks) if (revision % 2 === 0) expect(final.audit.some(e => e.target === `${name}-r${revision}`)).toBe(true);
		}
		expect(reads).toBeGreaterThan(10);
	}, 120_000);
});

describe('held: a fresh reader learns where lines lie when a multi-byte character straddles its 64 KB read chunk', () => {
	// A first read that keeps every line reads the text whole (file-io.ts TextLines); one that keeps none (a big store, here lineCacheBytes 0) in 64 KB chunks (FileLines).
	for (const [shift, lineCacheBytes] of [1, 2, 3].flatMap(shift => [[shift, undefined], [shift, 0]] as const)) {
		it(`its first commit patches the right bytes (a 4-byte character ${shift} byte(s) before the boundary, read ${lineCacheBytes === 0 ? 'in chunks' : 'whole'})`, async () => {
			const many = Array.from({length: 400}, (_, i) => `u${i}`);
			const store = await seededStore(many);
			const emoji = Buffer.from('😀');
			let pad = 65000;
			for (let tries = 0; tries < 6; tries++) {
				await store.transact(db => {
					const user = db.users.find(u => u.username === 'u0')!;
					user.passwordHash = `${'x'.repeat(pad)}😀é→`;
					touch(user);
				});
				const at = readFileSync(store.path).indexOf(emoji);
				if (at === 65536 - shift) break;
				pad += 65536 - shift - at;
			}
			expect(readFileSync(store.path).indexOf(emoji)).toBe(65536 - shift);
			const reader = await Store.open(store.path, lineCacheBytes === undefined ? {} : {lineCacheBytes});
			const steps = await stepsOf(() =>
				reader.transact(db => {
					const later = db.users.find(u => u.username === 'u390')!;
					later.lastLogin = '2026-06-01T12:00:00.000Z';
					touch(later);
				}),
			);
			expect(steps).toEqual(['copy', 'patch', 'sync', 'rename']);
			const raw = JSON.parse(readFileSync(store.path, 'utf8')) as {users: Array<{username: string; lastLogin: string | null; passwordHash: string | null}>};
			expect(raw.users.find(u => u.username === 'u390')!.lastLogin).toBe('2026-06-01T12:00:00.000Z');
			expect(raw.users.find(u => u.username === 'u0')!.passwordHash!.endsWith('😀é→')).toBe(true);
			await store.refresh();
			expect(JSON.parse(JSON.stringify(store.read()))).toEqual(JSON.parse(JSON.stringify(reader.read())));
		});
	}
});

describe('held: a first read of bytes that are not UTF-8 does not patch by offsets it cannot know', () => {
	for (const lineCacheBytes of [undefined, 0]) {
		it(`a commit after it leaves a file that is JSON and holds every record as read and changed (read ${lineCacheBytes === 0 ? 'in chunks' : 'whole'})`, async () => {
			const store = await seededStore(NAMES);
			await store.transact(db => {
				db.users[1]!.passwordHash = 'not a hash';
				touch(db.users[1]!);
			});
			const mtime = statSync(store.path, {bigint: true}).mtimeNs;
			const bytes = readFileSync(store.path);
			// In place, same size, mtime put back (the index stays bound to the file): a lone continuation byte and a truncated
			// sequence in a free-form field early in the file decode to two U+FFFD, 6 bytes of UTF-8 for 3. Offsets counted
			// from the text would put every later line 3 bytes off; the reader knows it (lossy) and the index's offset does not
			// match the one counted, so the commit writes the file whole.
			const at = bytes.indexOf('"passwordHash":"not', bytes.indexOf('"username":"w1"')) + 16;
			expect(at).toBeGreaterThan(16);
			Buffer.from([0x80, 0xe2, 0x82]).copy(bytes, at);
			writeFileSync(store.path, bytes, {flag: 'r+'});
			restoreMtime(store.path, mtime);
			const reader = await Store.open(store.path, lineCacheBytes === undefined ? {} : {lineCacheBytes});
			const steps = await stepsOf(() =>
				reader.transact(db => {
					const later = db.users.find(u => u.username === 'w30')!;
					later.lastLogin = '2026-06-01T12:00:00.000Z';
					touch(later);
				}),
			);
			expect(steps).not.toContain('patch');
			const raw = JSON.parse(readFileSync(store.path, 'utf8')) as {users: Array<{username: string; lastLogin: string | null}>};
			expect(raw.users.find(u => u.username === 'w30')!.lastLogin).toBe('2026-06-01T12:00:00.000Z');
			expect(raw.users.map(u => u.username)).toEqual(reader.read().users.map(u => u.username));
		});
	}
});

describe('held: two stores on one file in one process (a console and `orgctl serve`), committing in turn and at once', () => {
	it('every change of both lands, and the file is the state both read', async () => {
		const one = await seededStore(NAMES);
		const two = await Store.open(one.path);
		for (let round = 0; round < 20; round++) {
			await Promise.all([
				one.transact(db => {
					db.users[round % 10]!.lastLogin = `2026-06-01T12:00:${String(round).padStart(2, '0')}.000Z`;
					touch(db.users[round % 10]!);
				}),
				two.transact(db => {
					db.users[10 + (round % 10)]!.role = round % 2 ? 'member' : 'guest';
					touch(db.users[10 + (round % 10)]!);
				}),
			]);
			if (round % 3 === 0) await one.transact(db => touch(db.users[30]!));
		}
		await one.refresh();
		await two.refresh();
		const state = JSON.parse(JSON.stringify(one.read())) as {users: Array<{username: string; lastLogin: string | null; role: string; revision: number}>};
		expect(JSON.parse(JSON.stringify(two.read()))).toEqual(state);
		const raw = JSON.parse(readFileSync(one.path, 'utf8')) as Record<string, unknown>;
		delete raw['recentChanges'];
		expect(raw).toEqual(state);
		expect(state.users.find(u => u.username === 'w9')!.lastLogin).toBe('2026-06-01T12:00:19.000Z');
		expect(state.users.find(u => u.username === 'w19')!.role).toBe('member');
		expect(state.users.find(u => u.username === 'w30')!.revision).toBe(1 + 7);
	});
});
