import {close, closeSync, constants, fstatSync, openSync, readSync, statSync, type BigIntStats} from 'node:fs';

/**
 * What identifies one version of the store file: a rename makes a new inode, and every commit a
 * new version number. Inode numbers are reused and timestamps are coarse, so two commits in one
 * clock tick can look alike to stat alone: the version number in the first lines tells them apart.
 */
export type Stamp = {readonly ino: bigint; readonly size: bigint; readonly mtimeNs: bigint; readonly ctimeNs: bigint; readonly version: number | undefined};

/** The first lines of orgctl's own layout (record-lines.ts). */
const HEADER = /^\{\n"schemaVersion":\d+,\n"version":(\d+) *,\n/;
const HEADER_BYTES = 64;

export function versionIn(header: string): number | undefined {
	const match = HEADER.exec(header);
	return match ? Number(match[1]) : undefined;
}

/** The version number in the first lines of our layout, or undefined for a file laid out otherwise. */
export function headerVersion(fd: number): number | undefined {
	const buffer = Buffer.alloc(HEADER_BYTES);
	return versionIn(buffer.toString('latin1', 0, readSync(fd, buffer, 0, HEADER_BYTES, 0)));
}

export function stampOf(stat: BigIntStats, version: number | undefined): Stamp {
	return {ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs, version};
}

export function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
	if (!a || !b) return a === b;
	return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.version === b.version;
}

/**
 * Whether the file at `path` is still the one `stamp` describes, by a stat alone (what an open
 * console pays to look for changes). A commit elsewhere always gives the file a new mtime
 * (atomic-file.ts makes each later than the last), so the version in the file need not be read.
 */
export function statUnchanged(path: string, stamp: Stamp | undefined): boolean {
	const stat = statSync(path, {bigint: true, throwIfNoEntry: false});
	if (!stat || !stamp) return stat === stamp;
	return stat.ino === stamp.ino && stat.size === stamp.size && stat.mtimeNs === stamp.mtimeNs && stat.ctimeNs === stamp.ctimeNs;
}

/**
 * The file at `path` as it is now: its stat (for its mode and owner too) and stamp; undefined if
 * there is none. The file is kept open: a commit renames its temp file over the store while it
 * holds the old file, so the kernel frees the old file's blocks only when {@link letGo} closes it, on
 * libuv's threadpool, after the commit (measured at 100,000 users: a rename that dropped the last
 * reference to the 64 MB file it replaced took 17-23 ms, freeing its blocks; with the file held,
 * under 1 ms). `release` must be called once, whatever happens.
 */
export function holdStampAt(path: string): {stat: BigIntStats; stamp: Stamp; release: () => void} | undefined {
	let fd: number;
	try {
		// Without blocking, and its first lines read only from a regular file: whatever was put there since the rename is no stamp of ours.
		fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
		throw error;
	}
	try {
		const stat = fstatSync(fd, {bigint: true});
		return {stat, stamp: stampOf(stat, stat.isFile() ? headerVersion(fd) : undefined), release: () => letGo(fd)};
	} catch (error) {
		closeSync(fd);
		throw error;
	}
}

/** Closes `fd` on the threadpool: whatever the last close of a replaced file costs is not paid by the commit. */
function letGo(fd: number): void {
	close(fd, () => undefined);
}
