import {randomBytes} from 'node:crypto';
import {closeSync, fstatSync, fsyncSync, openSync, renameSync, rmSync, statSync, type BigIntStats} from 'node:fs';
import {dirname} from 'node:path';
import type {Adapter} from 'lowdb';
import {OrgError} from '../core/errors.js';
import type {Database} from '../core/model.js';
import {refusedChange, storeError} from './errors.js';
import {backupDue, takeBackup} from './backup.js';
import {ChunkWriter, FileLines, fsyncDirectory, readWhole} from './file-io.js';
import {tempPathOf} from './layout.js';
import {migrateFile, type Migration} from './migrations.js';
import {Invalid, RecordLines, textLines, type LineSource} from './record-lines.js';
import {assertOwnedFile} from './safe-place.js';
import {headerVersion, sameStamp, stampAt, stampOf, type Stamp} from './stamp.js';

export type AtomicJsonFileOptions = {
	readonly migrations: readonly Migration[];
	/** The schema version this build writes. */
	readonly schemaVersion: number;
	/** Up to this file size each record's line is kept in memory. */
	readonly lineCacheBytes: number;
	/** The store's clock, for the daily backup (backup.ts); without one, no backup is taken. */
	readonly now?: () => Date;
};

const RECOVER = 'restore it from a backup or move it aside to start afresh (the file was not changed)';

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
		private readonly options: AtomicJsonFileOptions,
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
				assertOwnedFile(this.path, 'store file', this.path, stat);
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
			record = migrateFile(this.path, record, version, this.options.schemaVersion, this.options.migrations, text, this.options.now?.());
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

	async write(data: Database): Promise<void> {
		this.writeSync(data);
	}

	/** Validates what changed, then replaces the file atomically and durably. */
	writeSync(data: Database): void {
		const dir = dirname(this.path);
		const temp = tempPathOf(this.path, randomBytes(6).toString('hex'));
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
			const now = stampAt(this.path);
			if (!sameStamp(now?.stamp, this.stamp)) throw new ChangedUnderneath();
			// rename() would replace a read-only file as easily as any other (it asks the folder, not
			// the file) and leave a writable one: whoever made it read-only meant to stop changes.
			if (now && (Number(now.stat.mode) & 0o200) === 0) throw new ReadOnly(Number(now.stat.mode));
			const clock = this.options.now?.();
			// A store nobody has signed up to yet (before `orgctl init`) is not worth keeping.
			if (clock && (this.migrated || (data.users.length > 0 && backupDue(this.path, clock)))) takeBackup(this.path, temp, clock);
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
			if (error instanceof ReadOnly) {
				const mode = (error.mode & 0o7777).toString(8).padStart(4, '0');
				throw storeError(this.path, `the file is read-only (mode ${mode}), so the change was not saved`, `if it was made read-only to stop changes, that is what happens; to allow them again run chmod 600 ${this.path}`);
			}
			if (error instanceof Invalid) {
				throw refusedChange(error.where, error.reason);
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
		try {
			return !sameStamp(stampAt(this.path)?.stamp, this.stamp);
		} catch {
			return this.stamp !== undefined;
		}
	}
}

/** The file on disk is not the version this commit was made on. */
class ChangedUnderneath extends Error {}

/** The file on disk has no write permission for its owner. */
class ReadOnly extends Error {
	constructor(readonly mode: number) {
		super('read-only');
	}
}

