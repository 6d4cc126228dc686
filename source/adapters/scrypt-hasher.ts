import {randomBytes, scrypt as scryptCallback, timingSafeEqual} from 'node:crypto';
import type {PasswordHasher} from '../core/context.js';

/** scrypt's cost parameters. */
export type ScryptParameters = {readonly N: number; readonly r: number; readonly p: number};

/** scrypt parameters from DESIGN §4: about 300 ms here. */
export const SCRYPT = {N: 2 ** 17, r: 8, p: 1, saltBytes: 16, keyBytes: 32} as const;

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number, keyBytes: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		scryptCallback(password.normalize('NFC'), salt, keyBytes, {N, r, p, maxmem: 256 * N * r + 1024 * 1024}, (error, key) => {
			if (error) reject(error);
			else resolve(key);
		});
	});
}

function format(cost: ScryptParameters, salt: Buffer, key: Buffer): string {
	return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * Passwords as `scrypt$N$r$p$salt$hash`, so the cost can rise later without breaking stored hashes:
 * a hash is checked with the parameters it was made with. The production cost is DESIGN §4's;
 * tests that do not measure hashing pass a lower N (the same code, a cheaper cost).
 */
export function scryptHasher(cost: ScryptParameters = SCRYPT): PasswordHasher {
	return {
		async hash(password) {
			const salt = randomBytes(SCRYPT.saltBytes);
			return format(cost, salt, await scrypt(password, salt, cost.N, cost.r, cost.p, SCRYPT.keyBytes));
		},
		async verify(password, stored) {
			const [scheme, n, r, p, salt, hash] = stored.split('$');
			if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
			const expected = Buffer.from(hash, 'base64url');
			const key = await scrypt(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p), expected.length);
			return timingSafeEqual(key, expected);
		},
		decoy: format(cost, randomBytes(SCRYPT.saltBytes), randomBytes(SCRYPT.keyBytes)),
	};
}
