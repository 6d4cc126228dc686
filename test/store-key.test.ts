import {chmodSync, existsSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {DISK, type WriteSteps} from '../source/store/file-io.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {orgctl} from './helpers/cli.js';
import {tempDir} from './helpers/store.js';
import {seededStore, startWorker, tempFiles} from './helpers/writers.js';

/** A store with nothing sealed in it yet, and no key file. */
async function keylessStore(): Promise<Store> {
	const store = await seededStore([]);
	rmSync(KeyFile.pathFor(store.path), {force: true});
	return store;
}

function keyBytes(path: string): Buffer {
	return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
}

/** Runs the key-creator fixture; resolves with the mac it printed, or undefined if it was killed. */
async function loadInProcess(storePath: string, mode = 'load'): Promise<string | undefined> {
	const worker = await startWorker([storePath, mode], {fixture: 'key-creator.ts'});
	await worker.exited;
	return worker.lines.map(line => /^mac (\w+)$/.exec(line)?.[1]).find(Boolean);
}

describe('the key file', () => {
	it('is created 0600 with 32 random bytes, and only that key opens what it sealed', async () => {
		const store = await keylessStore();
		const keys = KeyFile.load(store.path);
		expect(statSync(keys.path).mode & 0o777).toBe(0o600);
		expect(keyBytes(keys.path)).toHaveLength(32);
		expect(KeyFile.load(store.path).unseal(keys.seal('smtp password'))).toBe('smtp password');
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('is the same for every process that creates it at once: the first to link it into place wins, the others read it', async () => {
		for (let round = 0; round < 3; round++) {
			const store = await keylessStore();
			const macs = await Promise.all(Array.from({length: 4}, () => loadInProcess(store.path)));
			expect(new Set(macs).size).toBe(1);
			expect(macs[0]).toBe(KeyFile.load(store.path).mac('probe'));
			expect(tempFiles(store.path)).toEqual([]);
		}
	});

	it('is never left empty by a full disk: creation fails with a sentence, nothing is at the key path, and the next start makes it', async () => {
		const store = await keylessStore();
		const path = KeyFile.pathFor(store.path);
		const full: WriteSteps = {
			...DISK,
			write: (fd, bytes) => {
				DISK.write(fd, bytes.subarray(0, 10));
				throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'});
			},
		};
		expect(() => KeyFile.load(store.path, {steps: full})).toThrow(`The key file ${path} cannot be created (ENOSPC: no space left on device, write); free some space or fix the store folder's permissions, then try again (nothing was changed).`);
		expect(existsSync(path)).toBe(false);
		expect(tempFiles(store.path)).toEqual([]);
		expect(keyBytes(KeyFile.load(store.path).path)).toHaveLength(32);
	});

	it.each(['kill-after-write', 'kill-before-place'])('is never left empty by a SIGKILL while it is created (%s): the store opens and makes the key afresh', async mode => {
		const store = await keylessStore();
		const path = KeyFile.pathFor(store.path);
		expect(await loadInProcess(store.path, mode)).toBeUndefined();
		expect(existsSync(path)).toBe(false);
		// The dead process's temp file is left, and cleaned when the store is next opened.
		expect(tempFiles(store.path)).toHaveLength(1);
		const reopened = await Store.open(store.path);
		expect(tempFiles(store.path)).toEqual([]);
		expect(await loadInProcess(reopened.path)).toBe(KeyFile.load(store.path).mac('probe'));
	});

	it('left empty by an older orgctl, is replaced by a new key by itself while nothing is sealed with it, by every process alike', async () => {
		const store = await keylessStore();
		const path = KeyFile.pathFor(store.path);
		writeFileSync(path, '', {mode: 0o600});
		const macs = await Promise.all(Array.from({length: 4}, () => loadInProcess(store.path)));
		expect(new Set(macs).size).toBe(1);
		expect(keyBytes(path)).toHaveLength(32);
		expect(statSync(path).mode & 0o777).toBe(0o600);
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('missing or empty while the store holds sealed secrets, is refused with what to restore, not replaced', async () => {
		const dir = tempDir();
		const init = await orgctl(dir, ['init', '--username', 'alice', '--email', 'alice@example.com', '--password-stdin'], {input: 'correct horse battery staple'});
		expect(init.code).toBe(0);
		const env = {ORGCTL_USER: 'alice', ORGCTL_PASSWORD: 'correct horse battery staple'};
		expect((await orgctl(dir, ['invites', 'create', 'bob', 'bob@example.com', '--no-email'], {env})).code).toBe(0);
		const path = join(dir, 'orgctl.key');
		writeFileSync(path, '');
		const result = await orgctl(dir, ['invites', 'list'], {env});
		expect(result.code).toBe(1);
		expect(result.stderr).toBe(`orgctl: The key file ${path} is empty, but the store holds secrets sealed with it (invitation links, queued mail or the SMTP password); restore the key file from a backup of the store folder (orgctl admin check says what else is wrong).\n`);
		expect(readFileSync(path, 'utf8')).toBe('');
	});

	it('a dangling symbolic link at the key path is refused with a sentence (it used to overflow the stack)', async () => {
		const store = await keylessStore();
		const path = KeyFile.pathFor(store.path);
		const gone = join(store.path, '..', 'elsewhere', 'orgctl.key');
		symlinkSync(gone, path);
		expect(() => KeyFile.load(store.path)).toThrow(`The key file ${path} is a symbolic link to ${gone}, which does not exist; put the key file back at ${gone}, or remove the link (rm ${path}) if the store holds no sealed secrets.`);
		expect(lstatSync(path).isSymbolicLink()).toBe(true);
		expect(existsSync(gone)).toBe(false);
		expect(tempFiles(store.path)).toEqual([]);
	});

	it('a symbolic link to a key elsewhere is followed, and its target checked like the key itself', async () => {
		const store = await keylessStore();
		const elsewhere = join(tempDir(), 'orgctl.key');
		const original = KeyFile.load(store.path);
		const sealed = original.seal('kept');
		writeFileSync(elsewhere, readFileSync(original.path), {mode: 0o600});
		rmSync(original.path);
		symlinkSync(elsewhere, original.path);
		expect(KeyFile.load(store.path, {mayCreate: false}).unseal(sealed)).toBe('kept');
		chmodSync(elsewhere, 0o640);
		expect(() => KeyFile.load(store.path)).toThrow(/has mode 0640: its group may open it .*; run chmod 600/);
	});

	it('that is damaged (not 32 bytes) is refused and left alone, whatever the store holds', async () => {
		const store = await keylessStore();
		const path = KeyFile.pathFor(store.path);
		writeFileSync(path, 'c2hvcnQ\n', {mode: 0o600});
		expect(() => KeyFile.load(store.path)).toThrow(`The key file ${path} is damaged (it must hold 32 bytes, base64url); restore it from a backup of the store folder (the file was not changed).`);
		expect(readFileSync(path, 'utf8')).toBe('c2hvcnQ\n');
	});
});
