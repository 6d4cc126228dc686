import {closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, type Stats} from 'node:fs';
import {userInfo} from 'node:os';
import {basename, dirname, isAbsolute, join, resolve} from 'node:path';
import {storeError} from './errors.js';

/**
 * A safe place for a store: nobody but the running user (or root) can change what orgctl reads.
 *
 * - The store's folder is owned by the running user or root and writable by nobody else, sticky
 *   or not: whoever can write it can put their own store, key or lock file there.
 * - Every folder above it is owned by the running user or root, and writable by nobody else unless
 *   it is sticky (like /tmp: there only an entry's owner may rename or remove it).
 * - The store file, the key file and the lock are owned by the running user or root; nobody else
 *   may write the store file, and nobody else may even read the key (it is the secret) or the
 *   lock (a kernel lock can be held by anyone who can open its file, so a reader could block
 *   every change).
 * - A store path that is a symbolic link is followed (each link's folder checked the same way)
 *   and the store lives at the real path: lock, temp files, key and backups sit beside the real
 *   file, and the link is never replaced by a file. A link into a place that fails these checks
 *   is refused.
 *
 * Run as root, "the running user or root" is root alone: root never accepts a file that an
 * unprivileged user could have planted.
 */

/** One reason a place is unsafe: the path, why, and the command that fixes it. */
export type PlaceProblem = {readonly path: string; readonly reason: string; readonly fix: string};

/** Thrown inside this module and turned into a store error (or a report line) by its callers. */
class Unsafe extends Error {
	constructor(readonly problem: PlaceProblem) {
		super(problem.reason);
	}
}

const MAX_LINKS = 32;

function me(): number {
	return process.geteuid?.() ?? 0;
}

function myName(): string {
	try {
		return userInfo().username;
	} catch {
		return String(me());
	}
}

/** A user's name from /etc/passwd, for messages; the uid itself when it has none. */
function nameOf(uid: number): string {
	try {
		for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
			const [name, , id] = line.split(':');
			if (name && Number(id) === uid) return `${name} (uid ${uid})`;
		}
	} catch {
		// No passwd file: the number says enough.
	}
	return `uid ${uid}`;
}

function trusted(uid: number): boolean {
	return uid === me() || uid === 0;
}

function notOurs(path: string, what: string, uid: number, fix = `chown ${myName()} ${path}`): PlaceProblem {
	return {path, reason: `${what} ${path} belongs to ${nameOf(uid)}, not to ${myName()}${me() === 0 ? '' : ' or root'}, so that user could change what orgctl reads`, fix: `run ${fix}`};
}

function who(mode: number, bits: {group: number; other: number}): string {
	const group = (mode & bits.group) !== 0;
	const other = (mode & bits.other) !== 0;
	return group && other ? 'group and others' : group ? 'its group' : 'others';
}

const WRITE = {group: 0o020, other: 0o002};
const ANY = {group: 0o070, other: 0o007};

/** The store's own folder: ours (or root's), writable by nobody else. */
function folderProblem(dir: string, stat: Stats): PlaceProblem | undefined {
	if (!stat.isDirectory()) return {path: dir, reason: `${dir} is not a folder`, fix: 'choose another path with --store'};
	if (!trusted(stat.uid)) return notOurs(dir, 'its folder', stat.uid);
	if ((stat.mode & 0o022) === 0) return undefined;
	const shared = (stat.mode & 0o1000) !== 0;
	return {
		path: dir,
		reason: `its folder ${dir} is writable by ${who(stat.mode, WRITE)}, so another user could put their own store, key or lock file there`,
		fix: shared ? `keep the store in a folder only you can write: mkdir -m 700 ${join(dir, 'orgctl')} and use --store ${join(dir, 'orgctl', 'orgctl.json')}` : `run chmod go-w ${dir}`,
	};
}

/** A folder above the store's: ours (or root's), and writable by others only if sticky. */
function ancestorProblem(dir: string, stat: Stats): PlaceProblem | undefined {
	if (!trusted(stat.uid)) return notOurs(dir, 'the folder', stat.uid);
	if ((stat.mode & 0o022) !== 0 && (stat.mode & 0o1000) === 0) {
		return {path: dir, reason: `the folder ${dir} above it is writable by ${who(stat.mode, WRITE)} (and not sticky), so another user could move the store's folder away and put their own in its place`, fix: `run chmod go-w ${dir}`};
	}
	return undefined;
}

/** Checks a real (symlink-free) folder and every folder above it. */
function checkFolderChain(dir: string): void {
	const own = folderProblem(dir, lstatSync(dir));
	if (own) throw new Unsafe(own);
	for (let above = dirname(dir); ; above = dirname(above)) {
		const problem = ancestorProblem(above, lstatSync(above));
		if (problem) throw new Unsafe(problem);
		if (dirname(above) === above) return;
	}
}

function realFolder(path: string, link?: string): string {
	try {
		return realpathSync(dirname(path));
	} catch (error) {
		const reason = link ? `the symbolic link ${link} points to ${path}, in a folder that cannot be used (${(error as Error).message})` : `its folder cannot be used (${(error as Error).message})`;
		throw new Unsafe({path, reason, fix: link ? `point the link at an existing file or folder (ln -sfn TARGET ${link})` : 'choose another path with --store'});
	}
}

/**
 * Follows `path` through any symbolic links to the real path of the store file (which need not
 * exist yet), checking the folder of the path and of every link on the way. Throws {@link Unsafe}.
 */
function follow(path: string): string {
	let current = resolve(path);
	let link: string | undefined;
	for (let hops = 0; ; hops++) {
		const dir = realFolder(current, link);
		checkFolderChain(dir);
		current = join(dir, basename(current));
		let stat: Stats;
		try {
			stat = lstatSync(current);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return current;
			throw error;
		}
		if (!stat.isSymbolicLink()) return current;
		if (hops >= MAX_LINKS) throw new Unsafe({path: current, reason: `${path} goes through more than ${MAX_LINKS} symbolic links`, fix: `point --store at the file itself`});
		link = current;
		current = resolve(dir, readlinkSync(current));
	}
}

/**
 * The real path of the store file at `path`, once its place is found safe (see the top of this
 * file); otherwise a store error that names the path, the reason and the fix.
 */
export function safeStorePath(path: string): string {
	try {
		return follow(path);
	} catch (error) {
		if (error instanceof Unsafe) throw storeError(resolve(path), error.problem.reason, error.problem.fix);
		throw storeError(resolve(path), `its place cannot be checked (${(error as Error).message})`, 'check the folder’s owner and permissions');
	}
}

/** The problem with the place of `path`, for a report (admin check); undefined when it is safe. */
export function placeProblem(path: string): {real: string | undefined; problem: PlaceProblem | undefined} {
	try {
		return {real: follow(path), problem: undefined};
	} catch (error) {
		if (error instanceof Unsafe) return {real: undefined, problem: error.problem};
		return {real: undefined, problem: {path, reason: `its place cannot be checked (${(error as Error).message})`, fix: 'check the folder’s owner and permissions'}};
	}
}

/** What kind of file is being checked, for the words of the refusal. */
export type OwnedFile = 'store file' | 'key file' | 'lock';

/**
 * Checks a file orgctl opened (by its fstat, so the check is of the very file that is read): owned
 * by the running user or root, and not writable by anybody else; the key and the lock not even
 * readable by anybody else.
 */
export function ownedFileProblem(what: OwnedFile, path: string, stat: {readonly uid: number | bigint; readonly mode: number | bigint}): PlaceProblem | undefined {
	const uid = Number(stat.uid);
	const mode = Number(stat.mode);
	if (!trusted(uid)) return notOurs(path, `the ${what}`, uid, what === 'lock' ? `rm ${path}` : `chown ${myName()} ${path}`);
	const private_ = what !== 'store file';
	const bits = private_ ? ANY : WRITE;
	if ((mode & (bits.group | bits.other)) === 0) return undefined;
	const access = private_ ? 'open' : 'write';
	const risk = what === 'key file' ? 'read the key that unseals stored secrets' : what === 'lock' ? 'hold the lock and block every change' : 'change the data';
	return {path, reason: `the ${what} ${path} has mode ${(mode & 0o7777).toString(8).padStart(4, '0')}: ${who(mode, bits)} may ${access} it and so ${risk}`, fix: `run chmod 600 ${path}`};
}

/** {@link ownedFileProblem} as a store error for the store at `storePath`. */
export function assertOwnedFile(storePath: string, what: OwnedFile, path: string, stat: {readonly uid: number | bigint; readonly mode: number | bigint}): void {
	const problem = ownedFileProblem(what, path, stat);
	if (problem) throw storeError(storePath, problem.reason, problem.fix);
}

/**
 * Reads a file the settings name (an SMTP CA file, the SSL certificate or key) from a safe place,
 * as the store is: the path followed through its links with every folder checked as the store's
 * are, then the very file opened (no link followed) checked by its fstat: owned by the running user
 * or root, writable by nobody else, and a key readable by nobody else. Whoever could change a CA
 * file could read all mail; whoever could change the certificate and key could serve our pages.
 * Throws an Error whose message says why and how to fix it.
 */
export function readPlacedFile(path: string, kind: 'certificate' | 'key' | 'CA file'): Buffer {
	// Saved paths are absolute (core: ctx.resolvePath); one saved before that is read from nowhere in particular.
	if (!isAbsolute(path)) throw new Error(`the ${kind} path ${path} is relative, so it depends on where orgctl runs; save it again as an absolute path`);
	realpathSync(path); // A missing file (or folder) is the system's ENOENT, as for any file.
	let real: string;
	try {
		real = follow(path);
	} catch (error) {
		if (error instanceof Unsafe) throw new Error(`${error.problem.reason.replace('their own store, key or lock file', 'a file of their own')}; ${error.problem.fix}`, {cause: error});
		throw error;
	}
	const fd = openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
	try {
		const stat = fstatSync(fd);
		if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
		const uid = stat.uid;
		if (!trusted(uid)) throw new Error(`the ${kind} ${real} belongs to ${nameOf(uid)}, not to ${myName()}${me() === 0 ? '' : ' or root'}, so that user could change it; run chown ${myName()} ${real}`);
		const bits = kind === 'key' ? ANY : WRITE;
		if ((stat.mode & (bits.group | bits.other)) !== 0) {
			const risk = kind === 'key' ? 'read or change the private key' : kind === 'CA file' ? 'change whom mail trusts and so read all mail' : 'change the certificate';
			throw new Error(`the ${kind} ${real} has mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}: ${who(stat.mode, bits)} may ${kind === 'key' ? 'open' : 'write'} it and so ${risk}; run chmod ${kind === 'key' ? '600' : 'go-w'} ${real}`);
		}
		return readFileSync(fd);
	} finally {
		closeSync(fd);
	}
}

/**
 * The files that hold a copy of the store's data: the store, its daily backup, the originals
 * migrations kept and temp files. They hold password, session and token hashes, throttles and the
 * audit, so nobody else may read them (DESIGN §4: file mode 0600).
 */
export function storeCopies(storePath: string): string[] {
	const dir = dirname(storePath);
	const name = basename(storePath);
	let names: string[];
	try {
		names = readdirSync(dir);
	} catch {
		return [storePath];
	}
	return names.filter(n => n === name || (n.startsWith(`${name}.`) && (n.endsWith('.bak') || n.endsWith('.tmp')))).map(n => join(dir, n));
}

/** Why a copy of the store is exposed (group or others may read it), or undefined. */
export function exposedCopyProblem(path: string, mode: number): PlaceProblem | undefined {
	if ((mode & 0o077) === 0) return undefined;
	return {path, reason: `${path} has mode ${(mode & 0o7777).toString(8).padStart(4, '0')}: ${who(mode, ANY)} may read the password, session and token hashes and the audit it holds`, fix: `run chmod 600 ${path} (orgctl does so the next time it opens the store)`};
}

/**
 * Puts every copy of the store that is ours back to 0600 (read-only stays read-only), through the
 * opened file (no link followed): a store copied or chmodded by hand does not stay readable.
 */
export function tightenStoreCopies(storePath: string): void {
	for (const path of storeCopies(storePath)) {
		let fd: number;
		try {
			fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
		} catch {
			continue; // Gone meanwhile, or a link: not ours to change.
		}
		try {
			const stat = fstatSync(fd);
			// Writable by others is refused (store file) and left as found, for a person to look at; readable only, we close.
			if (stat.isFile() && stat.uid === me() && (stat.mode & 0o077) !== 0 && (stat.mode & 0o022) === 0) fchmodSync(fd, stat.mode & 0o700);
		} finally {
			closeSync(fd);
		}
	}
}
