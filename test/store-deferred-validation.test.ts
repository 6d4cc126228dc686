import {readFileSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {Store} from '../source/store/store.js';
import {initializedContext} from './helpers/store.js';

describe('deferred validation (the console checks the store right after its first frame)', () => {
	it('a store that does not validate opens with deferValidation, then validate() refuses it with the reason, and the file is untouched', async () => {
		const {ctx} = await initializedContext();
		const broken = JSON.parse(readFileSync(ctx.store.path, 'utf8'));
		broken.users[0].role = 'emperor';
		const text = JSON.stringify(broken);
		writeFileSync(ctx.store.path, text);
		await expect(Store.open(ctx.store.path)).rejects.toThrow(/does not validate at users\.0\.role/);
		const store = await Store.open(ctx.store.path, {deferValidation: true});
		expect(() => store.validate()).toThrow(/does not validate at users\.0\.role/);
		// Writes always validate, so the unchecked data is never written back.
		await expect(store.transact(() => undefined)).rejects.toThrow(/not saved/);
		expect(readFileSync(ctx.store.path, 'utf8')).toBe(text);
	});
});
