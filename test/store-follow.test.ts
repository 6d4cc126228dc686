import {execFileSync} from 'node:child_process';
import {chmodSync, readFileSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {newId} from '../source/core/ids.js';
import {SCHEMA_VERSION} from '../source/core/model.js';
import type {PatchStep} from '../source/store/atomic-file.js';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {startDigest} from '../source/store/validated.js';
import {tempDir} from './helpers/store.js';
import {asJson, fileState, seededStore, startWorker, stepsOf} from './helpers/writers.js';

// What a console learns of the file another orgctl process committed, or something outside orgctl
// touched, so that its own next commit patches a copy instead of writing the whole file
// (store/follow-layout.ts, store/atomic-file.ts): and that whatever it cannot prove, it writes whole.

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);
const BUILD = 'rules-of-this-build';

/** The newest entry of the file's index of recent changes. */
function lastEntry(path: string): {patchOf?: string; version: number} {
	const raw = JSON.parse(readFileSync(path, 'utf8')) as {recentChanges: {log: Array<{patchOf?: string; version: number}>}};
	return raw.recentChanges.log.at(-1)!;
}

function offsetOf(path: string, name: string): number {
	return readFileSync(path).indexOf(`"username":"${name}"`);
}


const PATCHED: PatchStep[] = ['copy', 'patch', 'sync', 'rename'];

/** A seeded store this process wrote, with a key file, opened as the console opens it (`validated`: with the build's validator: the MAC of validated state). */
async function consoleStore(validated: boolean): Promise<Store> {
	const path = join(tempDir(), 'orgctl.json');
	if (validated) KeyFile.load(path);
	const store = await seededStore(NAMES, {path, ...(validated ? {validatorId: BUILD} : {})});
	await store.transact(db => touch(db.users[0]!));
	return store;
}

/** The MAC of validated state the bytes of the file now have. */
function macOfFile(path: string): string {
	const key = KeyFile.inspect(path);
	if (typeof key !== 'object') throw new Error('no key file');
	return startDigest({id: BUILD, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')})
		.update(readFileSync(path))
		.digest('hex');
}

/** Another console's commit, in a process of its own (test/fixtures/store-worker.ts): the role of `name` flipped, and an audit event added. */
async function otherConsoleCommits(path: string, name: string, commits = 1): Promise<void> {
	const worker = await startWorker([path, name, String(commits)]);
	await worker.exited;
	expect(worker.acks).toHaveLength(commits);
}

function restoreMtime(path: string, mtimeNs: bigint): void {
	const s = mtimeNs / 1_000_000_000n;
	const ns = (mtimeNs % 1_000_000_000n).toString().padStart(9, '0');
	execFileSync('touch', ['-m', '-d', `@${s}.${ns}`, path]);
}

describe('a console that follows another process\'s patched commit patches its own next commit too (store/follow-layout.ts)', () => {
	for (const validated of [false, true]) {
		it(`${validated ? 'its commit is a patched copy, the bytes it did not change stay in place' : 'without a validator its commit writes the whole file'}, and the file is what a whole read gives${validated ? ' (and carries the MAC of its exact bytes)' : ''}`, async () => {
			const store = await consoleStore(validated);
			// The other console adds an audit event only when its user's revision comes out even (store-worker.ts):
			// in the first round only, so that the room at the end of the short audit list (512 bytes) holds what is added.
			await store.transact(db => {
				for (const name of ['w4', 'w5']) touch(db.users.find(u => u.username === name)!);
			});
			const later = offsetOf(store.path, 'w30');
			for (let round = 0; round < 3; round++) {
				// A second console, a real process, opens the file and commits (a role changed in place, in the first round an event added at the end of the audit).
				await otherConsoleCommits(store.path, `w${3 + round}`);
				expect(lastEntry(store.path).patchOf).toBeDefined();
				const steps = await stepsOf(() =>
					store.transact(db => {
						const user = db.users.find(u => u.username === `w${10 + round}`)!;
						user.role = 'member';
						touch(user);
						if (round === 1) db.audit.push({id: newId(), time: '2026-06-01T12:00:00.000Z', actor: 'root', tenantId: user.tenantId, action: 'test.follow', target: user.username, result: 'ok'});
					}),
				);
				// Without a validator nothing proves the bytes that commit did not write are the ones held here (an edit in place
				// there, its mtime put back, goes unseen: red team redteam21): the file is written whole, from checked data.
				expect(steps).toEqual(validated ? PATCHED : []);
				if (validated) expect(offsetOf(store.path, 'w30')).toBe(later);
				expect(fileState(store.path)).toEqual(asJson(store.read()));
				const fresh = await Store.open(store.path);
				expect(asJson(fresh.read())).toEqual(asJson(store.read()));
				expect(fresh.read().users.find(u => u.username === `w${3 + round}`)!.role).toBe('admin');
				expect(fresh.read().audit.filter(event => event.action === 'test.follow')).toHaveLength(round >= 1 ? 1 : 0);
				expect(fresh.read().audit.filter(event => event.action === 'test.commit')).toHaveLength(1);
				if (validated) expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOfFile(store.path));
			}
			if (validated) {
				const trusted = await Store.open(store.path, {validatorId: BUILD, deferValidation: true});
				expect(asJson(trusted.read())).toEqual(asJson(store.read()));
			}
		});
	}

	it('after two commits of others since its last look it writes the whole file once (it cannot prove where every line is), then patches again', async () => {
		const store = await consoleStore(true);
		await otherConsoleCommits(store.path, 'w3', 2);
		const first = await stepsOf(() => store.transact(db => touch(db.users[5]!)));
		expect(first).toEqual([]);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect(store.read().users.find(u => u.username === 'w3')!.revision).toBe(3);
		const second = await stepsOf(() => store.transact(db => touch(db.users[6]!)));
		expect(second).toEqual(PATCHED);
		expect(asJson((await Store.open(store.path)).read())).toEqual(asJson(store.read()));
	});

	it('a commit written whole by the other process is followed by a whole write here, never a patch at the lines it used to know', async () => {
		const store = await consoleStore(false);
		const other = await Store.open(store.path);
		// Removing a user cannot be patched: the other process writes the whole file, every later line moves.
		await other.transact(db => void db.users.splice(2, 1));
		expect(lastEntry(store.path).patchOf).toBeUndefined();
		const steps = await stepsOf(() => store.transact(db => touch(db.users.find(u => u.username === 'w30')!)));
		expect(steps).toEqual([]);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect(store.read().users.some(u => u.username === 'w2')).toBe(false);
	});

	it('a file moved about in place before the other commit (a line break shifted, size and mtime put back) is never patched at the offsets held here', async () => {
		const store = await consoleStore(false);
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		// Record w5's room to grow moved from the end of its line to the start of the next: the same
		// JSON, the same size, but w5's line now ends earlier. A patch of w5 at the offsets held before
		// would write spaces over the comma that ends it, and leave a file no JSON reader accepts.
		const bytes = readFileSync(store.path);
		const start = bytes.lastIndexOf('\n', offsetOf(store.path, 'w5')) + 1;
		const end = bytes.indexOf('\n', start) + 1;
		const line = bytes.toString('latin1', start, end);
		const json = line.replace(/ +,\n$/, '');
		const room = line.length - json.length - 2;
		expect(room).toBeGreaterThan(2);
		Buffer.from(`${json},\n${' '.repeat(room)}`, 'latin1').copy(bytes, start);
		writeFileSync(store.path, bytes, {flag: 'r+'});
		restoreMtime(store.path, mtime);
		// Another console reads the file as it now is and commits on it, patching its own copy.
		await otherConsoleCommits(store.path, 'w3');
		expect(lastEntry(store.path).patchOf).toBeDefined();
		const steps = await stepsOf(() =>
			store.transact(db => {
				const user = db.users.find(u => u.username === 'w5')!;
				user.role = 'member';
				touch(user);
			}),
		);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		// The commit it followed patched another file than the one held here (its ctime moved): written whole.
		expect(steps).toEqual([]);
		const fresh = await Store.open(store.path);
		expect(fresh.read().users.find(u => u.username === 'w5')!.role).toBe('member');
		expect(fresh.read().users.find(u => u.username === 'w3')!.role).toBe('admin');
	});
});

describe('a file touched outside orgctl, its bytes unchanged, is kept without being parsed again (store/validated.ts sameBlocks)', () => {
	const touches: Array<[string, (path: string) => void]> = [
		[
			'its mtime moved (touch)',
			path => {
				const when = new Date(Date.now() + 5000);
				utimesSync(path, when, when);
			},
		],
		['its mode changed (chmod: only the ctime moves)', path => chmodSync(path, 0o640)],
		['the same bytes written over it', path => writeFileSync(path, readFileSync(path), {flag: 'r+'})],
	];
	for (const [what, touchIt] of touches) {
		it(`${what}: the data held stays (the very objects), and the next commit patches a copy`, async () => {
			const store = await consoleStore(true);
			const held = store.read();
			const heard: unknown[] = [];
			const unsubscribe = store.subscribe({changed: change => heard.push(change), failed: error => heard.push(error)});
			touchIt(store.path);
			await store.refresh();
			expect(store.read()).toBe(held);
			const steps = await stepsOf(() => store.transact(db => touch(db.users[7]!)));
			unsubscribe();
			expect(steps).toEqual(PATCHED);
			// Told of its own commit only: nothing changed before it.
			expect(heard).toHaveLength(1);
			expect(statSync(store.path).mode & 0o777).toBe(0o600);
			expect(fileState(store.path)).toEqual(asJson(store.read()));
			expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOfFile(store.path));
			expect(asJson((await Store.open(store.path)).read())).toEqual(asJson(store.read()));
		});
	}

	it('a same-size edit in place with its mtime put back is read whole: the edit is seen, and kept by the next commit', async () => {
		const store = await consoleStore(true);
		const held = store.read();
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		const bytes = readFileSync(store.path);
		// The role on w7's own line.
		const at = bytes.indexOf('"role":"guest"', bytes.lastIndexOf('\n', offsetOf(store.path, 'w7')));
		expect(at).toBeGreaterThan(0);
		Buffer.from('"role":"admin"').copy(bytes, at);
		writeFileSync(store.path, bytes, {flag: 'r+'});
		restoreMtime(store.path, mtime);
		await store.refresh();
		expect(store.read()).not.toBe(held);
		expect(store.read().users.find(u => u.username === 'w7')!.role).toBe('admin');
		await store.transact(db => touch(db.users.find(u => u.username === 'w9')!));
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		expect((await Store.open(store.path)).read().users.find(u => u.username === 'w7')!.role).toBe('admin');
	});

	it('a same-size edit in place that breaks the rules, its mtime put back, is refused, never committed over', async () => {
		const store = await consoleStore(true);
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		const bytes = readFileSync(store.path);
		const at = bytes.indexOf('"role":"guest"', offsetOf(store.path, 'w7') - 400);
		Buffer.from('"role":"GUEST"').copy(bytes, at);
		writeFileSync(store.path, bytes, {flag: 'r+'});
		restoreMtime(store.path, mtime);
		await expect(store.transact(db => touch(db.users[9]!))).rejects.toThrow(/does not validate/);
		expect(readFileSync(store.path, 'utf8')).toContain('"role":"GUEST"');
	});

	it('a file edited with jq (its bytes and size change) is read whole, and the next commit writes it whole in our layout with the edit in it', async () => {
		const store = await consoleStore(true);
		const edited = execFileSync('jq', ['(.users[] | select(.username == "w4") | .role) = "member"', store.path], {encoding: 'utf8'});
		writeFileSync(store.path, edited);
		await store.refresh();
		expect(store.read().users.find(u => u.username === 'w4')!.role).toBe('member');
		const first = await stepsOf(() => store.transact(db => touch(db.users.find(u => u.username === 'w8')!)));
		expect(first).toEqual([]);
		expect(readFileSync(store.path, 'utf8').startsWith(`{\n"schemaVersion":${SCHEMA_VERSION},\n"version":`)).toBe(true);
		const second = await stepsOf(() => store.transact(db => touch(db.users.find(u => u.username === 'w9')!)));
		expect(second).toEqual(PATCHED);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		const fresh = await Store.open(store.path);
		expect(fresh.read().users.find(u => u.username === 'w4')!.role).toBe('member');
		expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOfFile(store.path));
	});
});

describe('a patched commit that does not land leaves nothing behind to patch by (store/record-lines.ts ListSlots)', () => {
	it('refused at the last step (the file made read-only), the next commit lands every change exactly, and the file is what a whole read gives', async () => {
		const store = await consoleStore(true);
		chmodSync(store.path, 0o400);
		await expect(
			store.transact(db => {
				const user = db.users.find(u => u.username === 'w12')!;
				user.role = 'member';
				touch(user);
				db.audit.push({id: newId(), time: '2026-06-01T12:00:00.000Z', actor: 'root', tenantId: user.tenantId, action: 'test.refused', target: 'w12', result: 'ok'});
			}),
		).rejects.toThrow(/read-only/);
		chmodSync(store.path, 0o600);
		await store.transact(db => {
			const user = db.users.find(u => u.username === 'w13')!;
			user.role = 'member';
			touch(user);
			db.audit.push({id: newId(), time: '2026-06-01T12:00:00.000Z', actor: 'root', tenantId: user.tenantId, action: 'test.landed', target: 'w13', result: 'ok'});
		});
		await store.transact(db => touch(db.users.find(u => u.username === 'w14')!));
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		const fresh = await Store.open(store.path);
		expect(asJson(fresh.read())).toEqual(asJson(store.read()));
		expect(fresh.read().users.find(u => u.username === 'w12')!.role).toBe('guest');
		expect(fresh.read().audit.map(event => event.action)).toEqual(['test.landed']);
		expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOfFile(store.path));
	});
});
