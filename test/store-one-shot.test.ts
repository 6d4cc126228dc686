import {execFileSync, spawnSync} from 'node:child_process';
import {join} from 'node:path';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {startDigest} from '../source/store/validated.js';
import {SCHEMA_VERSION} from '../source/core/model.js';
import {ORGCTL} from './helpers/cli.js';
import {initializedContext, tempDir} from './helpers/store.js';
import {seedRoot, seedUsers, signIn} from './helpers/term.js';
import {asJson, fileState} from './helpers/writers.js';

const BUILD = 'rules-of-this-build';
const ONE_SHOT = {validatorId: BUILD, oneShot: true} as const;

/** The MAC a store's writer records for the file's bytes (validated.ts), computed as its owner could. */
function macOfFile(path: string): string {
	const key = KeyFile.inspect(path);
	if (typeof key !== 'object') throw new Error('no key file');
	return startDigest({id: BUILD, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')}).update(readFileSync(path)).digest('hex');
}

/** A store this build has validated: its digest beside it vouches for the file as it is. */
async function vouchedStore(): Promise<string> {
	const {ctx} = await initializedContext();
	const store = await Store.open(ctx.store.path, {validatorId: BUILD});
	await store.transact(db => {
		db.settings.policy.minPasswordLength = 13;
	});
	expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOfFile(store.path));
	return store.path;
}

/**
 * Rewrites the store file in place (same inode) with `edit` applied, then puts its mtime back, as
 * `cp -p` or `rsync --inplace -t` would: its size may be the same, its mtime is, its digest is the old one.
 */
function editInPlaceKeepingMtime(path: string, edit: (text: string) => string): void {
	const before = statSync(path, {bigint: true});
	const text = readFileSync(path, 'utf8');
	const edited = edit(text);
	expect(edited).not.toBe(text);
	writeFileSync(path, edited);
	const ns = (before.mtimeNs % 1_000_000_000n).toString().padStart(9, '0');
	execFileSync('touch', ['-m', '-d', `@${before.mtimeNs / 1_000_000_000n}.${ns}`, path]);
	const after = statSync(path, {bigint: true});
	expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs]);
}

/** The last entry of the file's index of recent changes: `patchOf` names the file a patched commit copied. */
function lastCommit(path: string): {patchOf?: string} {
	const raw = JSON.parse(readFileSync(path, 'utf8')) as {recentChanges: {log: Array<{patchOf?: string}>}};
	return raw.recentChanges.log.at(-1)!;
}

describe('a command that only reads opens a vouched store in one parse, and trusts nothing the MAC does not prove (StoreOptions.oneShot)', () => {
	it('a one-shot open of a vouched file holds exactly what a checking open holds', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		const checked = await Store.open(path);
		expect(asJson(oneShot.read())).toEqual(asJson(checked.read()));
		expect(oneShot.read().settings.policy.minPasswordLength).toBe(13);
	});

	it('an edit made in place after the digest was recorded, its length and mtime kept, is checked and refused', async () => {
		const path = await vouchedStore();
		// "admin" -> "ADMIN": same length, no orgctl accepts it.
		editInPlaceKeepingMtime(path, text => text.replace('"role":"admin"', '"role":"ADMIN"'));
		expect(statSync(path).size).toBe(Buffer.byteLength(readFileSync(path, 'utf8')));
		await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate at users\.0\.role/);
	});

	it('a valid edit made the same way is read as the file now holds it, never as the digest last saw it', async () => {
		const path = await vouchedStore();
		editInPlaceKeepingMtime(path, text => text.replace('"minPasswordLength":13', '"minPasswordLength":14'));
		const store = await Store.open(path, ONE_SHOT);
		expect(store.read().settings.policy.minPasswordLength).toBe(14);
		// Checked whole, then vouched for: the next one-shot open is the quick one again, and holds the same.
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOfFile(path));
		expect((await Store.open(path, ONE_SHOT)).read().settings.policy.minPasswordLength).toBe(14);
	});

	it('a digest forged without the store key, or of another build, is not trusted by a one-shot open', async () => {
		const path = await vouchedStore();
		writeFileSync(path, readFileSync(path, 'utf8').replace('"role":"admin"', '"role":"emperor"'));
		const text = readFileSync(path);
		const otherKey = KeyFile.load(`${path}.elsewhere.json`);
		const forgeries = [
			startDigest({id: BUILD, schemaVersion: SCHEMA_VERSION, key: otherKey.derive('orgctl validated store')}).update(text).digest('hex'),
			startDigest({id: 'older-looser-rules', schemaVersion: SCHEMA_VERSION, key: (KeyFile.inspect(path) as KeyFile).derive('orgctl validated store')}).update(text).digest('hex'),
			'ab'.repeat(32),
		];
		for (const forged of forgeries) {
			writeFileSync(validatedPathOf(path), forged);
			await expect(Store.open(path, ONE_SHOT)).rejects.toThrow(/does not validate at users\.0\.role/);
		}
	});

	it('a one-shot store that commits reads the file again under the lock: a change another process made meanwhile is kept', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		const other = await Store.open(path, {validatorId: BUILD});
		await other.transact(db => {
			db.settings.policy.minPasswordLength = 15;
		});
		await oneShot.transact(db => {
			db.settings.policy.auditRetentionDays = 9;
		});
		const fresh = await Store.open(path);
		expect(fresh.read().settings.policy.minPasswordLength).toBe(15);
		expect(fresh.read().settings.policy.auditRetentionDays).toBe(9);
		expect(fileState(path)).toEqual(asJson(oneShot.read()));
		// And what it wrote is vouched for: the next one-shot open reads it as the checking one does.
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOfFile(path));
		expect(asJson((await Store.open(path, ONE_SHOT)).read())).toEqual(asJson(fresh.read()));
	});

	it('a one-shot store that commits patches the file as any store does (its commit names the file it copied)', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		await oneShot.transact(db => {
			db.users[0]!.lastLogin = '2026-01-02T03:04:05.000Z';
		});
		expect(lastCommit(path).patchOf).toBeDefined();
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOfFile(path));
		expect((await Store.open(path)).read().users[0]!.lastLogin).toBe('2026-01-02T03:04:05.000Z');
	});

	it('a one-shot store that commits after an in-place edit with its mtime put back checks the edited file first', async () => {
		const path = await vouchedStore();
		const oneShot = await Store.open(path, ONE_SHOT);
		editInPlaceKeepingMtime(path, text => text.replace('"role":"admin"', '"role":"ADMIN"'));
		await expect(
			oneShot.transact(db => {
				db.settings.policy.auditRetentionDays = 11;
			}),
		).rejects.toThrow(/users\.0\.role/);
		expect(readFileSync(path, 'utf8')).toContain('"role":"ADMIN"');
	});
});

describe('`orgctl users list` (the built command, with its build id) reads a vouched store in one parse, and a file edited since is still caught', () => {
	/** The built `orgctl users list --json` on the store in `dir`, signed in by its session. */
	function usersList(dir: string): {code: number; stdout: string; stderr: string} {
		const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORGCTL_')));
		const result = spawnSync(process.execPath, [ORGCTL, 'users', 'list', '--json'], {env: {...env, ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json')}, encoding: 'utf8'});
		return {code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr};
	}

	async function signedInStore(): Promise<string> {
		const dir = tempDir();
		const {ctx, root} = await seedRoot(dir);
		await seedUsers(ctx, root.tenant.id, [{username: 'ada'}, {username: 'grace'}]);
		await signIn(ctx, root, dir);
		// The first run checks the file whole and vouches for it; the later ones take the quick read.
		for (let i = 0; i < 2; i++) expect(usersList(dir).code).toBe(0);
		return dir;
	}

	it('an edit made in place after its digest was recorded, its length and mtime kept, is refused by the next `users list`', async () => {
		const dir = await signedInStore();
		const path = join(dir, 'orgctl.json');
		editInPlaceKeepingMtime(path, text => text.replace('"role":"member"', '"role":"MEMBER"'));
		const result = usersList(dir);
		expect(result.code).not.toBe(0);
		expect(result.stderr).toMatch(/does not validate at users\.\d+\.role/);
		expect(result.stdout).toBe('');
	});

	it('a valid edit made the same way is listed as the file now holds it', async () => {
		const dir = await signedInStore();
		editInPlaceKeepingMtime(join(dir, 'orgctl.json'), text => text.replace('"email":"ada@example.com"', '"email":"ada@example.org"'));
		const result = usersList(dir);
		expect(result.code, result.stderr).toBe(0);
		expect((JSON.parse(result.stdout) as Array<{username: string; email: string}>).find(user => user.username === 'ada')?.email).toBe('ada@example.org');
	});
});
