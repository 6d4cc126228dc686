import {randomBytes} from 'node:crypto';
import {closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, copyFileSync, type Stats} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {Low, type Adapter} from 'lowdb';
import lockfile from 'proper-lockfile';
import {OrgError} from '../core/errors.js';
import {databaseSchema, emptyDatabase, SCHEMA_VERSION, type Database} from '../core/model.js';
import {checkInvariants} from '../core/invariants.js';

/** A step that turns a file of schema version `from` into version `from + 1`. */
export type Migration = {readonly from: number; readonly migrate: (raw: Record<string, unknown>) => Record<string, unknown>};

/** Schema migrations, oldest first. Version 1 is the first released schema. */
export const MIGRATIONS: readonly Migration[] = [];

export type StoreOptions = {
	/** Migrations to apply; tests pass their own to exercise the mechanism. */
	readonly migrations?: readonly Migration[];
	/** The schema version this build writes. */
	readonly schemaVersion?: number;
	/** Milliseconds after which another process's lock counts as abandoned. */
	readonly staleMs?: number;
	/**
	 * Skip the schema and invariant checks when opening (they cost about half of opening a large
	 * store) and run them with `validate()` soon after: the console does so right after its first
	 * frame. Writes are always validated, so unchecked data is never written back.
	 */
	readonly deferValidation?: boolean;
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

/** Why a store file cannot be used: the message names the path, the reason and how to recover. */
export function storeError(path: string, reason: string, fix: string): OrgError {
	return new OrgError('store', `Cannot use the store ${path}: ${reason}; ${fix}`);
}

/**
 * lowdb adapter for one JSON file that never leaves a half-written file: it writes a uniquely
 * named temp file, fsyncs it, renames it over the store and fsyncs the folder. lowdb's own
 * TextFile adapter shares one temp name between processes (measured: six concurrent writers
 * corrupted the file in 5 of 5 runs), which is why it is not used.
 */
export class AtomicJsonFile implements Adapter<Database> {
	/** The text last read or written, to undo a failed change without reading the disk again. */
	lastText = '';
	lastStat: Stats | undefined;
	/** Set when the last read migrated an older schema in memory, so it must be written back. */
	migrated = false;
	/** The next parse skips validation (see StoreOptions.deferValidation). */
	skipNextValidation = false;

	constructor(
		readonly path: string,
		private readonly options: Required<Pick<StoreOptions, 'migrations' | 'schemaVersion'>>,
	) {}

	async read(): Promise<Database | null> {
		return this.readSync();
	}

	readSync(): Database | null {
		let text: string;
		let stat: Stats;
		try {
			const fd = openSync(this.path, 'r');
			try {
				stat = statSync(this.path);
				text = readFileSync(fd, 'utf8');
			} finally {
				closeSync(fd);
			}
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
			throw storeError(this.path, `it cannot be read (${(error as Error).message})`, 'check its owner and permissions');
		}
		const data = this.parse(text);
		this.lastText = text;
		this.lastStat = stat;
		return data;
	}

	/** Parses, migrates and validates file text; refuses anything it cannot trust. */
	parse(text: string): Database {
		const recover = 'restore it from a backup or move it aside to start afresh (the file was not changed)';
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
		this.migrated = version < this.options.schemaVersion;
		if (this.migrated) record = this.migrate(record, version, text);
		if (this.skipNextValidation && !this.migrated) {
			this.skipNextValidation = false;
			return record as Database;
		}
		return this.validate(record);
	}

	/** Checks parsed file data against the schema and the invariants; throws the store error that names the problem. */
	validate(record: unknown): Database {
		const recover = 'restore it from a backup or move it aside to start afresh (the file was not changed)';
		const parsed = databaseSchema.safeParse(record);
		if (!parsed.success) {
			const issue = parsed.error.issues[0]!;
			const where = issue.path.length > 0 ? issue.path.join('.') : 'the top level';
			throw storeError(this.path, `the file does not validate at ${where} (${issue.message})`, recover);
		}
		const problem = checkInvariants(parsed.data);
		if (problem) throw storeError(this.path, `the file is inconsistent (${problem})`, recover);
		return parsed.data;
	}

	private migrate(record: Record<string, unknown>, from: number, text: string): Record<string, unknown> {
		const backup = `${this.path}.v${from}.bak`;
		try {
			copyFileSync(this.path, backup, constants.COPYFILE_EXCL);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
				throw storeError(this.path, `it needs migrating from schema version ${from} but the backup ${backup} could not be written (${(error as Error).message})`, 'free some space or fix the folder permissions');
			}
			// A backup from an earlier attempt exists: keep that one, it holds the original.
			if (readFileSync(backup, 'utf8') !== text) {
				throw storeError(this.path, `it needs migrating from schema version ${from} but ${backup} already exists with other content`, 'move that backup aside and start orgctl again');
			}
		}
		let current = record;
		for (let v = from; v < this.options.schemaVersion; v++) {
			const step = this.options.migrations.find(m => m.from === v);
			if (!step) throw storeError(this.path, `there is no migration from schema version ${v}`, 'open it with the orgctl release that wrote it');
			current = {...step.migrate(current), schemaVersion: v + 1};
		}
		return current;
	}

	async write(data: Database): Promise<void> {
		this.writeSync(data);
	}

	writeSync(data: Database): void {
		const text = JSON.stringify(data);
		const dir = dirname(this.path);
		const temp = join(dir, `.${basename(this.path)}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`);
		const fd = openSync(temp, 'wx', 0o600);
		try {
			writeSync(fd, text);
			fsyncSync(fd);
		} catch (error) {
			closeSync(fd);
			unlinkSync(temp);
			throw error;
		}
		closeSync(fd);
		renameSync(temp, this.path);
		fsyncDirectory(dir);
		this.lastText = text;
		this.lastStat = statSync(this.path);
	}

	/** True when the file on disk is no longer the one last read or written here. */
	changedOnDisk(): boolean {
		let stat: Stats;
		try {
			stat = statSync(this.path);
		} catch {
			return this.lastStat !== undefined;
		}
		const last = this.lastStat;
		return !last || stat.ino !== last.ino || stat.size !== last.size || stat.mtimeMs !== last.mtimeMs;
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

/** Removes temp files left by a process that died mid-write; only files older than a minute, so a live writer's file is safe. */
export function cleanStrayTempFiles(path: string, olderThanMs = 60_000): number {
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
		const file = join(dir, name);
		try {
			if (Date.now() - statSync(file).mtimeMs >= olderThanMs) {
				unlinkSync(file);
				removed++;
			}
		} catch {
			// Gone already, or renamed into place by its writer.
		}
	}
	return removed;
}

/**
 * The one way into the database. Reads are served from memory and refreshed when the file changed;
 * every change goes through `transact`: inter-process lock, re-read if another process wrote,
 * apply, validate, bump the version, atomic write, unlock.
 */
export class Store {
	private readonly adapter: AtomicJsonFile;
	private readonly db: Low<Database>;
	private compromised: Error | undefined;
	private readonly staleMs: number;

	private constructor(
		readonly path: string,
		options: StoreOptions,
	) {
		this.adapter = new AtomicJsonFile(path, {
			migrations: options.migrations ?? MIGRATIONS,
			schemaVersion: options.schemaVersion ?? SCHEMA_VERSION,
		});
		this.db = new Low(this.adapter, emptyDatabase());
		this.staleMs = options.staleMs ?? 10_000;
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
		store.adapter.skipNextValidation = options.deferValidation === true;
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
		this.adapter.validate(this.db.data);
	}

	/** The current data, re-read first if another process changed the file. Do not mutate it. */
	read(): Database {
		if (this.adapter.changedOnDisk()) {
			const data = this.adapter.readSync();
			if (data) this.db.data = data;
		}
		return this.db.data;
	}

	/** The data as last read, without touching the disk (for renders between refreshes). */
	get current(): Database {
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
	async transact<T>(change: (db: Database) => T): Promise<T> {
		const release = await this.lock();
		try {
			if (this.compromised) throw this.compromised;
			if (this.adapter.changedOnDisk()) {
				const fresh = this.adapter.readSync();
				if (fresh) this.db.data = fresh;
			}
			const before = this.adapter.lastText;
			let result: T;
			try {
				result = change(this.db.data);
				this.db.data.version += 1;
				validateForWrite(this.db.data);
				if (this.compromised) throw this.compromised;
				await this.db.write();
			} catch (error) {
				this.db.data = before ? (JSON.parse(before) as Database) : emptyDatabase();
				throw error;
			}
			return result;
		} finally {
			await release().catch(() => undefined);
		}
	}

	private async lock(): Promise<() => Promise<void>> {
		this.compromised = undefined;
		try {
			return await lockfile.lock(this.path, {
				lockfilePath: `${this.path}.lock`,
				realpath: false,
				stale: this.staleMs,
				update: Math.max(1000, Math.floor(this.staleMs / 4)),
				retries: {retries: 400, factor: 1.3, minTimeout: 2, maxTimeout: 60, randomize: true},
				onCompromised: error => {
					this.compromised = storeError(this.path, `the store lock was lost while writing (${error.message})`, 'try the change again');
				},
			});
		} catch (error) {
			throw storeError(this.path, `the store is locked by another orgctl that did not let go (${(error as Error).message})`, 'try again in a moment, or remove the stale lock folder ' + `${this.path}.lock` + ' if no orgctl is running');
		}
	}
}

function validateForWrite(data: Database): void {
	const parsed = databaseSchema.safeParse(data);
	if (!parsed.success) {
		const issue = parsed.error.issues[0]!;
		throw new OrgError('invalid', `The change was not saved: ${issue.path.join('.') || 'the data'} is invalid (${issue.message}).`);
	}
	const problem = checkInvariants(data);
	if (problem) throw new OrgError('invalid', `The change was not saved: ${problem}.`);
}
