import {createHmac, randomBytes, timingSafeEqual} from 'node:crypto';
import {closeSync, openSync, readFileSync, renameSync, rmSync, writeSync} from 'node:fs';
import {tempPathOf, validatedPathOf} from './layout.js';

/**
 * What lets a fresh process trust a store file that an orgctl of the same build has already
 * checked, instead of validating every record again (at 10,000 users that was half of opening).
 *
 * Beside the store, `orgctl.json.validated` holds one MAC: HMAC-SHA256, under a key derived from the
 * store's key file, over this build's validation rules (`id`: a hash of the code that validates,
 * see scripts/bundle-options.mjs), the schema version and the exact bytes of the store file. It is
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

const DOMAIN = 'orgctl validated store v1';

/** A MAC to feed the file's bytes into, in order. */
export function startDigest(validator: Validator): ReturnType<typeof createHmac> {
	return createHmac('sha256', validator.key).update(`${DOMAIN}\u0000${validator.id}\u0000${validator.schemaVersion}\u0000`);
}

/** Whether the digest beside the store vouches for `digest` (the MAC of the bytes just read). */
export function vouchedFor(storePath: string, digest: Buffer): boolean {
	let text: string;
	try {
		text = readFileSync(validatedPathOf(storePath), 'latin1');
	} catch {
		return false;
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
