import {readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {validatedPathOf} from '../source/store/layout.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {startDigest} from '../source/store/validated.js';
import {SCHEMA_VERSION} from '../source/core/model.js';
import {initializedContext} from './helpers/store.js';

const BUILD = 'rules-of-this-build';

/** The MAC a store's writer records for `bytes` (validated.ts), computed as its owner could. */
function macOf(storePath: string, bytes: Buffer, id = BUILD, key = KeyFile.inspect(storePath)): string {
	if (typeof key !== 'object') throw new Error('no key file');
	return startDigest({id, schemaVersion: SCHEMA_VERSION, key: key.derive('orgctl validated store')}).update(bytes).digest('hex');
}

/** A store whose first user has a role no orgctl accepts: a file that must be refused. */
async function storeWithEmperor(): Promise<{path: string; text: string}> {
	const {ctx} = await initializedContext();
	const path = ctx.store.path;
	const text = readFileSync(path, 'utf8').replace('"role":"admin"', '"role":"emperor"');
	writeFileSync(path, text);
	return {path, text};
}

describe('a store file this build has validated opens without validating it again (store/validated.ts)', () => {
	it('a commit leaves beside the store the MAC of the exact bytes it wrote, under a key derived from the store key', async () => {
		const {ctx} = await initializedContext();
		const store = await Store.open(ctx.store.path, {validatorId: BUILD});
		await store.transact(db => {
			db.settings.policy.minPasswordLength = 15;
		});
		expect(readFileSync(validatedPathOf(store.path), 'utf8').trim()).toBe(macOf(store.path, readFileSync(store.path)));
	});

	it('a fresh process trusts bytes carrying that MAC: only the holder of the key file can vouch for a file', async () => {
		const {path, text} = await storeWithEmperor();
		await expect(Store.open(path, {validatorId: BUILD})).rejects.toThrow(/does not validate at users\.0\.role/);
		// Vouched for with the store's own key (as only its owner can): taken as validated, unchecked.
		writeFileSync(validatedPathOf(path), macOf(path, Buffer.from(text)));
		const store = await Store.open(path, {validatorId: BUILD});
		expect(store.read().users[0]!.role).toBe('emperor');
	});

	it('one byte changed after a validation: the old MAC no longer matches, the file is checked and refused', async () => {
		const {ctx} = await initializedContext();
		const store = await Store.open(ctx.store.path, {validatorId: BUILD});
		await store.transact(() => undefined);
		const digest = readFileSync(validatedPathOf(store.path), 'utf8');
		writeFileSync(store.path, readFileSync(store.path, 'utf8').replace('"role":"admin"', '"role":"emperor"'));
		expect(readFileSync(validatedPathOf(store.path), 'utf8')).toBe(digest);
		await expect(Store.open(store.path, {validatorId: BUILD})).rejects.toThrow(/does not validate at users\.0\.role/);
	});

	it('a MAC forged without the store key, or made by a build with other rules, is not trusted', async () => {
		const {path, text} = await storeWithEmperor();
		const otherKey = KeyFile.load(`${path}.elsewhere.json`);
		for (const forged of [macOf(path, Buffer.from(text), BUILD, otherKey), macOf(path, Buffer.from(text), 'older-looser-rules'), 'ab'.repeat(32), '', 'not hex at all']) {
			writeFileSync(validatedPathOf(path), forged);
			await expect(Store.open(path, {validatorId: BUILD})).rejects.toThrow(/does not validate at users\.0\.role/);
		}
	});

	it('without a build id (run from source) no digest is read or written: every open checks everything', async () => {
		const {path, text} = await storeWithEmperor();
		writeFileSync(validatedPathOf(path), macOf(path, Buffer.from(text)));
		await expect(Store.open(path)).rejects.toThrow(/does not validate at users\.0\.role/);
	});

	it('a valid file edited by hand is checked once, then vouched for; a refused one is never vouched for', async () => {
		const {ctx} = await initializedContext();
		const path = ctx.store.path;
		writeFileSync(path, readFileSync(path, 'utf8').replace('"minPasswordLength":12', '"minPasswordLength":14'));
		const store = await Store.open(path, {validatorId: BUILD});
		expect(store.read().settings.policy.minPasswordLength).toBe(14);
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOf(path, readFileSync(path)));

		const broken = await storeWithEmperor();
		rmSync(validatedPathOf(broken.path), {force: true});
		await expect(Store.open(broken.path, {validatorId: BUILD})).rejects.toThrow(/users\.0\.role/);
		expect(() => readFileSync(validatedPathOf(broken.path))).toThrow(/ENOENT/);
	});

	it('a deferred open (the console) vouches for the file only once validate() has passed', async () => {
		const {ctx} = await initializedContext();
		const path = ctx.store.path;
		rmSync(validatedPathOf(path), {force: true});
		const store = await Store.open(path, {validatorId: BUILD, deferValidation: true});
		expect(() => readFileSync(validatedPathOf(path))).toThrow(/ENOENT/);
		store.validate();
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOf(path, readFileSync(path)));

		const broken = await storeWithEmperor();
		const trusted = await Store.open(broken.path, {validatorId: BUILD, deferValidation: true});
		expect(() => trusted.validate()).toThrow(/users\.0\.role/);
		expect(() => readFileSync(validatedPathOf(broken.path))).toThrow(/ENOENT/);
	});

	it('a process that followed commits through the change index, then commits, leaves the MAC of the whole file it wrote', async () => {
		const {ctx} = await initializedContext();
		const path = ctx.store.path;
		const follower = await Store.open(path, {validatorId: BUILD});
		const other = await Store.open(path, {validatorId: BUILD});
		for (const length of [13, 14, 15]) {
			await other.transact(db => {
				db.settings.policy.minPasswordLength = length;
			});
		}
		// Read by the index of recent changes: only what changed, not the whole file.
		await follower.refresh();
		expect(follower.read().settings.policy.minPasswordLength).toBe(15);
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOf(path, readFileSync(path)));
		await follower.transact(db => {
			db.settings.policy.minPasswordLength = 16;
		});
		expect(readFileSync(validatedPathOf(path), 'utf8').trim()).toBe(macOf(path, readFileSync(path)));
		// And a fresh process opens the file it wrote.
		const fresh = await Store.open(path, {validatorId: BUILD});
		expect(fresh.read().settings.policy.minPasswordLength).toBe(16);
	});

	it('a digest that is a symbolic link to a MAC elsewhere is only read, and a wrong one costs only the check', async () => {
		const {path, text} = await storeWithEmperor();
		const elsewhere = `${path}.mac-elsewhere`;
		writeFileSync(elsewhere, macOf(path, Buffer.from('{}')));
		symlinkSync(elsewhere, validatedPathOf(path));
		await expect(Store.open(path, {validatorId: BUILD})).rejects.toThrow(/users\.0\.role/);
		expect(readFileSync(path, 'utf8')).toBe(text);
	});
});
