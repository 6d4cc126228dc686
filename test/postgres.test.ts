// What only the PostgreSQL store has to show: the database's own constraints, migrations under an
// advisory lock, several hosts (processes, connections) writing at once, LISTEN/NOTIFY, the outbox
// claimed by one host, throttles shared, and copy-store both ways. Runs with ORGCTL_TEST_STORE=postgres
// (.ci/run starts a throwaway server); the rest of the suite runs on both backends.
import {spawn} from 'node:child_process';
import {existsSync, readFileSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {openContext, openStore} from '../source/app/context.js';
import {initialize, login, THROTTLE, unknownThrottleKey} from '../source/core/accounts.js';
import {databaseSchema, EMPTY_SSO, SCHEMA_VERSION, type Database} from '../source/core/model.js';
import type {Context, StoreChange} from '../source/core/context.js';
import {newId} from '../source/core/ids.js';
import {enqueueMail} from '../source/core/outbox.js';
import {createProject} from '../source/core/projects.js';
import {setSmtpSettings} from '../source/core/smtp-settings.js';
import {loadMigrations} from '../source/store/postgres/migrate.js';
import type {PgStore} from '../source/store/postgres/pg-store.js';
import {migrateDatabase} from '../source/store/postgres/pg-store.js';
import {TABLES} from '../source/store/postgres/tables.js';
import {KeyFile} from '../source/store/secrets.js';
import {BACKEND, closeAfterTest, freshSchema, schemaOf, testDatabase} from './helpers/backend.js';
import {orgctl} from './helpers/cli.js';
import {addInvitation, addUser} from './helpers/people.js';
import {Clock, FIRST_PASSWORD, initializedContext, TEST_HASHER, tempDir} from './helpers/store.js';

/** Runs SQL in a test folder's schema, as an operator with psql would. */
async function sql(dir: string, text: string, values: unknown[] = []): Promise<unknown[]> {
	const client = await (await testDatabase()).connect();
	try {
		await client.query(`SET search_path = ${schemaOf(dir)}`);
		return (await client.query(text, values)).rows as unknown[];
	} finally {
		await client.query('RESET search_path');
		client.release();
	}
}

/** The SQLSTATE a statement fails with. */
async function refusal(dir: string, text: string, values: unknown[] = []): Promise<string | undefined> {
	try {
		await sql(dir, text, values);
		return undefined;
	} catch (error) {
		return (error as {code?: string}).code;
	}
}

/** A second host on the same store: its own context, its own connection. */
async function secondHost(ctx: Context & {dir: string; clock: Clock}): Promise<Context & {store: PgStore}> {
	const other = await openContext(ctx.store.path, {now: ctx.clock.now, hasher: TEST_HASHER, keyFile: join(ctx.dir, 'orgctl.key')});
	closeAfterTest(other.store);
	return other as Context & {store: PgStore};
}

describe.skipIf(BACKEND !== 'postgres')('the PostgreSQL store', () => {
	describe('the database enforces what it can, beside the core', () => {
		it('usernames and e-mail addresses are unique per tenant whatever their case', async () => {
			const {ctx, root} = await initializedContext();
			const copy = `INSERT INTO users (id, tenant_id, username, email, role, superuser, method, password_hash, disabled, created, last_login, revision, seq, changed)
				SELECT $1, tenant_id, $2, $3, role, superuser, method, password_hash, disabled, created, last_login, revision, seq + 1, changed FROM users WHERE id = $4`;
			expect(await refusal(ctx.dir, copy, [newId(), 'ROOT', 'other@example.com', root.user.id])).toBe('23505');
			expect(await refusal(ctx.dir, copy, [newId(), 'other', 'Root@Example.COM', root.user.id])).toBe('23505');
			// The same name in another tenant is fine.
			const tenant = newId();
			await sql(ctx.dir, `INSERT INTO tenants (id, name, created, revision, seq, changed) VALUES ($1, 'other', now(), 1, 9, 1)`, [tenant]);
			expect(await refusal(ctx.dir, copy.replace('SELECT $1, tenant_id', `SELECT $1, '${tenant}'`), [newId(), 'ROOT', 'root@example.com', root.user.id])).toBeUndefined();
		});

		it('foreign keys hold tenants, owners, projects and inviters; roles and methods are checked', async () => {
			const {ctx, root} = await initializedContext();
			await createProject(ctx, root, {name: 'web'});
			await addInvitation(ctx, root.tenant.id, root.user.id, 'ivy');
			const nobody = newId();
			expect(await refusal(ctx.dir, 'UPDATE projects SET owner = $1', [nobody])).toBe('23503');
			expect(await refusal(ctx.dir, 'UPDATE users SET tenant_id = $1', [nobody])).toBe('23503');
			expect(await refusal(ctx.dir, 'UPDATE invitations SET invited_by = $1', [nobody])).toBe('23503');
			expect(await refusal(ctx.dir, 'DELETE FROM projects')).toBeUndefined();
			expect(await refusal(ctx.dir, "UPDATE users SET role = 'owner'")).toBe('23514');
			expect(await refusal(ctx.dir, "UPDATE users SET method = 'ldap'")).toBe('23514');
			expect(await refusal(ctx.dir, "UPDATE users SET id = 'not-an-id'")).toBe('23514');
		});

		it("rows mended by hand into what the core's rules refuse are refused on open, and nothing is changed", async () => {
			const {ctx} = await initializedContext();
			await sql(ctx.dir, 'UPDATE users SET superuser = false');
			await expect(openStore(ctx.store.path)).rejects.toThrow(/its rows are inconsistent \(.*superuser.*\); mend the rows with SQL, or restore the database from a backup \(pg_dump\); orgctl changed nothing$/);
			expect(await sql(ctx.dir, 'SELECT version FROM orgctl_meta')).toEqual([{version: String(ctx.store.read().version)}]);
		});
	});

	describe('migrations', () => {
		it('every field of the data model has its column, and every table its list (a new field without a column fails here)', async () => {
			const {ctx} = await initializedContext();
			const columns = (await sql(ctx.dir, 'SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema()')) as Array<{t: string; c: string}>;
			const lists = Object.keys(databaseSchema().shape).filter(key => key !== 'schemaVersion' && key !== 'version');
			expect(TABLES.map(t => t.list)).toEqual(lists);
			for (const table of TABLES) {
				const schema = databaseSchema().shape[table.list] as unknown as {element?: {shape: object}; shape?: object};
				const shape = (schema.element ?? schema).shape!;
				expect(table.columns.map(c => c.field), table.list).toEqual(Object.keys(shape));
				const made = columns.filter(c => c.t === table.table).map(c => c.c);
				expect([...made].sort(), table.table).toEqual([...table.columns.map(c => c.column), 'seq', 'changed', ...(table.key === undefined ? ['singleton'] : [])].sort());
			}
		});

		it('a database orgctl never used gets every migration, recorded, at the schema version this orgctl writes', async () => {
			const {ctx} = await initializedContext();
			const applied = (await sql(ctx.dir, 'SELECT name FROM orgctl_migrations ORDER BY name')) as Array<{name: string}>;
			expect(applied.map(r => r.name)).toEqual(loadMigrations().map(m => m.name));
			expect(await sql(ctx.dir, 'SELECT schema_version FROM orgctl_meta')).toEqual([{schema_version: SCHEMA_VERSION}]);
		});

		it('pending migrations are refused until orgctl admin migrate applies them; the data is kept, what version 4 bounds is repaired and version 5 adds single sign-on', async () => {
			const dir = tempDir();
			const address = await freshSchema(schemaOf(dir));
			const all = loadMigrations();
			// What an orgctl of schema version 2 left: the first migration only, and its data, with a
			// 500-character audit target, a throttle keyed by the identifier tried and a token whose
			// name holds a terminal's title sequence and a bidi override, which version 4 bounds.
			expect(await migrateDatabase(address, {sqlMigrations: all.slice(0, 1)})).toEqual([all[0]!.name]);
			const tenant = newId();
			const [user, project, token] = [newId(), newId(), newId()];
			await sql(dir, `INSERT INTO tenants (id, name, created, revision, seq, changed) VALUES ('${tenant}', 'kept', now(), 1, 0, 1);
				INSERT INTO audit_events (id, time, actor, tenant_id, action, target, result, seq, changed) VALUES ('${newId()}', now(), 'root', '${tenant}', 'login', repeat('x', 500), 'refused', 0, 1);
				INSERT INTO login_throttles (key, failures, locked_until, last, seq, changed) VALUES ('unknown:kept/Somebody@Example.com', 3, NULL, now(), 0, 1);
				INSERT INTO settings (smtp, ssl, listeners, public_url, policy, sso, revision, seq, changed) VALUES (NULL, NULL, '[]', 'http://localhost:8080/',
					'{"invitationLifetimeSeconds":604800,"minPasswordLength":12,"requireEmailVerification":true,"blockPublicWebmailDomains":false}', NULL, 1, 0, 1);
				INSERT INTO users (id, tenant_id, username, email, role, superuser, method, password_hash, disabled, created, last_login, revision, seq, changed)
					VALUES ('${user}', '${tenant}', 'root', 'root@example.com', 'admin', true, 'password', NULL, false, now(), NULL, 1, 0, 1);
				INSERT INTO projects (id, tenant_id, name, owner, created, revision, seq, changed) VALUES ('${project}', '${tenant}', 'web', '${user}', now(), 1, 0, 1);
				INSERT INTO api_tokens (id, tenant_id, name, owner, project_id, capabilities, secret_hash, created, last_used, revision, seq, changed)
					VALUES ('${token}', '${tenant}', E't\\x1b]0;TOK\\x07 rtl\\u202eexe', '${user}', '${project}', '{}', repeat('a', 64), now(), NULL, 1, 0, 1);
				UPDATE orgctl_meta SET version = 1`);
			const pending = all.slice(1).map(m => m.name);
			await expect(openStore(address)).rejects.toThrow(`${pending.length} migrations are pending (${pending.join(', ')}); run orgctl admin migrate once every host runs this orgctl`);
			const migrated = await orgctl(dir, ['admin', 'migrate']);
			expect(migrated).toMatchObject({code: 0, stdout: expect.stringContaining(`: ${pending.join(', ')}.`)});
			expect((await orgctl(dir, ['admin', 'migrate'])).stdout).toContain('is up to date: no migration was pending.');
			const store = await openStore(address);
			closeAfterTest(store);
			const db = store.read();
			expect(db.tenants.map(t => t.name)).toEqual(['kept']);
			expect(db.schemaVersion).toBe(SCHEMA_VERSION);
			expect(db.audit[0]!.target).toBe(`${'x'.repeat(200)}…[+300]`);
			// The name made visible as the file's migration makes it, not replaced; what was repaired is audited.
			expect(db.tokens.map(t => t.name)).toEqual(['t\\e]0;TOK\\x07 rtl\\u202eexe']);
			expect(db.audit.at(-1)).toMatchObject({
				actor: 'system',
				tenantId: null,
				action: 'store.migrate',
				result: 'ok',
				// Cut at 200 characters, as every audit target.
				target: `schema 4: renamed 1 API token whose names held control or invisible characters: t\\e]0;TOK\\x07 rtl\\u202eexe (${token.slice(0, 8)}); cut 1 stored text longer than the new limits; keyed 1 throttle entry by a hash of…[+15]`,
			});
			expect(new Date(db.audit.at(-1)!.time).getTime()).toBeGreaterThanOrEqual(new Date(db.audit[0]!.time).getTime());
			expect(db.throttles).toEqual([expect.objectContaining({key: unknownThrottleKey('kept', 'Somebody@Example.com'), failures: 3})]);
			expect(db.settings.policy).toEqual({invitationLifetimeSeconds: 604_800, minPasswordLength: 12, requireEmailVerification: true, blockPublicWebmailDomains: false, auditRetentionDays: 365, auditMaxEvents: 100_000});
			// Version 5: single sign-on, never set before, has its empty shape.
			expect(db.settings.sso).toEqual(EMPTY_SSO);
			expect(db.housekeeping).toEqual({lastRun: null});
			// Each migration that repairs rows bumps the version (0003 for version 4, 0004 for version 5).
			expect(db.version).toBe(3);
		});

		it('two hosts migrating at once apply each migration once: the advisory lock makes the second wait', async () => {
			const address = await freshSchema();
			const results = await Promise.all([migrateDatabase(address), migrateDatabase(address), migrateDatabase(address)]);
			expect(results.flat().sort()).toEqual(loadMigrations().map(m => m.name));
		});
	});

	describe('several hosts at once', () => {
		it('two processes, 8 writers with their own connections, 100 changes each: nothing lost, the audit count exact', {timeout: 240_000}, async () => {
			const {ctx} = await initializedContext();
			const auditBefore = ctx.store.read().audit.length;
			const fixture = join(import.meta.dirname, 'fixtures', 'pg-writers.ts');
			const run = (name: string) =>
				new Promise<string[]>((resolve, reject) => {
					const child = spawn(process.execPath, ['--import', 'tsx', fixture, ctx.store.path, join(ctx.dir, 'orgctl.key'), name, '4', '100'], {stdio: ['ignore', 'pipe', 'inherit']});
					let out = '';
					child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
					child.on('error', reject);
					child.on('close', code => (code === 0 ? resolve(out.split('\n').filter(l => l.startsWith('ack ')).map(l => l.slice(4))) : reject(new Error(`writer ${name} exited ${code}`))));
				});
			const acks = (await Promise.all([run('a'), run('b')])).flat();
			expect(acks).toHaveLength(800);
			const fresh = await openStore(ctx.store.path);
			closeAfterTest(fresh);
			const db = fresh.read();
			expect(db.projects.map(p => p.name).sort()).toEqual([...acks].sort());
			const created = db.audit.slice(auditBefore).filter(e => e.action === 'project.create');
			expect(created).toHaveLength(800);
			expect(created.every(e => e.result === 'ok')).toBe(true);
			expect(db.audit).toHaveLength(auditBefore + 800);
			expect(db.version).toBe(ctx.store.read().version + 800);
		});

		it("a subscribed host hears of another host's commit through LISTEN/NOTIFY with what it touched, without being asked to refresh", async () => {
			const {ctx, root} = await initializedContext();
			const other = await secondHost(ctx);
			const usersBefore = ctx.store.read().users;
			const heard: StoreChange[] = [];
			const seen = new Promise<void>((resolve, reject) => {
				const stop = ctx.store.subscribe({
					changed: change => {
						heard.push(change);
						if (ctx.store.read().projects.some(p => p.name === 'from-elsewhere')) {
							stop();
							resolve();
						}
					},
					failed: reject,
				});
			});
			// LISTEN is taken before the other host commits, or the catch-up after LISTEN brings it.
			const otherRoot = {...root, user: other.store.read().users[0]!};
			await createProject(other, otherRoot, {name: 'from-elsewhere'});
			await seen;
			expect(ctx.store.read().projects.map(p => p.name)).toEqual(['from-elsewhere']);
			const change = heard.at(-1)!;
			expect(change.version).toBe(ctx.store.read().version);
			expect(change.lists?.projects?.added.map(p => p.name)).toEqual(['from-elsewhere']);
			expect(change.lists?.projects?.removed).toEqual([]);
			expect(change.lists?.audit?.added.map(e => e.action)).toEqual(['project.create']);
			// What the change did not touch keeps its objects: a console's rows follow by identity.
			expect(change.lists?.users).toBeUndefined();
			expect(change.settings).toBe(false);
			expect(ctx.store.read().users).toBe(usersBefore);
		});

		it('whatever a change does to a list (edit in place, append, remove, replace, re-key, reorder), another host reads exactly that', async () => {
			const {ctx, root} = await initializedContext();
			for (const name of ['a', 'b', 'c', 'd']) await createProject(ctx, root, {name});
			const fresh = async () => {
				const other = await openStore(ctx.store.path);
				try {
					return other.read().projects.map(p => `${p.id.slice(0, 4)}:${p.name}`);
				} finally {
					await other.close();
				}
			};
			const here = () => ctx.store.read().projects.map(p => `${p.id.slice(0, 4)}:${p.name}`);
			const steps: Array<(db: Database) => void> = [
				db => {
					db.projects[1]!.name = 'b2';
				},
				db => {
					db.projects.push({...db.projects[0]!, id: newId(), name: 'e'});
					db.projects[0]!.name = 'a2';
				},
				db => {
					db.projects.splice(2, 1);
				},
				db => {
					db.projects[0] = {...db.projects[0]!, name: 'a3'};
				},
				db => {
					db.projects[1]!.id = newId();
				},
				db => {
					db.projects.reverse();
				},
			];
			for (const step of steps) {
				await ctx.store.transact(step);
				expect(await fresh()).toEqual(here());
			}
			expect(here().map(p => p.split(':')[1])).toEqual(['e', 'd', 'b2', 'a3']);
		});

		it('a commit here is told as the file store tells it: a copy of each record written, the record as it was among those that left', async () => {
			const {ctx, root} = await initializedContext();
			const bob = await addUser(ctx, root.tenant.id, 'bob');
			const heard: StoreChange[] = [];
			const stop = ctx.store.subscribe({changed: change => heard.push(change), failed: () => undefined});
			const before = ctx.store.read().users.find(u => u.id === bob.id)!;
			const tenants = ctx.store.read().tenants;
			await ctx.store.transact(db => {
				db.users.find(u => u.id === bob.id)!.role = 'guest';
			});
			await Promise.resolve();
			stop();
			const after = ctx.store.read().users.find(u => u.id === bob.id)!;
			expect(after).not.toBe(before);
			expect(after.role).toBe('guest');
			expect(heard).toHaveLength(1);
			expect(heard[0]!.lists?.users?.removed).toEqual([before]);
			expect(heard[0]!.lists?.users?.added).toEqual([after]);
			expect(heard[0]!.lists?.users?.added[0]).toBe(after);
			expect(Object.keys(heard[0]!.lists ?? {})).toEqual(['users']);
			expect(ctx.store.read().tenants).toBe(tenants);
		});

		it('a listening connection that cannot be restored reaches the listeners as failed, with the reason', async () => {
			const pool = await testDatabase();
			const name = `orgctl_lost_${process.pid}`;
			await pool.query(`DROP DATABASE IF EXISTS ${name}`);
			await pool.query(`CREATE DATABASE ${name}`);
			const url = new URL(process.env['ORGCTL_TEST_PG'] ?? 'postgres://orgctl@127.0.0.1:5432/postgres');
			url.pathname = `/${name}`;
			const store = await openStore(url.toString(), {listenLostMs: 1500});
			try {
				const failed = new Promise<Error>(resolve => {
					store.subscribe({changed: () => undefined, failed: resolve});
				});
				// The listening connection is up once its first catch-up ran; then the database stops taking connections.
				await new Promise(resolve => setTimeout(resolve, 300));
				await pool.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
				await pool.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
				const error = await failed;
				expect(error.message).toMatch(/the connection that hears of other hosts' changes was lost and could not be restored in 1\.5 s/);
			} finally {
				await store.close();
				await pool.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
				await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			}
		});

		it('two hosts claiming due mail at once never get the same message', async () => {
			const {ctx} = await initializedContext();
			const other = await secondHost(ctx);
			await ctx.store.transact(db => {
				for (let i = 0; i < 20; i++) enqueueMail(db, ctx, {to: `p${i}@example.com`, subject: 's', text: 't', html: '<p>t</p>', kind: 'test', ref: null});
			});
			const now = ctx.now();
			const claim = {now, until: new Date(now.getTime() + 60_000)};
			const [mine, theirs] = await Promise.all([ctx.store.claimOutbox(claim), other.store.claimOutbox(claim)]);
			const ids = [...mine, ...theirs].map(m => m.id);
			expect(new Set(ids).size).toBe(ids.length);
			expect(ids.sort()).toEqual(ctx.store.read().outbox.map(m => m.id).sort());
			// Claimed: neither host gets them again until the claim runs out.
			expect(await other.store.claimOutbox(claim)).toEqual([]);
		});

		it('login failures on two hosts add up to one throttle', async () => {
			const {ctx} = await initializedContext();
			const other = await secondHost(ctx);
			for (let i = 0; i < THROTTLE.freeFailures; i++) {
				await expect(login(i % 2 === 0 ? ctx : other, {identifier: 'root', password: 'wrong password'})).rejects.toThrow();
			}
			await other.store.refresh();
			await expect(login(other, {identifier: 'root', password: FIRST_PASSWORD})).rejects.toThrow(/Too many failed sign-ins|try again in/i);
			expect(other.store.read().throttles[0]).toMatchObject({failures: THROTTLE.freeFailures});
		});
	});

	it('orgctl admin check says a sound store is healthy, and names a stranger key file and a broken rule with their fixes', async () => {
		const {ctx} = await initializedContext();
		await addInvitation(ctx, ctx.store.read().tenants[0]!.id, ctx.store.read().users[0]!.id, 'ivy');
		const healthy = await orgctl(ctx.dir, ['admin', 'check']);
		expect(healthy).toMatchObject({code: 0, stdout: expect.stringContaining('The store is healthy.')});
		expect(healthy.stdout).toMatch(new RegExp(`ok\\s+database\\s+reached; its migrations are this orgctl's, schema version ${SCHEMA_VERSION}`));
		const stranger = join(tempDir(), 'orgctl.key');
		KeyFile.loadFile(stranger, {mayCreate: true});
		const wrongKey = await orgctl(ctx.dir, ['admin', 'check'], {env: {ORGCTL_KEY_FILE: stranger}});
		expect(wrongKey).toMatchObject({code: 1, stdout: expect.stringContaining(`the key file ${stranger} is not the one this store's secrets are sealed with`)});
		await sql(ctx.dir, 'UPDATE users SET superuser = false');
		const broken = await orgctl(ctx.dir, ['admin', 'check']);
		expect(broken).toMatchObject({code: 1, stdout: expect.stringMatching(/PROBLEM\s+database\s+its rows are inconsistent \(no user is a superuser\)\n.*fix: mend the rows with SQL/)});
	});

	describe('orgctl admin copy-store', () => {
		it('moves a store from the file to PostgreSQL and back, verified record by record, its secrets sealed with the key file that travels with it', async () => {
			const dir = tempDir();
			const file = join(dir, 'orgctl.json');
			const clock = new Clock();
			const original = await openContext(file, {now: clock.now, hasher: TEST_HASHER});
			const root = await initialize(original, {username: 'root', email: 'root@example.com', password: FIRST_PASSWORD});
			await addUser(original, root.tenant.id, 'bob');
			await createProject(original, root, {name: 'web'});
			await addInvitation(original, root.tenant.id, root.user.id, 'ivy');
			await setSmtpSettings(original, root, {host: '127.0.0.1', port: 2525, security: 'none', from: 'noreply@example.com', user: 'mailer', password: 'smtp secret', timeoutMs: 2000});
			const before = original.store.read();
			const link = original.secrets.unseal(before.invitations[0]!.secretSealed);

			const target = await freshSchema();
			const env = {ORGCTL_STORE: undefined, ORGCTL_KEY_FILE: join(dir, 'orgctl.key')};
			const there = await orgctl(dir, ['admin', 'copy-store', file, target], {env});
			expect(there.stderr).toBe('');
			expect(there).toMatchObject({code: 0});
			expect(there.stdout).toContain('each read back from the copy and equal to the original');
			expect(there.stdout).toContain(`every host that uses ${target} needs a copy of it (mode 0600)`);
			const onPg = await openContext(target, {keyFile: join(dir, 'orgctl.key')});
			closeAfterTest(onPg.store);
			const {version: _v1, ...copied} = onPg.store.read();
			const {version: _v2, ...kept} = before;
			expect(copied).toEqual(kept);
			expect(onPg.secrets.unseal(onPg.store.read().invitations[0]!.secretSealed)).toBe(link);

			// A host holding another key file is refused before it seals anything.
			const stranger = join(tempDir(), 'orgctl.key');
			KeyFile.loadFile(stranger, {mayCreate: true});
			await expect(openContext(target, {keyFile: stranger})).rejects.toThrow(`its secrets are sealed with another key than the key file ${stranger}`);
			// Into a store that holds data: refused; the original unchanged.
			const again = await orgctl(dir, ['admin', 'copy-store', file, target], {env});
			expect(again).toMatchObject({code: 1, stderr: expect.stringContaining('it holds a store already (tenants, users')});

			const back = join(tempDir(), 'back', 'orgctl.json');
			const home = await orgctl(dir, ['admin', 'copy-store', target, back], {env});
			expect(home).toMatchObject({code: 0, stdout: expect.stringContaining(`was copied to ${join(back, '..', 'orgctl.key')} (mode 0600)`)});
			expect(readFileSync(join(back, '..', 'orgctl.key'), 'utf8')).toBe(readFileSync(join(dir, 'orgctl.key'), 'utf8'));
			expect(statSync(join(back, '..', 'orgctl.key')).mode & 0o777).toBe(0o600);
			const returned = await openContext(back);
			const {version: _v3, ...roundTrip} = returned.store.read();
			expect(roundTrip).toEqual(kept);
			expect(returned.secrets.unseal(returned.store.read().settings.smtp!.passwordSealed!)).toBe('smtp secret');
			expect(await orgctl(dir, ['admin', 'copy-store', target, back], {env})).toMatchObject({code: 1, stderr: expect.stringContaining('exists already; copy-store writes only to a new file')});
			expect(existsSync(file)).toBe(true);
			// The copy is a store like any other: orgctl signs in to it and lists its users.
			expect(await orgctl(dir, ['users', 'list'], {env: {ORGCTL_STORE: target, ORGCTL_KEY_FILE: join(dir, 'orgctl.key'), ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD}})).toMatchObject({code: 0, stdout: expect.stringContaining('bob')});
		});
	});
});
