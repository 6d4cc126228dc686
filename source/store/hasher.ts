import {createHash} from 'node:crypto';
import {fstatSync, readSync} from 'node:fs';
import {OwnThread} from './own-thread.js';
import {MAC_BLOCK, sameBlocks} from './validated.js';

/**
 * {@link sameBlocks} on two threads: the file is read in 1 MB pieces that this thread and a
 * hashing thread of its own take from a counter they share. At 100,000 users the comparison of a
 * 62 MB file with the digests held (a file touched outside orgctl, or the blocks another
 * process's patched commit left: atomic-file.ts) is about 15 ms of reading and 55 ms of SHA-256
 * on one thread; the hash cannot be skipped (a file changed by anyone else is trusted only once
 * every byte is compared), so it is shared out. A thread the machine gives no time only leaves
 * more pieces to this one: a fixed half would make this one wait for it.
 *
 * The answer is the one {@link sameBlocks} gives, from the same bytes: the thread reads the very
 * file the caller holds open, never the path looked up again (Linux: it opens /proc/self/fd/N,
 * the caller's descriptor, and checks the device, inode and size are the caller's, so it owns the
 * descriptor it reads and closes it itself). It writes only the SHA-256 of each block it read
 * whole, and then the piece's flag, into memory shared for this one job; every digest is compared
 * with the one held here, on this thread. This thread never waits for the other: a piece the
 * thread has not flagged by the time this one has done the rest (under way, not read whole, its
 * thread given no time by a busy machine) is hashed here. A thread that is not there yet (it starts
 * with the first commit that copies ahead) or failed only means this thread hashes every block.
 */
/** A job's shared memory, Int32 slots: the next piece to take, then one flag per piece; then the digests of the blocks. */
const NEXT = 0;
const FLAGS = 1;
/** A piece's flag once the thread has read it whole and written its blocks' digests. */
const HASHED = 1;
/** The pieces the file is read in, on either thread: 16 blocks, 1 MB. */
const PIECE = 16 * MAC_BLOCK;

const WORKER = `"use strict";
const {parentPort, workerData} = require('node:worker_threads');
const {createHash} = require('node:crypto');
const fs = require('node:fs');
const ready = new Int32Array(workerData);
const BLOCK = ${MAC_BLOCK};
const PIECE = ${PIECE};
const buffer = Buffer.allocUnsafe(PIECE);
Atomics.store(ready, 0, 1);
parentPort.on('message', ({fd, dev, ino, size, pieces, at, job}) => {
	const state = new Int32Array(job, 0, ${FLAGS} + pieces);
	const digests = new Uint8Array(job, at);
	// Nothing left to take (the other thread was quicker): the descriptor is not even looked at.
	if (Atomics.load(state, ${NEXT}) >= pieces) return;
	let own = -1;
	try {
		// A descriptor of its own on the very file the caller holds open (not the path looked up again), checked to be it:
		// the caller may close its own as soon as it has its answer, and this thread never uses a number it does not own.
		own = fs.openSync('/proc/self/fd/' + fd, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
		const stat = fs.fstatSync(own, {bigint: true});
		if (!stat.isFile() || String(stat.dev) !== dev || String(stat.ino) !== ino || stat.size !== BigInt(size)) return;
		// Pieces are taken one at a time from the counter both threads share, until none is left (the other thread takes all
		// that are left when it found a block that differs).
		for (;;) {
			const piece = Atomics.add(state, ${NEXT}, 1);
			if (piece >= pieces) break;
			const offset = piece * PIECE;
			const want = Math.min(PIECE, size - offset);
			if (fs.readSync(own, buffer, 0, want, offset) !== want) break;
			for (let b = 0; b < want; b += BLOCK) createHash('sha256').update(buffer.subarray(b, Math.min(want, b + BLOCK))).digest().copy(digests, (offset + b) / BLOCK * 32);
			Atomics.store(state, ${FLAGS} + piece, ${HASHED});
		}
	} catch {
		// A piece not read whole is left unflagged: the other thread hashes it.
	} finally {
		if (own >= 0) fs.closeSync(own);
	}
});
`;

/** From this size the blocks are shared out; below, one thread hashes them in less than a thread's message costs to matter. */
export const SHARED_HASH_BYTES = 4 * 1024 * 1024;

const hasher = new OwnThread(WORKER, 1);

/** Tests: how many pieces the hashing thread has hashed for comparisons, in all. */
export let piecesShared = 0;

/**
 * Starts the hashing thread if it is not there: called with the first commit that copies ahead
 * (atomic-file.ts), so that it is running by the time a comparison needs it. It never keeps the
 * process alive, and if it fails every comparison is made here alone.
 */
export function startHasher(): void {
	hasher.start();
}

/** Tests: whether a comparison now would share its blocks out (the thread runs). */
export function hasherReady(): boolean {
	const running = hasher.current;
	return running !== undefined && Atomics.load(running.state, 0) === 1;
}

/**
 * {@link sameBlocks} of the open file `fd` of `size` bytes against `blocks`, shared with the
 * hashing thread when it runs and the file is at least {@link SHARED_HASH_BYTES}; otherwise all
 * here. The file is read in 1 MB pieces that either thread takes from a counter they share, so a
 * thread the machine gives no time to only leaves more pieces to this one (a fixed half would
 * make this one wait for it).
 */
export function sameBlocksOf(fd: number, size: number, blocks: readonly Buffer[]): boolean {
	const count = Math.ceil(size / MAC_BLOCK);
	if (blocks.length !== count) return false;
	if (size < SHARED_HASH_BYTES || process.platform !== 'linux' || !hasherReady()) return sameBlocks(size, blocks, (offset, buffer) => readSync(fd, buffer, 0, buffer.length, offset));
	const {worker} = hasher.current!;
	const stat = fstatSync(fd, {bigint: true});
	const pieces = Math.ceil(size / PIECE);
	const at = Math.ceil(((FLAGS + pieces) * Int32Array.BYTES_PER_ELEMENT) / 8) * 8;
	const job = new SharedArrayBuffer(at + 32 * count);
	const state = new Int32Array(job, 0, FLAGS + pieces);
	worker.postMessage({fd, dev: String(stat.dev), ino: String(stat.ino), size, pieces, at, job});
	// One buffer for every piece read here (sameBlocks would take a fresh 1 MB one for each: 62 MB of garbage a compare).
	const buffer = Buffer.allocUnsafe(PIECE);
	/** The pieces hashed and compared here. */
	const mine = new Uint8Array(pieces);
	let same = true;
	try {
		while (same) {
			const piece = Atomics.add(state, NEXT, 1);
			if (piece >= pieces) break;
			mine[piece] = 1;
			same = samePiece(fd, piece, size, blocks, buffer);
		}
	} finally {
		// Nothing is left for the thread to take (a block here differed, or a read threw: the rest is not read at all).
		Atomics.exchange(state, NEXT, pieces);
	}
	if (!same) return false;
	// The pieces the thread took: its digests, once it has flagged the piece, else (still under way, its thread given no
	// time, or not read whole there) hashed here. This thread never waits for the other.
	const digests = Buffer.from(job, at);
	for (let piece = 0; piece < pieces; piece++) {
		if (mine[piece] === 1) continue;
		if (Atomics.load(state, FLAGS + piece) !== HASHED) {
			if (!samePiece(fd, piece, size, blocks, buffer)) return false;
			continue;
		}
		piecesShared++;
		const first = (piece * PIECE) / MAC_BLOCK;
		for (const [i, digest] of blocksOf(piece, size, blocks).entries()) if (!digests.subarray((first + i) * 32, (first + i) * 32 + 32).equals(digest)) return false;
	}
	return true;
}

/** Whether piece `piece` of the open file `fd` of `size` bytes, read into `buffer`, holds blocks whose SHA-256 are those held. */
function samePiece(fd: number, piece: number, size: number, blocks: readonly Buffer[], buffer: Buffer): boolean {
	const offset = piece * PIECE;
	const want = lengthOf(piece, size);
	if (readSync(fd, buffer, 0, want, offset) !== want) return false;
	for (let at = 0; at < want; at += MAC_BLOCK) {
		const digest = createHash('sha256').update(buffer.subarray(at, Math.min(want, at + MAC_BLOCK))).digest();
		if (!digest.equals(blocks[(offset + at) / MAC_BLOCK]!)) return false;
	}
	return true;
}

/** The bytes of piece `piece` of a file of `size` bytes. */
function lengthOf(piece: number, size: number): number {
	return Math.min(PIECE, size - piece * PIECE);
}

/** The digests held for the blocks of piece `piece`. */
function blocksOf(piece: number, size: number, blocks: readonly Buffer[]): readonly Buffer[] {
	const first = (piece * PIECE) / MAC_BLOCK;
	return blocks.slice(first, first + Math.ceil(lengthOf(piece, size) / MAC_BLOCK));
}
