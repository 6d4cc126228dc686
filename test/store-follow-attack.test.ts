import {execFileSync} from 'node:child_process';
import {copyFileSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {AtomicJsonFile, type PatchStep} from '../source/store/atomic-file.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {MAC_BLOCK} from '../source/store/validated.js';
import {tempDir} from './helpers/store.js';
import {asJson, seededStore, sleep, startWorker} from './helpers/writers.js';

// Red team (followattack): the follower layout, the touched-file shortcut and the stamp a commit
// keeps of the file it wrote. Each test is an attack; it fails while the store can be made to
// patch a copy at offsets that are not the file's, or to keep a state the file does not hold.

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);

/** A store this process wrote, whose next commit patches a copy (its layout is known). */
async function patchingStore(validatorId?: string): Promise<Store> {
	const path = join(tempDir(), 'orgctl.json');
	if (validatorId) KeyFile.load(path);
	const store = await seededStore(NAMES, {path, ...(validatorId ? {validatorId} : {})});
	await store.transact(db => touch(db.users[0]!));
	return store;
}

/** Runs `run` with `hook` called at each patch step (the process stands still there, as under SIGSTOP). */
async function atStep(hook: (step: PatchStep) => void, run: () => Promise<unknown>): Promise<void> {
	AtomicJsonFile.onPatchStep = hook;
	try {
		await run();
	} finally {
		AtomicJsonFile.onPatchStep = undefined;
	}
}

/** What `jq '.users[7].email = "x"' orgctl.json > t && mv t orgctl.json` (or `cp edited orgctl.json`) leaves: another program's file. */
const handEdits: ReadonlyArray<[string, (path: string) => void]> = [
	[
		'a jq-style rewrite renamed into place (a new inode)',
		path => {
			const raw = JSON.parse(readFileSync(path, 'utf8')) as {users: Array<{username: string; email: string}>};
			raw.users.find(u => u.username === 'w7')!.email = 'hand-edit@example.com';
			writeFileSync(`${path}.jq`, `${JSON.stringify(raw, null, 2)}\n`);
			renameSync(`${path}.jq`, path);
		},
	],
	[
		'a same-size edit written over it in place (cp edited orgctl.json)',
		path => {
			const text = readFileSync(path, 'utf8').replace('"email":"w7@example.com"', '"email":"w7@example.org"');
			writeFileSync(path, text);
		},
	],
];

describe('a file another program puts in place just as a commit lands is seen, never patched at this commit\'s offsets (atomic-file.ts writeSync stats the path after the rename)', () => {
	for (const [what, edit] of handEdits) {
		it(`${what} between the commit's rename and its look at the file: the next commit keeps the edit or refuses, and the file stays JSON`, async () => {
			const store = await patchingStore();
			let edited = false;
			await atStep(
				step => {
					if (step !== 'rename' || edited) return;
					edited = true;
					// The committing process stalls right after its rename (SIGSTOP, a busy machine); an admin's tool writes meanwhile.
					edit(store.path);
				},
				() => store.transact(db => touch(db.users[3]!)),
			);
			expect(edited).toBe(true);
			const handEdited = readFileSync(store.path, 'utf8');
			expect(handEdited).toMatch(/w7@example\.org|hand-edit@example\.com/);
			const change = () =>
				store.transact(db => {
					const user = db.users.find(u => u.username === 'w12')!;
					user.role = 'member';
					touch(user);
				});
			let refused: unknown;
			try {
				await change();
			} catch (error) {
				refused = error;
			}
			if (refused) {
				// Refused ("another program replaced the file ... try the change again"): nothing written, and trying again works.
				expect((refused as Error).message).toMatch(/another program replaced the file/);
				expect(readFileSync(store.path, 'utf8')).toBe(handEdited);
				await change();
			}
			const after = readFileSync(store.path, 'utf8');
			// Whatever orgctl did, the file is JSON for jq and JSON.parse...
			expect(() => JSON.parse(after)).not.toThrow();
			// ...an edit made outside orgctl is never written over unseen...
			expect(after).toMatch(/w7@example\.org|hand-edit@example\.com/);
			// ...and a fresh process opens it and sees what the console sees (the edit and the change).
			const fresh = await Store.open(store.path);
			expect(asJson(fresh.read())).toEqual(asJson(store.read()));
			expect(store.read().users.find(u => u.username === 'w12')!.role).toBe('member');
		});
	}
});

describe('a fresh process never trusts bytes no orgctl validated (validated.ts MAC), whatever happened as a commit landed', () => {
	it('a same-size hand edit to a value no build accepts, written in place just after a commit\'s rename: the next commit\'s MAC does not vouch for it', async () => {
		const build = 'rules-of-this-build';
		const store = await patchingStore(build);
		let edited = false;
		await atStep(
			step => {
				if (step !== 'rename' || edited) return;
				edited = true;
				// nano, `vim -c 'set backupcopy=yes'`, or `cp edited orgctl.json`: the same inode, written over; the role is one no build accepts.
				const bytes = readFileSync(store.path);
				const at = bytes.indexOf('"role":"guest"', bytes.indexOf('"username":"w7"') - 400);
				expect(at).toBeGreaterThan(0);
				Buffer.from('"role":"GUEST"').copy(bytes, at);
				writeFileSync(store.path, bytes);
			},
			() => store.transact(db => touch(db.users[3]!)),
		);
		expect(edited).toBe(true);
		try {
			await store.transact(db => touch(db.users[12]!));
		} catch {
			// Refused: nothing vouched for.
		}
		// Whole reads refuse the file (the role is no role)...
		await expect(Store.open(store.path)).rejects.toThrow(/does not validate/);
		// ...and a trusting open (the MAC this build recorded) must not take it as validated: the checks it
		// defers (which the console runs right after its first frame) must still run, and refuse it.
		let trusted: Store | undefined;
		try {
			trusted = await Store.open(store.path, {validatorId: build, deferValidation: true});
			trusted.validate();
		} catch {
			return;
		}
		const roles = trusted.read().users.map(u => u.role as string);
		expect(roles).not.toContain('GUEST');
	});
});

describe('a commit that changes more records in place than the index of recent changes holds is saved (written whole), never refused', () => {
	it('every one of 4,200 users changed in one commit after a patched one: acknowledged, landed, and a fresh process reads it', async () => {
		const many = Array.from({length: 4200}, (_, i) => `bulk${i}`);
		const store = await seededStore(many, {path: join(tempDir(), 'orgctl.json')});
		await store.transact(db => touch(db.users[0]!));
		// One change to every user, each fitting its line: a patch could write it, the index cannot name it (MAX_INDEXED_KEYS).
		await store.transact(db => {
			for (const user of db.users) if (user.username !== 'root') user.role = 'member';
		});
		const fresh = await Store.open(store.path);
		expect(fresh.read().users.filter(u => u.role === 'member')).toHaveLength(4200);
	}, 60_000);
});

describe('three processes and a console, committing patched and whole changes between each other\'s, lose nothing and leave a file every reader agrees on', () => {
	it('each process\'s acknowledged changes are all there, the file is JSON, and a trusting open (the MAC) holds what a checking one does', async () => {
		const build = 'rules-of-this-build';
		const path = join(tempDir(), 'orgctl.json');
		KeyFile.load(path);
		const writers = ['p0', 'p1', 'p2'];
		const store = await seededStore([...NAMES, ...writers], {path, validatorId: build});
		await store.transact(db => touch(db.users[0]!));
		const COUNT = 30;
		const workers = await Promise.all(writers.map(name => startWorker([path, name, String(COUNT), build], {fixture: 'follow-mixer.ts'})));
		// The console commits in between, following the others (patches when it can).
		let mine = 0;
		let patched = 0;
		AtomicJsonFile.onPatchStep = step => {
			if (step === 'rename') patched++;
		};
		const running = Promise.all(workers.map(w => w.exited));
		let done = false;
		void running.finally(() => (done = true));
		while (!done) {
			await store.transact(db => {
				const user = db.users.find(u => u.username === 'w20')!;
				user.role = user.role === 'guest' ? 'member' : 'guest';
				touch(user);
			});
			mine++;
			await sleep(2);
		}
		await running;
		AtomicJsonFile.onPatchStep = undefined;
		// The console followed the others' patched commits and patched its own (it is not all whole writes).
		expect(patched).toBeGreaterThan(0);
		await store.transact(db => touch(db.users.find(u => u.username === 'w21')!));
		const text = readFileSync(path, 'utf8');
		expect(() => JSON.parse(text)).not.toThrow();
		const fresh = await Store.open(path);
		const db = fresh.read();
		for (const [i, name] of writers.entries()) {
			expect(workers[i]!.acks).toHaveLength(COUNT);
			expect(db.users.find(u => u.username === name)!.revision).toBe(1 + COUNT);
			for (let n = 7; n <= COUNT; n += 7) expect(db.users.some(u => u.username === `${name}-u${n}`), `${name}-u${n}`).toBe(true);
			const events = db.audit.filter(e => e.action === 'test.mix' && e.actor === name).length;
			expect(events).toBe(Math.floor(COUNT / 3) - Math.floor(COUNT / 11));
		}
		expect(db.users.find(u => u.username === 'w20')!.revision).toBe(1 + mine);
		expect(asJson(store.read())).toEqual(asJson(db));
		const trusted = await Store.open(path, {validatorId: build, deferValidation: true});
		expect(asJson(trusted.read())).toEqual(asJson(db));
		trusted.validate();
	}, 120_000);
});

describe('a re-read after the stat moved keeps the state without parsing only when every byte is the one held (atomic-file.ts sameBlocks)', () => {
	const BUILD = 'rules-of-this-build';
	const MANY = Array.from({length: 700}, (_, i) => `m${i}`);
	const swapBlocks = (b: Buffer) => Buffer.concat([b.subarray(0, MAC_BLOCK), b.subarray(2 * MAC_BLOCK, 3 * MAC_BLOCK), b.subarray(MAC_BLOCK, 2 * MAC_BLOCK), b.subarray(3 * MAC_BLOCK)]);
	const oneByte = (b: Buffer) => {
		const copy = Buffer.from(b);
		const at = copy.indexOf('"role":"guest"', 2 * MAC_BLOCK);
		copy[at + 8] = 'G'.charCodeAt(0);
		return copy;
	};
	const cases: ReadonlyArray<[string, (path: string) => void]> = [
		['one byte of one block changed in place, the mtime put back', path => writeBack(path, oneByte(readFileSync(path)), true)],
		['two blocks swapped in place, the mtime put back', path => writeBack(path, swapBlocks(readFileSync(path)), true)],
		['the file truncated by a block, the mtime put back', path => writeBack(path, readFileSync(path).subarray(0, readFileSync(path).length - MAC_BLOCK), true)],
		['the file extended by a line break', path => writeBack(path, Buffer.concat([readFileSync(path), Buffer.from('\n')]), false)],
		['the same bytes copied to a new inode (cp a b && mv b a)', path => {
			copyFileSync(path, `${path}.copy`);
			renameSync(`${path}.copy`, path);
		}],
		['the same bytes written back in place (cp saved orgctl.json)', path => writeFileSync(path, readFileSync(path))],
		['only touched', path => utimesSync(path, new Date(), new Date())],
	];
	for (const [what, edit] of cases) {
		it(`${what}: the console sees the file as it is, its next commit keeps it JSON or is refused, and a trusting open holds what a checking one does`, async () => {
			const path = join(tempDir(), 'orgctl.json');
			KeyFile.load(path);
			const store = await seededStore(MANY, {path, validatorId: BUILD});
			await store.transact(db => touch(db.users[0]!));
			const other = await Store.open(path, {validatorId: BUILD});
			// Another process's patched commit, followed by the console (so its blocks are those follow-layout.ts worked out).
			await other.transact(db => touch(db.users.find(u => u.username === 'm300')!));
			store.read();
			edit(path);
			const edited = readFileSync(path);
			const refused = await refusedToMakeMember(store, 'm500');
			const after = readFileSync(path);
			if (refused) {
				expect(after.equals(edited)).toBe(true);
				return;
			}
			expect(() => JSON.parse(after.toString('utf8'))).not.toThrow();
			const checked = await Store.open(path);
			expect(asJson(checked.read())).toEqual(asJson(store.read()));
			const trusted = await Store.open(path, {validatorId: BUILD, deferValidation: true});
			expect(asJson(trusted.read())).toEqual(asJson(checked.read()));
		}, 60_000);
	}
});

/** Makes `username` a member through `store`; true when the commit was refused (nothing written). */
async function refusedToMakeMember(store: Store, username: string): Promise<boolean> {
	try {
		await store.transact(db => {
			const user = db.users.find(u => u.username === username)!;
			user.role = 'member';
			touch(user);
		});
		return false;
	} catch {
		return true;
	}
}

/** Writes `bytes` over the file in place (same inode); with `keepMtime`, puts its mtime back as `touch -d` would. */
function writeBack(path: string, bytes: Buffer, keepMtime: boolean): void {
	const mtime = statSync(path, {bigint: true}).mtimeNs;
	writeFileSync(path, bytes);
	if (!keepMtime) return;
	const s = mtime / 1_000_000_000n;
	const ns = (mtime % 1_000_000_000n).toString().padStart(9, '0');
	execFileSync('touch', ['-m', '-d', `@${s}.${ns}`, path]);
}

describe('a hand edit written in place with its mtime put back (cp -p edited orgctl.json) after another process\'s commit is seen by a console that follows that commit', () => {
	const BUILD = 'rules-of-this-build';
	const edits: ReadonlyArray<[string, string, string]> = [
		['a valid edit (an e-mail address changed)', '"email":"w31@example.com"', '"email":"w31@example.org"'],
		['a role no build accepts', 'role guest', ''],
	];
	for (const [what, from, to] of edits) {
		it(`${what}: the console's next commit keeps it and sees it, or is refused; a trusting open never takes what a checking one refuses`, async () => {
			const path = join(tempDir(), 'orgctl.json');
			KeyFile.load(path);
			const store = await seededStore(NAMES, {path, validatorId: BUILD});
			await store.transact(db => touch(db.users[0]!));
			store.read();
			// Another console, a real process, commits (a patched copy of the file this console holds).
			const worker = await startWorker([path, 'w30', '1']);
			await worker.exited;
			expect(worker.acks).toHaveLength(1);
			const log = (JSON.parse(readFileSync(path, 'utf8')) as {recentChanges: {log: Array<{patchOf?: string}>}}).recentChanges.log;
			expect(log.at(-1)!.patchOf).toBeDefined();
			// Before this console looks, the admin edits the file in place and puts its mtime back.
			const text = readFileSync(path, 'utf8');
			const edited = to === '' ? text.replace(/("username":"w31".*?)"role":"guest"/, '$1"role":"GUEST"') : text.replace(from, to);
			expect(edited).not.toBe(text);
			expect(Buffer.byteLength(edited)).toBe(Buffer.byteLength(text));
			writeBack(path, Buffer.from(edited), true);
			const bytes = readFileSync(path);
			const refused = await refusedToMakeMember(store, 'w32');
			if (refused) {
				expect(readFileSync(path).equals(bytes)).toBe(true);
				return;
			}
			// Committed: then the console saw the edit (it was not written over unseen)...
			expect(to).not.toBe('');
			expect(store.read().users.find(u => u.username === 'w31')!.email).toBe('w31@example.org');
			// ...a trusting open (the MAC) holds what a checking one holds, and so does the console.
			const trusted = await Store.open(path, {validatorId: BUILD, deferValidation: true});
			const checked = await Store.open(path);
			expect(asJson(trusted.read())).toEqual(asJson(checked.read()));
			expect(asJson(checked.read())).toEqual(asJson(store.read()));
		}, 60_000);
	}
});
