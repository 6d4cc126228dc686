import {createHash, randomBytes, timingSafeEqual} from 'node:crypto';
import {invalid, notFound} from './errors.js';
import {echo} from './inert.js';

/** A record id: 16 random bytes as 32 hex digits. IDs may be abbreviated to a unique prefix. */
export function newId(): string {
	return randomBytes(16).toString('hex');
}

/** A secret for a link, a session or a token: 32 random bytes, base64url. */
export function newSecret(): string {
	return randomBytes(32).toString('base64url');
}

export function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

/** Compares a presented secret with a stored SHA-256 in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
	const presented = Buffer.from(sha256(secret), 'hex');
	const stored = Buffer.from(storedHash, 'hex');
	return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** The shortest id prefix a command takes. */
export const MIN_ID_PREFIX = 4;

/** Finds the one record whose id starts with `prefix` (as morgue does for invitation tokens). */
export function byIdPrefix<T extends {id: string}>(records: readonly T[], prefix: string, what: string): T {
	const p = prefix.trim().toLowerCase();
	if (!/^[0-9a-f]{1,32}$/.test(p)) throw invalid(`"${echo(prefix)}" is not ${what} id: ids are hex digits.`);
	// One or two digits name a sixteenth or 256th of all ids: a slip of the finger, not a choice (red team #15).
	if (p.length < MIN_ID_PREFIX) throw invalid(`"${p}" is too short to name ${what}: type at least ${MIN_ID_PREFIX} characters of its id.`);
	const matches = records.filter(r => r.id.startsWith(p));
	if (matches.length === 1) return matches[0]!;
	if (matches.length === 0) throw notFound(`No ${what} has an id starting with "${p}".`);
	throw invalid(`"${p}" matches ${matches.length} ${what} ids; type more of the id.`);
}
