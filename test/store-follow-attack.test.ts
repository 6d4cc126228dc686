import {readFileSync, renameSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {AtomicJsonFile, type PatchStep} from '../source/store/atomic-file.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {tempDir} from './helpers/store.js';
import {seededStore} from './helpers/writers.js';

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
				expect(String(refused)).toMatch(/another program replaced the file/);
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
			expect(JSON.parse(JSON.stringify(fresh.read()))).toEqual(JSON.parse(JSON.stringify(store.read())));
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
		// ...and a trusting open (the MAC this build recorded) must not take it as validated.
		let trusted: Store | undefined;
		try {
			trusted = await Store.open(store.path, {validatorId: build, deferValidation: true});
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
