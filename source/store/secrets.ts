import {createCipheriv, createDecipheriv, createHmac, randomBytes} from 'node:crypto';
import {chmodSync, closeSync, openSync, readFileSync, writeSync, fsyncSync} from 'node:fs';
import {OrgError} from '../core/errors.js';

/**
 * The key that encrypts what must be shown or used again (invitation links, the SMTP password),
 * kept in a 0600 file beside the store so that a copy of the JSON alone leaks nothing usable.
 */
export class KeyFile {
	private constructor(
		readonly path: string,
		private readonly key: Buffer,
	) {}

	/** The key file beside a store: `store/orgctl.json` → `store/orgctl.key`. */
	static pathFor(storePath: string): string {
		return storePath.replace(/\.json$/i, '') + '.key';
	}

	/**
	 * Reads the key file, creating it (0600, 32 random bytes) when it does not exist yet, unless
	 * `mayCreate` is false: a store that already holds sealed secrets needs its own key back, and a
	 * new key would make them undecryptable and get in the way of restoring the old one.
	 */
	static load(storePath: string, options: {mayCreate?: boolean} = {}): KeyFile {
		const path = KeyFile.pathFor(storePath);
		try {
			const text = readFileSync(path, 'utf8').trim();
			const key = Buffer.from(text, 'base64url');
			if (key.length !== 32) throw new OrgError('store', `The key file ${path} is damaged (it must hold 32 bytes); restore it from the backup of the store folder.`);
			return new KeyFile(path, key);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				if (error instanceof OrgError) throw error;
				throw new OrgError('store', `The key file ${path} cannot be read (${(error as Error).message}); check its owner and permissions.`);
			}
		}
		if (options.mayCreate === false) {
			throw new OrgError('store', `The key file ${path} is missing, but the store holds secrets sealed with it (invitation links, queued mail or the SMTP password); restore the key file from a backup of the store folder.`);
		}
		const key = randomBytes(32);
		try {
			// 'wx': if another process created it meanwhile, use theirs.
			const fd = openSync(path, 'wx', 0o600);
			writeSync(fd, key.toString('base64url') + '\n');
			fsyncSync(fd);
			closeSync(fd);
			chmodSync(path, 0o600);
			return new KeyFile(path, key);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'EEXIST') return KeyFile.load(storePath, options);
			throw new OrgError('store', `The key file ${path} cannot be created (${(error as Error).message}); check the store folder's permissions.`);
		}
	}

	mac(text: string): string {
		return createHmac('sha256', this.key).update(text).digest('hex');
	}

	/** AES-256-GCM: `iv.tag.ciphertext`, base64url. */
	seal(plain: string): string {
		const iv = randomBytes(12);
		const cipher = createCipheriv('aes-256-gcm', this.key, iv);
		const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
		return `${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
	}

	unseal(sealed: string): string {
		const [iv, tag, body] = sealed.split('.');
		try {
			const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv ?? '', 'base64url'));
			decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
			return Buffer.concat([decipher.update(Buffer.from(body ?? '', 'base64url')), decipher.final()]).toString('utf8');
		} catch {
			throw new OrgError('store', `A stored secret cannot be decrypted with ${this.path}; the key file does not belong to this store.`);
		}
	}
}

