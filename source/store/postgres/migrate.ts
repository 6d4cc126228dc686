import {createHash} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import type {ClientBase} from 'pg';
import {installRoot} from '../layout.js';
import {MIGRATION_STEPS, type MigrationStep} from './steps.js';

/** One plain SQL file of migrations/, applied once, in name order. */
export type SqlMigration = {
	readonly name: string;
	readonly sql: string;
	/** The data model's schema version the tables hold once it is applied (its `-- orgctl-schema-version: N` line). */
	readonly schemaVersion: number;
	/** SHA-256 of the text: an applied migration whose file changed since is refused. */
	readonly checksum: string;
	/** What the SQL cannot say, run after it in the same transaction (steps.ts). */
	readonly step?: MigrationStep | undefined;
};

/** What the database holds of the migrations, and what this orgctl would apply. */
export type MigrationState = {
	/** current_schema(): where the tables are (the first schema of search_path that exists). */
	readonly schema: string;
	readonly applied: readonly string[];
	readonly pending: readonly SqlMigration[];
	/** Applied migrations this orgctl does not have: a newer orgctl migrated the database. */
	readonly unknown: readonly string[];
	/** Applied migrations whose file is not the text that was applied. */
	readonly altered: readonly string[];
	/** Tables in the schema that are not orgctl's, when orgctl has not migrated it yet. */
	readonly foreign: readonly string[];
};

/** The class of orgctl's advisory locks (the ASCII of "orgc"); the schema's name is the second key. */
const LOCK_CLASS = 0x6f726763;

const VERSION_LINE = /^-- orgctl-schema-version: (\d+)$/m;

export function migrationsFolder(): string {
	return join(installRoot(), 'source', 'store', 'postgres', 'migrations');
}

/** The migrations shipped with this orgctl (source/store/postgres/migrations/*.sql), in order. */
export function loadMigrations(folder = migrationsFolder()): SqlMigration[] {
	return readdirSync(folder)
		.filter(name => name.endsWith('.sql'))
		.sort()
		.map(name => {
			const sql = readFileSync(join(folder, name), 'utf8');
			const version = VERSION_LINE.exec(sql)?.[1];
			if (version === undefined) throw new Error(`The migration ${name} has no "-- orgctl-schema-version: N" line.`);
			return {name, sql, schemaVersion: Number(version), checksum: createHash('sha256').update(sql).digest('hex'), step: MIGRATION_STEPS[name]};
		});
}

async function tableExists(client: ClientBase, name: string): Promise<boolean> {
	const result = await client.query<{found: boolean}>('SELECT to_regclass($1) IS NOT NULL AS found', [name]);
	return result.rows[0]!.found;
}

/** Compares what the database applied with `migrations`, changing nothing. */
export async function migrationState(client: ClientBase, migrations: readonly SqlMigration[]): Promise<MigrationState> {
	const schema = (await client.query<{schema: string | null}>('SELECT current_schema() AS schema')).rows[0]!.schema;
	if (schema === null) throw new NoSchema();
	let applied: Array<{name: string; checksum: string}> = [];
	let foreign: string[] = [];
	if (await tableExists(client, 'orgctl_migrations')) {
		applied = (await client.query<{name: string; checksum: string}>('SELECT name, checksum FROM orgctl_migrations ORDER BY name')).rows;
	} else {
		const tables = await client.query<{name: string}>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name");
		foreign = tables.rows.map(r => r.name);
	}
	const known = new Map(migrations.map(m => [m.name, m]));
	const done = new Set(applied.map(a => a.name));
	return {
		schema,
		applied: applied.map(a => a.name),
		pending: migrations.filter(m => !done.has(m.name)),
		unknown: applied.filter(a => !known.has(a.name)).map(a => a.name),
		altered: applied.filter(a => known.has(a.name) && known.get(a.name)!.checksum !== a.checksum).map(a => a.name),
		foreign,
	};
}

/** current_schema() is null: no schema of search_path exists. */
export class NoSchema extends Error {
	constructor() {
		super('no schema named by search_path exists');
	}
}

/**
 * Applies the pending migrations, each in its own transaction, holding an advisory lock on the
 * schema the whole time: two hosts that start at once never migrate at once; the second waits,
 * then finds nothing left to do. Returns the names applied here. `check` may refuse the state
 * (seen under the lock) before anything is applied; `now` (the caller's clock) dates what a step records.
 */
export async function applyMigrations(client: ClientBase, migrations: readonly SqlMigration[], check: (state: MigrationState) => void = () => undefined, now?: Date): Promise<string[]> {
	await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [LOCK_CLASS]);
	try {
		const state = await migrationState(client, migrations);
		check(state);
		const applied: string[] = [];
		for (const migration of state.pending) {
			await client.query('BEGIN');
			try {
				await client.query('CREATE TABLE IF NOT EXISTS orgctl_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied timestamptz NOT NULL DEFAULT now())');
				await client.query(migration.sql);
				if (migration.step) await migration.step(client, {now});
				await client.query('INSERT INTO orgctl_migrations (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);
				await client.query('COMMIT');
			} catch (error) {
				await client.query('ROLLBACK').catch(() => undefined);
				throw new MigrationFailed(migration.name, error as Error);
			}
			applied.push(migration.name);
		}
		return applied;
	} finally {
		await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [LOCK_CLASS]).catch(() => undefined);
	}
}

/** A migration's SQL failed; nothing of it was applied. */
export class MigrationFailed extends Error {
	constructor(
		readonly migration: string,
		readonly failure: Error,
	) {
		super(`the migration ${migration} failed (${failure.message}) and was rolled back`);
	}
}
