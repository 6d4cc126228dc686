import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import pg from 'pg';
import {afterEach} from 'vitest';
import {openStore, type OpenedStore} from '../../source/app/context.js';
import type {Database} from '../../source/core/model.js';
import type {PgStoreOptions} from '../../source/store/postgres/pg-store.js';
import type {StoreOptions} from '../../source/store/store.js';

/**
 * Which store the suite runs on: the file (default) or PostgreSQL (ORGCTL_TEST_STORE=postgres, with
 * ORGCTL_TEST_PG naming a server the tests may create a database on), as Grafana's and Gitea's CI
 * run one suite per database. `.ci/run` runs the store tests both ways.
 */
export type Backend = 'file' | 'postgres';
export const BACKEND: Backend = process.env['ORGCTL_TEST_STORE'] === 'postgres' ? 'postgres' : 'file';

/** The test server's address (any database on it); the tests work in a database of their own there, orgctl_test. */
const SERVER = process.env['ORGCTL_TEST_PG'] ?? 'postgres://orgctl@127.0.0.1:5432/postgres';
const DATABASE = 'orgctl_test';

function databaseAddress(database: string): string {
	const url = new URL(SERVER);
	url.pathname = `/${database}`;
	url.search = '';
	return url.toString();
}

let admin: Promise<pg.Pool> | undefined;

/** A connection pool to orgctl_test, created (with the database) on first use. */
export function testDatabase(): Promise<pg.Pool> {
	admin ??= (async () => {
		const server = new pg.Client({connectionString: SERVER});
		await server.connect();
		try {
			await server.query(`CREATE DATABASE ${DATABASE}`);
		} catch (error) {
			// Made already, by an earlier run or by another worker at the same moment.
			if (!['42P04', '23505'].includes((error as {code?: string}).code ?? '')) throw error;
		} finally {
			await server.end();
		}
		return new pg.Pool({connectionString: databaseAddress(DATABASE), max: 2, allowExitOnIdle: true});
	})();
	return admin;
}

/** The schema a test folder's store lives in, on PostgreSQL: one per folder, so tests never see each other's data. */
export function schemaOf(dir: string): string {
	return `t_${createHash('sha256').update(dir).digest('hex').slice(0, 20)}`;
}

/** The address of a schema in orgctl_test: search_path picks it, as an operator would give orgctl a schema of its own. */
export function schemaAddress(schema: string): string {
	return `${databaseAddress(DATABASE)}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

const schemas = new Set<string>();
const opened: OpenedStore[] = [];

/** Closes what the test opened and drops its schemas; registered only under vitest (benchmarks import cli.ts too). */
async function cleanUp(): Promise<void> {
	for (const store of opened.splice(0)) await store.close?.();
	if (schemas.size === 0) return;
	const pool = await testDatabase();
	for (const schema of [...schemas]) {
		schemas.delete(schema);
		await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
	}
}
if (process.env['VITEST']) afterEach(cleanUp);

/** A fresh, empty schema (made now, dropped after the test), and its address. */
export async function freshSchema(name?: string): Promise<string> {
	const schema = name ?? `t_${createHash('sha256').update(`${process.pid}-${Math.random()}`).digest('hex').slice(0, 20)}`;
	const pool = await testDatabase();
	await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
	schemas.add(schema);
	return schemaAddress(schema);
}

/**
 * The store address of a test's folder on the suite's backend: `dir/orgctl.json`, or a schema of
 * its own on the test server (made on first use). Either way the key file is `dir/orgctl.key`.
 */
export async function storeAddress(dir: string): Promise<string> {
	if (BACKEND === 'file') return join(dir, 'orgctl.json');
	return freshSchema(schemaOf(dir));
}

/** The environment a real orgctl process needs to use a test folder's store (ORGCTL_STORE, and the key file for PostgreSQL). */
export async function storeEnv(dir: string): Promise<Record<string, string>> {
	const address = await storeAddress(dir);
	return BACKEND === 'file' ? {ORGCTL_STORE: address} : {ORGCTL_STORE: address, ORGCTL_KEY_FILE: join(dir, 'orgctl.key')};
}

/** Opens (creating) the store of a test folder on the suite's backend, without its key; it is closed after the test. */
export async function openTestStore(dir: string, options: StoreOptions & PgStoreOptions = {}): Promise<OpenedStore> {
	const store = await openStore(await storeAddress(dir), options);
	opened.push(store);
	return store;
}

/** Closes a store after the test (one the test opened some other way). */
export function closeAfterTest(store: OpenedStore): void {
	opened.push(store);
}

/**
 * Everything the store holds, as text: the file, or every row of every table (what pg_dump would
 * show), to check that a secret is never stored in the clear.
 */
export async function storedText(store: OpenedStore, dir: string): Promise<string> {
	return BACKEND === 'file' ? readFileSync(store.path, 'utf8') : storedTextIn(dir);
}

/** storedText of the store a test folder's orgctl processes use (helpers/cli.ts). */
export async function storedTextIn(dir: string): Promise<string> {
	if (BACKEND === 'file') return readFileSync(join(dir, 'orgctl.json'), 'utf8');
	const pool = await testDatabase();
	const client = await pool.connect();
	try {
		await client.query(`SET search_path = ${schemaOf(dir)}`);
		const tables = await client.query<{name: string}>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()');
		let text = '';
		for (const {name} of tables.rows) text += JSON.stringify((await client.query(`SELECT * FROM "${name}"`)).rows);
		return text;
	} finally {
		await client.query('RESET search_path');
		client.release();
	}
}

/**
 * Brings every store the test opened up to date with what other processes committed: after a real
 * orgctl process ran, as a console does when it is notified. (A file store reads the file anew by
 * itself.)
 */
export async function refreshOpened(): Promise<void> {
	for (const store of opened) await store.refresh?.();
}

/** What the store holds as another process opening it now would see it (not this process's copy). */
export async function storedData(store: OpenedStore): Promise<Database> {
	const fresh = await openStore(store.path);
	try {
		return fresh.read();
	} finally {
		await fresh.close();
	}
}
