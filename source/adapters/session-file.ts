import {randomBytes} from 'node:crypto';
import {closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, rmSync, unlinkSync, writeSync, type Stats} from 'node:fs';
import {homedir} from 'node:os';
import {basename, dirname, join, resolve} from 'node:path';
import {refused} from '../core/errors.js';
import {sha256} from '../core/ids.js';

/** What `orgctl login` leaves for later commands and for the console: never the password. */
export type SessionFile = {readonly store: string; readonly id: string; readonly secret: string; readonly expires: string};

/**
 * One session file per operating-system user and store, 0600 in a 0700 folder:
 * $ORGCTL_SESSION_FILE, or $XDG_STATE_HOME/orgctl/sessions/<hash of the store path>.json.
 */
export function sessionFilePath(storePath: string): string {
	const explicit = process.env['ORGCTL_SESSION_FILE'];
	if (explicit) return resolve(explicit);
	return join(defaultFolder(), `${sha256(storePath).slice(0, 16)}.json`);
}

function defaultFolder(): string {
	const state = process.env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
	return resolve(state, 'orgctl', 'sessions');
}

/**
 * A session file holds a secret that acts as its user, so it gets the store's care (store/safe-place.ts):
 * - its folder is owned by the running user and writable by nobody else (nor any folder above it,
 *   unless sticky), so nobody can plant a file or a link there: our own sessions folder is put back
 *   to 0700 when it is wider, a folder named by ORGCTL_SESSION_FILE is refused;
 * - the file is read without following a link and only when it is a regular file owned by the
 *   running user that nobody else may open (a planted session would make us act as its planter);
 * - it is written to a new, randomly named temp file (O_CREAT|O_EXCL|O_NOFOLLOW, 0600, fsynced) that
 *   is renamed over it, so no write or chmod ever goes through a path someone else prepared.
 */
function me(): number {
	return process.geteuid?.() ?? 0;
}

function unsafe(path: string, why: string, fix: string): Error {
	return refused(`The session file ${path} is not safe to use: ${why}; ${fix}.`);
}

function mode(stat: Stats): string {
	return (stat.mode & 0o7777).toString(8).padStart(4, '0');
}

/** Checks (and, for our own sessions folder, fixes) the folder of `path`; returns the file's real path. */
function safeFolder(path: string, create: boolean): string | undefined {
	const dir = dirname(path);
	const own = dir === defaultFolder();
	if (create) mkdirSync(dir, {recursive: true, mode: 0o700});
	let real: string;
	try {
		real = realpathSync(dir);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	for (let above = dirname(real); ; above = dirname(above)) {
		const stat = lstatSync(above);
		if (stat.uid !== me() && stat.uid !== 0) throw unsafe(path, `the folder ${above} above it belongs to uid ${stat.uid}, who could swap the folder for their own`, 'keep sessions under a folder that is yours (unset ORGCTL_SESSION_FILE to use ~/.local/state/orgctl/sessions)');
		if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) throw unsafe(path, `the folder ${above} above it (mode ${mode(stat)}) is writable by others, who could swap the folder for their own`, `run chmod go-w ${above}`);
		if (dirname(above) === above) break;
	}
	const fd = openSync(real, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
	try {
		const stat = fstatSync(fd);
		if (stat.uid !== me()) throw unsafe(path, `its folder ${real} belongs to uid ${stat.uid}, not to you, so that user could plant a session or a link there`, own ? `remove the folder (rm -r ${real}) and sign in again` : 'point ORGCTL_SESSION_FILE into a folder only you can write');
		if ((stat.mode & 0o077) !== 0) {
			// Ours, made by us: put it back to 0700. Someone else's choice of folder is theirs to fix.
			if (own) fchmodSync(fd, 0o700);
			else if ((stat.mode & 0o022) !== 0) throw unsafe(path, `its folder ${real} (mode ${mode(stat)}) is writable by others, who could plant a session or a link there`, 'point ORGCTL_SESSION_FILE into a folder only you can write (mkdir -m 700)');
		}
	} finally {
		closeSync(fd);
	}
	return join(real, basename(path));
}

export function readSessionFile(storePath: string): SessionFile | undefined {
	const path = sessionFilePath(storePath);
	const real = safeFolder(path, false);
	if (!real) return undefined;
	let fd: number;
	try {
		fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOENT') return undefined;
		if (code === 'ELOOP') throw unsafe(path, 'it is a symbolic link, which orgctl never follows for a session', `remove it (rm ${path}) and sign in again`);
		throw error;
	}
	try {
		const stat = fstatSync(fd);
		if (!stat.isFile()) throw unsafe(path, 'it is not a regular file', `remove it (rm ${path}) and sign in again`);
		if (stat.uid !== me()) throw unsafe(path, `it belongs to uid ${stat.uid}, not to you, so that user could have planted it to make you act as them`, `remove it (rm ${path}) and sign in again`);
		if ((stat.mode & 0o077) !== 0) throw unsafe(path, `it has mode ${mode(stat)}, so others may read or change the session`, `remove it (rm ${path}) and sign in again`);
		const data = JSON.parse(readFileSync(fd, 'utf8')) as Partial<SessionFile>;
		if (typeof data.id === 'string' && typeof data.secret === 'string' && typeof data.expires === 'string' && data.store === storePath) {
			return data as SessionFile;
		}
	} catch (error) {
		if (error instanceof SyntaxError) return undefined; // Unreadable: the user signs in again.
		throw error;
	} finally {
		closeSync(fd);
	}
	return undefined;
}

export function writeSessionFile(session: SessionFile): void {
	const path = sessionFilePath(session.store);
	const real = safeFolder(path, true)!;
	const temp = `${real}.${randomBytes(8).toString('hex')}.tmp`;
	const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
	try {
		fchmodSync(fd, 0o600);
		writeSync(fd, JSON.stringify(session));
		fsyncSync(fd);
		closeSync(fd);
		renameSync(temp, real);
	} catch (error) {
		try {
			closeSync(fd);
		} catch {
			// Already closed.
		}
		rmSync(temp, {force: true});
		throw error;
	}
}

export function removeSessionFile(storePath: string): void {
	try {
		unlinkSync(sessionFilePath(storePath));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
	}
}
