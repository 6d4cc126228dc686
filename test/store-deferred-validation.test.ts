import {readFileSync, renameSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {Store} from '../source/store/store.js';
import {initializedContext} from './helpers/store.js';
import {seededStore} from './helpers/writers.js';

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
		// A commit validates the records a trusted read took first, so the unchecked data is never written back: refused as a checking open refuses it.
		await expect(store.transact(() => undefined)).rejects.toThrow(/does not validate at users\.0\.role/);
		expect(readFileSync(ctx.store.path, 'utf8')).toBe(text);
	});

	// A trusted read puts each record's line in the map only when it is first needed, at the latest by validate()
	// (record-lines.ts unmapped). A line another tool wrote with spaces inside is kept as read by a commit that writes the
	// file whole; without its line it would be written again as JSON.stringify gives it.
	for (const refresh of [false, true]) {
		it(`a deferred open keeps the lines it read for the commits after validate()${refresh ? ', past a re-read of the whole file' : ''}`, async () => {
			const writer = await seededStore(Array.from({length: 12}, (_, i) => `w${i}`));
			const text = readFileSync(writer.path, 'utf8');
			const at = text.indexOf('"username":"w3"');
			writeFileSync(`${writer.path}.edit`, `${text.slice(0, at)}"username": "w3"${text.slice(at + '"username":"w3"'.length)}`);
			renameSync(`${writer.path}.edit`, writer.path);
			const store = await Store.open(writer.path, {deferValidation: true});
			const w5 = store.read().users.find(u => u.username === 'w5');
			if (refresh) {
				// Another process's commit to a file whose index is not bound to it (edited): the re-read reads every line.
				const other = await Store.open(writer.path);
				await other.transact(db => touch(db.users.find(u => u.username === 'w8')!));
				await store.refresh();
				expect(store.read().users.find(u => u.username === 'w5')).toBe(w5);
			}
			store.validate();
			await store.transact(db => touch(db.users.find(u => u.username === 'w9')!));
			expect(readFileSync(writer.path, 'utf8')).toContain('"username": "w3"');
		});
	}
});
