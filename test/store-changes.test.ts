import {readFileSync, renameSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import type {StoreChange} from '../source/core/context.js';
import type {Database} from '../source/core/model.js';
import {Store} from '../source/store/store.js';
import {POLL_MS, watchFile} from '../source/store/watch.js';
import {tempDir} from './helpers/store.js';
import {seededStore, sleep, userRecord} from './helpers/writers.js';

const stops: Array<() => void> = [];
afterEach(() => {
	for (const stop of stops.splice(0)) stop();
});

/** Subscribes to `store` and collects what it is told. */
function listen(store: Store): {changes: StoreChange[]; failures: Error[]; stop: () => void} {
	const changes: StoreChange[] = [];
	const failures: Error[] = [];
	const stop = store.subscribe({changed: change => changes.push(change), failed: error => failures.push(error)});
	stops.push(stop);
	return {changes, failures, stop};
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(5);
	}
}

describe('a console learns of changes from the store, without a timer of its own', () => {
	it('hears of a commit made through another open store (another process) as soon as the file is replaced', async () => {
		const mine = await seededStore(['ada']);
		const theirs = await Store.open(mine.path);
		const heard = listen(mine);
		const before = mine.read().version;
		await theirs.transact(db => {
			db.users.find(u => u.username === 'ada')!.role = 'member';
		});
		// The folder's inotify event, not the 2-second stat, brings it.
		await until(() => heard.changes.length > 0, POLL_MS - 500, 'the change to be heard');
		expect(heard.changes.at(-1)!.version).toBe(before + 1);
		expect(mine.read().users.find(u => u.username === 'ada')!.role).toBe('member');
	});

	it('hears of its own commit once it has landed, with the data already in memory, outside the change', async () => {
		const store = await seededStore(['ada']);
		const roles: string[] = [];
		let inside = false;
		stops.push(
			store.subscribe({
				changed: () => {
					expect(inside).toBe(false);
					roles.push(store.read().users.find(u => u.username === 'ada')!.role);
				},
				failed: () => undefined,
			}),
		);
		await store.transact(db => {
			inside = true;
			db.users.find(u => u.username === 'ada')!.role = 'member';
			inside = false;
		});
		await sleep(0);
		expect(roles).toEqual(['member']);
	});

	it('hears nothing of a commit that failed, and nothing once unsubscribed', async () => {
		const store = await seededStore(['ada']);
		const other = await Store.open(store.path);
		const heard = listen(store);
		await expect(
			store.transact(db => {
				db.users.push(userRecord(db.tenants[0]!.id, 'ada'));
			}),
		).rejects.toThrow(/not saved/);
		heard.stop();
		await other.transact(db => {
			db.users.find(u => u.username === 'ada')!.role = 'member';
		});
		await sleep(POLL_MS + 300);
		expect(heard.changes).toHaveLength(0);
	});

	it('is told that the store cannot be read any more when the file is replaced by something that is not a store', async () => {
		const store = await seededStore(['ada']);
		const heard = listen(store);
		const broken = join(store.path, '..', 'broken.json');
		writeFileSync(broken, '{"schemaVersion":', {mode: 0o600});
		renameSync(broken, store.path);
		await until(() => heard.failures.length > 0, POLL_MS - 500, 'the failure to be told');
		expect(heard.failures[0]!.message).toMatch(/not valid JSON/);
		expect(heard.changes).toHaveLength(0);
	});

	it('refresh() applies what another process committed at once, and tells the listeners', async () => {
		const store = await seededStore(['ada']);
		const other = await Store.open(store.path);
		const heard = listen(store);
		heard.stop();
		const again = listen(store);
		await other.transact(db => {
			db.users.find(u => u.username === 'ada')!.role = 'member';
		});
		await store.refresh();
		await sleep(0);
		expect(again.changes.length).toBeGreaterThan(0);
		expect(store.read().users.find(u => u.username === 'ada')!.role).toBe('member');
	});
});

describe('the change signal of a store file', () => {
	it('fires when a new file is renamed over it, and not for the files beside it', async () => {
		const dir = tempDir();
		const path = join(dir, 'orgctl.json');
		writeFileSync(path, '{}');
		let signals = 0;
		stops.push(
			watchFile(path, () => {
				signals++;
			}),
		);
		writeFileSync(join(dir, 'orgctl.json.lock'), 'x');
		writeFileSync(join(dir, '.orgctl.json.tmp-1-a'), 'x');
		await sleep(300);
		expect(signals).toBe(0);
		renameSync(join(dir, '.orgctl.json.tmp-1-a'), path);
		await until(() => signals > 0, POLL_MS - 500, 'a signal');
	});
});

describe('a store that another process changed reads only what changed', () => {
	/** The data as a fresh process reads it from the whole file. */
	async function wholeRead(path: string): Promise<Database> {
		return (await Store.open(path)).read();
	}

	it('brings itself to the same data a whole read gives, and says which records left and entered which list', async () => {
		const mine = await seededStore(['ada', 'bob', 'cy']);
		const theirs = await Store.open(mine.path);
		const heard = listen(mine);
		const tenantId = mine.read().tenants[0]!.id;
		const untouched = mine.read().users.find(u => u.username === 'cy')!;
		await theirs.transact(db => {
			db.users.find(u => u.username === 'ada')!.role = 'member';
			db.users.splice(db.users.findIndex(u => u.username === 'bob'), 1);
			db.users.push(userRecord(tenantId, 'dee'));
		});
		await theirs.transact(db => {
			db.settings.publicUrl = 'https://example.com';
		});
		await mine.refresh();
		await sleep(0);
		expect(mine.read()).toEqual(await wholeRead(mine.path));
		// The record nobody touched is the very object it was: nothing re-read it.
		expect(mine.read().users.find(u => u.username === 'cy')).toBe(untouched);
		const users = heard.changes.map(c => c.lists?.users).filter(c => c !== undefined);
		expect(users).toHaveLength(1);
		expect(users[0]!.removed.map(u => u.username).sort()).toEqual(['ada', 'bob']);
		expect(users[0]!.added.map(u => u.username).sort()).toEqual(['ada', 'dee']);
		expect(heard.changes.at(-1)!.settings).toBe(true);
		expect(heard.changes.at(-1)!.lists).toEqual({});
	});

	it('takes records another process edited in place into a new list at their places, each other record the very object, and after it follows adds, removals and edits as a whole read does', async () => {
		const mine = await seededStore(['ada', 'bob', 'cy', 'dee']);
		const theirs = await Store.open(mine.path);
		const heard = listen(mine);
		const before = mine.read().users;
		const tenantId = mine.read().tenants[0]!.id;
		await theirs.transact(db => {
			db.users.find(u => u.username === 'bob')!.role = 'member';
			db.users.find(u => u.username === 'dee')!.email = 'dee@elsewhere.example';
		});
		await mine.refresh();
		await sleep(0);
		const after = mine.read().users;
		expect(after).not.toBe(before);
		expect(after.map(u => u.username)).toEqual(before.map(u => u.username));
		for (const [i, user] of after.entries()) {
			if (user.username === 'bob' || user.username === 'dee') expect(user).not.toBe(before[i]);
			else expect(user).toBe(before[i]);
		}
		expect(after.find(u => u.username === 'bob')!.role).toBe('member');
		expect(after.find(u => u.username === 'dee')!.email).toBe('dee@elsewhere.example');
		// What was edited in place left as the old object and entered as the new one, at the same index.
		const told = heard.changes.map(c => c.lists?.users).filter(c => c !== undefined).at(-1)!;
		expect(told.removed.map(u => before.indexOf(u as never)).sort()).toEqual([1, 3]);
		expect(told.added.map(u => after.indexOf(u as never)).sort()).toEqual([1, 3]);
		expect(mine.read()).toEqual(await wholeRead(mine.path));
		// An edit in place, then a removal and an add, then another edit: still what a whole read gives.
		await theirs.transact(db => {
			db.users.find(u => u.username === 'ada')!.role = 'member';
		});
		await theirs.transact(db => {
			db.users.splice(db.users.findIndex(u => u.username === 'cy'), 1);
			db.users.push(userRecord(tenantId, 'eve'));
		});
		await theirs.transact(db => {
			db.users.find(u => u.username === 'eve')!.role = 'member';
		});
		await mine.refresh();
		expect(mine.read()).toEqual(await wholeRead(mine.path));
		// A commit of its own after following others' (its copy of the list as it was is taken then).
		await mine.transact(db => {
			db.users.find(u => u.username === 'bob')!.role = 'admin';
		});
		expect(await wholeRead(mine.path)).toEqual(mine.read());
		expect((await wholeRead(mine.path)).users.find(u => u.username === 'bob')!.role).toBe('admin');
	});

	it('follows a housekeeping run by another process from the index (its record is the file\'s last section), and does not tell it as a change of the settings', async () => {
		const mine = await seededStore(['ada', 'bob']);
		const theirs = await Store.open(mine.path);
		const heard = listen(mine);
		const untouched = mine.read().users.find(u => u.username === 'bob')!;
		const lastRun = new Date().toISOString();
		await theirs.transact(db => {
			db.users.find(u => u.username === 'ada')!.role = 'member';
			db.housekeeping = {lastRun};
		});
		await mine.refresh();
		await sleep(0);
		expect(mine.read().housekeeping.lastRun).toBe(lastRun);
		expect(mine.read()).toEqual(await wholeRead(mine.path));
		// Read from the index, not whole: the record nobody touched is the very object it was.
		expect(mine.read().users.find(u => u.username === 'bob')).toBe(untouched);
		expect(heard.changes.at(-1)!.lists?.users?.added.map(u => u.username)).toEqual(['ada']);
		expect(heard.changes.at(-1)!.settings).toBe(false);
	});

	it('holds what the schema gives for a value it normalises, in the process that wrote it and in those that follow, as a whole read does', async () => {
		const mine = await seededStore(['ada']);
		const theirs = await Store.open(mine.path);
		mine.read();
		// z.url() drops a line break from a URL: what is written, and kept, is the URL as checked.
		await theirs.transact(db => void (db.settings.publicUrl = 'https://example.com/a\r\nb'));
		expect(theirs.read().settings.publicUrl).toBe('https://example.com/ab');
		await mine.refresh();
		expect(mine.read()).toEqual(await wholeRead(mine.path));
		// A later commit elsewhere, which leaves the settings alone, changes nothing of them for a follower.
		await mine.transact(db => void (db.users[0]!.role = 'member'));
		await theirs.refresh();
		expect(theirs.read()).toEqual(await wholeRead(mine.path));
		expect(theirs.read().settings.publicUrl).toBe('https://example.com/ab');
	});

	it('reads the whole file when it was edited by another program, and is never fooled by an index left in it', async () => {
		const mine = await seededStore(['ada']);
		const heard = listen(mine);
		// A hand edit that keeps the index line as it was but changes a record the index does not name.
		const text = readFileSync(mine.path, 'utf8').replace('"username":"ada"', '"username":"ann"');
		const edited = join(mine.path, '..', 'edited.json');
		writeFileSync(edited, text, {mode: 0o600});
		renameSync(edited, mine.path);
		await mine.refresh();
		await sleep(0);
		expect(mine.read().users.map(u => u.username)).toContain('ann');
		expect(heard.changes.at(-1)!.lists).toBeUndefined();
		expect(mine.read()).toEqual(await wholeRead(mine.path));
	});

	it('follows many commits by others, more than the index keeps, and still agrees with a whole read', async () => {
		const mine = await seededStore(['ada', 'bob']);
		const theirs = await Store.open(mine.path);
		for (let i = 0; i < 70; i++) await theirs.transact(db => void (db.users.find(u => u.username === (i % 2 ? 'ada' : 'bob'))!.role = i % 3 ? 'member' : 'guest'));
		await mine.refresh();
		expect(mine.read()).toEqual(await wholeRead(mine.path));
		await theirs.transact(db => void (db.users.find(u => u.username === 'ada')!.role = 'admin'));
		const heard = listen(mine);
		await mine.refresh();
		await sleep(0);
		expect(heard.changes.at(-1)!.lists?.users?.added.map(u => u.username)).toEqual(['ada']);
		expect(mine.read()).toEqual(await wholeRead(mine.path));
	});
});

describe('a commit made here shows by identity too', () => {
	it('gives the changed list a new array and the changed record a new object, and keeps every other', async () => {
		const store = await seededStore(['ada', 'bob']);
		const heard = listen(store);
		const before = store.read();
		const [users, tenants, ada, bob] = [before.users, before.tenants, before.users.find(u => u.username === 'ada')!, before.users.find(u => u.username === 'bob')!];
		await store.transact(db => void (db.users.find(u => u.username === 'ada')!.role = 'member'));
		await sleep(0);
		const after = store.read();
		expect(after.users).not.toBe(users);
		expect(after.tenants).toBe(tenants);
		expect(after.users.find(u => u.username === 'bob')).toBe(bob);
		const newAda = after.users.find(u => u.username === 'ada')!;
		expect(newAda).not.toBe(ada);
		expect(newAda.role).toBe('member');
		expect(heard.changes.at(-1)!.lists?.users?.added).toEqual([newAda]);
		expect(heard.changes.at(-1)!.lists?.users?.added[0]).toBe(newAda);
		// The next commit does not take the copy for a change.
		await store.transact(db => void (db.users.find(u => u.username === 'bob')!.role = 'member'));
		await sleep(0);
		expect(heard.changes.at(-1)!.lists?.users?.added.map(u => u.username)).toEqual(['bob']);
		expect(store.read()).toEqual(await Store.open(store.path).then(s => s.read()));
	});
});
