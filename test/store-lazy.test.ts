import {execFileSync} from 'node:child_process';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {generateStore} from '../bench/generate.js';
import {newId} from '../source/core/ids.js';
import {copyDatabase, type Database} from '../source/core/model.js';
import {validatedPathOf} from '../source/store/layout.js';
import {Store} from '../source/store/store.js';
import {tempDir} from './helpers/store.js';
import {asJson} from './helpers/writers.js';

// A first read of bytes this build vouched for (validated.ts) leaves the lists a console's first
// frame does not show (invitations, audit) to be parsed when first read (record-lines.ts LAZY_LISTS):
// every reader, writer, commit and follower must see them as if they had been parsed at once.

const BUILD = 'rules-of-this-build';

/** A generated store with invitations and audit events, and the MAC a checked open records for it. */
async function vouchedStore(): Promise<string> {
	const path = join(tempDir(), 'orgctl.json');
	generateStore(path, {users: 30, invitations: 12});
	// A checked open vouches for the bytes it checked (validated.ts).
	await (await Store.open(path, {validatorId: BUILD})).close();
	readFileSync(validatedPathOf(path));
	return path;
}

function isLazy(db: Database, key: keyof Database): boolean {
	return Object.getOwnPropertyDescriptor(db, key)?.get !== undefined;
}

/** The data as a fresh checked open reads it (no MAC trusted, every record validated). */
async function checkedRead(path: string): Promise<unknown> {
	const store = await Store.open(path);
	try {
		return asJson(store.read());
	} finally {
		await store.close();
	}
}

describe('a console open of a vouched store parses invitations and audit when first read (record-lines.ts LAZY_LISTS)', () => {
	it('they are not parsed by the open, and read exactly as a checked open reads them, the same list every time', async () => {
		const path = await vouchedStore();
		const store = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		const db = store.read();
		expect(isLazy(db, 'invitations')).toBe(true);
		expect(isLazy(db, 'audit')).toBe(true);
		expect(isLazy(db, 'users')).toBe(false);
		store.validate();
		// A vouched file needs no check: validate() leaves them unparsed too.
		expect(isLazy(db, 'invitations')).toBe(true);
		expect(db.invitations).toHaveLength(12);
		expect(isLazy(db, 'invitations')).toBe(false);
		expect(db.invitations).toBe(db.invitations);
		expect(asJson(db)).toEqual(await checkedRead(path));
		await store.close();
	});

	it('a copy made by copyDatabase stays unparsed and sees the very list the store sees; a spread parses', async () => {
		const path = await vouchedStore();
		const store = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		const db = store.read();
		const copy = copyDatabase(db);
		expect(isLazy(copy, 'audit')).toBe(true);
		expect(copy.audit).toBe(db.audit);
		const spread = {...db};
		expect(isLazy(spread, 'invitations')).toBe(false);
		expect(spread.invitations).toBe(db.invitations);
		await store.close();
	});

	it('an unvouched file is parsed whole at open, and its deferred check sees every record', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const store = await Store.open(path, {validatorId: 'another-build', deferValidation: true});
		expect(isLazy(store.read(), 'invitations')).toBe(false);
		store.validate();
		expect(readFileSync(path, 'utf8')).toBe(text);
		await store.close();
	});

	it('a vouched file not as orgctl wrote it (a record over two lines, checked whole and vouched for) has its lists parsed at open, never left to fail', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const start = text.indexOf('"invitations":[\n') + '"invitations":[\n'.length;
		const comma = text.indexOf(',"', start);
		// Still JSON, and each line still looks like a record's: `{"id":"…",` and the rest of that record.
		writeFileSync(path, `${text.slice(0, comma + 1)}\n${text.slice(comma + 1)}`);
		const digest = readFileSync(validatedPathOf(path), 'utf8');
		await (await Store.open(path, {validatorId: BUILD})).close();
		expect(readFileSync(validatedPathOf(path), 'utf8')).not.toBe(digest);
		const store = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		expect(isLazy(store.read(), 'invitations')).toBe(false);
		expect(asJson(store.read())).toEqual(await checkedRead(path));
		await store.close();
	});

	it('the same edit made in place with the size and mtime put back (the index still bound): the list, parsed when first read, is the whole read\'s, and the next commit writes the file whole', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const {mtimeNs} = statSync(path, {bigint: true});
		const start = text.indexOf('"invitations":[\n') + '"invitations":[\n'.length;
		const comma = text.indexOf(',"', start);
		const end = text.indexOf('  ', comma);
		// A line break after the record's first comma, one space of its room taken out: the same size.
		writeFileSync(path, `${text.slice(0, comma + 1)}\n${text.slice(comma + 1, end)}${text.slice(end + 1)}`);
		expect(statSync(path).size).toBe(text.length);
		const putBack = () => execFileSync('touch', ['-d', `@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}`, path]);
		putBack();
		expect(statSync(path, {bigint: true}).mtimeNs).toBe(mtimeNs);
		// A checking open reads it whole and vouches for it.
		await (await Store.open(path, {validatorId: BUILD})).close();
		const store = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		expect(isLazy(store.read(), 'invitations')).toBe(true);
		const expected = await checkedRead(path);
		expect(asJson(store.read())).toEqual(expected);
		await store.transact(db => {
			db.invitations[1]!.sentCount += 1;
		});
		const after = (await checkedRead(path)) as Database;
		expect(after.invitations.map(i => i.id)).toEqual((expected as Database).invitations.map(i => i.id));
		expect(after.invitations[1]!.sentCount).toBe((expected as Database).invitations[1]!.sentCount + 1);
		expect(asJson(store.read())).toEqual(after);
		// Written whole: the first invitation is on one line again.
		const written = readFileSync(path, 'utf8');
		const first = written.slice(written.indexOf('"invitations":[\n') + '"invitations":[\n'.length).split('\n')[0]!;
		expect(JSON.parse(first.trim().replace(/,$/, ''))).toEqual(after.invitations[0]);
		await store.close();
	});

	it('a commit of a store whose lists were never read keeps every invitation and audit event, and adds to them', async () => {
		const path = await vouchedStore();
		const before = (await checkedRead(path)) as Database;
		const store = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		expect(isLazy(store.read(), 'audit')).toBe(true);
		await store.transact(db => {
			db.settings.policy.minPasswordLength = 17;
		});
		const event = {...before.audit[0]!, id: newId(), target: 'added by the test'};
		await store.transact(db => {
			db.audit.push(event);
			db.invitations.splice(0, 1);
		});
		const after = (await checkedRead(path)) as Database;
		expect(after.settings.policy.minPasswordLength).toBe(17);
		expect(after.audit).toEqual([...before.audit, event]);
		expect(after.invitations).toEqual(before.invitations.slice(1));
		expect(asJson(store.read())).toEqual(after);
		await store.close();
	});

	it('a follower whose lists were never read picks up another process commit to them', async () => {
		const path = await vouchedStore();
		const follower = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		expect(isLazy(follower.read(), 'invitations')).toBe(true);
		const writer = await Store.open(path, {validatorId: BUILD});
		const gone = writer.read().invitations[3]!.id;
		await writer.transact(db => {
			db.invitations.splice(3, 1);
		});
		await follower.refresh();
		expect(follower.read().invitations.map(i => i.id)).not.toContain(gone);
		expect(asJson(follower.read())).toEqual(await checkedRead(path));
		await writer.close();
		await follower.close();
	});
});
