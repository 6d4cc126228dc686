import {chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {newId} from '../source/core/ids.js';
import {emptyDatabase} from '../source/core/model.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {orgctl} from './helpers/cli.js';
import {tempDir} from './helpers/store.js';
import {seededStore, sleep, startWorker, userRecord} from './helpers/writers.js';

/** Another local user, for the files an attacker plants (a uid with no account: chown needs none). */
const OTHER = 54_321;
const ROOT = process.geteuid?.() === 0;
/** Ownership is tested for real, by chown to another uid, which needs root (CI runs as root). */
const needsRoot = ROOT ? '' : ' (skipped: needs root, to chown files to another uid)';

/** What Store.open refused with, or undefined. */
async function refusal(path: string): Promise<string | undefined> {
	return Store.open(path).then(
		() => undefined,
		(error: Error) => error.message,
	);
}

/** A store file planted by an attacker: they are its superuser. */
function plantedStore(path: string): void {
	const db = emptyDatabase();
	const tenantId = newId();
	db.tenants.push({id: tenantId, name: 'acme', created: '2026-01-01T00:00:00.000Z', revision: 1});
	db.users.push(userRecord(tenantId, 'mallory', {role: 'admin', superuser: true}));
	writeFileSync(path, JSON.stringify(db), {mode: 0o644});
}

describe('a store folder others can write', () => {
	it.each([
		['its group', 0o770],
		['others', 0o707],
		['group and others', 0o777],
	])('is refused when writable by %s, naming the folder and the chmod that fixes it, and nothing is created there', async (who, mode) => {
		const dir = join(tempDir(), 'store');
		mkdirSync(dir);
		chmodSync(dir, mode);
		const message = await refusal(join(dir, 'orgctl.json'));
		expect(message).toBe(`Cannot use the store ${join(dir, 'orgctl.json')}: its folder ${dir} is writable by ${who}, so another user could put their own store, key or lock file there; run chmod go-w ${dir}`);
		expect(readdirSync(dir)).toEqual([]);
		chmodSync(dir, 0o700);
		await expect(Store.open(join(dir, 'orgctl.json'))).resolves.toBeInstanceOf(Store);
	});

	it('is refused when it is a shared sticky folder like /tmp: --store /tmp/x.json can be planted by anyone', async () => {
		const path = join(tmpdir(), `orgctl-${newId()}.json`);
		const message = await refusal(path);
		expect(message).toMatch(new RegExp(`^Cannot use the store ${path}: its folder ${tmpdir()} is writable by group and others, so another user could put their own store, key or lock file there; keep the store in a folder only you can write: mkdir -m 700 ${tmpdir()}/orgctl and use --store ${tmpdir()}/orgctl/orgctl.json$`));
		expect(existsSync(path)).toBe(false);
		expect(existsSync(`${path}.lock`)).toBe(false);
	});

	it('is refused when a folder above it can be written by others (and is not sticky): the store’s folder could be swapped', async () => {
		const shared = join(tempDir(), 'shared');
		mkdirSync(join(shared, 'orgctl'), {recursive: true, mode: 0o700});
		chmodSync(shared, 0o777);
		const message = await refusal(join(shared, 'orgctl', 'orgctl.json'));
		expect(message).toContain(`the folder ${shared} above it is writable by group and others (and not sticky), so another user could move the store's folder away and put their own in its place; run chmod go-w ${shared}`);
		// Sticky, as /tmp is: only an entry's owner may rename it, so the folder below stays ours.
		chmodSync(shared, 0o1777);
		await expect(Store.open(join(shared, 'orgctl', 'orgctl.json'))).resolves.toBeInstanceOf(Store);
	});
});

describe('a store, key or lock file with loose permissions', () => {
	it.each([0o660, 0o606, 0o666])('a store file of mode %s is refused with chmod 600, and left as it was', async mode => {
		const store = await seededStore([]);
		chmodSync(store.path, mode);
		const bytes = readFileSync(store.path);
		const message = await refusal(store.path);
		expect(message).toMatch(new RegExp(`^Cannot use the store ${store.path}: the store file ${store.path} has mode 0${mode.toString(8)}: .+ may write it and so change the data; run chmod 600 ${store.path}$`));
		expect(readFileSync(store.path).equals(bytes)).toBe(true);
		expect(statSync(store.path).mode & 0o777).toBe(mode);
		// An open console notices too, on its next look at the file.
		chmodSync(store.path, 0o600);
		const open = await Store.open(store.path);
		chmodSync(store.path, mode);
		expect(() => open.read()).toThrow(/has mode .* run chmod 600/);
	});

	it('a key file others may read is refused with chmod 600: it is the secret', async () => {
		const store = await seededStore([]);
		const key = KeyFile.load(store.path);
		chmodSync(key.path, 0o644);
		expect(() => KeyFile.load(store.path)).toThrow(`Cannot use the key file: the key file ${key.path} has mode 0644: group and others may open it and so read the key that unseals stored secrets; run chmod 600 ${key.path}.`);
		chmodSync(key.path, 0o600);
		expect(KeyFile.load(store.path).path).toBe(key.path);
	});

	it('a lock file others may open is refused before anything waits on it: a reader could hold it and block every change', async () => {
		const store = await seededStore([]);
		const lock = `${store.path}.lock`;
		chmodSync(lock, 0o644);
		const bytes = readFileSync(store.path);
		await expect(store.transact(db => touch(db.settings))).rejects.toThrow(`Cannot use the store ${store.path}: the lock ${lock} has mode 0644: group and others may open it and so hold the lock and block every change; run chmod 600 ${lock}`);
		expect(readFileSync(store.path).equals(bytes)).toBe(true);
	});

	it('a plain file at the lock path dated a year ahead, or an old lock folder dated so, blocks nothing', async () => {
		const store = await seededStore([]);
		const lock = `${store.path}.lock`;
		const ahead = new Date(Date.now() + 365 * 86_400_000);
		utimesSync(lock, ahead, ahead);
		const started = performance.now();
		await store.transact(db => touch(db.settings));
		rmSync(lock);
		// The lock folder an older orgctl (proper-lockfile) left behind.
		mkdirSync(lock, {mode: 0o700});
		utimesSync(lock, ahead, ahead);
		await store.transact(db => touch(db.settings));
		expect(performance.now() - started).toBeLessThan(2_000);
		expect(lstatSync(lock).isFile()).toBe(true);
		expect(store.read().settings.revision).toBe(3);
	});
});

describe('a read-only store file', () => {
	// 0444 comes out 0400: nobody else reads a copy of the store (red team #13), and it stays read-only.
	it.each([0o400, 0o444])('(mode %s) is read, but a change is refused with a sentence and the file is neither replaced nor made writable', async given => {
		const mode = given & 0o700;
		const store = await seededStore(['alice']);
		chmodSync(store.path, given);
		const bytes = readFileSync(store.path);
		const {ino} = statSync(store.path);
		const open = await Store.open(store.path);
		expect(open.read().users[0]!.username).toBe('alice');
		await expect(open.transact(db => touch(db.users[0]!))).rejects.toThrow(
			`Cannot use the store ${store.path}: the file is read-only (mode 0${mode.toString(8)}), so the change was not saved; if it was made read-only to stop changes, that is what happens; to allow them again run chmod 600 ${store.path}`,
		);
		expect(readFileSync(store.path).equals(bytes)).toBe(true);
		expect(statSync(store.path).ino).toBe(ino);
		expect(statSync(store.path).mode & 0o777).toBe(mode);
		expect(open.read().users[0]!.revision).toBe(1);
	});
});

describe('files that belong to another user' + needsRoot, () => {
	it.skipIf(!ROOT)('a store file planted by another user is refused, even by root: the planter would be its superuser', async () => {
		const dir = tempDir();
		const path = join(dir, 'orgctl.json');
		plantedStore(path);
		chmodSync(path, 0o600);
		chownSync(path, OTHER, OTHER);
		const message = await refusal(path);
		expect(message).toBe(`Cannot use the store ${path}: the store file ${path} belongs to uid ${OTHER}, not to root, so that user could change what orgctl reads; run chown root ${path}`);
		expect(statSync(path).uid).toBe(OTHER);
	});

	it.skipIf(!ROOT)('--store in a shared sticky folder, pre-planted there by another user, is refused', async () => {
		const shared = join(tempDir(), 'tmp');
		mkdirSync(shared, {mode: 0o1777});
		chmodSync(shared, 0o1777);
		const path = join(shared, 'x.json');
		plantedStore(path);
		chownSync(path, OTHER, OTHER);
		expect(await refusal(path)).toMatch(new RegExp(`^Cannot use the store ${path}: its folder ${shared} is writable by group and others`));
	});

	it.skipIf(!ROOT)('a store folder, or a folder above it, owned by another user is refused', async () => {
		const above = join(tempDir(), 'theirs');
		const dir = join(above, 'store');
		mkdirSync(dir, {recursive: true, mode: 0o700});
		chownSync(dir, OTHER, OTHER);
		expect(await refusal(join(dir, 'orgctl.json'))).toBe(`Cannot use the store ${join(dir, 'orgctl.json')}: its folder ${dir} belongs to uid ${OTHER}, not to root, so that user could change what orgctl reads; run chown root ${dir}`);
		chownSync(dir, 0, 0);
		chmodSync(above, 0o755);
		chownSync(above, OTHER, OTHER);
		expect(await refusal(join(dir, 'orgctl.json'))).toMatch(new RegExp(`the folder ${above} belongs to uid ${OTHER}, not to root, .*; run chown root ${above}$`));
	});

	it.skipIf(!ROOT)('a key file owned by another user is refused', async () => {
		const store = await seededStore([]);
		const key = KeyFile.load(store.path);
		chownSync(key.path, OTHER, OTHER);
		expect(() => KeyFile.load(store.path)).toThrow(`Cannot use the key file: the key file ${key.path} belongs to uid ${OTHER}, not to root, so that user could change what orgctl reads; run chown root ${key.path}.`);
	});

	it.skipIf(!ROOT)('a lock file planted and held by another user is refused at once instead of blocking every change, and removing it is the fix', async () => {
		const store = await seededStore(['alice']);
		const dir = join(store.path, '..');
		const lock = `${store.path}.lock`;
		rmSync(lock);
		// The folder was loose for a while: long enough for the other user to plant the lock and hold it.
		chmodSync(dir, 0o777);
		const holder = await startWorker([lock], {fixture: 'lock-holder.ts', uid: OTHER});
		try {
			await holder.line(/^held$/);
			chmodSync(dir, 0o700);
			expect(statSync(lock).uid).toBe(OTHER);
			const started = performance.now();
			await expect(store.transact(db => touch(db.users[0]!))).rejects.toThrow(`Cannot use the store ${store.path}: the lock ${lock} belongs to uid ${OTHER}, not to root, so that user could change what orgctl reads; run rm ${lock}`);
			expect(performance.now() - started).toBeLessThan(2_000);
			rmSync(lock);
			await store.transact(db => touch(db.users[0]!));
			expect(store.read().users[0]!.revision).toBe(2);
			expect(statSync(lock).uid).toBe(0);
		} finally {
			holder.kill();
			await holder.exited;
		}
	});
});

describe('a store path that is a symbolic link', () => {
	/** A real store in `data/`, and `link/orgctl.json` pointing at it. */
	async function linked(): Promise<{store: Store; real: string; link: string}> {
		const base = tempDir();
		const real = join(base, 'data', 'orgctl.json');
		const store = await seededStore(['alice', 'bob'], {path: real});
		mkdirSync(join(base, 'link'), {mode: 0o700});
		const link = join(base, 'link', 'orgctl.json');
		symlinkSync(real, link);
		return {store, real, link};
	}

	it('is followed: the store lives at the real path, with its lock and key beside it, and a commit never replaces the link', async () => {
		const {real, link} = await linked();
		const store = await Store.open(link);
		expect(store.path).toBe(real);
		await store.transact(db => touch(db.users[0]!));
		expect(lstatSync(link).isSymbolicLink()).toBe(true);
		expect(readlinkSync(link)).toBe(real);
		expect((await Store.open(real)).read().users[0]!.revision).toBe(2);
		expect(existsSync(`${real}.lock`)).toBe(true);
		expect(existsSync(`${link}.lock`)).toBe(false);
		expect(KeyFile.load(store.path).path).toBe(join(real, '..', 'orgctl.key'));
		expect(readdirSync(join(link, '..'))).toEqual(['orgctl.json']);
	});

	it('that points to a file not there yet makes the first commit create that file, and leaves the link a link', async () => {
		const base = tempDir();
		mkdirSync(join(base, 'data'), {mode: 0o700});
		const real = join(base, 'data', 'orgctl.json');
		const link = join(base, 'orgctl.json');
		symlinkSync('data/orgctl.json', link);
		const store = await Store.open(link);
		expect(store.path).toBe(real);
		expect(lstatSync(link).isSymbolicLink()).toBe(true);
		expect(lstatSync(real).isFile()).toBe(true);
		expect(readdirSync(base).sort()).toEqual(['data', 'orgctl.json']);
	});

	it('takes the same lock as the real path: a writer stopped inside the lock through the link holds up one using the real path', async () => {
		const {store, link} = await linked();
		const writer = await startWorker([link, 'alice', 'through-the-link'], {fixture: 'stalled-writer.ts'});
		await writer.line(/^inside/);
		let settled = false;
		const direct = store.transact(db => touch(db.users[1]!)).finally(() => (settled = true));
		await sleep(500);
		expect(settled).toBe(false);
		writer.kill('SIGCONT');
		await direct;
		await writer.exited;
		const db = store.read();
		expect(db.audit.map(e => e.target)).toContain('through-the-link');
		expect(db.users.map(u => u.revision)).toEqual([2, 2, 1]);
	});

	it('loses no change when one process writes through the link and another through the real path', async () => {
		const {store, real, link} = await linked();
		const start = store.read().version;
		const writers = await Promise.all([startWorker([link, 'alice', '100']), startWorker([real, 'bob', '100'])]);
		await Promise.all(writers.map(w => w.exited));
		const db = (await Store.open(real)).read();
		expect(db.version).toBe(start + 200);
		expect(db.users.map(u => u.revision)).toEqual([101, 101, 1]);
		expect(lstatSync(link).isSymbolicLink()).toBe(true);
	});

	it('is refused when it leads into a folder others can write, naming that folder', async () => {
		const base = tempDir();
		const loose = join(base, 'loose');
		mkdirSync(loose, {mode: 0o777});
		chmodSync(loose, 0o777);
		const link = join(base, 'orgctl.json');
		symlinkSync(join(loose, 'orgctl.json'), link);
		expect(await refusal(link)).toBe(`Cannot use the store ${link}: its folder ${loose} is writable by group and others, so another user could put their own store, key or lock file there; run chmod go-w ${loose}`);
		expect(readdirSync(loose)).toEqual([]);
	});

	it('shares sessions with its target: orgctl login through the link signs in orgctl whoami through the real path', async () => {
		const base = tempDir();
		mkdirSync(join(base, 'data'), {mode: 0o700});
		symlinkSync(join(base, 'data', 'orgctl.json'), join(base, 'orgctl.json'));
		const password = 'correct horse battery staple';
		expect((await orgctl(base, ['init', '--username', 'alice', '--email', 'alice@example.com', '--password-stdin'], {input: password})).code).toBe(0);
		expect((await orgctl(base, ['login', '--username', 'alice', '--password-stdin'], {input: password})).code).toBe(0);
		const direct = await orgctl(base, ['whoami', '--json'], {env: {ORGCTL_STORE: join(base, 'data', 'orgctl.json')}});
		expect(direct.code).toBe(0);
		expect(JSON.parse(direct.stdout)).toMatchObject({username: 'alice'});
		expect((await orgctl(base, ['whoami'])).code).toBe(0);
		expect(lstatSync(join(base, 'orgctl.json')).isSymbolicLink()).toBe(true);
	});

	it('is refused when the links go round in a loop', async () => {
		const base = tempDir();
		symlinkSync(join(base, 'b.json'), join(base, 'a.json'));
		symlinkSync(join(base, 'a.json'), join(base, 'b.json'));
		expect(await refusal(join(base, 'a.json'))).toMatch(/goes through more than 32 symbolic links; point --store at the file itself$/);
	});
});
