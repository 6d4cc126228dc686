import {appendFileSync, chmodSync, closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {newId} from '../source/core/ids.js';
import {SCHEMA_VERSION, type Database} from '../source/core/model.js';
import {AtomicJsonFile, type PatchStep} from '../source/store/atomic-file.js';
import {INDEX_PREFIX, parseIndex, recordKey, touchedBy, type ChangeIndex} from '../source/store/change-index.js';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {startDigest} from '../source/store/validated.js';
import {asJson, fileState, seededStore, startWorker, tempFiles, userRecord} from './helpers/writers.js';

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);

/** Where the line of the user `name` starts in the file. */
function offsetOf(path: string, name: string): number {
	return readFileSync(path).indexOf(`"username":"${name}"`);
}

function withPatchStep<T>(hook: (step: PatchStep) => void, run: () => Promise<T>): Promise<T> {
	AtomicJsonFile.onPatchStep = hook;
	return run().finally(() => {
		AtomicJsonFile.onPatchStep = undefined;
	});
}

describe('a commit after this process wrote the file copies it and writes over the copy only what changed (store/atomic-file.ts)', () => {
	it('the records it did not change keep their bytes and their place, the file stays plain JSON of the whole state', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
				touch(db.users[0]!);
			});
		const before = readFileSync(store.path);
		const later = offsetOf(store.path, 'w30');
		const steps: PatchStep[] = [];
		await withPatchStep(
			step => steps.push(step),
			() =>
				store.transact(db => {
					// 22 bytes longer: written whole, every later record would move.
					const user = db.users.find(u => u.username === 'w3')!;
					user.lastLogin = '2026-06-01T12:00:00.000Z';
					touch(user);
				}),
		);
		expect(steps).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(offsetOf(store.path, 'w30')).toBe(later);
		const after = readFileSync(store.path);
		expect(after.length).toBeLessThan(before.length + 4096);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
		const fresh = await Store.open(store.path);
		expect(asJson(fresh.read())).toEqual(asJson(store.read()));
		expect(fresh.read().users.find(u => u.username === 'w3')!.lastLogin).toBe('2026-06-01T12:00:00.000Z');
	});

	it('a reader that opened the file before the commit still reads the old file whole: the copy is renamed over it, never written in place', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
				touch(db.users[0]!);
			});
		const old = readFileSync(store.path);
		const reader = openSync(store.path, 'r');
		try {
			await store.transact(db => {
				db.users[5]!.role = 'member';
				touch(db.users[5]!);
			});
			const seen = Buffer.alloc(old.length + 1);
			expect(readSync(reader, seen, 0, seen.length, 0)).toBe(old.length);
			expect(seen.subarray(0, old.length).equals(old)).toBe(true);
		} finally {
			closeSync(reader);
		}
	});

	it('every kind of change lands as the state says, patched or written whole, and a follower and a fresh process read the same', async () => {
		const store = await seededStore(NAMES);
		const follower = await Store.open(store.path);
		const tenantId = store.read().tenants[0]!.id;
		const inviter = store.read().users.find(u => u.username === 'root')!.id;
		const changes: Array<(db: Database) => void> = [
			db => void (db.users[1]!.role = 'member'),
			db => void (db.users[2]!.lastLogin = '2026-06-01T12:00:00.000Z'),
			db => void (db.users[2]!.lastLogin = null),
			db => void db.audit.push({id: newId(), time: '2026-06-01T12:00:00.000Z', actor: 'root', tenantId, action: 'test.one', target: 'w1', result: 'ok'}),
			db => {
				for (let i = 0; i < 3; i++) db.audit.push({id: newId(), time: '2026-06-01T12:00:00.000Z', actor: 'root', tenantId, action: 'test.many', target: `w${i}`, result: 'ok', reason: 'é→ non-ASCII'});
				db.users[3]!.email = 'w3@exämple.com'.normalize('NFC').replace('ä', 'a');
			},
			db => void db.users.push(userRecord(tenantId, 'added1')),
			// Outgrows its line: written whole.
			db => void (db.users[4]!.passwordHash = `scrypt$17$8$1$${'a'.repeat(22)}$${'b'.repeat(200)}`),
			db => void (db.settings.policy.minPasswordLength = 14),
			db => void (db.housekeeping.lastRun = '2026-06-01T12:00:00.000Z'),
			db => {
				db.invitations.push({id: newId(), tenantId, username: 'invitee', email: 'invitee@example.com', role: 'guest', method: 'password', invitedBy: inviter, created: '2026-06-01T12:00:00.000Z', expires: '2026-06-08T12:00:00.000Z', secretHash: 'a'.repeat(64), secretSealed: 'x.y.z', mail: {state: 'queued', at: '2026-06-01T12:00:00.000Z'}, sentCount: 0, revision: 1});
			},
			// A nested value changed in place.
			db => void (db.invitations[0]!.mail = {state: 'sent', at: '2026-06-01T12:00:01.000Z'}),
			db => void ((db.invitations[0]!.mail as {at: string}).at = '2026-06-01T12:00:02.000Z'),
			// Removed, then reordered: written whole.
			db => void db.users.splice(6, 1),
			db => void db.users.sort((a, b) => b.username.localeCompare(a.username)),
			db => void (db.users[7]!.disabled = true),
			// More added than the room at the end of the list holds.
			db => {
				for (let i = 0; i < 60; i++) db.audit.push({id: newId(), time: '2026-06-01T12:00:00.000Z', actor: 'root', tenantId, action: 'test.bulk', target: 'x'.repeat(150), result: 'ok'});
			},
			db => void (db.users[8]!.role = 'member'),
		];
		const patched: number[] = [];
		for (const [i, change] of changes.entries()) {
			await withPatchStep(
				step => {
					if (step === 'rename') patched.push(i);
				},
				() =>
					store.transact(db => {
						change(db);
						for (const user of db.users.slice(0, 9)) touch(user);
					}),
			);
			const state = asJson(store.read());
			expect(fileState(store.path), `after change ${i}`).toEqual(state);
			await follower.refresh();
			expect(asJson(follower.read()), `follower after change ${i}`).toEqual(state);
			expect(asJson((await Store.open(store.path)).read()), `fresh after change ${i}`).toEqual(state);
		}
		// Written whole: three audit events and an invitation that the room at the end of their small
		// lists does not hold, the password that outgrew its line, the removal, the sort and the commit
		// after it (a sorted list leaves no index of recent changes, so no place to patch one in), the bulk.
		expect(patched).toEqual(changes.map((_, i) => i).filter(i => ![4, 6, 9, 12, 13, 14, 15].includes(i)));
	});

	it('a program that writes the store in place while the copy is made fails the commit instead of landing a copy of a changed file', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
				touch(db.users[0]!);
			});
		await expect(
			withPatchStep(
				step => {
					if (step === 'copy') appendFileSync(store.path, ' ');
				},
				() => store.transact(db => {
				touch(db.users[1]!);
			}),
			),
		).rejects.toThrow(/another program replaced the file/);
		expect(readFileSync(store.path, 'utf8').endsWith('}\n ')).toBe(true);
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('the copy is a new regular file of this process, 0600 from the moment it exists, its only link its temp name', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
				touch(db.users[0]!);
			});
		const seen: Array<{step: PatchStep; mode: number; file: boolean; links: number}> = [];
		await withPatchStep(
			step => {
				for (const name of tempFiles(store.path)) {
					const stat = lstatSync(join(store.path, '..', name));
					seen.push({step, mode: stat.mode & 0o777, file: stat.isFile(), links: stat.nlink});
				}
			},
			() => store.transact(db => {
				touch(db.users[1]!);
			}),
		);
		expect(seen).toEqual(['copy', 'patch', 'sync'].map(step => ({step, mode: 0o600, file: true, links: 1})));
		expect(statSync(store.path).mode & 0o777).toBe(0o600);
	});

	it('a store made readable by its group since this process wrote it is read again whole, and its copy is 0600 again', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
				touch(db.users[0]!);
			});
		chmodSync(store.path, 0o640);
		const steps: PatchStep[] = [];
		await withPatchStep(
			step => steps.push(step),
			() => store.transact(db => {
				touch(db.users[1]!);
			}),
		);
		// The chmod moved the file's ctime: it is read whole and checked again (test/store-patch-attack:
		// an in-place change is never taken for the state held), and a file just read whole is patched.
		expect(steps).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(statSync(store.path).mode & 0o777).toBe(0o600);
	});

	it('a store edited by hand (whitespace removed, or reformatted as jq prints it) opens, and its next commit writes it whole in our layout', async () => {
		for (const format of [(value: unknown) => JSON.stringify(value), (value: unknown) => `${JSON.stringify(value, null, 2)}\n`]) {
			const store = await seededStore(NAMES);
			await store.transact(db => {
				touch(db.users[0]!);
			});
			writeFileSync(store.path, format(fileState(store.path)));
			const reopened = await Store.open(store.path);
			const steps: PatchStep[] = [];
			await withPatchStep(
				step => steps.push(step),
				() => reopened.transact(db => {
				touch(db.users[1]!);
			}),
			);
			expect(steps).toEqual([]);
			expect(readFileSync(reopened.path, 'utf8').startsWith(`{\n"schemaVersion":${SCHEMA_VERSION},\n"version":`)).toBe(true);
			await withPatchStep(
				step => steps.push(step),
				() => reopened.transact(db => {
				touch(db.users[2]!);
			}),
			);
			expect(steps).toEqual(['copy', 'patch', 'sync', 'rename']);
			expect(fileState(reopened.path)).toEqual(asJson(reopened.read()));
		}
	});

	it('a patched file carries the MAC of its whole bytes (block by block), and a fresh process of the same build trusts it', async () => {
		const build = 'rules-of-this-build';
		const store = await seededStore(NAMES);
		// A key file for the MAC: the store's own (KeyFile.load makes one).
		KeyFile.load(store.path);
		const writer = await Store.open(store.path, {validatorId: build});
		const macOf = (bytes: Buffer) => {
			const key = KeyFile.inspect(store.path);
			if (typeof key !== 'object') throw new Error('no key file');
			return startDigest({id: build, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')}).update(bytes).digest('hex');
		};
		for (let i = 0; i < 3; i++) {
			const steps: PatchStep[] = [];
			await withPatchStep(
				step => steps.push(step),
				() =>
					writer.transact(db => {
						db.users[i]!.lastLogin = '2026-06-01T12:00:00.000Z';
						if (i === 0) db.users.push(userRecord(db.tenants[0]!.id, 'more'));
					}),
			);
			// Patched every time, the first too: the blocks hashed as the file was opened make its MAC.
			expect(steps).toContain('rename');
			expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOf(readFileSync(store.path)));
		}
		const trusted = await Store.open(store.path, {validatorId: build, deferValidation: true});
		expect(asJson(trusted.read())).toEqual(asJson(writer.read()));
	});
});

describe('a process that read the file whole patches it on its first commit, as its writer would', () => {
	it('where every line lies is learnt as the file is read, multi-byte characters and all', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
			// A free-form field early in the file, with characters of two, three and four bytes.
			db.users[1]!.passwordHash = 'é→😀 not a hash';
			touch(db.users[1]!);
		});
		const reader = await Store.open(store.path);
		const later = offsetOf(store.path, 'w30');
		const steps: PatchStep[] = [];
		await withPatchStep(
			step => steps.push(step),
			() =>
				reader.transact(db => {
					const user = db.users.find(u => u.username === 'w20')!;
					user.lastLogin = '2026-06-01T12:00:00.000Z';
					touch(user);
					db.users.push(userRecord(db.tenants[0]!.id, 'added'));
				}),
		);
		expect(steps).toEqual(['copy', 'patch', 'sync', 'rename']);
		expect(offsetOf(store.path, 'w30')).toBe(later);
		expect(fileState(store.path)).toEqual(asJson(reader.read()));
		await store.refresh();
		expect(asJson(store.read())).toEqual(asJson(reader.read()));
		expect(store.read().users.find(u => u.username === 'w1')!.passwordHash).toBe('é→😀 not a hash');
	});

	it('with the MAC of validated state: the blocks hashed while reading make the MAC of the patched file', async () => {
		const build = 'rules-of-this-build';
		const writer = await seededStore(NAMES);
		KeyFile.load(writer.path);
		await writer.transact(db => {
				touch(db.users[0]!);
			});
		const reader = await Store.open(writer.path, {validatorId: build});
		const steps: PatchStep[] = [];
		await withPatchStep(
			step => steps.push(step),
			() => reader.transact(db => {
				touch(db.users[3]!);
			}),
		);
		expect(steps).toContain('rename');
		const key = KeyFile.inspect(writer.path);
		if (typeof key !== 'object') throw new Error('no key file');
		const mac = startDigest({id: build, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')})
			.update(readFileSync(writer.path))
			.digest('hex');
		expect(readFileSync(validatedPathOf(writer.path), 'utf8').trim()).toBe(mac);
	});

	it('a file another program rewrote is read again and written whole, in place of patching what it no longer is', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => {
				touch(db.users[0]!);
			});
		// Same bytes, but written by someone else: the index of recent changes is no longer bound to it.
		writeFileSync(store.path, readFileSync(store.path));
		const steps: PatchStep[] = [];
		await withPatchStep(
			step => steps.push(step),
			() => store.transact(db => {
				touch(db.users[1]!);
			}),
		);
		expect(steps).toEqual([]);
		expect(fileState(store.path)).toEqual(asJson(store.read()));
	});
});

describe('the index of a patched commit says where every record it names now is (store/record-lines.ts placesOf)', () => {
	/** Every record of the file's lists whose key the log names, by key: [index, offset, length] each, as a look at every record finds them. */
	function whereOfFile(path: string): {said: ChangeIndex['where']; found: Record<string, Record<string, number[]>>} {
		const bytes = readFileSync(path);
		const text = bytes.toString('utf8');
		const index = parseIndex(text.slice(text.lastIndexOf(INDEX_PREFIX) + INDEX_PREFIX.length, text.lastIndexOf('\n}')))!;
		expect(index).toBeDefined();
		const raw = JSON.parse(text) as Record<string, unknown>;
		const found: Record<string, Record<string, number[]>> = {};
		for (const [section, keys] of touchedBy(index.log)) {
			const list = raw[section];
			if (!Array.isArray(list)) continue;
			const placed: Record<string, number[]> = {};
			for (const [i, record] of (list as object[]).entries()) {
				const key = recordKey(record);
				if (key === undefined || !keys.has(key)) continue;
				const line = JSON.stringify(record);
				const offset = bytes.indexOf(`${line} `);
				(placed[key] ??= []).push(i, offset, Buffer.byteLength(line));
			}
			found[section] = placed;
		}
		return {said: index.where, found};
	}

	it('records touched commits ago, ids given up and taken again: each found where it is, once, and a follower reads the same', async () => {
		const store = await seededStore(NAMES);
		const follower = await Store.open(store.path);
		await store.transact(db => {
			touch(db.users[0]!);
		});
		const given = store.read().users[3]!.id;
		const changes: Array<(db: Database) => void> = [
			db => touch(db.users[1]!),
			db => touch(db.users[2]!),
			// An id given up: the old one is named by the log, and no record holds it any more.
			db => void (db.users[3]!.id = newId()),
			db => touch(db.users[4]!),
			// Taken again by another record.
			db => void (db.users[5]!.id = given),
			db => void db.users.push(userRecord(db.tenants[0]!.id, 'added1')),
			db => touch(db.users[1]!),
			db => touch(db.users[6]!),
		];
		for (const [i, change] of changes.entries()) {
			const steps: PatchStep[] = [];
			await withPatchStep(
				step => steps.push(step),
				() => store.transact(db => change(db)),
			);
			expect(steps, `change ${i} patched`).toEqual(['copy', 'patch', 'sync', 'rename']);
			const {said, found} = whereOfFile(store.path);
			expect(said.users, `where after change ${i}`).toEqual(found.users);
			await follower.refresh();
			expect(asJson(follower.read()), `follower after change ${i}`).toEqual(asJson(store.read()));
		}
		expect(whereOfFile(store.path).said.users![given]![0]).toBe(5);
	});
});

describe('a nested value edited in place is seen by a patched commit (store/record-lines.ts nextChanged, sameNested)', () => {
	type Mail = Record<string, unknown>;
	const edits: Array<[string, (mail: Mail, invitation: Record<string, unknown>) => void]> = [
		['a value changed', mail => void (mail.at = '2026-06-01T12:00:09.000Z')],
		['the same value again', mail => void (mail.at = String(mail.at))],
		['a key added', mail => void (mail.reason = 'no route')],
		['a key added and one removed', mail => {
			delete mail.at;
			mail.reason = 'no route';
		}],
		['a key removed', mail => {
			delete mail.state;
		}],
		['a value turned into a number', mail => void (mail.at = 7)],
		['a value turned into an object', mail => void (mail.at = {})],
		['an array in its place', (mail, invitation) => void (invitation.mail = [mail.state, mail.at])],
		// zod reads a field a prototype lends; JSON.stringify writes own fields only: the file then lacked `at` and did not open.
		['an object whose field is inherited', (mail, invitation) => void (invitation.mail = Object.assign(Object.create({at: mail.at}) as Mail, {state: mail.state}))],
		['a whole record whose field is inherited', (_mail, invitation) => void Object.setPrototypeOf(invitation, {sentCount: invitation.sentCount})],
		['a state that takes a reason', mail => {
			mail.state = 'failed';
			mail.reason = 'no route';
		}],
	];
	for (const [what, edit] of edits) {
		it(`${what}: written, or the change refused, never left out of the file`, async () => {
			const store = await seededStore(NAMES);
			const tenantId = store.read().tenants[0]!.id;
			const inviter = store.read().users.find(u => u.username === 'root')!.id;
			await store.transact(db => {
				db.invitations.push({id: newId(), tenantId, username: 'invitee', email: 'invitee@example.com', role: 'guest', method: 'password', invitedBy: inviter, created: '2026-06-01T12:00:00.000Z', expires: '2026-06-08T12:00:00.000Z', secretHash: 'a'.repeat(64), secretSealed: 'x.y.z', mail: {state: 'queued', at: '2026-06-01T12:00:00.000Z'}, sentCount: 0, revision: 1});
			});
			// Twice: the second commit patches the file the first wrote, the invitation's mail compared as a flat value.
			await store.transact(db => touch(db.users[0]!));
			const steps: PatchStep[] = [];
			const landed = await withPatchStep(
				step => steps.push(step),
				() => store.transact(db => edit(db.invitations[0]!.mail as unknown as Mail, db.invitations[0] as unknown as Record<string, unknown>)).then(() => true, () => false),
			);
			expect(fileState(store.path)).toEqual(asJson(store.read()));
			const fresh = await Store.open(store.path);
			expect(asJson(fresh.read())).toEqual(asJson(store.read()));
			if (landed && what !== 'the same value again') expect(steps).toContain('rename');
		});
	}
});

describe('a writer killed at any step of a patched commit', () => {
	for (const step of ['copy', 'patch', 'sync', 'rename'] as const) {
		it(`leaves the old file or the new one, never a mix, and the store opens (killed after "${step}")`, async () => {
			const store = await seededStore(NAMES);
			const worker = await startWorker([store.path, step], {fixture: 'patch-crasher.ts'});
			await worker.exited;
			expect(worker.acks).toHaveLength(1);
			expect(worker.lines).not.toContain('survived');
			const raw = JSON.parse(readFileSync(store.path, 'utf8')) as Database;
			const w0 = raw.users.find(u => u.username === 'w0')!;
			const landed = step === 'rename';
			expect(raw.version).toBe(worker.acks[0]! + (landed ? 1 : 0));
			expect(w0.lastLogin).toBe(landed ? '2026-06-01T12:00:00.000Z' : null);
			expect(tempFiles(store.path)).toHaveLength(landed ? 0 : 1);
			const reopened = await Store.open(store.path);
			expect(fileState(store.path)).toEqual(asJson(reopened.read()));
			expect(tempFiles(store.path)).toEqual([]);
			expect(readdirSync(join(store.path, '..')).filter(name => name.includes('.tmp-'))).toEqual([]);
		});
	}
});
