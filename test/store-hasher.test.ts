import {randomBytes} from 'node:crypto';
import {closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import * as hasher from '../source/store/hasher.js';
import {hasherReady, sameBlocksOf, SHARED_HASH_BYTES, startHasher} from '../source/store/hasher.js';
import {MAC_BLOCK, sameBlocks, startDigest} from '../source/store/validated.js';

const VALIDATOR = {id: 'test', schemaVersion: 1, key: Buffer.alloc(32, 7)};

function blocksOf(bytes: Buffer): Buffer[] {
	const digest = startDigest(VALIDATOR).update(bytes);
	digest.digest();
	return digest.blocks;
}

let dir: string;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'orgctl-hasher-'));
	startHasher();
	// The thread starts on its own; until it runs every comparison is made on this thread alone.
	while (!hasherReady()) await new Promise(resolve => setTimeout(resolve, 10));
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

/** Both answers for the file holding `bytes` against `held`: the one thread's (sameBlocks) and the two threads' (sameBlocksOf). */
function answers(bytes: Buffer, held: readonly Buffer[]): {one: boolean; two: boolean; shared: boolean} {
	const path = join(dir, randomBytes(4).toString('hex'));
	writeFileSync(path, bytes);
	const fd = openSync(path, 'r');
	try {
		// The comparison below shares its blocks out (a file this large, the thread idle), or this test proves nothing.
		const shared = bytes.length >= SHARED_HASH_BYTES && hasherReady();
		const two = sameBlocksOf(fd, bytes.length, held);
		const one = sameBlocks(bytes.length, held, (offset, buffer) => readSync(fd, buffer, 0, buffer.length, offset));
		return {one, two, shared};
	} finally {
		closeSync(fd);
		rmSync(path);
	}
}

describe('sameBlocksOf: the comparison of a file with the digests held, shared with a hashing thread (store/hasher.ts)', () => {
	const size = SHARED_HASH_BYTES + 13 * MAC_BLOCK + 1234;
	const original = randomBytes(size);
	const held = blocksOf(original);
	const count = held.length;
	const split = Math.ceil(count / 2);

	it('the file as held: the same on two threads as on one', () => {
		expect(answers(original, held)).toEqual({one: true, two: true, shared: true});
	});

	// One byte changed in each place a split could hide it: the first block, the last of this thread's half, the first and
	// a middle one of the thread's, the last whole block and the short one at the end.
	const places = [0, split * MAC_BLOCK - 1, split * MAC_BLOCK, Math.floor((split + count) / 2) * MAC_BLOCK + 77, (count - 1) * MAC_BLOCK - 1, size - 1];
	for (const at of places) {
		it(`one byte changed at ${at} (block ${Math.floor(at / MAC_BLOCK)} of ${count}) is found on two threads as on one`, () => {
			const edited = Buffer.from(original);
			edited[at] = edited[at]! ^ 0x20;
			expect(answers(edited, held)).toEqual({one: false, two: false, shared: true});
		});
	}

	it('random edits: two threads answer as one, every time', () => {
		for (let round = 0; round < 12; round++) {
			const edited = Buffer.from(original);
			const edits = round % 3;
			for (let e = 0; e < edits; e++) {
				const at = Math.floor(Math.random() * size);
				edited[at] = edited[at]! ^ (1 + Math.floor(Math.random() * 255));
			}
			const {one, two, shared} = answers(edited, held);
			expect(shared).toBe(true);
			expect(two).toBe(one);
			expect(two).toBe(edited.equals(original));
		}
	});

	it('a file of another length, or digests of another count, is never the one held', () => {
		expect(answers(original.subarray(0, size - 1), held)).toEqual({one: false, two: false, shared: true});
		expect(answers(Buffer.concat([original, Buffer.from('x')]), held)).toEqual({one: false, two: false, shared: true});
		expect(answers(original, held.slice(0, -1))).toEqual({one: false, two: false, shared: true});
	});

	it('blocks swapped between the halves (each digest right, in the wrong place) do not match', () => {
		const swapped = Buffer.from(original);
		original.copy(swapped, 0, split * MAC_BLOCK, split * MAC_BLOCK + MAC_BLOCK);
		original.copy(swapped, split * MAC_BLOCK, 0, MAC_BLOCK);
		expect(answers(swapped, held)).toEqual({one: false, two: false, shared: true});
	});

	it('the thread took its share of the pieces compared above (the digests it wrote were compared, not only this thread\'s)', () => {
		expect(hasherReady()).toBe(true);
		expect(hasher.piecesShared).toBeGreaterThan(0);
	});
});
