import {closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, rmdirSync, writeSync} from 'node:fs';
import {hostname} from 'node:os';
import {createRequire} from 'node:module';
import {storeError} from './errors.js';
import {lockPathOf} from './layout.js';
import {assertOwnedFile} from './safe-place.js';

/**
 * The store's inter-process lock: an open-file-description lock (Linux `F_OFD_SETLKW`, BSD `flock`
 * on macOS) on `<store>.lock`, which the kernel drops when its holder exits, however it exits.
 *
 * Why not a lock folder judged stale by its age (proper-lockfile, used before): a holder that
 * stalls past the stale time (SIGSTOP, a VM pause, a blocked event loop) had its lock taken over
 * while it still wrote, and two waiters could take a stale lock together; and "age" compared the
 * folder's mtime, set by the file system's clock, with this process's clock, so a process whose
 * clock disagreed (a clock step, faketime, an NFS server) saw every lock as stale. A kernel lock
 * has no age: it is held exactly as long as its holder lives, so a stalled holder makes others wait
 * instead of losing its change, and a dead one frees it at once.
 */
export type LockOptions = {
	/** How long to wait for another holder before giving up with a message that names it. */
	readonly timeoutMs?: number;
};

const DEFAULT_TIMEOUT_MS = 30_000;

type LockCalls = typeof import('fs-native-extensions');
let native: LockCalls | undefined;

/**
 * The native addon, loaded on the first lock: resolving and loading it cost 66 ms of a 911 ms
 * `orgctl users list --json` (node --cpu-prof), which takes no lock. Synchronous (require), as
 * withLockSync needs it.
 */
function lockCalls(): LockCalls {
	return (native ??= createRequire(import.meta.url)('fs-native-extensions') as LockCalls);
}

const tryLock = (fd: number): boolean => lockCalls().tryLock(fd);
const unlock = (fd: number): void => lockCalls().unlock(fd);
const waitForLock = (fd: number): Promise<void> => lockCalls().waitForLock(fd);

/** Takes the lock for `storePath`, waiting for another holder up to the timeout; returns the release. */
export async function acquireLock(storePath: string, options: LockOptions = {}): Promise<() => void> {
	const lockPath = lockPathOf(storePath);
	const fd = openLockFile(storePath, lockPath);
	// Wait in the kernel, not by polling: a waiter asleep on the lock is woken when it is let go,
	// so a process that commits in a tight loop cannot starve the others (polling did).
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	const waited = waitForLock(fd);
	let timer: NodeJS.Timeout | undefined;
	const timedOut = new Promise<'timeout'>(resolve => {
		timer = setTimeout(() => resolve('timeout'), timeoutMs);
	});
	let outcome: 'granted' | 'timeout';
	try {
		outcome = await Promise.race([waited.then(() => 'granted' as const), timedOut]);
	} catch (error) {
		closeSync(fd);
		throw storeError(storePath, `its lock ${lockPath} cannot be taken (${(error as Error).message})`, 'check the folder’s owner and permissions');
	} finally {
		clearTimeout(timer);
	}
	if (outcome === 'timeout') {
		// The wait cannot be called off: when it is granted after all, let go at once.
		waited.then(
			() => release(fd),
			() => closeSync(fd),
		);
		throw heldTooLong(storePath, lockPath, timeoutMs);
	}
	recordHolder(fd);
	let released = false;
	return () => {
		if (released) return;
		released = true;
		release(fd);
	};
}

/**
 * Runs `fn` holding the lock, taken without giving way to the event loop: for the rare step
 * outside a transaction that must not race another process (replacing an empty key file). Polls
 * every 10 ms up to the timeout, since a kernel wait cannot be called off.
 */
export function withLockSync<T>(storePath: string, fn: () => T, options: LockOptions = {}): T {
	const lockPath = lockPathOf(storePath);
	const fd = openLockFile(storePath, lockPath);
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	const pause = new Int32Array(new SharedArrayBuffer(4));
	try {
		for (let waited = 0; !tryLock(fd); waited += 10) {
			if (waited >= timeoutMs) throw heldTooLong(storePath, lockPath, timeoutMs);
			Atomics.wait(pause, 0, 0, 10);
		}
	} catch (error) {
		closeSync(fd);
		throw error;
	}
	recordHolder(fd);
	try {
		return fn();
	} finally {
		release(fd);
	}
}

/**
 * Whether another process holds the lock right now, and who took it last (for `orgctl admin
 * check`). Creates no lock file; checks the one there as acquireLock would. Taking the lock for
 * the probe lets it go at once.
 */
export function probeLock(storePath: string): {held: false} | {held: true; holder: string} {
	const lockPath = lockPathOf(storePath);
	const fd = openLockFile(storePath, lockPath, false);
	if (fd === undefined) return {held: false};
	try {
		if (!tryLock(fd)) return {held: true, holder: describeHolder(lockPath)};
		unlock(fd);
		return {held: false};
	} finally {
		closeSync(fd);
	}
}

function release(fd: number): void {
	try {
		unlock(fd);
	} finally {
		closeSync(fd);
	}
}

/** Opens the lock file, creating it unless `create` is false (then undefined when there is none, or only an old lock folder). */
function openLockFile(storePath: string, lockPath: string, create: false): number | undefined;
function openLockFile(storePath: string, lockPath: string, create?: true): number;
function openLockFile(storePath: string, lockPath: string, create = true): number | undefined {
	// O_NONBLOCK: a FIFO put in its place must not hold the open (Linux opens one read-write at once; POSIX leaves that undefined).
	const flags = constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK | (create ? constants.O_CREAT : 0);
	let fd: number;
	try {
		fd = openSync(lockPath, flags, 0o600);
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (!create && (code === 'ENOENT' || code === 'EISDIR')) return undefined;
		if (code === 'EISDIR' && removeOldLockFolder(lockPath)) return openLockFile(storePath, lockPath);
		if (code === 'ELOOP') throw storeError(storePath, `its lock ${lockPath} is a symbolic link`, `remove it (rm ${lockPath}) and try again`);
		throw storeError(storePath, `its lock ${lockPath} cannot be opened (${(error as Error).message})`, 'check the folder’s owner and permissions');
	}
	try {
		const stat = fstatSync(fd);
		if (!stat.isFile()) throw storeError(storePath, `its lock ${lockPath} is not a regular file`, `remove it (rm ${lockPath}) and try again`);
		// Anyone who can open the lock file can hold the lock: it must be ours and private.
		assertOwnedFile(storePath, 'lock', lockPath, stat);
	} catch (error) {
		closeSync(fd);
		throw error;
	}
	return fd;
}

/** An earlier orgctl locked with an empty folder at the same path; an empty one holds nothing. */
function removeOldLockFolder(lockPath: string): boolean {
	try {
		rmdirSync(lockPath);
		return true;
	} catch {
		return false;
	}
}

/** Writes who holds the lock into the lock file, for the message of a writer that times out waiting. */
function recordHolder(fd: number): void {
	try {
		ftruncateSync(fd, 0);
		writeSync(fd, `${JSON.stringify({pid: process.pid, host: hostname()})}\n`, 0);
	} catch {
		// Only a diagnostic.
	}
}

function heldTooLong(storePath: string, lockPath: string, timeoutMs: number): Error {
	return storeError(storePath, `another orgctl has held its lock for over ${Math.round(timeoutMs / 1000)} s (${describeHolder(lockPath)})`, 'try again in a moment; if that process is stopped (kill -CONT) or hung, end it: its lock goes with it');
}

function describeHolder(lockPath: string): string {
	try {
		// Read without blocking and only from a regular file: the lock file may have been replaced since it was opened.
		const fd = openSync(lockPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
		let text: string;
		try {
			if (!fstatSync(fd).isFile()) return 'its holder is not recorded';
			text = readFileSync(fd, 'utf8');
		} finally {
			closeSync(fd);
		}
		const holder = JSON.parse(text) as {pid?: unknown; host?: unknown};
		return `the last to take it was process ${Number(holder.pid)} on ${JSON.stringify(String(holder.host))}`;
	} catch {
		return 'its holder is not recorded';
	}
}
