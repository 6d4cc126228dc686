import {randomBytes} from 'node:crypto';
import {closeSync, constants, copyFileSync, fchmodSync, fstatSync, fsyncSync, ftruncateSync, futimesSync, openSync, readSync, renameSync, type BigIntStats} from 'node:fs';
import {dirname} from 'node:path';
import type {Adapter} from 'lowdb';
import {OrgError} from '../core/errors.js';
import type {Database} from '../core/model.js';
import {refusedChange, storeError} from './errors.js';
import {backupDue, takeBackup} from './backup.js';
import {asIndex, boundTo, chooseMtime, entriesSince, fileKey, INDEX_PREFIX, newStateId, nextLog, parseIndex, statStateId, touchedBy, type ChangeIndex, type LogEntry} from './change-index.js';
import {removeTemp, startCopy, type CopyJob} from './copier.js';
import {ChunkWriter, FileLines, fsyncDirectory, readAt, readBytes, readText, readWhole, TextLines, writeAt} from './file-io.js';
import {followedLayout} from './follow-layout.js';
import {tempPathOf} from './layout.js';
import {migrateFile, type Migration} from './migrations.js';
import {Invalid, RecordLines, textLines, type Applied, type Commit, type Layout, type LineSource} from './record-lines.js';
import {assertOwnedFile} from './safe-place.js';
import {headerVersion, holdStampAt, sameStamp, stampOf, statUnchanged, type Stamp} from './stamp.js';
import {startHasher, sameBlocksOf} from './hasher.js';
import {macOfBlocks, patchedBlocks, recordDigest, startDigest, vouchedFor, type Validator} from './validated.js';

export type AtomicJsonFileOptions = {
	readonly migrations: readonly Migration[];
	/** The schema version this build writes. */
	readonly schemaVersion: number;
	/** Up to this file size each record's line is kept in memory. */
	readonly lineCacheBytes: number;
	/** From this file size a commit's copy is made on the copier thread while the change is worked out (copier.ts); none without. */
	readonly copyAheadBytes?: number;
	/** The store's clock, for the daily backup (backup.ts); without one, no backup is taken. */
	readonly now?: () => Date;
	/** A process that reads and ends (StoreOptions.oneShot): a first read of a vouched file builds nothing for later commits. */
	readonly oneShot?: boolean;
};

type Digest = ReturnType<typeof startDigest>;

/** The steps of a commit that patches a copy of the file: copied, lines written over it, fsynced, renamed over the store. */
export type PatchStep = 'copy' | 'patch' | 'sync' | 'rename';

const RECOVER = 'restore it from a backup or move it aside to start afresh (the file was not changed)';

/** The end of the file holds the index of recent changes: read this much of it first, and at most this much. */
const TAIL_BYTES = 64 * 1024;
const LONGEST_INDEX = 2 * 1024 * 1024;

/**
 * Up to this size a one-shot read of a vouched file reads it whole ({@link AtomicJsonFile.readVouched}).
 * Above it, bytes, text and records would be in memory at once, for no time saved: at 100,000
 * users (48 MB) `orgctl users list` peaked at 376 MB read whole against 263 MB line by line, in
 * 0.9 s either way.
 */
const LEAN_READ_BYTES = 16n * 1024n * 1024n;

/** Which state of the data this process holds: the id a commit names as its parent, and the index that came with it. */
type Lineage = {readonly id: string; readonly index: ChangeIndex | undefined};

/** What this process knew of the file it held, as a re-read begins: its stamp, where its lines lie (if known), its blocks' SHA-256 (if hashed). */
type Held = {readonly stamp: Stamp | undefined; readonly layout: Layout | undefined; readonly blocks: Buffer[] | undefined; readonly unread?: boolean};

/** What a follower learnt of the file another process's patched commit left: where its lines lie, its blocks' SHA-256 (with a validator), some of them of bytes not read here ({@link AtomicJsonFile.unread}). */
type Learnt = {readonly layout: Layout; readonly blocks: Buffer[] | undefined; readonly unread: true};

/**
 * lowdb adapter for one JSON file that never leaves a half-written file: it writes a uniquely
 * named temp file, fsyncs it, renames it over the store and fsyncs the folder. lowdb's own
 * TextFile adapter shares one temp name between processes (measured: six concurrent writers
 * corrupted the file in 5 of 5 runs), which is why it is not used.
 *
 * When this process wrote the file on disk and the change only edits records in place or adds
 * them at the end of their lists, the temp file is a copy of the store made by the kernel, with
 * the changed lines written over it (record-lines.ts `patch`) and a new index of recent changes:
 * at 100,000 users that is a 60 MB copy instead of serialising, encoding, hashing and writing
 * 60 MB. It is fsynced and renamed over the store like any other: no reader, and no crash, ever
 * sees a file that is not whole; the store file itself is never written in place.
 */
/** Whether `stat` describes the very file `stamp` was taken of, as it was then (inode, size, mtime, ctime). */
function sameFileAs(stat: BigIntStats, stamp: Stamp | undefined): boolean {
	return stamp !== undefined && stat.ino === stamp.ino && stat.size === stamp.size && stat.mtimeNs === stamp.mtimeNs && stat.ctimeNs === stamp.ctimeNs;
}

export class AtomicJsonFile implements Adapter<Database> {
	/** The file as last read or written here; undefined before the first read or when it did not exist. */
	private stamp: Stamp | undefined;
	/** Set when the last read migrated an older schema in memory, so it must be written back. */
	migrated = false;
	readonly records: RecordLines;
	/**
	 * Set by the store when it has a key file and a build id: a first read trusts bytes whose MAC
	 * this build recorded (validated.ts), and every validated read or write records one.
	 */
	validator: Validator | undefined;
	/** The MAC of the bytes of a trusted first read not yet verified: recorded once verify() passes. */
	private pendingDigest: Buffer | undefined;
	/** The state of the data last read or written here; undefined before the first read. */
	private lineage: Lineage | undefined;
	/** What the last read or write changed (undefined: it read the whole file, so anything may have). */
	lastChange: Applied['change'];
	/**
	 * Where the data lies in the file this process wrote last (record-lines.ts Layout), while that
	 * file is the one on disk: {@link stamp} is then {@link layoutOf}, the very stamp that write
	 * left (every read makes a new one). With it, a commit patches a copy of the file.
	 */
	private layout: Layout | undefined;
	private layoutOf: Stamp | undefined;
	/** The SHA-256 of each block of the file {@link stamp} describes (validated.ts), when a validator is set and they are known. */
	private blocks: Buffer[] | undefined;
	/**
	 * Some of {@link blocks} are this process's digests of blocks that another process's commit left
	 * as they were, in a file nobody here has read since: a commit here hashes the file first and
	 * patches only if every block is as held (see {@link learn}).
	 */
	private unread = false;
	/** The copy of the file {@link stamp} describes, started by {@link startCopy} for the commit under way. */
	private early: {readonly job: CopyJob; readonly of: Stamp} | undefined;
	/**
	 * Set by a one-shot first read of a vouched file ({@link readVouched}): the data is the file's,
	 * but nothing a commit builds on is known (where the lines lie, the index's lineage, the
	 * blocks' digests). A commit first reads the file again, under the lock ({@link lean}).
	 */
	private leanRead = false;
	/** Tests: called after each step of a commit that patches a copy, to stop the process there. */
	static onPatchStep: ((step: PatchStep) => void) | undefined;
	/** Tests: when set, the file size from which every store of the process copies ahead (0: always), whatever its options say. */
	static copyAheadFrom: number | undefined;

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
	 * line did not change are reused without parsing or validating them again. `forCommit`: a commit
	 * under the lock follows at once, and may have its copy started while the bytes are compared.
	 */
	readSync(previous?: Database, forCommit = false): Database | null {
		let data: Database;
		let stat: BigIntStats;
		let version: number | undefined;
		// Only a first read looks for a digest: a re-read already checks only the lines that changed.
		const validator = previous === undefined ? this.validator : undefined;
		const deferred = this.records.trustNextRead;
		let digest: Digest | undefined;
		let mac: Buffer | undefined;
		let read: Layout | undefined;
		let vouched: boolean;
		const held: Held = {stamp: this.stamp, layout: this.layoutOf !== undefined && this.layoutOf === this.stamp ? this.layout : undefined, blocks: this.blocks, unread: this.unread};
		// After a lean read (no lineage, layout or blocks held) a re-read reads every line, reusing the records that are as they were.
		this.leanRead = false;
		// The digest waiting for verify() is the MAC of the bytes the first read took. After a re-read the data verify()
		// checks may be another file's, and vouching for those first bytes would vouch for bytes nothing checked
		// (red team: a console's deferred check passed on a file put right meanwhile, and the hand edit it first read,
		// put back, was then trusted). Dropped: the next process checks the file and vouches for it.
		if (previous !== undefined) this.pendingDigest = undefined;
		// Whatever this read finds, the file it patches is no longer the one a layout describes (unless proved below).
		this.layout = undefined;
		this.layoutOf = undefined;
		this.blocks = undefined;
		this.unread = false;
		if (validator) this.records.trustNextRead = true;
		try {
			// Opened without blocking, and read only if it is a regular file: a FIFO put in its place held every orgctl process
			// at its open for ever (red team redteam21), and a device would be read without end.
			const fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
			try {
				// fstat, not stat: the stamp must describe the file whose text is read, even if another
				// process renames a new one into place meanwhile.
				stat = fstatSync(fd, {bigint: true});
				if (!stat.isFile()) throw storeError(this.path, 'it is not a regular file', `move it aside (mv ${this.path} ${this.path}.aside) and put the store file back`);
				assertOwnedFile(this.path, 'store file', this.path, stat);
				if (validator && this.options.oneShot === true && !deferred && stat.size <= LEAN_READ_BYTES) {
					const vouched = this.readVouched(fd, stat, validator);
					if (vouched) return vouched;
				}
				const followed = previous ? this.fromIndex(fd, stat, previous, held) : undefined;
				if (followed) {
					this.stamp = stampOf(stat, followed.applied.db.version);
					this.lastChange = followed.applied.change;
					if (followed.entries.length === 0) this.keep(held);
					else if (followed.learnt && this.records.asRead) this.keep({stamp: this.stamp, ...followed.learnt});
					if (forCommit && this.unread) this.readUnread(fd, stat);
					return followed.applied.db;
				}
				if (previous && held.blocks && held.stamp && stat.size === held.stamp.size) {
					const same = stampOf(stat, held.stamp.version);
					// A commit that will patch this file, if its bytes are the ones held, has its copy started before they are compared
					// (the stamp compared before its rename was taken above, before the copy and the compare).
					if (forCommit && held.layout) this.copyAhead(same);
					if (sameBlocksOf(fd, Number(stat.size), held.blocks)) {
						// The stat moved but not one byte did (touched, chmod, copied back): the state held is the file's.
						this.stamp = same;
						this.lastChange = {lists: new Map(), settings: false};
						// Every block was just read and found as held.
						this.keep({...held, unread: false});
						return previous;
					}
					this.dropCopy();
				}
				version = headerVersion(fd);
				this.records.keepLines = Number(stat.size) <= this.options.lineCacheBytes;
				// Our own layout is read line by line; anything else is read whole and parsed whole.
				// Every block is hashed as it is read (a re-read too): the MAC a commit that patches this file needs.
				const hasher = this.validator;
				digest = hasher && startDigest(hasher);
				// A first read that keeps every line keeps the whole text anyway: it is read in one piece (file-io.ts TextLines).
				const whole = previous === undefined && this.records.keepLines ? readText(fd, Number(stat.size), digest && (bytes => digest!.update(bytes))) : undefined;
				const source = whole ? new TextLines(whole.text, whole.ascii) : new FileLines(fd, digest && (bytes => digest!.update(bytes)));
				// Bytes this build vouched for all parse and pass the checks: the lists a first frame does not show are parsed when first read.
				vouched = whole !== undefined && validator !== undefined && digest !== undefined && vouchedFor(this.path, digest.digest());
				this.records.lazyNextRead = vouched;
				let lines = this.fromLines(source, previous);
				// Lists left to parse when first read stay so only in a file as orgctl's writer left it (every line in the form a
				// commit writes, the index of recent changes bound to it): each of their lines is then one record's JSON. In any other
				// (a hand edit checked whole and vouched for) they are parsed now, and a line that does not parse sends the read to
				// the whole text, as it would have before.
				if (lines && !this.writtenAsRead(stat) && !this.parseLazyNow()) lines = undefined;
				data =
					lines ??
					this.parse(
						whole?.text ?? readWhole(fd, Number(stat.size), hasher && (bytes => (digest = startDigest(hasher).update(bytes)))),
						previous,
						false,
					);
				this.lineage = this.lineageOf(lines ? this.records.indexLine : undefined, stat);
				this.lastChange = undefined;
				mac = digest?.digest();
				// A commit may patch a copy of this very file: where its lines are is known, and the index is bound to it.
				const layout = lines ? this.records.readLayout : undefined;
				if (layout !== undefined && this.lineage.index?.at === layout.indexAt && (hasher === undefined || digest !== undefined)) read = layout;
			} finally {
				closeSync(fd);
			}
		} catch (error) {
			this.dropCopy();
			this.records.trustNextRead = deferred;
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				this.stamp = undefined;
				this.lineage = undefined;
				return null;
			}
			if (error instanceof OrgError) throw error;
			throw storeError(this.path, `it cannot be read (${(error as Error).message})`, 'check its owner and permissions');
		}
		this.stamp = stampOf(stat, version);
		this.blocks = digest?.blocks;
		if (read) {
			this.layout = read;
			this.layoutOf = this.stamp;
		}
		if (validator && mac && this.records.trusted) this.settleTrust(data, mac, deferred, vouched);
		return data;
	}

	/**
	 * A one-shot process's first read (StoreOptions.oneShot): the file's bytes read whole and their
	 * MAC computed from those very bytes; only when the digest beside the store vouches for that MAC
	 * are they parsed, in one JSON.parse, and taken as the data (record-lines.ts fromVouched), with
	 * none of what a committing or following process builds. Undefined otherwise (no digest, a stale
	 * or forged one, an edit made after it, with its mtime put back or not): the caller reads the
	 * file as any first read does, checking it. A file whose text holds U+FFFD is left to that read
	 * too: bytes that are not UTF-8 might decode otherwise whole than in the pieces it was checked in.
	 */
	private readVouched(fd: number, stat: BigIntStats, validator: Validator): Database | undefined {
		let digest: Digest | undefined;
		const text = readWhole(fd, Number(stat.size), bytes => (digest = startDigest(validator).update(bytes)));
		if (!digest || !vouchedFor(this.path, digest.digest()) || text.includes('\uFFFD')) return undefined;
		let raw: unknown;
		try {
			raw = JSON.parse(text);
		} catch {
			return undefined;
		}
		const data = this.records.fromVouched(raw);
		if (!data) return undefined;
		this.stamp = stampOf(stat, headerVersion(fd));
		this.lineage = undefined;
		this.lastChange = undefined;
		this.migrated = false;
		this.leanRead = true;
		return data;
	}

	/** Whether the data was read lean ({@link readVouched}): a commit then reads the file again first, under the lock, to patch it. */
	get lean(): boolean {
		return this.leanRead;
	}

	/**
	 * After a trusted first read: the digest vouches for these bytes, or they are checked now (or,
	 * for a deferred open, by verify()) and then vouched for, so the next process need not check them.
	 */
	private settleTrust(data: Database, digest: Buffer, deferred: boolean, vouched: boolean): void {
		if (vouched || vouchedFor(this.path, digest)) {
			this.records.vouched();
			return;
		}
		this.pendingDigest = digest;
		if (!deferred) this.verify(data);
	}

	/**
	 * Brings `previous` to the file's state by reading only what changed since, when the file's
	 * index of recent changes is bound to it and reaches back to the state held here; undefined
	 * otherwise (the whole file is read).
	 */
	private fromIndex(fd: number, stat: BigIntStats, previous: Database, held: Held): {applied: Applied; entries: readonly LogEntry[]; learnt: Learnt | undefined} | undefined {
		const from = this.lineage;
		if (!from) return undefined;
		const tail = readIndex(fd, Number(stat.size));
		if (!tail || !boundTo(tail.index, stat, tail.at)) return undefined;
		const entries = entriesSince(tail.index, from.id);
		if (!entries) return undefined;
		// No commit since the state held here, yet the file is not as it was left (its size, mtime or
		// ctime moved on the same inode): written in place by something else, perhaps with its mtime
		// put back. What it holds now is read whole, and checked, rather than taken to be what was
		// held (red team: a running console then committed over a hand edit unseen).
		if (entries.length === 0 && !sameFileAs(stat, this.stamp)) return undefined;
		let learnt: Learnt | undefined;
		if (entries.length > 0) {
			const outcome = this.learn(held, tail.index, entries, fd, stat);
			if (outcome === 'not as written') return undefined;
			learnt = outcome;
		}
		const applied = entries.length === 0 ? {db: previous, change: {lists: new Map(), settings: false}} : this.appliedFrom(previous, tail.index, entries, fd);
		if (!applied) return undefined;
		this.lineage = {id: tail.index.head, index: tail.index};
		return {applied, entries, learnt};
	}

	/** The file read is the one held, byte for byte: where its lines lie and its blocks' digests still hold, for the new stamp. */
	private keep(held: Held): void {
		this.blocks = held.blocks;
		this.unread = held.unread === true && held.blocks !== undefined;
		if (held.layout === undefined) return;
		this.layout = held.layout;
		this.layoutOf = this.stamp;
	}

	/**
	 * Before a commit patches a copy of the file: the blocks it holds digests of without having read
	 * them are hashed from the file (as a touched file's are, with the copy started meanwhile), and
	 * the commit patches only if every one is as held; otherwise nothing is kept to patch from, and it
	 * writes the whole file from the data it checked. At 100,000 users that is about the cost of the
	 * file read once, against the whole write it saves.
	 */
	private readUnread(fd: number, stat: BigIntStats): void {
		if (this.layout) this.copyAhead(this.stamp!);
		if (sameBlocksOf(fd, Number(stat.size), this.blocks!)) {
			this.unread = false;
			return;
		}
		this.dropCopy();
		this.layout = undefined;
		this.layoutOf = undefined;
		this.blocks = undefined;
		this.unread = false;
	}

	/**
	 * Before applying another process's commit from the index: when that commit patched a copy of
	 * the very file held here, works out where the lines of the new one lie (follow-layout.ts) and
	 * the digests of its blocks (those the commit wrote into, and from the index on, hashed again
	 * from the file). Undefined when that cannot be proved (nothing learnt: the next commit writes the
	 * whole file). Without a validator nothing is learnt (see below); with one, the blocks the
	 * commit left as they were are this process's digests of bytes it has not read here, which a
	 * commit here hashes again before it patches ({@link readUnread}).
	 *
	 * With a validator it also proves the file is the one its writer validated: the digest that
	 * writer put beside the store must be the MAC of those blocks. An edit written in place after
	 * that commit, with its mtime put back (`cp -p`, `rsync --inplace -t`), keeps the index bound to
	 * the file; in a block the commit wrote it changes that block's digest, and the file is then read
	 * whole ('not as written') rather than followed past unseen and vouched for (red team).
	 */
	private learn(held: Held, index: ChangeIndex, entries: readonly LogEntry[], fd: number, stat: BigIntStats): Learnt | 'not as written' | undefined {
		// Without a validator nothing proves the bytes outside the ranges that commit wrote are still those held here: an
		// edit in place there, its mtime put back, keeps the index bound to the file, and a commit here that patched a
		// copy would carry it into its file unchecked and acknowledge a file a checking open refuses (red team,
		// test/store-trusted-read-redteam). So nothing is learnt: the next commit here writes the whole file, from data that was checked.
		if (!held.layout || !held.stamp || this.migrated || this.validator === undefined || !held.blocks) return undefined;
		const read = (offset: number, length: number) => readBytes(fd, offset, length);
		const followed = followedLayout(held.layout, fileKey(held.stamp), index, entries, read);
		if (!followed) return undefined;
		const blocks = patchedBlocks(held.blocks, Number(stat.size), followed.ranges, index.at, read);
		if (!vouchedFor(this.path, macOfBlocks(this.validator, Number(stat.size), blocks))) return 'not as written';
		// The MAC proves only the blocks its writer hashed: the others are this process's digests of the file it held, and
		// the bytes there in the new file were read by nobody since its rename. An edit in place there, its mtime put
		// back, leaves the MAC matching; a commit here that patched a copy would then vouch for those bytes, and carry
		// them into its file unchecked (red team, test/store-trusted-read-redteam). So they are kept as unread: a commit
		// here hashes the file before it patches ({@link readUnread}), and writes the whole file if one block differs.
		return {layout: followed.layout, blocks, unread: true};
	}

	private appliedFrom(previous: Database, index: ChangeIndex, entries: readonly LogEntry[], fd: number): Applied | undefined {
		try {
			return this.records.fromIndex(previous, index, entries, (offset, length) => readAt(fd, offset, length));
		} catch (error) {
			if (error instanceof Invalid) throw this.refuse(error);
			throw error;
		}
	}

	/** The state a file read whole holds: its index's head when the index is bound to it, else one named by its stat. */
	private lineageOf(indexLine: string | undefined, stat: BigIntStats): Lineage {
		const index = indexLine === undefined ? undefined : asIndex(this.records.indexValue);
		// The line is the file's last but one; the file ends with "\n}\n".
		const at = indexLine === undefined ? -1 : Number(stat.size) - Buffer.byteLength(indexLine) - 3;
		return index && boundTo(index, stat, at) ? {id: index.head, index} : {id: statStateId(stat), index: undefined};
	}

	/** Whether the file the last fromLines() read is laid out as a commit writes, and its index of recent changes bound to it. */
	private writtenAsRead(stat: BigIntStats): boolean {
		const layout = this.records.readLayout;
		return layout !== undefined && this.lineageOf(this.records.indexLine, stat).index?.at === layout.indexAt;
	}

	/** {@link RecordLines.parseLazyNow}, a record that fails its schema refusing the file as any read does. */
	private parseLazyNow(): boolean {
		try {
			return this.records.parseLazyNow();
		} catch (error) {
			if (error instanceof Invalid) throw this.refuse(error);
			throw error;
		}
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
		const digest = this.pendingDigest;
		this.pendingDigest = undefined;
		try {
			// A check that replaced a record has data other than the bytes: nothing to vouch for then, nor to patch.
			const asRead = this.records.verify(data);
			if (!asRead) this.layout = undefined;
			if (asRead && digest) recordDigest(this.path, digest);
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

	/**
	 * Validates what changed, then replaces the file atomically and durably. The new file ends with
	 * the index of recent changes (change-index.ts): this commit's entry after those of the file it
	 * replaces, bound to the new file by its inode, the offset of the index line and an mtime the
	 * index records and futimes then sets.
	 */
	writeSync(data: Database): void {
		const dir = dirname(this.path);
		const previous = this.lineage?.index;
		const indexed = touchedBy(previous?.log ?? []);
		// The copy started for this commit, if it is of the file this commit is made on.
		const early = this.early && this.early.of === this.stamp ? this.early.job : undefined;
		if (!early) this.dropCopy();
		this.early = undefined;
		let temp = early?.temp ?? tempPathOf(this.path, randomBytes(6).toString('hex'));
		let commit: Commit;
		let bound: Lineage | undefined;
		let fd: number | undefined;
		let mac: Buffer | undefined;
		let blocks: Buffer[] | undefined;
		let layout: Layout | undefined;
		/** For a patched copy: the byte ranges written over it (offset, length). */
		let ranges: number[] | undefined;
		let plan: ReturnType<RecordLines['patch']>;
		let written: BigIntStats;
		let held: (() => void) | undefined;
		try {
			plan = this.patchable() ? this.records.patch(data, this.layout!, indexed, previous?.where) : undefined;
			if (!plan) early?.drop();
			fd = plan ? (early ? this.copyTaken(early) : this.copyOpen(temp)) : undefined;
			// No copy to patch: the file is written whole under a name of its own, not the one a copy was tried at (whatever
			// sits there now, a folder put there by someone racing for it, is not this commit's file).
			if (fd === undefined && (early || plan)) temp = tempPathOf(this.path, randomBytes(6).toString('hex'));
			let writer: ChunkWriter;
			const digest = fd === undefined && this.validator ? startDigest(this.validator) : undefined;
			if (plan && fd !== undefined) {
				// A copy of the file this process wrote last, made by the kernel, with the lines that changed written over it.
				commit = plan.commit;
				ranges = [];
				for (const [offset, text] of plan.writes) {
					const bytes = Buffer.from(text);
					writeAt(fd, bytes, offset);
					ranges.push(offset, bytes.length);
				}
				AtomicJsonFile.onPatchStep?.('patch');
				// The index of recent changes replaces the old one, from where it started, and the file ends there.
				writer = new ChunkWriter(fd, undefined, this.layout!.indexAt);
			} else {
				fd = openSync(temp, 'wx', 0o600);
				writer = new ChunkWriter(fd, digest && (bytes => digest.update(bytes)));
				commit = this.records.serialize(data, writer, indexed);
			}
			const ino = fstatSync(fd, {bigint: true}).ino;
			const own: LogEntry = {
				id: newStateId(),
				parent: this.lineage?.id ?? null,
				version: data.version,
				touched: Object.fromEntries([...commit.touched].map(([section, keys]) => [section, [...keys]])),
				// A patched copy names the file it copied: a follower that knows where that file's lines lie knows this one's.
				...(ranges && this.stamp ? {patchOf: fileKey(this.stamp)} : {}),
			};
			// A list sorted or moved about cannot be told as records touched: readers read the file whole, once.
			const log = commit.change && nextLog(previous?.log ?? [], own);
			let index: ChangeIndex | undefined;
			let mtime: ReturnType<typeof chooseMtime> | undefined;
			if (log) {
				const kept = touchedBy(log);
				const where: Record<string, Record<string, readonly number[]>> = {};
				for (const [section, keys] of commit.where) {
					const wanted = kept.get(section);
					if (!wanted) continue;
					const placed: Record<string, readonly number[]> = {};
					for (const [key, triples] of keys) if (wanted.has(key)) placed[key] = triples;
					where[section] = placed;
				}
				// The time the kernel gave the file as it was written, never at or before the mtime it replaces.
				writer.flush();
				mtime = chooseMtime(fstatSync(fd, {bigint: true}).mtimeNs, this.stamp?.mtimeNs);
				// A patched copy keeps the comma and line break that end the data.
				if (!ranges) writer.write(',\n');
				index = {version: data.version, head: own.id, ino: String(ino), mtime: String(mtime.ns), at: writer.position, counts: commit.counts, log, where};
				writer.write(INDEX_PREFIX + JSON.stringify(index));
			} else if (ranges) {
				// More records changed than an index names (MAX_INDEXED_KEYS): readers must read this file whole, so it is written whole.
				throw new NotIndexable();
			}
			writer.write('\n}\n');
			writer.flush();
			if (ranges) {
				ftruncateSync(fd, writer.position);
				if (this.validator && this.blocks) {
					blocks = patchedBlocks(this.blocks, writer.position, ranges, this.layout!.indexAt, (offset, length) => readBytes(fd!, offset, length));
					mac = macOfBlocks(this.validator, writer.position, blocks);
				}
			} else if (digest) {
				mac = digest.digest();
				blocks = digest.blocks;
			}
			// The next commit may patch this file: only if the index follows the data, where it can be replaced.
			if (index) layout = {...commit.layout, indexAt: index.at};
			if (mtime) futimesSync(fd, mtime.toSeconds, mtime.toSeconds);
			fsyncSync(fd);
			if (ranges) AtomicJsonFile.onPatchStep?.('sync');
			// A file system that keeps coarser times than microseconds cannot bind the index: readers read whole files there.
			if (index && mtime && fstatSync(fd, {bigint: true}).mtimeNs === mtime.ns) bound = {id: own.id, index};
			// Vouched for before it is in place, so that a process following this commit (it reads the file once renamed) finds
			// the digest of these very bytes beside it. A digest of bytes that never land vouches for nothing any reader sees.
			if (mac) recordDigest(this.path, mac);
			// The lock makes this hold; checking costs an fstat and 64 bytes, and proves it: a change
			// is acknowledged only if it replaced the very version it was made on (and, for a patched
			// copy, that the copy was made of that version: any other write to it changes its stamp).
			// The file replaced stays open until the commit is over (holdStampAt): the kernel frees its blocks off the commit's path.
			const now = holdStampAt(this.path);
			held = now?.release;
			if (!sameStamp(now?.stamp, this.stamp)) throw new ChangedUnderneath();
			// rename() would replace a read-only file as easily as any other (it asks the folder, not
			// the file) and leave a writable one: whoever made it read-only meant to stop changes.
			if (now && (Number(now.stat.mode) & 0o200) === 0) throw new ReadOnly(Number(now.stat.mode));
			const clock = this.options.now?.();
			// A store nobody has signed up to yet (before `orgctl init`) is not worth keeping.
			if (clock && (this.migrated || (data.users.length > 0 && backupDue(this.path, clock)))) takeBackup(this.path, temp, clock);
			renameSync(temp, this.path);
			// The stamp of the file this process wrote, from its own descriptor at once: a look at the path later could see
			// another program's file put in place meanwhile (red team: then taken for this commit's and patched over).
			written = fstatSync(fd, {bigint: true});
			closeSync(fd);
			fd = undefined;
			if (ranges) AtomicJsonFile.onPatchStep?.('rename');
		} catch (error) {
			held?.();
			early?.drop();
			// A patch plan has updated the layout's arrays (record-lines.ts ListSlots): if its commit did not land, they describe no file.
			if (plan) {
				this.layout = undefined;
				this.layoutOf = undefined;
			}
			if (fd !== undefined) {
				try {
					closeSync(fd);
				} catch {
					// Closed already.
				}
			}
			removeTemp(temp);
			if (error instanceof NotIndexable) {
				this.writeSync(data);
				return;
			}
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
		try {
			fsyncDirectory(dir);
		} finally {
			held?.();
		}
		// Every record written was checked (serialize, patch), and the rest of a patched copy is bytes this process wrote and checked: validated state.
		this.pendingDigest = undefined;
		const change = this.records.committed(data, commit.lines, commit.change);
		this.stamp = stampOf(written, data.version);
		this.lineage = bound ?? {id: statStateId(written), index: undefined};
		this.lastChange = change;
		this.records.keepLines = Number(written.size) <= this.options.lineCacheBytes;
		this.migrated = false;
		this.layout = layout;
		this.layoutOf = layout ? this.stamp : undefined;
		this.blocks = blocks;
	}

	/** Whether the next commit may patch a copy of the file on disk: this process wrote it last, and nothing since has read another. */
	private patchable(): boolean {
		return this.layout !== undefined && this.layoutOf !== undefined && this.layoutOf === this.stamp && !this.migrated && (this.validator === undefined || (this.blocks !== undefined && !this.unread));
	}

	/**
	 * Starts the copy a commit that patches will need, on the copier thread, for a file of at least
	 * `copyAheadBytes`: called under the lock once the file is re-read, before the change is made
	 * (store.ts). The commit takes it (writeSync) or {@link dropCopy} discards it.
	 */
	startCopy(): void {
		if (this.patchable()) this.copyAhead(this.stamp!);
	}

	/** Starts the copy of the file `of` describes (the one at the path now), for a file of at least `copyAheadBytes`. */
	private copyAhead(of: Stamp): void {
		const from = AtomicJsonFile.copyAheadFrom ?? this.options.copyAheadBytes;
		if (this.early || from === undefined || this.migrated || of.size < BigInt(from)) return;
		const job = startCopy(this.path, tempPathOf(this.path, randomBytes(6).toString('hex')), Number(of.size));
		// A file this large is compared block by block on two threads (hasher.ts) when it was touched or another process wrote it.
		startHasher();
		if (job) this.early = {job, of};
	}

	/** Discards a copy started and not used (the change threw, or nothing was written). */
	dropCopy(): void {
		this.early?.job.drop();
		this.early = undefined;
	}

	/** The copy the copier thread made (copier.ts: checked as {@link copyOpen} checks its own, and fsynced), open; undefined if it failed. */
	private copyTaken(job: CopyJob): number | undefined {
		const fd = job.take();
		if (fd !== undefined) AtomicJsonFile.onPatchStep?.('copy');
		return fd;
	}

	/**
	 * Copies the store file into `temp` in the kernel (copy_file_range: no byte passes through this
	 * process) and opens the copy to patch it; undefined when that fails (the commit then writes the
	 * whole file). The copy is created exclusively (COPYFILE_EXCL: O_CREAT|O_EXCL, which follows no
	 * symbolic link), opened without following one, must be a regular file of the size the store had,
	 * and is made 0600 before anything is written to it.
	 */
	private copyOpen(temp: string): number | undefined {
		let fd: number | undefined;
		try {
			copyFileSync(this.path, temp, constants.COPYFILE_EXCL);
			AtomicJsonFile.onPatchStep?.('copy');
			fd = openSync(temp, constants.O_RDWR | constants.O_NOFOLLOW);
			const stat = fstatSync(fd, {bigint: true});
			if (!stat.isFile() || stat.nlink !== 1n || stat.size !== this.stamp?.size) throw new Error('not the copy expected');
			fchmodSync(fd, 0o600);
			return fd;
		} catch {
			if (fd !== undefined) closeSync(fd);
			removeTemp(temp);
			return undefined;
		}
	}

	/** True when the file on disk is no longer the one last read or written here: a stat, nothing read. */
	changedOnDisk(): boolean {
		try {
			return !statUnchanged(this.path, this.stamp);
		} catch {
			return this.stamp !== undefined;
		}
	}
}

/** The file on disk is not the version this commit was made on. */
class ChangedUnderneath extends Error {}

/** A patched commit changed more records than the index of recent changes can name: it is written whole instead. */
class NotIndexable extends Error {}

/** The file on disk has no write permission for its owner. */
class ReadOnly extends Error {
	constructor(readonly mode: number) {
		super('read-only');
	}
}


/**
 * The index of recent changes at the end of an open file and the byte offset of its line, reading
 * only the end of the file; undefined when the file does not end with one.
 */
function readIndex(fd: number, size: number): {index: ChangeIndex; at: number} | undefined {
	const marker = Buffer.from(`\n${INDEX_PREFIX}`);
	for (let want = TAIL_BYTES; ; want *= 4) {
		const length = Math.min(size, want);
		const buffer = Buffer.allocUnsafe(length);
		let done = 0;
		while (done < length) {
			const read = readSync(fd, buffer, done, length - done, size - length + done);
			if (read === 0) return undefined;
			done += read;
		}
		const found = buffer.lastIndexOf(marker);
		if (found >= 0) {
			if (buffer.toString('latin1', length - 3) !== '\n}\n') return undefined;
			const index = parseIndex(buffer.toString('utf8', found + marker.length, length - 3));
			return index ? {index, at: size - length + found + 1} : undefined;
		}
		if (length === size || want >= LONGEST_INDEX) return undefined;
	}
}
