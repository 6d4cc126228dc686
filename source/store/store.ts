import {randomBytes} from 'node:crypto';
import {accessSync, constants, mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {Low} from 'lowdb';
import type {OutboxClaim, StoreChange, StoreListener, StorePort} from '../core/context.js';
import {emptyDatabase, SCHEMA_VERSION, type Database, type OutboxItem} from '../core/model.js';
import {claimDueMail} from '../core/outbox.js';
import {AtomicJsonFile} from './atomic-file.js';
import {storeError} from './errors.js';
import {acquireLock} from './lock.js';
import {MIGRATIONS, type Migration} from './migrations.js';
import {safeStorePath, tightenStoreCopies} from './safe-place.js';
import {KeyFile} from './secrets.js';
import {cleanStrayTempFiles} from './temp-files.js';
import type {Validator} from './validated.js';
import {watchFile} from './watch.js';

export {AtomicJsonFile} from './atomic-file.js';
export {storeError} from './errors.js';
export {defaultStorePath} from './layout.js';
export {MIGRATIONS, type Migration} from './migrations.js';
export {cleanStrayTempFiles} from './temp-files.js';

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
	/**
	 * The clock of the composition root (the core's `now`): it dates the backup of the last good
	 * file, `orgctl.json.bak`, taken after a migration and once a day. The store reads no clock of
	 * its own, so without one it keeps no such backup.
	 */
	readonly now?: () => Date;
	/**
	 * The validation rules of this build (the bundle's VALIDATOR_ID). With it, and a key file, a
	 * file this build already validated opens without validating every record again (validated.ts).
	 */
	readonly validatorId?: string;
	/**
	 * This process reads the store and ends (a subcommand that only reads, such as `users list`):
	 * a first open of a file this build vouched for (validated.ts; its MAC is still proved over the
	 * bytes read) parses it in one JSON.parse and builds none of what only a committing or
	 * following process needs (where each line lies, each record's line, shared strings, the blocks'
	 * digests). Should it commit after all (a token's last use, a refusal audited), the commit reads
	 * the file again under the lock, as any commit does when the file changed, and patches it.
	 */
	readonly oneShot?: boolean;
};

/**
 * Up to this file size (about 30,000 users) each record's JSON line is kept in memory so a commit
 * need not serialise unchanged records: the 40 ms commit budget is set at 10,000 users, the 300 MB
 * memory budget at 100,000.
 */
const LINE_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * From this file size (about 25,000 users) a commit's copy is made on the copier thread
 * (copier.ts), at the price of that thread (about 10 MB, started at the first such commit); below
 * it the copy takes a few milliseconds where it is needed.
 */
const COPY_AHEAD_BYTES = 16 * 1024 * 1024;

/**
 * The one way into the database. Reads are served from memory and refreshed when the file changed;
 * every change goes through `transact`: inter-process lock, re-read if another process wrote,
 * apply, validate what changed, bump the version, atomic write, unlock. Subscribers hear of every
 * change, made here or elsewhere (StorePort.subscribe).
 */
export class Store implements StorePort {
	private readonly adapter: AtomicJsonFile;
	private readonly db: Low<Database>;
	private readonly lockTimeoutMs: number | undefined;
	/** Changes through this Store run one after another, so they never wait on their own lock. */
	private queue: Promise<unknown> = Promise.resolve();
	private readonly listeners = new Set<StoreListener>();
	/** Stops the watch on the file; set while anyone listens. */
	private stopWatching: (() => void) | undefined;
	/** Changes applied but not yet told: listeners hear of them after the read or commit that applied them. */
	private untold: StoreChange[] = [];
	private signalled = false;

	private constructor(
		readonly path: string,
		options: StoreOptions,
	) {
		this.adapter = new AtomicJsonFile(path, {
			migrations: options.migrations ?? MIGRATIONS,
			schemaVersion: options.schemaVersion ?? SCHEMA_VERSION,
			lineCacheBytes: options.lineCacheBytes ?? LINE_CACHE_BYTES,
			copyAheadBytes: COPY_AHEAD_BYTES,
			...(options.now ? {now: options.now} : {}),
			...(options.oneShot === true ? {oneShot: true} : {}),
		});
		this.db = new Low(this.adapter, {...emptyDatabase(), schemaVersion: options.schemaVersion ?? SCHEMA_VERSION} as Database);
		this.lockTimeoutMs = options.lockTimeoutMs;
	}

	/**
	 * Opens (and on first use creates) the store at `path`. Refuses, without touching it, a file that
	 * does not parse or validate or was written by a newer orgctl, and a place another user could
	 * change (safe-place.ts). A path through symbolic links is followed: `path` is then the real
	 * path, where the lock, temp files, key and backups live.
	 */
	/**
	 * Why a change could not land now, or undefined: the store file can be written and its folder
	 * takes a new file (a commit writes a temp file there and renames it). Two system calls and an
	 * empty file made and removed at once: cheap enough for every health check.
	 */
	writable(): string | undefined {
		const probe = join(dirname(this.path), `.${basename(this.path)}.health-${process.pid}-${randomBytes(6).toString('hex')}`);
		try {
			accessSync(this.path, constants.W_OK);
			writeFileSync(probe, '', {flag: 'wx', mode: 0o600});
			rmSync(probe, {force: true});
			return undefined;
		} catch (error) {
			return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
		}
	}

	static async open(path: string, options: StoreOptions = {}): Promise<Store> {
		const absolute = resolve(path);
		try {
			mkdirSync(dirname(absolute), {recursive: true, mode: 0o700});
		} catch (error) {
			throw storeError(absolute, `its folder cannot be created (${(error as Error).message})`, 'choose another path with --store');
		}
		const real = safeStorePath(absolute);
		cleanStrayTempFiles(real);
		tightenStoreCopies(real);
		const store = new Store(real, options);
		store.adapter.records.trustNextRead = options.deferValidation === true;
		if (options.validatorId !== undefined) store.adapter.validator = validatorFor(real, options.validatorId, options.schemaVersion ?? SCHEMA_VERSION);
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
		this.pickUp();
		return this.db.data;
	}

	/** Stops watching the file (the lock is taken per transaction: nothing else is held). */
	async close(): Promise<void> {
		this.listeners.clear();
		this.stopWatching?.();
		this.stopWatching = undefined;
	}

	subscribe(listener: StoreListener): () => void {
		this.listeners.add(listener);
		this.stopWatching ??= watchFile(this.path, () => {
			this.signal();
		});
		return () => {
			this.listeners.delete(listener);
			if (this.listeners.size > 0) return;
			this.stopWatching?.();
			this.stopWatching = undefined;
		};
	}

	refresh(): Promise<void> {
		try {
			this.pickUp();
			return Promise.resolve();
		} catch (error) {
			return Promise.reject(error as Error);
		}
	}

	/** The file may have changed: look once, soon (a commit elsewhere sends several events). */
	private signal(): void {
		if (this.signalled) return;
		this.signalled = true;
		setImmediate(() => {
			this.signalled = false;
			try {
				this.pickUp();
			} catch (error) {
				for (const listener of [...this.listeners]) listener.failed(error as Error);
			}
		});
	}

	/**
	 * Applies what another process committed, if the file changed since it was last read or written
	 * here (or, `committing`, after a lean read: see StoreOptions.oneShot). A commit under way does not mind: it re-reads under the lock before it changes anything.
	 * `committing`: that re-read, a commit following at once (the copy it patches may start early).
	 */
	private pickUp(committing = false): void {
		// A commit after a lean read reads the file again even unchanged: it needs to know where the lines lie to patch them.
		if (!this.adapter.changedOnDisk() && !(committing && this.adapter.lean)) return;
		const data = this.adapter.readSync(this.db.data, committing);
		if (!data) return;
		const changed = data !== this.db.data;
		this.db.data = data;
		if (changed) this.tell(changeOf(data.version, this.adapter.lastChange));
	}

	/** Queues `change` for the listeners, who hear of it once the read or commit that made it is over. */
	private tell(change: StoreChange): void {
		if (this.listeners.size === 0) return;
		this.untold.push(change);
		if (this.untold.length > 1) return;
		queueMicrotask(() => {
			const changes = this.untold;
			this.untold = [];
			for (const told of changes) for (const listener of [...this.listeners]) listener.changed(told);
		});
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

	/** Claims the due outbox messages in one transaction: the lock keeps two processes from claiming the same one. */
	claimOutbox(claim: OutboxClaim): Promise<OutboxItem[]> {
		return this.transact(db => claimDueMail(db, claim));
	}

	private async commit<T>(change: (db: Database) => T): Promise<T> {
		const release = await acquireLock(this.path, {timeoutMs: this.lockTimeoutMs});
		try {
			cleanStrayTempFiles(this.path);
			this.pickUp(true);
			// Records a trusted read took unchecked are checked first, as validate() and a checking open check them: a record
			// with a field no schema knows is cleaned, not refused as a change's own would be ('unknown field'), and nothing
			// unchecked is written back. A file that does not validate is refused here as a checking open refuses it.
			if (this.adapter.records.trusted) this.validate();
			// The copy a patched commit makes of the file just re-read is started now, on a thread of its own, and waited for only when the patch is ready.
			this.adapter.startCopy();
			const before = this.adapter.records.snapshot(this.db.data);
			try {
				const result = change(this.db.data);
				if (result instanceof Promise) {
					result.catch(() => undefined);
					throw new TypeError('A store change must be synchronous: it ran outside the lock.');
				}
				this.db.data.version = before.version + 1;
				await this.db.write();
				this.tell(changeOf(this.db.data.version, this.adapter.lastChange));
				return result;
			} catch (error) {
				this.db.data = this.adapter.records.restore(before);
				throw error;
			}
		} finally {
			this.adapter.dropCopy();
			release();
		}
	}
}

/** The validator of the store at `path`, when its key file is there and sound (else none: every open checks everything). */
function validatorFor(path: string, id: string, schemaVersion: number): Validator | undefined {
	try {
		const keys = KeyFile.inspect(path);
		return typeof keys === 'object' ? {id, schemaVersion, key: keys.derive('orgctl validated store')} : undefined;
	} catch {
		// The key file's problems are reported where it is loaded for its secrets.
		return undefined;
	}
}

/** What the file store found changed, as the StorePort tells it. */
function changeOf(version: number, change: AtomicJsonFile['lastChange']): StoreChange {
	if (!change) return {version, lists: undefined, settings: true};
	return {version, lists: Object.fromEntries(change.lists) as StoreChange['lists'], settings: change.settings};
}
