import {createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes} from 'node:crypto';
import {closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {OrgError} from '../core/errors.js';
import type {Database} from '../core/model.js';
import {writeFileAtomically, type WriteSteps} from './file-io.js';
import {keyPathOf} from './layout.js';
import {withLockSync} from './lock.js';
import {ownedFileProblem, placeProblem} from './safe-place.js';

export type KeyFileOptions = {
	/**
	 * Whether a missing or empty key file may be replaced by a new key: only while the store holds
	 * nothing sealed with the old one (a new key would make that undecryptable, and get in the way
	 * of restoring the old key from a backup). A function is asked only when the key file is missing or
	 * empty: a console's open does not read every invitation to learn what it does not need.
	 */
	readonly mayCreate?: boolean | (() => boolean);
	/** The disk steps of writing a new key; tests fail or kill them on purpose. */
	readonly steps?: WriteSteps;
	/** How to get the key back when it is missing and secrets are sealed with it. */
	readonly recover?: string;
};

/** What is at the key path. */
type Found = {readonly key: Buffer} | 'missing' | 'empty';

const KEY_BYTES = 32;

/**
 * The key that encrypts what must be shown or used again (invitation links, the SMTP password),
 * kept in a 0600 file beside the store so that a copy of the JSON alone leaks nothing usable.
 *
 * A new key is written to a temp file, fsynced and hard-linked into place, so the key file is
 * never seen empty or half-written, and two processes creating it at once agree on one key (the
 * second link fails; that process reads the first one's). An empty key file (left by an orgctl
 * that wrote it in place and was killed, or by a full disk) is replaced under the store's lock
 * when nothing is sealed with it; a symbolic link at the key path is followed, and a dangling
 * one refused.
 */
export class KeyFile {
	private constructor(
		readonly path: string,
		private readonly key: Buffer,
	) {}

	/** The key file beside a store: `store/orgctl.json` → `store/orgctl.key`. */
	static pathFor(storePath: string): string {
		return keyPathOf(storePath);
	}

	/** Reads the key file beside the store at `storePath`, creating or repairing it when `mayCreate` allows. */
	static load(storePath: string, options: KeyFileOptions = {}): KeyFile {
		return KeyFile.loadAt(keyPathOf(storePath), storePath, options);
	}

	/**
	 * Reads a key file kept at a path of its own (a PostgreSQL store's: --key-file), with its lock
	 * and temp files beside it. Its folder must be as safe as a store's (safe-place.ts).
	 */
	static loadFile(keyPath: string, options: KeyFileOptions = {}): KeyFile {
		const absolute = resolve(keyPath);
		try {
			mkdirSync(dirname(absolute), {recursive: true, mode: 0o700});
		} catch (error) {
			throw new OrgError('store', `The key file ${absolute} cannot be kept there: its folder cannot be created (${(error as Error).message}); choose another path with --key-file.`);
		}
		const place = placeProblem(absolute);
		if (place.problem) throw new OrgError('store', `Cannot use the key file ${absolute}: ${place.problem.reason}; ${place.problem.fix}.`);
		const real = place.real ?? absolute;
		return KeyFile.loadAt(real, real, options);
	}

	private static loadAt(path: string, base: string, options: KeyFileOptions): KeyFile {
		const found = readKey(path);
		if (typeof found === 'object') return new KeyFile(path, found.key);
		if ((typeof options.mayCreate === 'function' ? options.mayCreate() : options.mayCreate) === false) {
			throw new OrgError(
				'store',
				`The key file ${path} is ${found}, but the store holds secrets sealed with it (invitation links, queued mail or the SMTP password); ${options.recover ?? 'restore the key file from a backup of the store folder (orgctl admin check says what else is wrong)'}.`,
			);
		}
		return new KeyFile(path, found === 'missing' ? create(base, path, options.steps) : repair(base, path, options.steps));
	}

	/**
	 * What is at the key path, creating and repairing nothing (for `orgctl admin check`): the key,
	 * or that it is missing or empty; anything else is thrown as the refusal load() would give.
	 */
	static inspect(storePath: string): KeyFile | 'missing' | 'empty' {
		const path = keyPathOf(storePath);
		const found = readKey(path);
		return typeof found === 'object' ? new KeyFile(path, found.key) : found;
	}

	/** A key of its own for `purpose`, derived from this one (HKDF-SHA256), so no two uses share a key. */
	derive(purpose: string): Buffer {
		return Buffer.from(hkdfSync('sha256', this.key, '', purpose, KEY_BYTES));
	}

	/** The key file at `path` as it is, changing nothing: its id and exact text (admin copy-store copies it), or what is there instead. */
	static inspectFile(path: string): {id: string; text: string} | 'missing' | 'empty' {
		const found = readKey(path);
		if (typeof found !== 'object') return found;
		return {id: new KeyFile(path, found.key).id, text: `${found.key.toString('base64url')}\n`};
	}

	/**
	 * Names this key without giving it away (an HMAC of a fixed text): a PostgreSQL store records
	 * it, so that a host holding another key file is refused before it seals anything.
	 */
	get id(): string {
		return this.mac('orgctl store key id');
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

/** Reads the key at `path`: its bytes, or that there is none or an empty file; refuses anything else. */
function readKey(path: string): Found {
	let fd: number;
	try {
		// Without blocking: a FIFO put in its place held every orgctl process at this open for ever (red team redteam21).
		fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(path, error);
		const target = linkTarget(path);
		if (target !== undefined) {
			throw new OrgError('store', `The key file ${path} is a symbolic link to ${target}, which does not exist; put the key file back at ${target}, or remove the link (rm ${path}) if the store holds no sealed secrets.`);
		}
		return 'missing';
	}
	let text: string;
	try {
		const stat = fstatSync(fd);
		if (!stat.isFile()) throw new OrgError('store', `The key file ${path} is not a regular file; move it aside (mv ${path} ${path}.aside) and start orgctl again.`);
		const problem = ownedFileProblem('key file', path, stat);
		if (problem) throw new OrgError('store', `Cannot use the key file: ${problem.reason}; ${problem.fix}.`);
		text = readFileSync(fd, 'utf8').trim();
	} catch (error) {
		if (error instanceof OrgError) throw error;
		throw unreadable(path, error);
	} finally {
		closeSync(fd);
	}
	if (text === '') return 'empty';
	const key = Buffer.from(text, 'base64url');
	if (key.length !== KEY_BYTES) {
		throw new OrgError('store', `The key file ${path} is damaged (it must hold ${KEY_BYTES} bytes, base64url); restore it from a backup of the store folder (the file was not changed).`);
	}
	return {key};
}

function unreadable(path: string, error: unknown): OrgError {
	return new OrgError('store', `The key file ${path} cannot be read (${(error as Error).message}); check its owner and permissions.`);
}

/** Where a symbolic link at `path` points, if it is one. */
function linkTarget(path: string): string | undefined {
	try {
		return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
	} catch {
		return undefined;
	}
}

function newKeyText(): {key: Buffer; text: string} {
	const key = randomBytes(KEY_BYTES);
	return {key, text: `${key.toString('base64url')}\n`};
}

function cannotWrite(path: string, error: unknown): OrgError {
	if (error instanceof OrgError) return error;
	return new OrgError('store', `The key file ${path} cannot be created (${(error as Error).message}); free some space or fix the store folder's permissions, then try again (nothing was changed).`);
}

/** Creates the key file where there is none; if another process created one meanwhile, uses theirs. */
function create(storePath: string, path: string, steps: WriteSteps | undefined): Buffer {
	const {key, text} = newKeyText();
	let placed: boolean;
	try {
		placed = writeFileAtomically(path, text, {store: storePath, mode: 0o600, replace: false, steps});
	} catch (error) {
		throw cannotWrite(path, error);
	}
	if (placed) return key;
	const theirs = readKey(path);
	if (typeof theirs === 'object') return theirs.key;
	// Another orgctl placed an empty one after all (an older release writes in place): repair it.
	return repair(storePath, path, steps);
}

/**
 * Replaces an empty key file, under the store's lock: two processes that each found it empty
 * must not each put their own key there, or one would seal secrets that the other cannot open.
 * The one that gets the lock second finds the first one's key and uses it.
 */
function repair(storePath: string, path: string, steps: WriteSteps | undefined): Buffer {
	return withLockSync(storePath, () => {
		const now = readKey(path);
		if (typeof now === 'object') return now.key;
		if (now === 'missing') return create(storePath, path, steps);
		const target = linkTarget(path);
		// A rename would put a file where the link is, and leave the empty file it points to in place.
		if (target !== undefined) throw new OrgError('store', `The key file ${path} is a symbolic link to an empty file, ${target}; restore the key there, or remove the link (rm ${path}) to let orgctl make a new key.`);
		const {key, text} = newKeyText();
		try {
			writeFileAtomically(path, text, {store: storePath, mode: 0o600, replace: true, steps});
		} catch (error) {
			throw cannotWrite(path, error);
		}
		return key;
	});
}

/** Values in the data sealed with the key file (invitation links, queued mail, the SMTP password, our SAML key). */
export function sealedSecretsIn(db: Database): string[] {
	return [
		...db.invitations.map(i => i.secretSealed),
		...db.outbox.map(m => m.text),
		...(db.settings.smtp?.passwordSealed ? [db.settings.smtp.passwordSealed] : []),
		...(db.settings.sso.sp ? [db.settings.sso.sp.privateKeySealed] : []),
	];
}
