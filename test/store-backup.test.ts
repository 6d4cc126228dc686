import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {emptyDatabase, SCHEMA_VERSION} from '../source/core/model.js';
import {Store} from '../source/store/store.js';
import {Clock, tempDir} from './helpers/store.js';
import {seededStore} from './helpers/writers.js';

const DAY = 86_400;

/** The version number written in the backup's own text. */
function backupVersion(path: string): number {
	return (JSON.parse(readFileSync(`${path}.bak`, 'utf8')) as {version: number}).version;
}

describe('the backup of the last good file (orgctl.json.bak)', () => {
	it('is taken at the first commit that holds users, then once a day by the store’s clock, stamped with that clock’s time', async () => {
		const clock = new Clock();
		const path = join(tempDir(), 'orgctl.json');
		await Store.open(path, {now: clock.now});
		// A store before its first user is not worth keeping.
		expect(existsSync(`${path}.bak`)).toBe(false);
		const store = await seededStore(['alice'], {now: clock.now, path});
		const bak = `${store.path}.bak`;
		expect(statSync(bak).mode & 0o777).toBe(0o600);
		const first = backupVersion(store.path);
		expect(first).toBe(store.version);
		// Its time is the store clock's, not the file system's, so its age is judged on one clock.
		expect(statSync(bak).mtime.getTime()).toBe(Math.floor(clock.time.getTime()));
		for (let i = 0; i < 3; i++) await store.transact(db => touch(db.users[0]!));
		clock.advance(DAY - 60);
		await store.transact(db => touch(db.users[0]!));
		expect(backupVersion(store.path)).toBe(first);
		clock.advance(60);
		await store.transact(db => touch(db.users[0]!));
		expect(backupVersion(store.path)).toBe(store.version);
		expect(statSync(bak).mtime.getTime()).toBe(clock.time.getTime());
		// It is a whole store, which opens like any other.
		writeFileSync(join(store.path, '..', 'restored.json'), readFileSync(bak), {mode: 0o600});
		expect((await Store.open(join(store.path, '..', 'restored.json'))).read().users[0]!.revision).toBe(store.read().users[0]!.revision);
	});

	it('is taken again when it is dated ahead of the store’s clock (the clock was set back)', async () => {
		const clock = new Clock();
		const store = await seededStore(['alice'], {now: clock.now});
		clock.advance(-2 * DAY);
		await store.transact(db => touch(db.users[0]!));
		const retaken = store.version;
		expect(backupVersion(store.path)).toBe(retaken);
		await store.transact(db => touch(db.users[0]!));
		expect(backupVersion(store.path)).toBe(retaken);
	});

	it('is taken after every migration, beside the original kept as .v<old version>.bak', async () => {
		const clock = new Clock();
		const dir = tempDir();
		const path = join(dir, 'orgctl.json');
		const original = JSON.stringify({...emptyDatabase(), version: 5});
		writeFileSync(path, original, {mode: 0o600});
		writeFileSync(`${path}.bak`, 'yesterday', {mode: 0o600});
		await Store.open(path, {now: clock.now, schemaVersion: SCHEMA_VERSION + 1, migrations: [{from: SCHEMA_VERSION, migrate: raw => raw}]});
		expect(readFileSync(`${path}.v${SCHEMA_VERSION}.bak`, 'utf8')).toBe(original);
		expect(JSON.parse(readFileSync(`${path}.bak`, 'utf8'))).toMatchObject({schemaVersion: SCHEMA_VERSION + 1, version: 6});
	});

	it('is not kept by a store given no clock: the store reads no clock of its own', async () => {
		const store = await seededStore(['alice']);
		await store.transact(db => touch(db.users[0]!));
		expect(existsSync(`${store.path}.bak`)).toBe(false);
		const sources = readdirSync(join(import.meta.dirname, '..', 'source', 'store')).filter(name => name.endsWith('.ts'));
		for (const name of sources) {
			const text = readFileSync(join(import.meta.dirname, '..', 'source', 'store', name), 'utf8');
			expect({name, clock: /Date\.now\(|new Date\(\)|performance\.now\(/.exec(text)?.[0]}).toEqual({name, clock: undefined});
		}
	});
});
