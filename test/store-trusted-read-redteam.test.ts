import {execFileSync, spawnSync} from 'node:child_process';
import {closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {SCHEMA_VERSION} from '../source/core/model.js';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store, type StoreOptions} from '../source/store/store.js';
import {startDigest} from '../source/store/validated.js';
import {ORGCTL} from './helpers/cli.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';
import {asJson, promote, seededStore} from './helpers/writers.js';

/**
 * Red team (redteam21): the console opens the store trusting it ('trusted read', deferValidation, with the
 * build's validator and the store's key), draws a frame, then validates. Whatever an attacker with write
 * access to the data folder (not to the key file) puts in the store file, beside a digest that vouched for
 * the file as it was, the trusting console must end up where a checking open does: refuse what it refuses
 * (never vouching for it, never writing over it), or hold exactly what it holds and commit exactly that.
 */
const BUILD = 'redteam21-rules';
const NAMES = Array.from({length: 12}, (_, i) => `w${i}`);

function macOf(path: string, bytes: Buffer): string {
	const key = KeyFile.inspect(path);
	if (typeof key !== 'object') throw new Error('no key file');
	return startDigest({id: BUILD, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')}).update(bytes).digest('hex');
}

function digestBeside(path: string): string | undefined {
	try {
		return readFileSync(validatedPathOf(path), 'utf8').trim();
	} catch {
		return undefined;
	}
}

/** A valid store of 12 guests and root, with its key file, last written by a validating commit: its digest vouches for it. */
async function vouchedStore(): Promise<string> {
	const seeded = await seededStore(NAMES);
	KeyFile.load(seeded.path);
	const writer = await Store.open(seeded.path, {validatorId: BUILD});
	await writer.transact(promote('w1'));
	expect(digestBeside(writer.path)).toBe(macOf(writer.path, readFileSync(writer.path)));
	return writer.path;
}

/** Replaces the file whole (a new inode, as an editor saving it does). */
function replaceWith(path: string, bytes: Buffer): void {
	writeFileSync(`${path}.edit`, bytes);
	renameSync(`${path}.edit`, path);
}

function idOf(text: string, name: string): string {
	const at = text.indexOf(`"username":"${name}"`);
	const line = text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at));
	return /"id":"([^"]+)"/.exec(line)![1]!;
}

/** Hostile versions of a valid store file's bytes. */
const EDITS: ReadonlyArray<[string, (bytes: Buffer) => Buffer]> = [
	['a role no build accepts', b => Buffer.from(b.toString('utf8').replace('"role":"guest"', '"role":"emperor"'))],
	['two users with one id', b => {
		const text = b.toString('utf8');
		return Buffer.from(text.replace(idOf(text, 'w4'), idOf(text, 'w3')));
	}],
	['a user with a field no schema knows', b => Buffer.from(b.toString('utf8').replace('"username":"w3"', '"username":"w3","godMode":true'))],
	['a byte that is not UTF-8 in a username', b => {
		const text = b.toString('latin1');
		const at = text.indexOf('"username":"w3"') + '"username":"w'.length;
		return Buffer.concat([b.subarray(0, at), Buffer.from([0xff]), b.subarray(at)]);
	}],
	['a byte that is not UTF-8 in the room after a record', b => {
		const text = b.toString('latin1');
		const at = text.indexOf('}', text.indexOf('"username":"w3"')) + 1;
		return Buffer.concat([b.subarray(0, at), Buffer.from([0xc3]), b.subarray(at + 1)]);
	}],
	['the file cut in half', b => b.subarray(0, b.length >> 1)],
	['the file cut before its last line', b => b.subarray(0, b.length - 2)],
	['a key given twice in a record, the second one a role', b => Buffer.from(b.toString('utf8').replace('"username":"w3","email":"w3@example.com","role":"guest"', '"username":"w3","email":"w3@example.com","role":"guest","role":"emperor"'))],
	['a key given twice in a record, the first one a role', b => Buffer.from(b.toString('utf8').replace('"username":"w3","email":"w3@example.com","role":"guest"', '"username":"w3","email":"w3@example.com","role":"emperor","role":"guest"'))],
	['a byte-order mark before the file', b => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b])],
	['CRLF line ends', b => Buffer.from(b.toString('utf8').replaceAll('\n', '\r\n'))],
	['the users list given again after the index of recent changes', b => {
		const text = b.toString('utf8');
		const at = text.lastIndexOf('\n}\n');
		return Buffer.from(`${text.slice(0, at)},"users":[{"id":"x","role":"emperor"}]${text.slice(at)}`);
	}],
	['the whole file on one line', b => Buffer.from(JSON.stringify(JSON.parse(b.toString('utf8'))))],
	['the users as an object, on one line', b => {
		const raw = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
		raw['users'] = Object.fromEntries((raw['users'] as object[]).entries());
		return Buffer.from(JSON.stringify(raw));
	}],
	['a user record that is a number', b => Buffer.from(b.toString('utf8').replace(/^\{"id":"[^\n]*"username":"w3"[^\n]*?\}/m, '42'))],
	['a 3 MB email', b => Buffer.from(b.toString('utf8').replace('"email":"w3@example.com"', `"email":"${'a'.repeat(3 << 20)}@example.com"`))],
	['a user with an own __proto__ key', b => Buffer.from(b.toString('utf8').replace('"username":"w3"', '"__proto__":{"role":"admin","superuser":true},"username":"w3"'))],
	['a revision of 1e400 (Infinity to JSON.parse)', b => Buffer.from(b.toString('utf8').replace(/("username":"w3"[^\n]*?"revision":)1/, '$11e400'))],
	['a revision of 1.0 and an escaped username', b => Buffer.from(b.toString('utf8').replace(/"username":"w3"([^\n]*?"revision":)1/, '"username":"w\\u0033"$11.0'))],
	['a NUL in the room after a record', b => {
		const text = b.toString('latin1');
		const at = text.indexOf('}', text.indexOf('"username":"w3"')) + 1;
		return Buffer.concat([b.subarray(0, at), Buffer.from([0]), b.subarray(at + 1)]);
	}],
	['a no-break space in the room after a record', b => {
		const text = b.toString('latin1');
		const at = text.indexOf('}', text.indexOf('"username":"w3"')) + 1;
		return Buffer.concat([b.subarray(0, at), Buffer.from([0xc2, 0xa0]), b.subarray(at + 2)]);
	}],
];

/** What a checking open (no validator, nothing deferred) makes of the file: the data, or the refusal. */
async function checkingOpen(path: string): Promise<unknown> {
	try {
		const store = await Store.open(path);
		return {data: asJson(store.read())};
	} catch (error) {
		return {refused: (error as Error).message};
	}
}

/** The console's open: trusting, deferred, with the build's validator; then validate(), as after the first frame. */
async function consoleOpen(path: string, beforeValidate?: (store: Store) => Promise<unknown>, options: StoreOptions = {}): Promise<{store?: Store; refused?: string; early?: unknown}> {
	let store: Store;
	try {
		store = await Store.open(path, {validatorId: BUILD, deferValidation: true, ...options});
	} catch (error) {
		return {refused: (error as Error).message};
	}
	let early: unknown;
	if (beforeValidate) {
		try {
			early = {done: await beforeValidate(store)};
		} catch (error) {
			early = {failed: (error as Error).message};
		}
	}
	try {
		store.validate();
	} catch (error) {
		return {store, refused: (error as Error).message, early};
	}
	return {store, early};
}

describe('red team: a trusted read of a hostile store file ends where a checking read does (redteam21)', () => {
	for (const [what, edit] of EDITS) {
		// `lines`: each record's line kept (the file read whole, TextLines), or not (a big store's route: FileLines, 64 KB at a time).
		for (const [early, lines] of [[false, true], [true, true], [false, false]] as const) {
			it(`${what}${early ? ', with a commit before validate()' : ''}${lines ? '' : ', read as a big store is'}: refused as a checking open refuses it, or held and committed exactly`, async () => {
				const path = await vouchedStore();
				const stale = digestBeside(path)!;
				const original = readFileSync(path);
				const hostile = edit(original);
				expect(hostile.equals(original), 'the edit changed the file').toBe(false);
				replaceWith(path, hostile);
				const checked = (await checkingOpen(path)) as {data?: unknown; refused?: string};
				const trusted = await consoleOpen(path, early ? store => store.transact(promote('w6')) : undefined, lines ? {} : {lineCacheBytes: 0});
				if (checked.refused !== undefined) {
					expect(trusted.refused, 'a checking open refuses it').toBeDefined();
					// Never vouched for, never written over, and no commit lands on it.
					expect(digestBeside(path)).toBe(stale);
					expect(readFileSync(path).equals(hostile)).toBe(true);
					if (early && trusted.store) expect(trusted.early).toHaveProperty('failed');
					if (trusted.store) await expect(trusted.store.transact(promote('w5'))).rejects.toThrow();
					expect(readFileSync(path).equals(hostile)).toBe(true);
					expect(digestBeside(path)).toBe(stale);
					return;
				}
				expect(trusted.refused, 'a checking open accepts it').toBeUndefined();
				const store = trusted.store!;
				const expected = checked.data as {users: Array<{username: string; role: string}>};
				// A commit before validate() validates first, as a checking open would have (a record with a field no schema knows
				// is cleaned, not refused): it lands with the rest as a checking open holds it.
				if (early) expect(trusted.early, 'a checking open accepts the file: a commit before validate() lands').toHaveProperty('done');
				if (early) {
					expect(expected.users.find(u => u.username === 'w6')!.role).toBe('guest');
					expected.users.find(u => u.username === 'w6')!.role = 'member';
					const held = asJson(store.read()) as typeof expected;
					// The revision and version moved with the commit: compare what the hand edit decides.
					expect(held.users.map(u => [u.username, u.role])).toEqual(expected.users.map(u => [u.username, u.role]));
				} else {
					expect(asJson(store.read())).toEqual(checked.data);
				}
				await store.transact(promote('w5'));
				const after = (await checkingOpen(path)) as {data?: unknown};
				expect(after.data, 'the file the trusted store committed is what it holds').toEqual(asJson(store.read()));
				// The digest beside the file, if it vouches for anything, vouches for these very bytes, and a trusting open agrees.
				const digest = digestBeside(path);
				if (digest !== stale) expect(digest).toBe(macOf(path, readFileSync(path)));
				const fresh = await Store.open(path, {validatorId: BUILD});
				expect(asJson(fresh.read())).toEqual(asJson(store.read()));
			});
		}
	}

	it('the console holds a trusted read, an honest orgctl commits meanwhile (a patch), the console follows, validates and commits: both changes land', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		// A hand edit JSON-equal to a valid file (spaces inside a record): not vouched, so the console checks it after its first frame.
		replaceWith(path, Buffer.from(text.replace('"username":"w3"', '"username": "w3"')));
		const tui = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		const other = await Store.open(path, {validatorId: BUILD});
		await other.transact(promote('w7'));
		await other.transact(promote('w8', 'admin'));
		await tui.refresh();
		tui.validate();
		await tui.transact(promote('w5'));
		await other.refresh();
		const roles = (db: ReturnType<Store['read']>) => Object.fromEntries(db.users.map(u => [u.username, u.role]));
		expect(roles(tui.read())).toMatchObject({w1: 'member', w5: 'member', w7: 'member', w8: 'admin', w3: 'guest'});
		expect(asJson(other.read())).toEqual(asJson(tui.read()));
		expect((await checkingOpen(path)) as {data: unknown}).toEqual({data: asJson(tui.read())});
		expect(readFileSync(path, 'utf8')).toContain('"username": "w3"');
		expect(digestBeside(path)).toBe(macOf(path, readFileSync(path)));
	});

	it('a hand edit lands while the console holds a trusted read it has not validated: validate() does not vouch for either file', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const edited = Buffer.from(text.replace('"username":"w3"', '"username": "w3"'));
		replaceWith(path, edited);
		const tui = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		const bad = Buffer.from(text.replace('"role":"guest"', '"role":"emperor"'));
		replaceWith(path, bad);
		// The console's first read was of `edited`: validate() may vouch for those bytes (they pass), never for `bad`.
		try {
			tui.validate();
		} catch {
			// Refusing is also right.
		}
		const digest = digestBeside(path);
		expect(digest).not.toBe(macOf(path, bad));
		await expect(Store.open(path, {validatorId: BUILD})).rejects.toThrow(/users\.\d+\.role/);
		await expect(tui.transact(promote('w5'))).rejects.toThrow();
		expect(readFileSync(path).equals(bad)).toBe(true);
	});

	it('the file swapped for one of the same size and mtime after a trusted read: the console\'s commit never writes records it did not check', async () => {
		const path = await vouchedStore();
		const tui = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		// Same length: "guest" and "adm1n" (no build accepts it), written in place, the mtime put back to the nanosecond.
		const bad = editInPlaceKeepingMtime(path, '"username":"w9","email":"w9@example.com","role":"guest"', '"username":"w9","email":"w9@example.com","role":"adm1n"');
		tui.validate();
		await expect(tui.transact(promote('w5'))).rejects.toThrow(/users\.\d+\.role|not saved|inconsistent|validate/);
		expect(readFileSync(path).equals(bad)).toBe(true);
		expect(digestBeside(path)).not.toBe(macOf(path, bad));
	});
});

/** Writes `from` → `to` (same length) over the file in place and puts its mtime back to the nanosecond (`cp -p`, `rsync --inplace -t`). */
function editInPlaceKeepingMtime(path: string, from: string, to: string): Buffer {
	expect(Buffer.byteLength(from)).toBe(Buffer.byteLength(to));
	const before = statSync(path, {bigint: true});
	const bytes = readFileSync(path);
	const at = bytes.indexOf(from);
	expect(at).toBeGreaterThan(0);
	const fd = openSync(path, 'r+');
	try {
		writeSync(fd, Buffer.from(to), 0, Buffer.byteLength(to), at);
	} finally {
		closeSync(fd);
	}
	const ns = before.mtimeNs;
	execFileSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, path]);
	expect(statSync(path, {bigint: true}).mtimeNs).toBe(ns);
	return readFileSync(path);
}

describe('red team: a console following another process through the index of recent changes (redteam21)', () => {
	for (const deferred of [true, false]) {
		it(`an edit in place, mtime put back, after another process's whole-file commit: the ${deferred ? 'console' : 'follower'} never takes what a checking open refuses`, async () => {
			const path = await vouchedStore();
			const tui = await Store.open(path, {validatorId: BUILD, ...(deferred ? {deferValidation: true} : {})});
			if (deferred) tui.validate();
			const other = await Store.open(path, {validatorId: BUILD});
			// Removing a user is written whole (a patch only edits records in place or adds them): its index entry names no patched file.
			await other.transact(db => {
				db.users.splice(db.users.findIndex(u => u.username === 'w11'), 1);
				promote('w4')(db);
			});
			// The line of the record that commit touched now says it is w3: two users named w3 in one tenant.
			const bad = editInPlaceKeepingMtime(path, '"username":"w4","email":"w4@', '"username":"w3","email":"w4@');
			expect(((await checkingOpen(path)) as {refused?: string}).refused).toMatch(/w3 is used twice/);
			let followed: unknown;
			try {
				await tui.refresh();
				followed = {data: tui.read().users.filter(u => u.username === 'w3').length};
			} catch (error) {
				followed = {refused: (error as Error).message};
			}
			// Refusing is right; so would be holding what a checking read holds. Holding two w3s is not.
			expect(followed).toMatchObject({refused: expect.stringMatching(/w3 is used twice|inconsistent/) as unknown});
			await expect(tui.transact(promote('w5'))).rejects.toThrow();
			expect(readFileSync(path).equals(bad)).toBe(true);
		});
	}
});

describe('red team: an edit in place to a block another process\'s patched commit did not touch (redteam21)', () => {
	for (const [what, changed, keyed] of [['in that block', 'w501', true], ['elsewhere', 'w998', true], ['in that block', 'w501', false], ['elsewhere', 'w998', false]] as const) {
		it(`the console follows that commit, then commits a change ${what}${keyed ? '' : ', with no key file (no validator)'}: never a file a checking open refuses, never a MAC for bytes nothing checked`, async () => {
			// 1,000 users: the file spans several of the MAC's 64 KB blocks; w500 is in none the version, w999 or the index is in.
			const seeded = await seededStore(Array.from({length: 1000}, (_, i) => `w${i}`));
			if (keyed) KeyFile.load(seeded.path);
			const path = seeded.path;
			const writer = await Store.open(path, {validatorId: BUILD});
			await writer.transact(promote('w1'));
			const tui = await Store.open(path, {validatorId: BUILD, deferValidation: true});
			tui.validate();
			const other = await Store.open(path, {validatorId: BUILD});
			await other.transact(promote('w999'));
			// Just after that commit's rename, w500's role is made one no build accepts, in place, the mtime put back.
			const bad = editInPlaceKeepingMtime(path, '"username":"w500","email":"w500@example.com","role":"guest"', '"username":"w500","email":"w500@example.com","role":"GUEST"');
			expect(((await checkingOpen(path)) as {refused?: string}).refused).toMatch(/does not validate/);
			let committed = false;
			try {
				await tui.refresh();
				await tui.transact(promote(changed));
				committed = true;
			} catch {
				// Refused: nothing written.
			}
			if (!committed) expect(readFileSync(path).equals(bad)).toBe(true);
			// What the console acknowledged is in a file every reader accepts, and no MAC vouches for a role no build accepts.
			if (committed) expect(((await checkingOpen(path)) as {refused?: string}).refused).toBeUndefined();
			if (keyed && digestBeside(path) === macOf(path, readFileSync(path))) expect(readFileSync(path, 'utf8')).not.toContain('"role":"GUEST"');
			let trusted: unknown;
			try {
				trusted = (await Store.open(path, {validatorId: BUILD})).read().users.map(u => u.role as string);
			} catch (error) {
				trusted = (error as Error).message;
			}
			expect(trusted).not.toContain('GUEST');
		});
	}
});

/**
 * `orgctl users list --json` on `path` by the built CLI (npm test builds first), signed in as root, in a
 * child killed after `timeoutMs`: a read that blocks would otherwise hold the test process itself.
 */
function cliUsersList(path: string, timeoutMs: number) {
	return spawnSync(process.execPath, [ORGCTL, '--store', path, 'users', 'list', '--json'], {
		env: {...process.env, ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD, ORGCTL_SESSION_FILE: `${path}.session`},
		encoding: 'utf8',
		timeout: timeoutMs,
	});
}

describe('red team: what sits where the digest goes is only read if it is a digest (redteam21)', () => {
	const usersList = (path: string) => cliUsersList(path, 20_000);
	for (const [what, plant] of [
		['a FIFO', (at: string) => execFileSync('mkfifo', ['-m', '600', at])],
		['a link to /dev/zero', (at: string) => symlinkSync('/dev/zero', at)],
		['a directory', (at: string) => mkdirSync(at, {mode: 0o700})],
	] as const) {
		it(`${what} in place of orgctl.json.validated: a CLI read neither hangs nor trusts it, and lists the users`, async () => {
			const {ctx} = await initializedContext();
			const path = ctx.store.path;
			rmSync(validatedPathOf(path), {force: true, recursive: true});
			plant(validatedPathOf(path));
			const listed = usersList(path);
			expect(listed.signal, 'killed at the time limit: the read of the digest blocked').toBeNull();
			expect(listed.status).toBe(0);
			expect(listed.stdout).toContain('"username": "root"');
		}, 30_000);
	}
});

describe('red team: a change that fails between a trusted read and validate() (redteam21)', () => {
	for (const vouched of [true, false]) {
		it(`a record edited in place by a change that then throws, on a ${vouched ? 'vouched' : 'hand-edited'} file: after validate() every commit writes each record's line as it now is`, async () => {
			const path = await vouchedStore();
			if (!vouched) replaceWith(path, Buffer.from(readFileSync(path, 'utf8').replace('"username":"w6"', '"username": "w6"')));
			const tui = await Store.open(path, {validatorId: BUILD, deferValidation: true});
			await expect(
				tui.transact(db => {
					promote('w6', 'admin')(db);
					promote('w7')(db);
					db.users.find(u => u.username === 'w8')!.email = 'w8-new@example.com';
					throw new Error('the change gave up');
				}),
			).rejects.toThrow(/gave up/);
			const w6 = tui.read().users.find(u => u.username === 'w6')!;
			expect([w6.role, tui.read().users.find(u => u.username === 'w8')!.email]).toEqual(['guest', 'w8@example.com']);
			tui.validate();
			await tui.transact(promote('w9'));
			await tui.transact(promote('w10'));
			expect((await checkingOpen(path)) as {data: unknown}).toEqual({data: asJson(tui.read())});
			const roles = Object.fromEntries(tui.read().users.map(u => [u.username, u.role]));
			expect(roles).toMatchObject({w6: 'guest', w7: 'guest', w9: 'member', w10: 'member'});
			if (!vouched) expect(readFileSync(path, 'utf8')).toContain('"username": "w6"');
			const fresh = await Store.open(path, {validatorId: BUILD});
			expect(asJson(fresh.read())).toEqual(asJson(tui.read()));
		});
	}
});

describe('red team: what sits where the store, its key or its lock goes is only read if it is a regular file (redteam21)', () => {
	const usersList = (path: string) => cliUsersList(path, 10_000);
	const places: ReadonlyArray<[string, (store: string) => string]> = [
		['orgctl.json', store => store],
		['orgctl.key', store => store.replace(/\.json$/, '.key')],
		['orgctl.json.lock', store => `${store}.lock`],
	];
	for (const [name, at] of places) {
		for (const [what, plant] of [
			['a FIFO', (file: string) => execFileSync('mkfifo', ['-m', '600', file])],
			['a link to /dev/zero', (file: string) => symlinkSync('/dev/zero', file)],
		] as const) {
			it(`${what} in place of ${name}: the CLI neither hangs nor reads it, and says it is not a regular file`, async () => {
				const {ctx} = await initializedContext();
				const path = ctx.store.path;
				const file = at(path);
				rmSync(file, {force: true});
				plant(file);
				const listed = usersList(path);
				expect(listed.signal, 'killed at the time limit: an open or read blocked').toBeNull();
				expect(listed.status).not.toBe(0);
				expect(listed.stderr).toMatch(name.endsWith('.lock') && what !== 'a FIFO' ? /is a symbolic link/ : /is not a regular file/);
				expect(listed.stdout).not.toContain('"username": "root"');
			}, 30_000);
		}
	}

	it('a FIFO in place of orgctl.json: admin check neither hangs nor reads it, and says it is not a regular file', async () => {
		const {ctx} = await initializedContext();
		const path = ctx.store.path;
		rmSync(path);
		execFileSync('mkfifo', ['-m', '600', path]);
		const checked = spawnSync(process.execPath, [ORGCTL, '--store', path, 'admin', 'check'], {encoding: 'utf8', timeout: 10_000});
		expect(checked.signal, 'killed at the time limit: the open blocked').toBeNull();
		expect(checked.status).toBe(1);
		expect(checked.stdout).toContain(`${path} is not a regular file`);
	}, 30_000);

	it('a FIFO where the backup of a schema version 1 file goes: the migration neither hangs nor reads it, and refuses', async () => {
		const {ctx} = await initializedContext();
		const path = ctx.store.path;
		writeFileSync(path, JSON.stringify({...(JSON.parse(readFileSync(path, 'utf8')) as object), invitationTombstones: undefined, schemaVersion: 1}), {mode: 0o600});
		execFileSync('mkfifo', ['-m', '600', `${path}.v1.bak`]);
		const listed = usersList(path);
		expect(listed.signal, 'killed at the time limit: the read of the backup blocked').toBeNull();
		expect(listed.status).not.toBe(0);
		expect(listed.stderr).toContain(`${path}.v1.bak already exists with other content`);
	}, 30_000);
});
