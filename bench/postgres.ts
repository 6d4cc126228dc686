// The store's figures on PostgreSQL beside the file's (bench/store-commit.ts, bench/cli-users-list.ts):
// open, one committed change as the sole writer and after another host committed, peak memory, and
// whole `orgctl users list --json` processes, at 10,000 and 100,000 users.
//
// The server: ORGCTL_BENCH_PG (postgres://USER@HOST:PORT/DB, any database the benchmark may create
// databases beside), else a throwaway one from Debian's postgresql when run as root (as .ci/run does).
import {execFileSync} from 'node:child_process';
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import pg from 'pg';
import {writeSessionFile} from '../source/adapters/session-file.js';
import {openContext} from '../source/app/context.js';
import {copyStore} from '../source/app/store-admin.js';
import {createSession, resolveActor, touch} from '../source/core/accounts.js';
import type {Role} from '../source/core/model.js';
import {PgStore} from '../source/store/postgres/pg-store.js';
import {timeRuns} from './cli-users-list.js';
import {generateStore} from './generate.js';
import {peakRssMb, summarize, type Benchmark, type Figure} from './types.js';

const COMMITS = 40;
const RUNS = 15;

type ChildResult = {openMs: number; soleWriter: number[]; afterOtherHost: number[]; peakMb: number; baselineMb: number};

/** In a fresh process, so its peak memory is the store's alone: open as a console does, then time commits. */
async function measure(address: string): Promise<ChildResult> {
	const baselineMb = peakRssMb();
	const t0 = performance.now();
	const store = await PgStore.open(address);
	const openMs = performance.now() - t0;
	const other = await PgStore.open(address);
	const ids = store.read().users.slice(1, COMMITS * 2 + 1).map(u => u.id);
	let n = 0;
	const changeOneRole = async (on: PgStore): Promise<number> => {
		const id = ids[n++ % ids.length]!;
		const start = performance.now();
		await on.transact(db => {
			const user = db.users.find(u => u.id === id);
			if (!user) throw new Error(`user ${id} vanished`);
			user.role = (user.role === 'member' ? 'guest' : 'member') satisfies Role;
			touch(user);
		});
		return performance.now() - start;
	};
	await changeOneRole(store);
	const soleWriter: number[] = [];
	for (let i = 0; i < COMMITS; i++) soleWriter.push(await changeOneRole(store));
	// Another host committed since: every commit first reads the rows that host changed.
	const afterOtherHost: number[] = [];
	for (let i = 0; i < COMMITS; i++) {
		await changeOneRole(other);
		afterOtherHost.push(await changeOneRole(store));
	}
	await other.close();
	await store.close();
	return {openMs, soleWriter, afterOtherHost, peakMb: peakRssMb(), baselineMb};
}

/** A throwaway server (initdb as postgres into a temp folder, loopback only), or the one ORGCTL_BENCH_PG names. */
function server(): {address: string; stop: () => void} | string {
	const given = process.env['ORGCTL_BENCH_PG'];
	if (given) return {address: given, stop: () => undefined};
	const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)) : [];
	if (versions.length === 0 || process.getuid?.() !== 0) return 'no PostgreSQL: set ORGCTL_BENCH_PG, or run as root with Debian\'s postgresql installed';
	const bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-pg-'));
	const uid = Number(execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).trim());
	chownSync(dir, uid, -1);
	const port = 56000 + (process.pid % 1000);
	const as = (args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', ...args], {stdio: 'ignore'});
	as([`${bin}/initdb`, '-D', `${dir}/data`, '-U', 'orgctl', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
	as([`${bin}/pg_ctl`, '-D', `${dir}/data`, '-l', `${dir}/pg.log`, '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, 'start']);
	return {
		address: `postgres://orgctl@127.0.0.1:${port}/postgres`,
		stop: () => {
			as([`${bin}/pg_ctl`, '-D', `${dir}/data`, '-m', 'immediate', 'stop']);
			rmSync(dir, {recursive: true, force: true});
		},
	};
}

function count(n: number): string {
	return n.toLocaleString('en-US');
}

async function freshDatabase(serverAddress: string, name: string): Promise<string> {
	const client = new pg.Client({connectionString: serverAddress});
	await client.connect();
	try {
		await client.query(`DROP DATABASE IF EXISTS ${name}`);
		await client.query(`CREATE DATABASE ${name}`);
	} finally {
		await client.end();
	}
	const url = new URL(serverAddress);
	url.pathname = `/${name}`;
	return url.toString();
}

async function dropDatabase(serverAddress: string, name: string): Promise<void> {
	const client = new pg.Client({connectionString: serverAddress});
	await client.connect();
	await client.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => client.end());
}

/** Wall time of whole `orgctl users list --json` processes on the store, signed in by a session. */
async function usersList(address: string, keyFile: string, dir: string): Promise<{median: number; p95: number; users: number}> {
	const ctx = await openContext(address, {keyFile});
	const admin = resolveActor(ctx.store.read(), ctx.store.read().users[0]!.id);
	const session = await createSession(ctx, admin);
	const sessionFile = join(dir, 'session.json');
	process.env['ORGCTL_SESSION_FILE'] = sessionFile;
	writeSessionFile({store: ctx.store.path, ...session});
	await ctx.store.close();
	const env: NodeJS.ProcessEnv = {...process.env, ORGCTL_STORE: address, ORGCTL_KEY_FILE: keyFile, ORGCTL_SESSION_FILE: sessionFile};
	for (const name of ['ORGCTL_USER', 'ORGCTL_PASSWORD', 'ORGCTL_TOKEN']) delete env[name];
	return timeRuns(env, RUNS);
}

export const postgresBench: Benchmark = {
	name: 'postgres',
	async run(): Promise<Figure[]> {
		const started = server();
		if (typeof started === 'string') return [{name: 'PostgreSQL store', unit: 'ms', note: `skipped: ${started}`}];
		const figures: Figure[] = [];
		try {
			for (const users of [10_000, 100_000]) {
				const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-'));
				const name = `orgctl_bench_${users}`;
				try {
					const file = join(dir, 'orgctl.json');
					generateStore(file, {users, invitations: users / 5, auditEvents: users / 5});
					const address = await freshDatabase(started.address, name);
					const keyFile = join(dir, 'orgctl.key');
					const copyStart = performance.now();
					await copyStore(file, address, {keyFile});
					const copyMs = performance.now() - copyStart;
					const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'measure', address], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 16 * 1024 * 1024});
					const result = JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
					const size = `${count(users)} users, ${count(users / 5)} invitations`;
					figures.push({name: `PostgreSQL: admin copy-store from the file, verified (${size})`, unit: 's', value: copyMs / 1000});
					figures.push({name: `PostgreSQL: store open (${size})`, unit: 'ms', value: result.openMs});
					figures.push({name: `PostgreSQL: commit one change, sole writer (${count(users)} users)`, unit: 'ms', ...summarize(result.soleWriter), samples: result.soleWriter.length});
					figures.push({name: `PostgreSQL: commit one change after another host committed (${count(users)} users)`, unit: 'ms', ...summarize(result.afterOtherHost), samples: result.afterOtherHost.length});
					figures.push({name: `PostgreSQL: peak memory, open + ${3 * COMMITS} commits, two stores (${count(users)} users)`, unit: 'MB', value: result.peakMb, note: `${result.baselineMb.toFixed(0)} MB of it before opening (node + tsx loader)`});
					const list = await usersList(address, keyFile, dir);
					figures.push({name: `PostgreSQL: users list --json, ${count(users)} users, session`, unit: 'ms', median: list.median, p95: list.p95, samples: RUNS, note: `${list.users} users printed`});
				} finally {
					await dropDatabase(started.address, name).catch(() => undefined);
					rmSync(dir, {recursive: true, force: true});
				}
			}
		} finally {
			started.stop();
		}
		return figures;
	},
};

if (process.argv[2] === 'measure' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
	const result = await measure(process.argv[3]!);
	process.stdout.write(`${JSON.stringify(result)}\n`);
	process.exit(0);
}
