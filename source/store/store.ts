import {isAscii} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync, type BigIntStats} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Low, type Adapter} from 'lowdb';
import {OrgError} from '../core/errors.js';
import {emptyDatabase, SCHEMA_VERSION, type Database} from '../core/model.js';
import {storeError} from './errors.js';
import {acquireLock} from './lock.js';
import {MIGRATIONS} from './migrations.js';
import {Invalid, RecordLines, textLines, type LineSource} from './record-lines.js';
import {StringDecoder} from 'node:string_decoder';

/** A step that turns a file of schema version `from` into version `from + 1`; `now` dates what it records. */
export type Migration = {readonly from: number; readonly migrate: (raw: Record<string, unknown>, context: {readonly now: Date}) => Record<string, unknown>};

// Schema migrations, oldest first (version 1 is the first released schema): see migrations.ts.
export {MIGRATIONS} from './migrations.js';

export type StoreOptions = {
	/** Migrations to apply; tests pass their own to exercise the mechanism. */
	readonly migrations?: readonly Migration[];
	/** The schema version this build writes. */
	readonly schemaVersion?: number;
	/** How long a change waits for another process holding the lock before it fails with a message naming it. */
	readonly lockTimeoutMs?: number;
	/** Up to this file size each record's line is kept in memory (tests set 0 to exercise big-store behaviour). */
	readonly lineCacheBytes?: number;
	/**
	 * Skip the schema and invariant checks when opening (they cost about half of opening a large
	 * store) and run them with `validate()` soon after: the console does so right after its first
	 * frame. Writes are always validated, so unchecked data is never written back.
	 */
	readonly deferValidation?: boolean;
	/** The clock a migration dates what it records by: the Context's (app/context.ts passes it). */
	readonly now?: () => Date;
};

const TEMP_MARK = '.tmp-';

/** `store/orgctl.json` in the folder orgctl was installed into (the repository root). */
export function defaultStorePath(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	for (;;) {
		try {
			const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {name?: string};
			if (manifest.name === 'orgctl') return join(dir, 'store', 'orgctl.json');
		} catch {
			// No manifest here: keep climbing.
		}
		const parent = dirname(dir);
		if (parent === dir) return resolve('store', 'orgctl.json');
		dir = parent;
	}
}

export {storeError};


/** What identifies one version of the file: a rename makes a new inode, and every commit a new version number. */
type Stamp = {readonly ino: bigint; readonly size: bigint; readonly mtimeNs: bigint; readonly ctimeNs: bigint; readonly version: number | undefined};

/**
 * Up to this file size (about 30,000 users) each record's JSON line is kept in memory so a commit
 * need not serialise unchanged records: the 40 ms commit budget is set at 10,000 users, the 300 MB
 * memory budget at 100,000.
 */
const LINE_CACHE_BYTES = 16 * 1024 * 1024;
const RECOVER = 'restore it from a backup or move it aside to start afresh (the file was not changed)';
const HEADER = /^\{\n"schemaVersion":\d+,\n"version":(\d+),\n/;
const HEADER_BYTES = 64;
/** Pieces are encoded into this much memory and written in one call; the file is never one big string. */
const WRITE_CHUNK = 1 << 20;

function versionIn(header: string): number | undefined {
	const match = HEADER.exec(header);
	return match ? Number(match[1]) : undefined;
}

/** The version number in the first lines of our layout, or undefined for a file laid out otherwise. */
function headerVersion(fd: number): number | undefined {
	const buffer = Buffer.alloc(HEADER_BYTES);
	return versionIn(buffer.toString('latin1', 0, readSync(fd, buffer, 0, HEADER_BYTES, 0)));
}

function stampOf(stat: BigIntStats, version: number | undefined): Stamp {
	return {ino: stat.ino, size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs, version};
}

/**
 * lowdb adapter for one JSON file that never leaves a half-written file: it writes a uniquely
 * named temp file, fsyncs it, renames it over the store and fsyncs the folder. lowdb's own
 * TextFile adapter shares one temp name between processes (measured: six concurrent writers
 * corrupted the file in 5 of 5 runs), which is why it is not used.
 */
export class AtomicJsonFile implements Adapter<Database> {
	/** The file as last read or written here; undefined before the first read or when it did not exist. */
	private stamp: Stamp | undefined;
	/** Set when the last read migrated an older schema in memory, so it must be written back. */
	migrated = false;
	readonly records: RecordLines;

	constructor(
		readonly path: string,
		private readonly options: Required<Pick<StoreOptions, 'migrations' | 'schemaVersion' | 'lineCacheBytes'>> & Pick<StoreOptions, 'now'>,
	) {
		this.records = new RecordLines(options.schemaVersion);
	}

	async read(): Promise<Database | null> {
		return this.readSync();
	}

	/**
	 * Reads and validates the file; null when it does not exist. With `previous`, records whose
	 * line did not change are reused without parsing or validating them again.
	 */
	readSync(previous?: Database): Database | null {
		let data: Database;
		let stat: BigIntStats;
		let version: number | undefined;
		try {
			const fd = openSync(this.path, 'r');
			try {
				// fstat, not stat: the stamp must describe the file whose text is read, even if another
				// process renames a new one into place meanwhile.
				stat = fstatSync(fd, {bigint: true});
				version = headerVersion(fd);
				this.records.keepLines = Number(stat.size) <= this.options.lineCacheBytes;
				// Our own layout is read line by line; anything else is read whole and parsed whole.
				data = this.fromLines(new FileLines(fd), previous) ?? this.parse(readWhole(fd, Number(stat.size)), previous, false);
			} finally {
				closeSync(fd);
			}
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				this.stamp = undefined;
				return null;
			}
			if (error instanceof OrgError) throw error;
			throw storeError(this.path, `it cannot be read (${(error as Error).message})`, 'check its owner and permissions');
		}
		this.stamp = stampOf(stat, version);
		return data;
	}

	private fromLines(lines: LineSource, previous: Database | undefined): Database | undefined {
		try {
			const data = this.records.fromLines(lines, previous);
			if (data) this.migrated = false;
			return data;
		} catch (error) {
			if (error instanceof Invalid) throw this.refuse(error);
			throw error;
		}
	}

	/** Runs the checks a trusted read skipped (see StoreOptions.deferValidation); refuses the file if they fail. */
	verify(data: Database): void {
		try {
			this.records.verify(data);
		} catch (error) {
			if (error instanceof Invalid) throw this.refuse(error);
			throw error;
		}
	}

	private refuse(problem: Invalid): OrgError {
		return storeError(this.path, problem.where ? `the file does not validate at ${problem.where} (${problem.reason})` : `the file is inconsistent (${problem.reason})`, RECOVER);
	}

	/** Parses, migrates and validates file text; refuses anything it cannot trust. */
	parse(text: string, previous?: Database, tryLines = true): Database {
		const recover = RECOVER;
		if (tryLines) {
			const data = this.fromLines(textLines(text), previous);
			if (data) return data;
		}
		if (text.trim() === '') throw storeError(this.path, 'the file is empty', recover);
		let raw: unknown;
		try {
			raw = JSON.parse(text);
		} catch (error) {
			throw storeError(this.path, `the file is not valid JSON (${(error as Error).message}), perhaps truncated or edited by hand`, recover);
		}
		if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
			throw storeError(this.path, `the file holds ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}, not an orgctl database`, recover);
		}
		let record = raw as Record<string, unknown>;
		const version = record['schemaVersion'];
		if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
			throw storeError(this.path, 'the file has no valid schemaVersion, so it is not an orgctl database', recover);
		}
		if (version > this.options.schemaVersion) {
			throw storeError(this.path, `it has schema version ${version}, newer than the ${this.options.schemaVersion} this orgctl understands`, 'upgrade orgctl to open it (the file was not changed)');
		}
		const migrating = version < this.options.schemaVersion;
		if (migrating) {
			record = this.migrate(record, version, text);
			// A migrated file is checked now: it is about to be written back.
			this.records.trustNextRead = false;
		}
		try {
			const data = this.records.fromRaw(record);
			this.migrated = migrating;
			return data;
		} catch (error) {
			if (error instanceof Invalid) throw this.refuse(error);
			throw error;
		}
	}

	private migrate(record: Record<string, unknown>, from: number, text: string): Record<string, unknown> {
		let current = record;
		for (let v = from; v < this.options.schemaVersion; v++) {
			const step = this.options.migrations.find(m => m.from === v);
			if (!step) throw storeError(this.path, `there is no migration from schema version ${v}`, 'open it with the orgctl release that wrote it (the file was not changed)');
			current = {...step.migrate(current, {now: this.options.now?.() ?? new Date()}), schemaVersion: v + 1};
		}
		const backup = `${this.path}.v${from}.bak`;
		try {
			const fd = openSync(backup, 'wx', 0o600);
			try {
				writeSync(fd, text);
				fsyncSync(fd);
			} finally {
				closeSync(fd);
			}
			fsyncDirectory(dirname(this.path));
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
				throw storeError(this.path, `it needs migrating from schema version ${from} but the backup ${backup} could not be written (${(error as Error).message})`, 'free some space or fix the folder permissions');
			}
			// A backup from an earlier attempt exists: keep that one, it holds the original.
			if (readFileSync(backup, 'utf8') !== text) {
				throw storeError(this.path, `it needs migrating from schema version ${from} but ${backup} already exists with other content`, 'move that backup aside and start orgctl again');
			}
		}
		return current;
	}

	async write(data: Database): Promise<void> {
		this.writeSync(data);
	}

	/** Validates what changed, then replaces the file atomically and durably. */
	writeSync(data: Database): void {
		const dir = dirname(this.path);
		const temp = join(dir, `.${basename(this.path)}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`);
		const fd = openSync(temp, 'wx', 0o600);
		let changed: ReturnType<RecordLines['serialize']>;
		try {
			const writer = new ChunkWriter(fd);
			changed = this.records.serialize(data, piece => writer.write(piece));
			writer.flush();
			fsyncSync(fd);
			closeSync(fd);
			// The lock makes this hold; checking costs an fstat and 64 bytes, and proves it: a change
			// is acknowledged only if it replaced the very version it was made on.
			if (this.changedOnDisk()) throw new ChangedUnderneath();
			renameSync(temp, this.path);
		} catch (error) {
			try {
				closeSync(fd);
			} catch {
				// Closed already.
			}
			rmSync(temp, {force: true});
			if (error instanceof ChangedUnderneath) {
				throw storeError(this.path, 'another program replaced the file while this change was being written, without taking the lock', 'try the change again; if it keeps happening, look for a program that edits the file directly');
			}
			if (error instanceof Invalid) {
				throw new OrgError('invalid', error.where ? `The change was not saved: ${error.where} is invalid (${error.reason}).` : `The change was not saved: ${error.reason}.`);
			}
			throw storeError(this.path, `the change could not be written (${(error as Error).message})`, 'free some space or fix the folder permissions, then try again');
		}
		fsyncDirectory(dir);
		this.records.committed(data, changed);
		const written = statSync(this.path, {bigint: true});
		this.stamp = stampOf(written, data.version);
		this.records.keepLines = Number(written.size) <= this.options.lineCacheBytes;
		this.migrated = false;
	}

	/** True when the file on disk is no longer the one last read or written here. */
	changedOnDisk(): boolean {
		let stat: BigIntStats;
		let version: number | undefined;
		try {
			const fd = openSync(this.path, 'r');
			try {
				stat = fstatSync(fd, {bigint: true});
				version = headerVersion(fd);
			} finally {
				closeSync(fd);
			}
		} catch {
			return this.stamp !== undefined;
		}
		const last = this.stamp;
		// Inode numbers are reused and timestamps are coarse, so two commits in one clock tick can look
		// alike to stat alone: the version number in the first line tells them apart.
		return !last || stat.ino !== last.ino || stat.size !== last.size || stat.mtimeNs !== last.mtimeNs || stat.ctimeNs !== last.ctimeNs || version !== last.version;
	}
}

/** The file on disk is not the version this commit was made on. */
class ChangedUnderneath extends Error {}

const READ_CHUNK = 64 * 1024;
/** Lines longer than this are not our layout (one record per line): stop and read the file whole. */
const LONGEST_LINE = 1 << 22;

/**
 * The lines of an open file, read 64 KB at a time: at 100,000 users the file is 54 MB, and holding
 * it whole (bytes and text) beside the records was most of the peak memory.
 */
class FileLines implements LineSource {
	// Small enough that each decoded chunk is an ordinary young object: 1 MB chunks went to V8's
	// large-object space, where a 54 MB re-read lingered until a full collection (peak 442 MB).
	private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);
	private position = 0;
	private lines: string[] = [];
	private at = 0;
	private carry = '';
	private done = false;
	private decoder: StringDecoder | undefined;

	constructor(private readonly fd: number) {}

	next(): string | undefined {
		return this.fill() ? this.lines[this.at++] : undefined;
	}

	peek(): string | undefined {
		return this.fill() ? this.lines[this.at] : undefined;
	}

	private fill(): boolean {
		while (this.at >= this.lines.length) {
			if (this.done) return false;
			const read = readSync(this.fd, this.buffer, 0, this.buffer.length, this.position);
			this.position += read;
			this.at = 0;
			if (read === 0) {
				this.lines = [this.carry + (this.decoder?.end() ?? '')];
				this.carry = '';
				this.done = true;
				continue;
			}
			const chunk = this.buffer.subarray(0, read);
			// A chunk may end inside a UTF-8 character: once any non-ASCII byte is seen, decode with state.
			if (!this.decoder && !isAscii(chunk)) this.decoder = new StringDecoder('utf8');
			const parts = (this.carry + (this.decoder ? this.decoder.write(chunk) : chunk.toString('latin1'))).split('\n');
			this.carry = parts.pop()!;
			this.lines = parts;
			if (this.carry.length > LONGEST_LINE) {
				// Not our layout (a file on one line): a line no layout check accepts ends the reading.
				this.lines = ['\u0000'];
				this.done = true;
			}
		}
		return true;
	}
}

/**
 * Reads an open file into one buffer sized by fstat and decodes it once. readFileSync(fd) reads in
 * small blocks into a growing string: 65 ms for 5.4 MB here, against a few for this.
 */
function readWhole(fd: number, size: number): string {
	let buffer = Buffer.allocUnsafe(size + 1);
	let length = 0;
	for (;;) {
		if (length === buffer.length) {
			const bigger = Buffer.allocUnsafe(buffer.length * 2);
			buffer.copy(bigger, 0, 0, length);
			buffer = bigger;
		}
		const read = readSync(fd, buffer, length, buffer.length - length, length);
		if (read === 0) break;
		length += read;
	}
	const bytes = buffer.subarray(0, length);
	// Decoding UTF-8 cost 31 ms for 5.4 MB here; an all-ASCII file (the usual case) is the same as latin1, which is a copy.
	return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

/** Writes text pieces through one reused buffer: joining 10,000 lines into one string cost 27 ms here, this 1. */
class ChunkWriter {
	/** One buffer for every write of the process (writes are synchronous): a new one per commit piled up as garbage. */
	private static shared: Buffer | undefined;
	private readonly buffer = (ChunkWriter.shared ??= Buffer.allocUnsafe(WRITE_CHUNK));
	private used = 0;

	constructor(private readonly fd: number) {}

	write(piece: string): void {
		// A character takes at most 3 bytes in UTF-8 (a surrogate pair 4 for 2 characters).
		if (piece.length * 3 > WRITE_CHUNK - this.used) {
			this.flush();
			if (piece.length * 3 > WRITE_CHUNK) {
				writeSync(this.fd, piece);
				return;
			}
		}
		this.used += this.buffer.write(piece, this.used);
	}

	flush(): void {
		for (let done = 0; done < this.used; ) done += writeSync(this.fd, this.buffer, done, this.used - done);
		this.used = 0;
	}
}

function fsyncDirectory(dir: string): void {
	const fd = openSync(dir, 'r');
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/**
 * Removes temp files whose writer is gone. A temp file is named for its writer's pid: this process
 * writes and renames its own in one synchronous step, so any file with our pid is left over; another
 * live process's file is never touched, whatever its age (a stalled writer may still rename it, and
 * file times come from a clock that need not be ours).
 */
export function cleanStrayTempFiles(path: string): number {
	const dir = dirname(path);
	const prefix = `.${basename(path)}${TEMP_MARK}`;
	let removed = 0;
	let names: string[];
	try {
		names = readdirSync(dir);
	} catch {
		return 0;
	}
	for (const name of names) {
		if (!name.startsWith(prefix)) continue;
		const pid = Number(name.slice(prefix.length).split('-')[0]);
		const stray = !Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid);
		if (!stray) continue;
		try {
			unlinkSync(join(dir, name));
			removed++;
		} catch {
			// Gone already, or renamed into place by its writer.
		}
	}
	return removed;
}

/**
 * The one way into the database. Reads are served from memory and refreshed when the file changed;
 * every change goes through `transact`: inter-process lock, re-read if another process wrote,
 * apply, validate what changed, bump the version, atomic write, unlock.
 */
export class Store {
	private readonly adapter: AtomicJsonFile;
	private readonly db: Low<Database>;
	private readonly lockTimeoutMs: number | undefined;
	/** Changes through this Store run one after another, so they never wait on their own lock. */
	private queue: Promise<unknown> = Promise.resolve();

	private constructor(
		readonly path: string,
		options: StoreOptions,
	) {
		this.adapter = new AtomicJsonFile(path, {
			migrations: options.migrations ?? MIGRATIONS,
			schemaVersion: options.schemaVersion ?? SCHEMA_VERSION,
			lineCacheBytes: options.lineCacheBytes ?? LINE_CACHE_BYTES,
			...(options.now ? {now: options.now} : {}),
		});
		this.db = new Low(this.adapter, {...emptyDatabase(), schemaVersion: options.schemaVersion ?? SCHEMA_VERSION} as Database);
		this.lockTimeoutMs = options.lockTimeoutMs;
	}

	/**
	 * Opens (and on first use creates) the store at `path`. Refuses, without touching it, a file that
	 * does not parse or validate or was written by a newer orgctl.
	 */
	static async open(path: string, options: StoreOptions = {}): Promise<Store> {
		const absolute = resolve(path);
		try {
			mkdirSync(dirname(absolute), {recursive: true, mode: 0o700});
		} catch (error) {
			throw storeError(absolute, `its folder cannot be created (${(error as Error).message})`, 'choose another path with --store');
		}
		cleanStrayTempFiles(absolute);
		const store = new Store(absolute, options);
		store.adapter.records.trustNextRead = options.deferValidation === true;
		const data = store.adapter.readSync();
		if (data === null) {
			await store.transact(() => undefined);
		} else {
			store.db.data = data;
			// Migrated in memory: write the new version once, under the lock (transact re-reads and migrates again if needed).
			if (store.adapter.migrated) await store.transact(() => undefined);
		}
		return store;
	}

	/** Runs the checks an open with `deferValidation` skipped; throws the store error if the file is not sound. */
	validate(): void {
		this.adapter.verify(this.db.data);
	}

	/** The current data, re-read first if another process changed the file. Do not mutate it. */
	read(): Database {
		if (this.adapter.changedOnDisk()) {
			const data = this.adapter.readSync(this.db.data);
			if (data) this.db.data = data;
		}
		return this.db.data;
	}

	/** The version counter of the data in memory. */
	get version(): number {
		return this.db.data.version;
	}

	/**
	 * Applies `change` to the latest data under the inter-process lock and commits it atomically.
	 * If `change` throws, nothing is written and the in-memory data is restored.
	 */
	transact<T>(change: (db: Database) => T): Promise<T> {
		const run = this.queue.then(() => this.commit(change));
		this.queue = run.catch(() => undefined);
		return run;
	}

	private async commit<T>(change: (db: Database) => T): Promise<T> {
		const release = await acquireLock(this.path, {timeoutMs: this.lockTimeoutMs});
		try {
			cleanStrayTempFiles(this.path);
			if (this.adapter.changedOnDisk()) {
				const fresh = this.adapter.readSync(this.db.data);
				if (fresh) this.db.data = fresh;
			}
			const before = this.adapter.records.snapshot(this.db.data);
			try {
				const result = change(this.db.data);
				if (result instanceof Promise) {
					result.catch(() => undefined);
					throw new TypeError('A store change must be synchronous: it ran outside the lock.');
				}
				this.db.data.version = before.version + 1;
				await this.db.write();
				return result;
			} catch (error) {
				this.db.data = this.adapter.records.restore(before);
				throw error;
			}
		} finally {
			release();
		}
	}
}
