import type {Client, DatabaseError, Pool, PoolClient, QueryResult} from 'pg';
import type {OutboxClaim, StoreChange, StoreListener, StorePort} from '../../core/context.js';
import {OrgError} from '../../core/errors.js';
import {checkInvariants} from '../../core/invariants.js';
import {databaseSchema, emptyDatabase, SCHEMA_VERSION, type Database, type OutboxItem} from '../../core/model.js';
import {claimDueMail} from '../../core/outbox.js';
import {refusedChange, storeError} from '../errors.js';
import {Invalid} from '../record-entry.js';
import {addressProblem, displayAddress} from './address.js';
import {applyMigrations, loadMigrations, MigrationFailed, migrationState, NoSchema, type MigrationState, type SqlMigration} from './migrate.js';
import {RowMemory, statementsFor, type Change, type ListsChanged} from './rows.js';
import {keyOf, quote, recordFrom, selectList, TABLES} from './tables.js';

export type PgStoreOptions = {
	/** The migrations this orgctl applies (tests pass their own). */
	readonly sqlMigrations?: readonly SqlMigration[];
	/**
	 * When to apply pending migrations on open: `first-use` (default) only to a database (or schema)
	 * orgctl has never used, so that a newer orgctl on one host never migrates a database other hosts
	 * still use (`orgctl admin migrate` does that, on purpose); `never` refuses any pending one.
	 */
	readonly migrate?: 'first-use' | 'never';
	/** Skip validating every row on open; `validate()` runs the checks later (the console does so after its first frame). */
	readonly deferValidation?: boolean;
	/** How long a change goes on retrying when other hosts keep committing first, and how long it waits for a row lock. */
	readonly conflictTimeoutMs?: number;
	/** The data model's schema version this build reads and writes. */
	readonly schemaVersion?: number;
	/** The composition root's clock: it dates what a migration records (the file store's `now`). */
	readonly now?: () => Date;
	/** How long the listening connection may stay lost before the listeners hear `failed` (a minute). */
	readonly listenLostMs?: number;
};

/** SQLSTATEs after which the transaction was rolled back and running it again on fresh data is right. */
const RETRY_CODES = new Set(['40001', '40P01']);
/** SQLSTATEs of a constraint the change broke. */
const CONSTRAINT_CODES = new Set(['23505', '23503', '23514', '23502', '23P01', '22001', '22P02', '22021', '22007', '22008']);
const DEFAULT_CONFLICT_MS = 30_000;
/** Removals older than this leave orgctl_removed; a host that slept longer reloads the whole store once. */
const REMOVED_KEPT = '1 day';
/** Every this many versions, a commit prunes orgctl_removed. */
const PRUNE_EVERY = 256;
/** The longest pause between reconnection attempts of the listening connection. */
const LISTEN_RETRY_MAX_MS = 30_000;
/** How long the listening connection may stay lost before the listeners are told it cannot be restored. */
const LISTEN_LOST_MS = 60_000;

type PgModule = typeof import('pg');
type Rows = Map<string, Array<{record: Record<string, unknown>; seq: number}>>;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function codeOf(error: unknown): string | undefined {
	const code = (error as {code?: unknown} | null)?.code;
	return typeof code === 'string' ? code : undefined;
}

/** A change that `transact` was handed lost its race and runs again. */
class Retry extends Error {}

/** What the change itself threw (or the refusal of what it did): passed on as it is. */
class ChangeFailed {
	constructor(readonly error: unknown) {}
}

/** Whether an error means the connection is gone (the server restarted, the network broke). */
function connectionLost(error: unknown): boolean {
	const code = codeOf(error);
	if (code === undefined) return !(error instanceof OrgError || error instanceof TypeError);
	return code.startsWith('08') || code.startsWith('57P') || /^E[A-Z]+$/.test(code);
}

/**
 * The store on PostgreSQL, behind the same StorePort as the file. The core reads synchronously
 * and changes through a synchronous function, so this store keeps a copy of the data in memory
 * and runs each change as one serialisable transaction:
 *
 *     BEGIN ISOLATION LEVEL SERIALIZABLE; read the version row
 *     bring the copy up to date (only rows with changed > the copy's version, and removals)
 *     apply the change to the copy; validate what changed (zod, then the invariants)
 *     write the changed rows; bump the version (UPDATE … WHERE version = the one read); NOTIFY
 *     COMMIT
 *
 * Two hosts committing at once both pass the version they read; PostgreSQL lets one commit and
 * fails the other with a serialization failure, which runs its change again on the fresh copy. A
 * change is acknowledged only once COMMIT returned: acknowledged means landed. A COMMIT whose
 * answer never came (the connection broke) is reported as such, never retried blindly.
 */
export class PgStore implements StorePort {
	private data: Database;
	private readonly memory = new RowMemory();
	/** Transactions and refreshes of this store run one after another: they share the copy. */
	private queue: Promise<unknown> = Promise.resolve();
	private readonly listeners = new Set<StoreListener>();
	/** Changes applied in memory that the listeners have yet to hear of. */
	private untold: StoreChange[] = [];
	private listening: Listening | undefined;
	private refreshing: Promise<void> | undefined;
	/** A refresh queued and not started yet, which later callers share. */
	private waitingRefresh: Promise<void> | undefined;
	private refreshAgain = false;
	/** Set when the database came to hold data orgctl cannot use: every read then fails with it. */
	private failure: OrgError | undefined;
	private closed = false;
	private keyIdValue: string | null = null;

	private constructor(
		/** The address without its password. */
		readonly path: string,
		private readonly address: string,
		private readonly pg: PgModule,
		private readonly pool: Pool,
		/** The NOTIFY channel: one per schema. */
		readonly channel: string,
		private readonly options: PgStoreOptions,
	) {
		this.data = emptyDatabase();
	}

	/**
	 * Connects to the database the address names, applies the migrations if orgctl has never used
	 * it, and loads the data. Refuses a database holding other tables, one migrated by a newer
	 * orgctl, one with migrations pending (`orgctl admin migrate`), and rows that do not validate.
	 */
	static async open(address: string, options: PgStoreOptions = {}): Promise<PgStore> {
		const {shown, pg, pool} = await poolFor(address, options);
		try {
			const client = await connect(pool, shown);
			let schema: string;
			try {
				schema = await prepareSchema(client, shown, options);
			} finally {
				client.release();
			}
			const store = new PgStore(shown, address, pg, pool, `orgctl:${schema}`, options);
			await store.run(client => store.loadWhole(client, true));
			// A database just migrated holds no settings yet: the first commit writes the defaults.
			if (store.data.version === 0) await store.transact(() => undefined);
			return store;
		} catch (error) {
			await pool.end().catch(() => undefined);
			throw error;
		}
	}

	read(): Database {
		if (this.failure) throw this.failure;
		return this.data;
	}

	/** The version counter of the copy. */
	get version(): number {
		return this.data.version;
	}

	/** The key file id the store's secrets are sealed under (null until a host bound one). */
	get keyId(): string | null {
		return this.keyIdValue;
	}

	/**
	 * Binds the store to the key whose id is `id` if none is bound yet; refuses another key. Every
	 * host must hold the same key file, or one would seal what the others cannot open.
	 */
	async bindKey(id: string, keyPath: string): Promise<void> {
		const bound = await this.run(async client => {
			const result = await client.query<{key_id: string}>('UPDATE orgctl_meta SET key_id = COALESCE(key_id, $1) RETURNING key_id', [id]);
			return result.rows[0]!.key_id;
		});
		this.keyIdValue = bound;
		if (bound !== id) {
			throw storeError(this.path, `its secrets are sealed with another key than the key file ${keyPath}`, 'copy the key file from a host that uses this store (mode 0600) and point --key-file or ORGCTL_KEY_FILE at it');
		}
	}

	/** Runs the checks an open with `deferValidation` skipped. */
	validate(): void {
		if (!this.memory.unverified) return;
		this.verifyAll(this.data);
		this.memory.unverified = false;
	}

	transact<T>(change: (db: Database) => T): Promise<T> {
		return this.enqueue(() => this.commit(change, undefined));
	}

	/**
	 * Claims the due messages: the rows are locked with FOR UPDATE SKIP LOCKED first, so a host
	 * claiming at the same moment skips them rather than waiting for them or claiming them too.
	 */
	claimOutbox(claim: OutboxClaim): Promise<OutboxItem[]> {
		return this.enqueue(() =>
			this.commit<OutboxItem[], string[]>(
				(db, locked) => claimDueMail(db, {...claim, ids: locked}),
				async client => {
					const ids = claim.ids ? [...claim.ids] : null;
					const result = await client.query<{id: string}>(
						'SELECT id FROM outbox WHERE next_attempt <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) AND ($2::text[] IS NULL OR id = ANY($2::text[])) ORDER BY id FOR UPDATE SKIP LOCKED',
						[claim.now.toISOString(), ids],
					);
					return result.rows.map(r => r.id);
				},
			),
		);
	}

	/**
	 * Brings the copy up to date with what other hosts committed: one query for the version, and
	 * when it moved, the rows changed since (and the removals) in one read-only transaction. The
	 * listeners hear of what changed.
	 */
	refresh(): Promise<void> {
		// Refreshes asked for while one waits its turn are one: many requests at once cost one query.
		if (this.waitingRefresh) return this.waitingRefresh;
		const refresh = this.enqueue(() => {
			this.waitingRefresh = undefined;
			return this.run(async client => {
				const version = await currentVersion(client);
				if (version === this.data.version) return;
				await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
				try {
					await this.catchUp(client, await currentVersion(client));
				} finally {
					await client.query('COMMIT').catch(() => undefined);
				}
			});
		});
		this.waitingRefresh = refresh;
		refresh.catch(() => undefined).finally(() => {
			if (this.waitingRefresh === refresh) this.waitingRefresh = undefined;
		});
		return refresh;
	}

	/**
	 * Tells `listener` of every change to the copy: this host's commits, and while anyone listens,
	 * other hosts' (LISTEN on the store's channel; each notification brings the copy up to date by
	 * version). A listening connection lost is reconnected (1 s, 2 s, … 30 s apart) and the copy
	 * caught up; lost for longer than a minute, the listeners hear `failed`.
	 */
	subscribe(listener: StoreListener): () => void {
		if (this.closed) return () => undefined;
		this.listeners.add(listener);
		this.listening ??= new Listening(
			this.pg,
			this.address,
			this.channel,
			() => {
				this.refreshSoon();
			},
			this.options.listenLostMs ?? LISTEN_LOST_MS,
			reason => {
				this.listening = undefined;
				const error = storeError(this.path, `the connection that hears of other hosts' changes was lost and could not be restored in ${(this.options.listenLostMs ?? LISTEN_LOST_MS) / 1000} s (${reason})`, 'check that PostgreSQL runs and can be reached, then start again');
				for (const told of [...this.listeners]) told.failed(error);
			},
		);
		return () => {
			this.listeners.delete(listener);
			if (this.listeners.size === 0) {
				void this.listening?.stop();
				this.listening = undefined;
			}
		};
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		this.listeners.clear();
		await this.listening?.stop();
		this.listening = undefined;
		await this.queue.catch(() => undefined);
		await this.pool.end().catch(() => undefined);
	}

	/** A refresh in the background, for a notification: coalesced; rows orgctl cannot use fail every read and reach the listeners. */
	private refreshSoon(): void {
		if (this.refreshing) {
			this.refreshAgain = true;
			return;
		}
		this.refreshing = (async () => {
			do {
				this.refreshAgain = false;
				try {
					await this.refresh();
				} catch (error) {
					if (error instanceof OrgError && this.failure === error && !this.closed) for (const listener of [...this.listeners]) listener.failed(error);
					// Anything else (the database unreachable for a while): the next notification or reconnection tries again.
				}
			} while (this.refreshAgain && !this.closed);
			this.refreshing = undefined;
		})();
	}

	/** Queues `change` for the listeners, who hear of it once the transaction or refresh that made it is over. */
	private tell(version: number, change: ListsChanged | undefined): void {
		if (this.listeners.size === 0) return;
		this.untold.push({version, lists: change ? (Object.fromEntries(change.lists) as StoreChange['lists']) : undefined, settings: change ? change.settings : true});
		if (this.untold.length > 1) return;
		queueMicrotask(() => {
			const changes = this.untold;
			this.untold = [];
			if (this.closed) return;
			for (const told of changes) for (const listener of [...this.listeners]) listener.changed(told);
		});
	}

	private enqueue<T>(work: () => Promise<T>): Promise<T> {
		if (this.closed) return Promise.reject(storeError(this.path, 'it was closed', 'open it again'));
		const run = this.queue.then(work);
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** Runs `work` on a pooled connection; a connection that broke is dropped from the pool. */
	private async run<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
		const client = await connect(this.pool, this.path);
		let broken: Error | undefined;
		try {
			return await work(client);
		} catch (error) {
			if (error instanceof ChangeFailed || error instanceof Retry) throw error;
			if (connectionLost(error)) broken = error as Error;
			throw mapError(error, this.path);
		} finally {
			client.release(broken);
		}
	}

	/** One transaction of `change`, run again while it loses races with other hosts (see the class comment). */
	private async commit<T, P>(change: (db: Database, prepared: P) => T, prepare: ((client: PoolClient) => Promise<P>) | undefined): Promise<T> {
		const deadline = Date.now() + (this.options.conflictTimeoutMs ?? DEFAULT_CONFLICT_MS);
		for (let attempt = 1; ; attempt++) {
			try {
				return await this.run(client => this.attempt(client, change, prepare));
			} catch (error) {
				if (error instanceof ChangeFailed) throw error.error;
				if (!(error instanceof Retry)) throw error;
				if (Date.now() > deadline) {
					throw storeError(this.path, `the change lost to other hosts' changes ${attempt} times in a row and was not saved`, 'try it again; if it keeps happening, look for a host that commits without pause');
				}
				// Jitter, so that the hosts that lost together do not collide again.
				await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
			}
		}
	}

	private async attempt<T, P>(client: PoolClient, change: (db: Database, prepared: P) => T, prepare: ((client: PoolClient) => Promise<P>) | undefined): Promise<T> {
		const lockMs = this.options.conflictTimeoutMs ?? DEFAULT_CONFLICT_MS;
		let open = false;
		const rollback = async () => {
			if (open) await client.query('ROLLBACK').catch(() => undefined);
			open = false;
		};
		try {
			const results = (await client.query(`BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL lock_timeout = ${Math.round(lockMs)}; SELECT version FROM orgctl_meta`)) as unknown as QueryResult[];
			open = true;
			const version = Number((results[2]!.rows[0] as {version: string}).version);
			if (version !== this.data.version) await this.catchUp(client, version);
			const prepared = prepare ? await prepare(client) : (undefined as P);
			let result: T;
			let diff: Change;
			try {
				result = change(this.data, prepared);
				if (result instanceof Promise) {
					result.catch(() => undefined);
					throw new TypeError('A store change must be synchronous: it ran outside the transaction.');
				}
				diff = this.memory.diff(this.data);
				if (diff.guarded) {
					const problem = checkInvariants(this.data);
					if (problem) throw new Invalid('', problem);
				}
			} catch (error) {
				this.data = this.memory.restore(this.data);
				await rollback();
				throw new ChangeFailed(error instanceof Invalid ? refusedChange(error.where, error.reason) : error);
			}
			if (diff.tables.length === 0) {
				// Nothing to write: no version to bump, nobody to notify.
				await client.query('COMMIT');
				open = false;
				return result;
			}
			const next = version + 1;
			try {
				for (const statement of statementsFor(diff, next)) await client.query(statement.text, statement.values);
				const bumped = await client.query('UPDATE orgctl_meta SET version = $1::bigint WHERE version = $2::bigint RETURNING pg_notify($3::text, $1::bigint::text)', [next, version, this.channel]);
				if (bumped.rowCount !== 1) throw new Retry();
				if (next % PRUNE_EVERY === 0) await pruneRemoved(client);
			} catch (error) {
				this.data = this.memory.restore(this.data);
				await rollback();
				throw retryOr(error);
			}
			try {
				open = false;
				await client.query('COMMIT');
			} catch (error) {
				this.data = this.memory.restore(this.data);
				if (RETRY_CODES.has(codeOf(error) ?? '')) throw new Retry();
				if (connectionLost(error)) {
					throw storeError(this.path, `the connection broke while the change was being committed (${(error as Error).message}), so it may or may not have been saved`, 'look before trying it again (orgctl shows the store as it is)');
				}
				throw error;
			}
			const told = this.memory.committed(this.data, diff);
			this.data.version = next;
			this.tell(next, told);
			return result;
		} catch (error) {
			await rollback();
			throw retryOr(error);
		}
	}

	/**
	 * Brings the copy from its version to `version`, inside the caller's transaction: the rows
	 * changed since and the keys removed since, or the whole store when the removals the copy
	 * needs were pruned.
	 */
	private async catchUp(client: PoolClient, version: number): Promise<void> {
		const since = this.data.version;
		const statements = [
			'SELECT removed_floor FROM orgctl_meta',
			...TABLES.map(t => `SELECT ${selectList(t)} FROM ${quote(t.table)} WHERE changed > ${since} ORDER BY seq`),
			`SELECT tbl, key FROM orgctl_removed WHERE version > ${since}`,
		];
		const results = (await client.query(statements.join('; '))) as unknown as QueryResult[];
		const floor = Number((results[0]!.rows[0] as {removed_floor: string}).removed_floor);
		if (floor > since) {
			await this.loadWhole(client, false);
			this.tell(this.data.version, undefined);
			return;
		}
		const rows: Rows = new Map();
		TABLES.forEach((table, i) => {
			const found = results[i + 1]!.rows as Array<Record<string, unknown>>;
			if (found.length > 0) rows.set(table.list, found.map(row => ({record: recordFrom(table, row), seq: Number(row['seq'])})));
		});
		const removed = new Map<string, Set<string>>();
		for (const {tbl, key} of results.at(-1)!.rows as Array<{tbl: string; key: string}>) {
			let keys = removed.get(tbl);
			if (!keys) removed.set(tbl, (keys = new Set()));
			keys.add(key);
		}
		for (const table of TABLES) {
			for (const {record} of rows.get(table.list) ?? []) this.checkRow(() => this.memory.validate(table, record, `${table.list} ${keyOf(table, record)}`));
		}
		const merged = this.memory.merge(this.data, rows, removed);
		if (merged.guarded) {
			const problem = checkInvariants(merged.db);
			if (problem) throw this.unusable(`its rows are inconsistent (${problem})`);
		}
		merged.db.version = version;
		this.data = merged.db;
		this.tell(version, merged.change);
	}

	/** Loads every row (in its own read-only transaction when `own`), validating each unless told to defer. */
	private async loadWhole(client: PoolClient, own: boolean): Promise<void> {
		const statements = ['SELECT version, schema_version, key_id FROM orgctl_meta', ...TABLES.map(t => `SELECT ${selectList(t)} FROM ${quote(t.table)} ORDER BY seq`)];
		const text = own ? `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${statements.join('; ')}; COMMIT` : statements.join('; ');
		const all = (await client.query(text)) as unknown as QueryResult[];
		const results = own ? all.slice(1, -1) : all;
		const meta = results[0]!.rows[0] as {version: string; schema_version: number; key_id: string | null} | undefined;
		if (!meta) throw this.unusable('its orgctl_meta row is missing');
		const schemaVersion = this.options.schemaVersion ?? SCHEMA_VERSION;
		if (meta.schema_version > schemaVersion) throw storeError(this.path, `it holds schema version ${meta.schema_version}, newer than the ${schemaVersion} this orgctl understands`, 'upgrade orgctl on this host (the database was not changed)');
		if (meta.schema_version < schemaVersion) throw storeError(this.path, `it holds schema version ${meta.schema_version}, older than the ${schemaVersion} this orgctl writes`, 'run orgctl admin migrate once every host runs this orgctl (the database was not changed)');
		this.keyIdValue = meta.key_id;
		const db: Record<string, unknown> = {};
		const seqs = new Map<string, Map<string, number>>();
		const trust = own && this.options.deferValidation === true;
		for (const key of Object.keys(databaseSchema().shape)) {
			if (key === 'schemaVersion') db[key] = meta.schema_version;
			else if (key === 'version') db[key] = Number(meta.version);
			else {
				const at = TABLES.findIndex(t => t.list === key);
				const table = TABLES[at]!;
				const seq = new Map<string, number>();
				const records = (results[at + 1]!.rows as Array<Record<string, unknown>>).map(row => {
					const record = recordFrom(table, row);
					if (!trust) this.checkRow(() => this.memory.validate(table, record, `${table.list} ${keyOf(table, record)}`));
					seq.set(keyOf(table, record), Number(row['seq']));
					return record;
				});
				seqs.set(table.list, seq);
				if (table.key !== undefined) db[key] = records;
				else db[key] = records[0] ?? emptyDatabase()[table.list];
			}
		}
		const data = db as Database;
		if (!trust) this.verifyRules(data);
		this.memory.adopt(data, seqs);
		this.memory.unverified = trust;
		this.data = data;
	}

	private checkRow(validate: () => void): void {
		try {
			validate();
		} catch (error) {
			if (error instanceof Invalid) throw this.unusable(`the row ${error.where} does not validate (${error.reason})`);
			throw error;
		}
	}

	private verifyAll(db: Database): void {
		for (const table of TABLES) {
			const value = (db as unknown as Record<string, unknown>)[table.list];
			const list = (table.key === undefined ? [value] : value) as Array<Record<string, unknown>>;
			for (const record of list) this.checkRow(() => this.memory.validate(table, record, `${table.list} ${keyOf(table, record)}`));
		}
		this.verifyRules(db);
	}

	private verifyRules(db: Database): void {
		const problem = checkInvariants(db);
		if (problem) throw this.unusable(`its rows are inconsistent (${problem})`);
	}

	/** The database holds rows orgctl cannot use: every read fails with this from now on (a store not yet opened simply fails to open). */
	private unusable(reason: string): OrgError {
		const error = storeError(this.path, reason, 'mend the rows with SQL, or restore the database from a backup (pg_dump); orgctl changed nothing');
		this.failure = error;
		return error;
	}
}

/** The driver, loaded only for a postgres:// store: file-store commands never pay for it. */
async function loadDriver(): Promise<PgModule> {
	const pg = (await import('pg')) as PgModule & {default?: PgModule};
	return pg.default ?? pg;
}

function newPool(pg: PgModule, address: string, options: PgStoreOptions): Pool {
	const pool = new pg.Pool({
		connectionString: address,
		// The store's transactions run one after another; one connection serves them.
		max: 1,
		// A command that ends without closing the store still exits.
		allowExitOnIdle: true,
		application_name: 'orgctl',
		connectionTimeoutMillis: Math.min(options.conflictTimeoutMs ?? DEFAULT_CONFLICT_MS, 10_000),
	});
	// An idle connection that breaks (the server restarted) is dropped; the next use reconnects.
	pool.on('error', () => undefined);
	return pool;
}

/** The address as shown (no password), checked, and a pool for it: what opening a store and migrating one both start with. */
async function poolFor(address: string, options: PgStoreOptions): Promise<{shown: string; pg: PgModule; pool: Pool}> {
	const shown = displayAddress(address);
	const problem = addressProblem(address);
	if (problem) throw storeError(shown, problem, 'give --store postgres://USER@HOST/DATABASE');
	const pg = await loadDriver();
	return {shown, pg, pool: newPool(pg, address, options)};
}

async function connect(pool: Pool, shown: string): Promise<PoolClient> {
	try {
		return await pool.connect();
	} catch (error) {
		throw mapError(error, shown);
	}
}

async function currentVersion(client: PoolClient): Promise<number> {
	const result = await client.query<{version: string}>('SELECT version FROM orgctl_meta');
	return Number(result.rows[0]!.version);
}

/** Drops removals older than a day and raises the floor below which a host must reload whole. */
async function pruneRemoved(client: PoolClient): Promise<void> {
	await client.query(
		`WITH gone AS (DELETE FROM orgctl_removed WHERE at < now() - interval '${REMOVED_KEPT}' RETURNING version) UPDATE orgctl_meta SET removed_floor = GREATEST(removed_floor, COALESCE((SELECT max(version) FROM gone), 0))`,
	);
}

function retryOr(error: unknown): unknown {
	if (error instanceof Retry) return error;
	if (RETRY_CODES.has(codeOf(error) ?? '')) return new Retry();
	return error;
}

/**
 * Applies the migrations a database orgctl never used needs, and refuses a database whose
 * migrations do not match this orgctl's. Returns the schema the tables are in.
 */
async function prepareSchema(client: PoolClient, shown: string, options: PgStoreOptions): Promise<string> {
	const migrations = options.sqlMigrations ?? loadMigrations();
	let state: MigrationState;
	try {
		state = await migrationState(client, migrations);
	} catch (error) {
		throw mapError(error, shown);
	}
	refuseMismatch(state, shown);
	if (state.pending.length === 0) return state.schema;
	const fresh = state.applied.length === 0;
	if (!fresh || options.migrate === 'never') {
		throw storeError(shown, `${state.pending.length === 1 ? 'a migration is' : `${state.pending.length} migrations are`} pending (${state.pending.map(m => m.name).join(', ')})`, 'run orgctl admin migrate once every host runs this orgctl');
	}
	try {
		await applyMigrations(client, migrations, seen => {
			refuseMismatch(seen, shown);
		});
	} catch (error) {
		throw mapError(error, shown);
	}
	return state.schema;
}

/**
 * `orgctl admin migrate`: applies every pending migration under the advisory lock (a second host
 * migrating at the same moment waits, then finds nothing to do). Returns the names applied.
 */
export async function migrateDatabase(address: string, options: PgStoreOptions = {}): Promise<string[]> {
	const {shown, pool} = await poolFor(address, options);
	try {
		const client = await connect(pool, shown);
		try {
			return await applyMigrations(
				client,
				options.sqlMigrations ?? loadMigrations(),
				seen => {
					refuseMismatch(seen, shown);
				},
				options.now?.(),
			);
		} catch (error) {
			throw mapError(error, shown);
		} finally {
			client.release();
		}
	} finally {
		await pool.end().catch(() => undefined);
	}
}

/** Refuses a database another program or a newer orgctl made. */
export function refuseMismatch(state: MigrationState, shown: string): void {
	if (state.foreign.length > 0) {
		throw storeError(shown, `its schema ${state.schema} holds tables that are not orgctl's (${state.foreign.slice(0, 5).join(', ')}${state.foreign.length > 5 ? ', …' : ''})`, 'give orgctl a database of its own (createdb orgctl) or a schema of its own (?options=-c%20search_path%3Dorgctl)');
	}
	if (state.unknown.length > 0) {
		throw storeError(shown, `it was migrated by a newer orgctl (${state.unknown.join(', ')})`, 'upgrade orgctl on this host (the database was not changed)');
	}
	if (state.altered.length > 0) {
		throw storeError(shown, `the applied migration ${state.altered.join(', ')} differs from this orgctl's file of that name`, 'use the orgctl release that migrated it, or mend orgctl_migrations by hand');
	}
}

/** A driver or server error as one sentence with the address; anything orgctl already worded passes through. */
export function mapError(error: unknown, shown: string): unknown {
	if (error instanceof OrgError || error instanceof Retry || error instanceof TypeError) return error;
	if (error instanceof NoSchema) return storeError(shown, error.message, 'create the schema (CREATE SCHEMA …) or fix options=-c search_path=… in the address');
	if (error instanceof MigrationFailed) return storeError(shown, error.message, 'fix what the message names and try again (nothing of that migration was applied)');
	const code = codeOf(error);
	const message = (error as Error).message;
	if (code === '3D000') return storeError(shown, `the database does not exist (${message})`, 'create it (createdb -O USER DATABASE) or correct the address');
	if (code === '28P01' || code === '28000') return storeError(shown, `PostgreSQL refused the sign-in (${message})`, 'check the user and its password (PGPASSWORD or ~/.pgpass, not the address)');
	if (code === '55P03') return storeError(shown, `another host holds a lock on the rows this change needs, and did not let go in time (${message})`, 'if a host is stopped or hung, end its orgctl; SELECT pid, client_addr, state FROM pg_stat_activity shows who holds what');
	if (code && CONSTRAINT_CODES.has(code)) {
		const detail = (error as DatabaseError).detail;
		return new OrgError('invalid', `The change was not saved: the database refused it (${message}${detail ? `: ${detail}` : ''}).`);
	}
	if (code === undefined || code.startsWith('08') || code.startsWith('57P') || /ECONN|ENOTFOUND|EAI_AGAIN|timeout|terminat/i.test(message)) {
		return storeError(shown, `the database cannot be reached (${message})`, 'check that PostgreSQL runs there and the address is right, then try again');
	}
	return storeError(shown, `PostgreSQL failed (${message})`, 'see the server log for the statement that failed');
}

/**
 * The connection that LISTENs on the store's channel, for consoles and servers that must see other
 * hosts' changes: a notification carries the new version; after a broken connection it reconnects
 * (1 s, 2 s, … 30 s apart) and calls back once, since notifications sent meanwhile were lost.
 */
class Listening {
	private client: Client | undefined;
	private stopped = false;
	private timer: NodeJS.Timeout | undefined;
	private delay = 1000;

	constructor(
		private readonly pg: PgModule,
		private readonly address: string,
		private readonly channel: string,
		private readonly onChange: () => void,
		private readonly lostAfterMs: number,
		/** Called once when the connection stayed lost for `lostAfterMs`; the Listening then stops. */
		private readonly onLost: (reason: string) => void,
	) {
		void this.start();
	}

	/** Since when the connection is lost (undefined while it works). */
	private lostSince: number | undefined;
	private lastProblem = '';

	private async start(): Promise<void> {
		if (this.stopped) return;
		const client = new this.pg.Client({connectionString: this.address, application_name: 'orgctl (listening)'});
		this.client = client;
		client.on('notification', message => {
			if (message.channel === this.channel) this.onChange();
		});
		client.on('error', error => {
			this.retry(client, error);
		});
		client.on('end', () => {
			this.retry(client, new Error('the server closed the connection'));
		});
		try {
			await client.connect();
			await client.query(`LISTEN ${quote(this.channel)}`);
			this.delay = 1000;
			this.lostSince = undefined;
			// Whatever was committed before LISTEN took effect.
			this.onChange();
		} catch (error) {
			this.retry(client, error);
		}
	}

	private retry(client: Client, error: unknown): void {
		if (this.stopped || this.client !== client) return;
		this.client = undefined;
		client.end().catch(() => undefined);
		this.lastProblem = (error as Error | undefined)?.message ?? String(error);
		this.lostSince ??= Date.now();
		if (Date.now() - this.lostSince >= this.lostAfterMs) {
			this.stopped = true;
			this.onLost(this.lastProblem);
			return;
		}
		this.timer = setTimeout(() => void this.start(), Math.min(this.delay, Math.max(0, this.lostSince + this.lostAfterMs - Date.now())));
		this.timer.unref();
		this.delay = Math.min(this.delay * 2, LISTEN_RETRY_MAX_MS);
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.timer);
		const client = this.client;
		this.client = undefined;
		await client?.end().catch(() => undefined);
	}
}
