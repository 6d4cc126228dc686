import {execFileSync} from 'node:child_process';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {Store} from '../source/store/store.js';
import {seededStore} from './helpers/writers.js';

const NAMES = Array.from({length: 40}, (_, i) => `w${i}`);

/** Puts back the mtime (to the nanosecond) a file had: what `touch -d @S.N` or `cp -p` does after a hand edit. */
function restoreMtime(path: string, mtimeNs: bigint): void {
	const s = mtimeNs / 1_000_000_000n;
	const ns = (mtimeNs % 1_000_000_000n).toString().padStart(9, '0');
	execFileSync('touch', ['-m', '-d', `@${s}.${ns}`, path]);
}

/** Replaces, in place and keeping the size, the padding spaces after user `name`'s record with `char` (non-JSON whitespace). */
function padWith(path: string, name: string, char: string): void {
	const bytes = readFileSync(path);
	const at = bytes.indexOf(`"username":"${name}"`);
	const end = bytes.indexOf('}', bytes.indexOf('"revision":', at));
	const width = Buffer.byteLength(char);
	const spaces = bytes.indexOf(' '.repeat(width), end);
	expect(spaces).toBe(end + 1);
	Buffer.from(char).copy(bytes, spaces);
	writeFileSync(path, bytes, {flag: 'r+'});
}

describe('a store file that is not JSON is refused, never carried on (store/record-lines.ts fromLines)', () => {
	for (const [name, char] of [['no-break space', '\u00a0'], ['byte-order mark', '\ufeff'], ['ideographic space', '\u3000'], ['line separator', '\u2028']] as const) {
		it(`a ${name} after a record, where only JSON whitespace may be, makes the file refused at open`, async () => {
			const store = await seededStore(NAMES);
			await store.transact(db => void touch(db.users[0]!));
			padWith(store.path, 'w5', char);
			expect(() => JSON.parse(readFileSync(store.path, 'utf8'))).toThrow();
			await expect(Store.open(store.path)).rejects.toThrow(/not valid JSON|does not validate/);
		});
	}

	it('a commit after a same-size hand edit never leaves a file JSON readers reject (the patched copy keeps the bytes it did not write)', async () => {
		const store = await seededStore(NAMES);
		await store.transact(db => void touch(db.users[0]!));
		const mtime = statSync(store.path, {bigint: true}).mtimeNs;
		padWith(store.path, 'w5', '\u00a0');
		restoreMtime(store.path, mtime);
		let opened: Store | undefined;
		try {
			opened = await Store.open(store.path);
		} catch {
			return; // Refused: what the promise asks.
		}
		await opened.transact(db => void touch(db.users[9]!));
		// Whatever orgctl does, the file it acknowledges must be JSON for jq and JSON.parse.
		expect(() => JSON.parse(readFileSync(store.path, 'utf8'))).not.toThrow();
	});
});
