import {createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto';
import {closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, writeSync} from 'node:fs';
import {tempPathOf, validatedPathOf} from './layout.js';

/**
 * What lets a fresh process trust a store file that an orgctl of the same build has already
 * checked, instead of validating every record again (at 10,000 users that was half of opening).
 *
 * Beside the store, `orgctl.json.validated` holds one MAC: HMAC-SHA256, under a key derived from the
 * store's key file, over this build's validation rules (`id`: a hash of the code that validates,
 * see scripts/bundle-options.mjs), the schema version, the file's length and the SHA-256 of each
 * 64 KB block of the exact bytes of the store file, in order (so a commit that patched a few blocks
 * hashes only those again, see {@link BlockMac.patched}; SHA-256 is collision resistant, so the
 * MAC binds every byte as an HMAC over the bytes themselves would). It is
 * written only by a process that has just validated those very bytes: the writer of a commit
 * (every record it writes was checked, as read or as changed) or a reader after a full check.
 *
 * Why it cannot be fooled into skipping the check of a changed file:
 * - the MAC covers every byte the reader parses, hashed as it reads them from the one open file
 *   (not a second read that a rename could make differ); one changed byte and it no longer matches;
 * - making a MAC needs the key file, which only the store's owner can read (safe-place.ts), and
 *   whoever can read it can already write the store as orgctl does; a MAC under another key, an
 *   older build's rules or another schema version does not match;
 * - anything else (no digest, a stale one after a crash or a race between two writers, a torn or
 *   forged one) only costs the full check: the digest is never needed, so it is never fsynced.
 * The digest vouches that the bytes passed validation, not that they are the newest: a whole old
 * file put back with its old digest is as valid as it was, as it would be without the digest.
 */
export type Validator = {
	/** The validation rules of this build (a hash of the code that validates). */
	readonly id: string;
	readonly schemaVersion: number;
	/** A key of its own, derived from the store's key file (KeyFile.derive). */
	readonly key: Buffer;
};

const DOMAIN = 'orgctl validated store v2';

/** The block the MAC hashes the file in (validated.ts): a commit that patches a file hashes again only the blocks it touched. */
export const MAC_BLOCK = 64 * 1024;

/**
 * The MAC of a file's bytes, fed in order (update), block by block: {@link blocks} are the SHA-256
 * of each {@link MAC_BLOCK} bytes, the last one short.
 */
export class BlockMac {
	/** The digest of each whole block so far. */
	readonly blocks: Buffer[] = [];
	private readonly carry = Buffer.allocUnsafe(MAC_BLOCK);
	private carried = 0;
	private size = 0;
	private done = false;

	constructor(private readonly validator: Validator) {}

	update(bytes: Buffer): this {
		this.size += bytes.length;
		let at = 0;
		if (this.carried > 0) {
			at = Math.min(bytes.length, MAC_BLOCK - this.carried);
			bytes.copy(this.carry, this.carried, 0, at);
			this.carried += at;
			if (this.carried < MAC_BLOCK) return this;
			this.blocks.push(sha256(this.carry));
			this.carried = 0;
		}
		for (; at + MAC_BLOCK <= bytes.length; at += MAC_BLOCK) this.blocks.push(sha256(bytes.subarray(at, at + MAC_BLOCK)));
		if (at < bytes.length) {
			bytes.copy(this.carry, 0, at);
			this.carried = bytes.length - at;
		}
		return this;
	}

	/** The MAC of everything fed in; afterwards {@link blocks} holds the last, short block too. */
	digest(): Buffer;
	digest(encoding: 'hex'): string;
	digest(encoding?: 'hex'): Buffer | string {
		if (!this.done) {
			if (this.carried > 0) this.blocks.push(sha256(this.carry.subarray(0, this.carried)));
			this.carried = 0;
			this.done = true;
		}
		const mac = macOfBlocks(this.validator, this.size, this.blocks);
		return encoding ? mac.toString('hex') : mac;
	}
}

function sha256(bytes: Buffer): Buffer {
	return createHash('sha256').update(bytes).digest();
}

/** The MAC of a file of `size` bytes whose blocks have these digests. */
export function macOfBlocks(validator: Validator, size: number, blocks: readonly Buffer[]): Buffer {
	const mac = createHmac('sha256', validator.key).update(`${DOMAIN}\u0000${validator.id}\u0000${validator.schemaVersion}\u0000${size}\u0000`);
	for (const block of blocks) mac.update(block);
	return mac.digest();
}

/**
 * The block digests of a file made from one whose blocks were `blocks` by changing some bytes:
 * every block that overlaps `ranges` (offset, length pairs) or lies at or after `from`, up to the
 * new `size`, is read again through `read` (the new file, open) and hashed; the others are kept.
 */
export function patchedBlocks(blocks: readonly Buffer[], size: number, ranges: readonly number[], from: number, read: (offset: number, length: number) => Buffer): Buffer[] {
	const count = Math.ceil(size / MAC_BLOCK);
	const again = new Set<number>();
	for (let i = 0; i < ranges.length; i += 2) {
		const [offset, length] = [ranges[i]!, ranges[i + 1]!];
		if (length > 0) for (let b = Math.floor(offset / MAC_BLOCK); b <= Math.floor((offset + length - 1) / MAC_BLOCK); b++) again.add(b);
	}
	const next: Buffer[] = [];
	for (let b = 0; b < count; b++) {
		const kept = blocks[b];
		if (kept && !again.has(b) && b * MAC_BLOCK + MAC_BLOCK <= from) next.push(kept);
		else next.push(sha256(read(b * MAC_BLOCK, Math.min(MAC_BLOCK, size - b * MAC_BLOCK))));
	}
	return next;
}

/**
 * Whether the open file of `size` bytes holds, block by block, bytes whose SHA-256 are `blocks`
 * (those of a file this process read or wrote): read in 1 MB pieces, stopping at the first block
 * that differs. SHA-256 is collision resistant (no two different blocks of bytes with one digest
 * are known, and finding one is far beyond anyone's reach), so when the size and every block's
 * digest agree the file holds exactly the bytes those digests were taken of: the same state, which
 * needs no parsing or checking again. A single byte changed anywhere changes its block's digest.
 */
export function sameBlocks(size: number, blocks: readonly Buffer[], read: (offset: number, buffer: Buffer) => number): boolean {
	if (blocks.length !== Math.ceil(size / MAC_BLOCK)) return false;
	const buffer = Buffer.allocUnsafe(16 * MAC_BLOCK);
	for (let offset = 0; offset < size; offset += buffer.length) {
		const want = Math.min(buffer.length, size - offset);
		if (read(offset, buffer.subarray(0, want)) !== want) return false;
		for (let at = 0; at < want; at += MAC_BLOCK) {
			const digest = sha256(buffer.subarray(at, Math.min(want, at + MAC_BLOCK)));
			if (!digest.equals(blocks[(offset + at) / MAC_BLOCK]!)) return false;
		}
	}
	return true;
}

/** A MAC to feed the file's bytes into, in order. */
export function startDigest(validator: Validator): BlockMac {
	return new BlockMac(validator);
}

/** The most a digest file holds: a MAC in hex and a line break, with room for a few stray spaces. */
const DIGEST_FILE_BYTES = 256;

/** Whether the digest beside the store vouches for `digest` (the MAC of the bytes just read). */
export function vouchedFor(storePath: string, digest: Buffer): boolean {
	let text: string;
	let fd: number | undefined;
	try {
		// Opened without blocking and read only if it is a regular file of a digest's size: a FIFO put there held every
		// orgctl process at its open for ever, and a link to /dev/zero would be read until memory ran out (red team).
		fd = openSync(validatedPathOf(storePath), constants.O_RDONLY | constants.O_NONBLOCK);
		const stat = fstatSync(fd);
		if (!stat.isFile() || stat.size > DIGEST_FILE_BYTES) return false;
		const buffer = Buffer.allocUnsafe(DIGEST_FILE_BYTES);
		text = buffer.toString('latin1', 0, readSync(fd, buffer, 0, DIGEST_FILE_BYTES, 0));
	} catch {
		return false;
	} finally {
		if (fd !== undefined) closeSync(fd);
	}
	const kept = Buffer.from(text.trim(), 'hex');
	return kept.length === digest.length && timingSafeEqual(kept, digest);
}

/**
 * Puts `digest` beside the store (temp file, then rename: a reader sees a whole digest or the old
 * one). Not fsynced and never fatal: a lost or stale digest only means the next open checks everything.
 */
export function recordDigest(storePath: string, digest: Buffer): void {
	const temp = tempPathOf(storePath, randomBytes(6).toString('hex'));
	try {
		const fd = openSync(temp, 'wx', 0o600);
		try {
			writeSync(fd, `${digest.toString('hex')}\n`);
		} finally {
			closeSync(fd);
		}
		renameSync(temp, validatedPathOf(storePath));
	} catch {
		rmSync(temp, {force: true});
	}
}
