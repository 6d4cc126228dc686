import {randomBytes, scrypt as scryptCallback, timingSafeEqual} from 'node:crypto';

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

/** `scrypt$N$r$p$salt$hash`, so the cost can rise later without breaking stored hashes. */
export async function hashPassword(password: string): Promise<string> {
	const salt = randomBytes(SCRYPT.saltBytes);
	const key = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyBytes);
	return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
	const [scheme, n, r, p, salt, hash] = stored.split('$');
	if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
	const expected = Buffer.from(hash, 'base64url');
	const key = await scrypt(password, Buffer.from(salt, 'base64url'), Number(n), Number(r), Number(p), expected.length);
	return timingSafeEqual(key, expected);
}

/** A well-formed hash that no password matches, so that a login for an unknown user costs the same time. */
export const DECOY_HASH = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, randomBytes(SCRYPT.saltBytes).toString('base64url'), randomBytes(SCRYPT.keyBytes).toString('base64url')].join('$');
