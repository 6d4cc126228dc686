import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {SCHEMA_VERSION} from '../source/core/model.js';
import {INDEX_PREFIX} from '../source/store/change-index.js';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {MAC_BLOCK, startDigest} from '../source/store/validated.js';
import {ORGCTL} from './helpers/cli.js';
import {initializedContext, tempDir} from './helpers/store.js';
import {seedRoot, seedUsers, signIn} from './helpers/term.js';
import {asJson, fileState} from './helpers/writers.js';

// Red team (oneshotattack): StoreOptions.oneShot trusts a file whose bytes the digest beside it
// vouches for, and parses it whole in one JSON.parse. Each test is an attack by someone who can
// write the store file but not read its key (a hand edit, a restore, a sync tool), or by a racing
// second process. It fails while a one-shot open can be made to show (or a one-shot commit to
// write) data no orgctl checked.

const BUILD = 'rules-of-this-build';
const ONE_SHOT = {validatorId: BUILD, oneShot: true} as const;

function keyOf(path: string): Buffer {
	const key = KeyFile.inspect(path);
	if (typeof key !== 'object') throw new Error('no key file');
	return key.derive('orgctl validated store');
}

/** The MAC of `bytes` as a build with rules `id` would record it for the store at `path` (its owner can compute it). */
function macOf(path: string, bytes: Buffer, id = BUILD, schemaVersion = SCHEMA_VERSION): string {
	return startDigest({id, schemaVersion, key: keyOf(path)}).update(bytes).digest('hex');
}

function digestBeside(path: string): string {
	return readFileSync(validatedPathOf(path), 'utf8').trim();
}

/** A store this build has validated, with a few users: its digest vouches for the file as it is. */
async function vouchedStore(): Promise<string> {
	const {ctx, root} = await initializedContext();
	await seedUsers(ctx, root.tenant.id, [{username: 'ada'}, {username: 'grace', role: 'guest'}]);
	const store = await Store.open(ctx.store.path, {validatorId: BUILD});
	await store.transact(db => {
		db.settings.policy.minPasswordLength = 13;
	});
	expect(digestBeside(store.path)).toBe(macOf(store.path, readFileSync(store.path)));
	return store.path;
}

/** Writes `text` as a new file renamed over the store (what `jq … > t && mv t orgctl.json` leaves). */
function replaceFile(path: string, text: string | Buffer): void {
	writeFileSync(`${path}.edit`, text, {mode: 0o600});
	renameSync(`${path}.edit`, path);
}

/** Rewrites the file in place (same inode) and puts its mtime back, as `cp -p` or `rsync --inplace -t` would. */
function writeInPlaceKeepingMtime(path: string, bytes: string | Buffer): void {
	const before = statSync(path, {bigint: true});
	writeFileSync(path, bytes);
	const ns = (before.mtimeNs % 1_000_000_000n).toString().padStart(9, '0');
	execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${ns}`, path]);
	expect(statSync(path, {bigint: true}).mtimeNs).toBe(before.mtimeNs);
}

/** The lines of the users list in orgctl's layout, each a record's JSON (spaces and comma stripped). */
function userLines(text: string): string[] {
	const lines = text.split('\n');
	const from = lines.indexOf('"users":[') + 1;
	const out: string[] = [];
	for (let i = from; lines[i] !== ']' && lines[i] !== '],'; i++) {
		const body = lines[i]!.trim().replace(/,$/, '').trim();
		if (body !== '') out.push(body);
	}
	return out;
}

/**
 * The file with `tail` put after the index of recent changes, on the index's own line: orgctl's
 * line-by-line read takes that line as the index and nothing more, while JSON.parse of the whole
 * text takes a key given twice at its last value.
 */
function smuggled(text: string, tail: string): string {
	const lines = text.split('\n');
	const at = lines.findIndex(line => line.startsWith(INDEX_PREFIX));
	expect(at).toBeGreaterThan(0);
	lines[at] = `${lines[at]},${tail}`;
	const result = lines.join('\n');
	expect(() => JSON.parse(result)).not.toThrow();
	return result;
}

/** What a checking open, then a one-shot open, of the store hold (as JSON), or the message each refused it with. */
async function bothOpens(path: string): Promise<{checked: unknown; oneShot: unknown}> {
	const checked = await Store.open(path, {validatorId: BUILD}).then(
		store => asJson(store.read()),
		(error: Error) => error.message,
	);
	const oneShot = await Store.open(path, ONE_SHOT).then(
		store => asJson(store.read()),
		(error: Error) => error.message,
	);
	return {checked, oneShot};
}

function usernamesIn(data: unknown): string[] {
	return (data as {users: Array<{username: string}>}).users.map(user => user.username).sort();
}

describe('bytes whose meaning as a whole differs from what orgctl checked line by line are never vouched for (a one-shot open parses them whole)', () => {
	it('a users list smuggled onto the index line after the real one: a one-shot open holds what the checking open holds, the users JSON.parse finds', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const real = userLines(text);
		// The smuggled list: the users on their lines, and eve, a valid user who is on none.
		const eve = {...(JSON.parse(real[1]!) as Record<string, unknown>), id: 'e'.repeat(32), username: 'eve', email: 'eve@example.com'};
		replaceFile(path, smuggled(text, `"users":[${real.join(',')},${JSON.stringify(eve)}]`));
		// A checking open (any orgctl command, the console) checks the file, and vouches for it...
		const {checked, oneShot} = await bothOpens(path);
		// ...so the next one-shot open parses it whole, as jq and lowdb do: all must agree on who the users are.
		expect(oneShot).toEqual(checked);
		expect(usernamesIn(checked)).toEqual(usernamesIn(JSON.parse(readFileSync(path, 'utf8'))));
	});

	it('a settings record smuggled the same way: a one-shot command reads the password policy the checking open and JSON.parse read', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const raw = JSON.parse(text) as {settings: {policy: {minPasswordLength: number}}};
		raw.settings.policy.minPasswordLength = 8;
		replaceFile(path, smuggled(text, `"settings":${JSON.stringify(raw.settings)}`));
		const {checked, oneShot} = await bothOpens(path);
		expect(oneShot).toEqual(checked);
		expect((checked as {settings: {policy: {minPasswordLength: number}}}).settings.policy.minPasswordLength).toBe(8);
	});

	it('a file whose index line holds more than one JSON value is read whole and checked as every JSON reader reads it', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8');
		const real = userLines(text);
		const evil = {...(JSON.parse(real[0]!) as Record<string, unknown>), role: 'emperor'};
		replaceFile(path, smuggled(text, `"users":[${JSON.stringify(evil)}]`));
		// jq, lowdb and JSON.parse see a user whose role is no role: so does orgctl, and it refuses the file.
		expect((JSON.parse(readFileSync(path, 'utf8')) as {users: Array<{role: string}>}).users[0]!.role).toBe('emperor');
		await expect(Store.open(path, {validatorId: BUILD})).rejects.toThrow(/does not validate at users\.0\.role/);
		await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate at users\.0\.role/);
		expect(existsDigestFor(path)).toBe(false);
	});

	it('a record carrying "__proto__":{} (an own key to JSON.parse, none to the schema) is not vouched for, and no open holds that key', async () => {
		const path = await vouchedStore();
		replaceFile(path, readFileSync(path, 'utf8').replace('"username":"root",', '"__proto__":{},"username":"root",'));
		const {checked, oneShot} = await bothOpens(path);
		expect(oneShot).toEqual(checked);
		const root = (await Store.open(path, ONE_SHOT)).read().users.find(user => user.username === 'root')!;
		expect(Object.hasOwn(root, '__proto__')).toBe(false);
		// The checks replaced the record by its clean copy: the data is not the bytes, so nothing vouches for them.
		expect(existsDigestFor(path)).toBe(false);
	});

	it('bytes that are not UTF-8, vouched for by a checking open, are read by a one-shot open as the checking open read them', async () => {
		const path = await vouchedStore();
		const bytes = readFileSync(path);
		// A lone continuation byte and a truncated sequence inside the e-mail of an audit target: both decode to U+FFFD.
		const at = bytes.indexOf('"target":"root"');
		expect(at).toBeGreaterThan(0);
		const edited = Buffer.concat([bytes.subarray(0, at + 11), Buffer.from([0x80, 0xe2, 0x82]), bytes.subarray(at + 11)]);
		replaceFile(path, edited);
		const checked = await Store.open(path, {validatorId: BUILD});
		const oneShot = await Store.open(path, ONE_SHOT);
		expect(asJson(oneShot.read())).toEqual(asJson(checked.read()));
	});

	it('a character cut by the 64 KB chunks the line reader decodes in is read whole as it was read in pieces', async () => {
		const {ctx, root} = await initializedContext();
		await ctx.store.transact(db => {
			for (let i = 0; i < 400; i++) {
				db.audit.push({id: i.toString(16).padStart(32, '0'), time: '2026-01-01T00:00:00.000Z', actor: 'root', tenantId: root.tenant.id, action: 'user.show', target: 'x'.repeat(100), result: 'ok'});
			}
		});
		const path = ctx.store.path;
		const text = readFileSync(path, 'latin1');
		expect(text.length).toBeGreaterThan(MAC_BLOCK + 1000);
		// The audit line whose run of x lies before the chunk boundary, and the spaces that move it onto the boundary.
		let line = text.lastIndexOf('\n', MAC_BLOCK - 1) + 1;
		let shift = -1;
		while (shift < 0) {
			const run = text.indexOf('"target":"', line) + 10;
			shift = MAC_BLOCK - 1 - (run + 50);
			line = text.lastIndexOf('\n', line - 2) + 1;
		}
		const firstAudit = text.indexOf('\n', text.indexOf('"audit":[')) + 1;
		const comma = text.indexOf(',\n', firstAudit);
		expect(comma).toBeLessThan(MAC_BLOCK - 2000);
		const moved = Buffer.from(`${text.slice(0, comma)}${' '.repeat(shift)}${text.slice(comma)}`, 'latin1');
		expect(moved.subarray(MAC_BLOCK - 1, MAC_BLOCK + 2).toString('latin1')).toBe('xxx');
		// ✓ is three bytes: the first ends one 64 KB chunk, the other two start the next.
		Buffer.from('\u2713').copy(moved, MAC_BLOCK - 1);
		replaceFile(path, moved);
		const checked = await Store.open(path, {validatorId: BUILD});
		expect(checked.read().audit.some(event => event.target.includes('\u2713'))).toBe(true);
		expect(existsDigestFor(path)).toBe(true);
		const oneShot = await Store.open(path, ONE_SHOT);
		expect(asJson(oneShot.read())).toEqual(asJson(checked.read()));
	});
});

function existsDigestFor(path: string): boolean {
	try {
		return digestBeside(path) === macOf(path, readFileSync(path));
	} catch {
		return false;
	}
}

describe('a digest recorded for bytes the process that recorded it never checked (a console validates after its first frame)', () => {
	it('a hand edit opened by a console, replaced by a valid file before the console validates, then put back: not vouched for', async () => {
		const path = await vouchedStore();
		const good = readFileSync(path);
		const bad = Buffer.from(good.toString('utf8').replace('"role":"admin"', '"role":"ADMIN"'));
		replaceFile(path, bad);
		// The console opens (checks deferred to after its first frame)...
		const console = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		// ...the file is put right meanwhile, and the console picks that up as it would from its watch...
		replaceFile(path, good);
		expect(console.read().users.find(u => u.username === 'root')!.role).toBe('admin');
		// ...then runs the checks it deferred, on what it now holds.
		console.validate();
		// The bad bytes put back: nothing ever checked them, so no open may take them as checked.
		replaceFile(path, bad);
		expect(digestBeside(path)).not.toBe(macOf(path, bad));
		await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate at users\.0\.role/);
		const trusting = await Store.open(path, {validatorId: BUILD, deferValidation: true}).catch((error: Error) => error);
		if (trusting instanceof Store) expect(() => trusting.validate()).toThrow(/does not validate at users\.0\.role/);
	});

	it('a console that validates what it opened, the file unchanged, vouches for it (the next one-shot open is the quick one)', async () => {
		const path = await vouchedStore();
		const text = readFileSync(path, 'utf8').replace('"minPasswordLength":13', '"minPasswordLength":16');
		replaceFile(path, text);
		const console = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		console.validate();
		expect(digestBeside(path)).toBe(macOf(path, readFileSync(path)));
		expect((await Store.open(path, ONE_SHOT)).read().settings.policy.minPasswordLength).toBe(16);
	});
});

describe('a file no orgctl validated is never trusted by a one-shot open, however it got there', () => {
	/** A store made invalid by `edit`, its digest the one recorded for the valid file before. */
	async function refusedAfter(edit: (path: string, text: string) => void): Promise<void> {
		const path = await vouchedStore();
		const digest = digestBeside(path);
		edit(path, readFileSync(path, 'utf8'));
		expect(digestBeside(path)).toBe(digest);
		await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate|not valid JSON|is empty|inconsistent/);
	}

	it('truncated in place, its mtime put back', async () => {
		await refusedAfter((path, text) => writeInPlaceKeepingMtime(path, text.slice(0, Math.floor(text.length / 2))));
	});

	it('truncated to nothing in place, its mtime put back', async () => {
		await refusedAfter(path => writeInPlaceKeepingMtime(path, ''));
	});

	it('grown in place by a record no orgctl accepts, its mtime put back', async () => {
		await refusedAfter((path, text) => {
			const real = userLines(text);
			const evil = {...(JSON.parse(real[1]!) as Record<string, unknown>), id: 'x'.repeat(32), username: 'mallory', email: 'mallory@example.com', role: 'emperor'};
			writeInPlaceKeepingMtime(path, text.replace(`${real[1]}`, `${real[1]}, ${JSON.stringify(evil)}`));
		});
	});

	it('grown by a second user with the same id (a cross-record rule), renamed into place', async () => {
		await refusedAfter((path, text) => {
			const real = userLines(text);
			const twin = {...(JSON.parse(real[1]!) as Record<string, unknown>), username: 'twin', email: 'twin@example.com'};
			replaceFile(path, text.replace(`${real[1]}`, `${real[1]}, ${JSON.stringify(twin)}`));
		});
	});

	it('swapped for another store\'s file that orgctl validated, under another key', async () => {
		const other = await vouchedStore();
		const otherText = readFileSync(other, 'utf8').replace('"role":"admin"', '"role":"ADMIN"');
		writeFileSync(other, otherText);
		await refusedAfter(path => replaceFile(path, otherText));
	});

	it('replaced by a symbolic link to an edited copy', async () => {
		await refusedAfter((path, text) => {
			const copy = join(tempDir(), 'copy.json');
			writeFileSync(copy, text.replace('"role":"admin"', '"role":"ADMIN"'), {mode: 0o600});
			rmSync(path);
			symlinkSync(copy, path);
		});
	});

	it('the same bytes as the file the digest vouched for, but for one byte flipped in its last block', async () => {
		await refusedAfter((path, text) => {
			const at = text.lastIndexOf('"role":"guest"');
			writeInPlaceKeepingMtime(path, `${text.slice(0, at)}"role":"GUEST"${text.slice(at + 14)}`);
		});
	});

	it('an edited file with the digest of an older version of it put back', async () => {
		const path = await vouchedStore();
		const older = digestBeside(path);
		const store = await Store.open(path, {validatorId: BUILD});
		await store.transact(db => {
			db.settings.policy.minPasswordLength = 20;
		});
		expect(digestBeside(path)).not.toBe(older);
		replaceFile(path, readFileSync(path, 'utf8').replace('"role":"admin"', '"role":"ADMIN"'));
		writeFileSync(validatedPathOf(path), `${older}\n`);
		await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate at users\.0\.role/);
	});

	it('a digest of these very bytes, but made under another build\'s rules, another schema version or another store\'s key', async () => {
		const path = await vouchedStore();
		const bad = Buffer.from(readFileSync(path, 'utf8').replace('"role":"admin"', '"role":"ADMIN"'));
		replaceFile(path, bad);
		const otherStore = join(tempDir(), 'orgctl.json');
		KeyFile.load(otherStore);
		const forgeries = [
			macOf(path, bad, 'older-looser-rules'),
			macOf(path, bad, BUILD, SCHEMA_VERSION - 1),
			macOf(otherStore, bad),
			// Its own MAC, but of the file one byte shorter (the size is in the MAC).
			macOf(path, bad.subarray(0, bad.length - 1)),
		];
		for (const forged of forgeries) {
			writeFileSync(validatedPathOf(path), `${forged}\n`);
			await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate at users\.0\.role/);
		}
		// The MAC this build would record is the one thing that vouches: the check above is what a forgery buys.
		writeFileSync(validatedPathOf(path), `${macOf(path, bad)}\n`);
		expect((await Store.open(path, ONE_SHOT)).read().users.find(u => u.username === 'root')!.role).toBe('ADMIN');
	});

	it('the digest file replaced by a symbolic link to another store\'s digest, or holding the MAC twice, or in upper case with junk after it', async () => {
		const path = await vouchedStore();
		const bad = Buffer.from(readFileSync(path, 'utf8').replace('"role":"admin"', '"role":"ADMIN"'));
		replaceFile(path, bad);
		const other = await vouchedStore();
		rmSync(validatedPathOf(path));
		symlinkSync(validatedPathOf(other), validatedPathOf(path));
		await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate/);
		rmSync(validatedPathOf(path));
		const mac = macOf(path, bad);
		for (const text of [`${macOf(other, bad)}${macOf(other, bad)}`, `${macOf(other, bad).toUpperCase()}zz`, mac.slice(0, 32)]) {
			writeFileSync(validatedPathOf(path), text);
			await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate/);
		}
	});
});

describe('a one-shot store that commits loses no change another process acknowledged, and writes nothing unchecked', () => {
	it('another process removes a user and adds one between the one-shot read and its commit: both stay as that process left them', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		const other = await Store.open(path, {validatorId: BUILD});
		await other.transact(db => {
			db.users.splice(
				db.users.findIndex(u => u.username === 'grace'),
				1,
			);
		});
		await other.transact(db => {
			const ada = db.users.find(u => u.username === 'ada')!;
			db.users.push({...ada, id: 'f'.repeat(32), username: 'linus', email: 'linus@example.com'});
		});
		await oneShot.transact(db => {
			const ada = db.users.find(u => u.username === 'ada')!;
			ada.lastLogin = '2026-01-02T03:04:05.000Z';
		});
		const fresh = await Store.open(path);
		expect(fresh.read().users.map(u => u.username).sort()).toEqual(['ada', 'linus', 'root']);
		expect(fresh.read().users.find(u => u.username === 'ada')!.lastLogin).toBe('2026-01-02T03:04:05.000Z');
		expect(fileState(path)).toEqual(asJson(oneShot.read()));
		expect(existsDigestFor(path)).toBe(true);
	});

	it('another process removes the very record the one-shot command then stamps: the stamp does not bring it back', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		expect(oneShot.read().users.some(u => u.username === 'grace')).toBe(true);
		const other = await Store.open(path, {validatorId: BUILD});
		await other.transact(db => {
			db.users.splice(
				db.users.findIndex(u => u.username === 'grace'),
				1,
			);
		});
		await oneShot.transact(db => {
			const grace = db.users.find(u => u.username === 'grace');
			if (grace) grace.lastLogin = '2026-01-02T03:04:05.000Z';
		});
		expect((await Store.open(path)).read().users.map(u => u.username)).not.toContain('grace');
	});

	it('a hand edit that moves two users about (in place, mtime put back) before the one-shot commit is read as it is, checked, and kept', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		const text = readFileSync(path, 'utf8');
		const [a, b] = userLines(text).slice(1, 3) as [string, string];
		// Swapped with their padding: the file keeps its length, and the lines their form.
		const swapped = text.replace(a, '\u0000').replace(b, a).replace('\u0000', b);
		expect(swapped.length).toBe(text.length);
		writeInPlaceKeepingMtime(path, swapped.replace(`"email":"grace@example.com"`, `"email":"grace@example.net"`));
		await oneShot.transact(db => {
			db.settings.policy.auditRetentionDays = 12;
		});
		const fresh = await Store.open(path);
		expect(fresh.read().users.find(u => u.username === 'grace')!.email).toBe('grace@example.net');
		expect(fresh.read().settings.policy.auditRetentionDays).toBe(12);
		expect(asJson(fresh.read())).toEqual(asJson(oneShot.read()));
	});

	it('a hand edit that gives a second user the first one\'s id (in place, mtime put back) before the one-shot commit is refused, not committed over', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		const text = readFileSync(path, 'utf8');
		const [first, second] = userLines(text) as [string, string];
		const firstId = (JSON.parse(first) as {id: string}).id;
		const secondId = (JSON.parse(second) as {id: string}).id;
		const edited = text.replace(second, second.replace(secondId, firstId));
		writeInPlaceKeepingMtime(path, edited);
		await expect(
			oneShot.transact(db => {
				db.settings.policy.auditRetentionDays = 12;
			}),
		).rejects.toThrow(/appears twice/);
		expect(readFileSync(path, 'utf8')).toBe(edited);
	});

	it('another process\'s commit that rewrites the file whole (50 users added) between the one-shot read and its commit is kept by that commit', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		const other = await Store.open(path, {validatorId: BUILD});
		// Another process's commit that rewrites the file whole (many records touched at once).
		await other.transact(db => {
			for (let i = 0; i < 50; i++) {
				const ada = db.users.find(u => u.username === 'ada')!;
				db.users.push({...ada, id: i.toString(16).padStart(32, 'a'), username: `bulk${i}`, email: `bulk${i}@example.com`});
			}
		});
		await oneShot.transact(db => {
			db.settings.policy.auditRetentionDays = 13;
		});
		const fresh = await Store.open(path);
		expect(fresh.read().users.filter(u => u.username.startsWith('bulk'))).toHaveLength(50);
		expect(fresh.read().settings.policy.auditRetentionDays).toBe(13);
	});
});

describe('`orgctl users list` and `orgctl audit` (built, one-shot) show what a checking read shows, and to whom it showed it', () => {
	function run(dir: string, args: readonly string[], env: Record<string, string> = {}): {code: number; stdout: string; stderr: string} {
		const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORGCTL_')));
		const result = spawnSync(process.execPath, [ORGCTL, ...args], {env: {...base, ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json'), ...env}, encoding: 'utf8'});
		return {code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr};
	}

	function usernames(result: {code: number; stdout: string; stderr: string}): string[] {
		expect(result.code, result.stderr).toBe(0);
		return (JSON.parse(result.stdout) as Array<{username: string}>).map(user => user.username).sort();
	}

	it('a superuser planted on a line of his own, and a users list without him smuggled onto the index line: every `users list` lists the users JSON.parse finds', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await seedUsers(ctx, root.tenant.id, [{username: 'ada'}, {username: 'grace'}]);
		await signIn(ctx, root, dir);
		const path = join(dir, 'orgctl.json');
		// Someone who can write the file adds a superuser, and a second users list without him after the index.
		const text = readFileSync(path, 'utf8');
		const shown = userLines(text);
		const mallory = {...(JSON.parse(shown[1]!) as Record<string, unknown>), id: 'e'.repeat(32), username: 'mallory', email: 'mallory@example.com', role: 'admin', superuser: true};
		// On a line of his own after ada's, as orgctl would have written it.
		const withMallory = text.replace(shown[1]!, `${shown[1]}   ,\n${JSON.stringify(mallory)}`);
		replaceFile(path, smuggled(withMallory, `"users":[${shown.join(',')}]`));
		// The first run checks the file and vouches for it; every later run takes the quick read, one JSON.parse.
		// Were mallory listed by one and not the other, the quick read would hide a superuser the checked data holds.
		const jsonView = usernamesIn(JSON.parse(readFileSync(path, 'utf8')));
		for (let i = 0; i < 3; i++) expect(usernames(run(dir, ['users', 'list', '--json']))).toEqual(jsonView);
	});

	it('root and a member see the same users, and the member is refused the audit log (an audited refusal: a one-shot commit), whether the store was read checked or one-shot', async () => {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await seedUsers(ctx, root.tenant.id, [{username: 'ada'}, {username: 'grace', role: 'guest'}]);
		await signIn(ctx, root, dir);
		const member = await seedMember(ctx);
		const path = join(dir, 'orgctl.json');
		// The seeding wrote no digest of this build: the first run checks the file and vouches for it, the second takes the quick read.
		expect(existsSync(validatedPathOf(path))).toBe(false);
		const checked = usernames(run(dir, ['users', 'list', '--json']));
		expect(existsSync(validatedPathOf(path))).toBe(true);
		expect(usernames(run(dir, ['users', 'list', '--json']))).toEqual(checked);
		const auditChecked = run(dir, ['audit', '--json']);
		const auditOneShot = run(dir, ['audit', '--json']);
		expect(auditOneShot.code, auditOneShot.stderr).toBe(0);
		expect(auditOneShot.stdout).toBe(auditChecked.stdout);
		expect(usernames(run(dir, ['users', 'list', '--json'], member))).toEqual(usernames(run(dir, ['users', 'list', '--json'], member)));
		const refusals = [run(dir, ['audit', '--json'], member), run(dir, ['audit', '--json'], member)];
		for (const refused of refusals) {
			expect(refused.code).not.toBe(0);
			expect(refused.stdout).toBe('');
		}
		expect(refusals[1]!.stderr).toBe(refusals[0]!.stderr);
		// Each refusal was audited, the later one by a commit after a one-shot read: both landed, and the file is sound.
		const fresh = await Store.open(path);
		expect(fresh.read().audit.filter(event => event.actor === 'ada' && event.result === 'refused')).toHaveLength(2);
	});
});

/** A member with a password, as ORGCTL_USER/ORGCTL_PASSWORD for the built command. */
async function seedMember(ctx: Awaited<ReturnType<typeof seedRoot>>['ctx']): Promise<Record<string, string>> {
	const password = 'a member password 1';
	const hash = await ctx.hasher.hash(password);
	await ctx.store.transact(db => {
		const ada = db.users.find(u => u.username === 'ada')!;
		ada.passwordHash = hash;
	});
	return {ORGCTL_USER: 'ada', ORGCTL_PASSWORD: password};
}

