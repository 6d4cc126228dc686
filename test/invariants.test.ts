import {readFileSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {touch} from '../source/core/accounts.js';
import {newId} from '../source/core/ids.js';
import {brokenInvariants, checkInvariants, indexOf, INVARIANTS} from '../source/core/invariants.js';
import {databaseSchema, type Database} from '../source/core/model.js';
import {Store} from '../source/store/store.js';
import type {OpenedStore} from '../source/app/context.js';
import {BACKEND, storedText} from './helpers/backend.js';
import {tempContext} from './helpers/store.js';
import {userRecord} from './helpers/writers.js';

const AT = '2026-01-01T00:00:00.000Z';

/**
 * A consistent store: tenant `default` (root: admin and superuser; alice: member, owner of project
 * web and its token deploy; an invitation for carol sent by root; the sign-up domain corp.com) and
 * tenant `beta` (bea, its admin).
 */
async function consistentStore(): Promise<{store: OpenedStore; dir: string}> {
	const {store, dir} = await tempContext();
	await store.transact(db => {
		const main = {id: newId(), name: 'default', created: AT, revision: 1};
		const beta = {id: newId(), name: 'beta', created: AT, revision: 1};
		db.tenants.push(main, beta);
		const root = userRecord(main.id, 'root', {role: 'admin', superuser: true});
		const alice = userRecord(main.id, 'alice', {role: 'member'});
		db.users.push(root, alice, userRecord(beta.id, 'bea', {role: 'admin'}));
		const project = {id: newId(), tenantId: main.id, name: 'web', owner: alice.id, created: AT, revision: 1};
		db.projects.push(project);
		db.tokens.push({id: newId(), tenantId: main.id, name: 'deploy', owner: alice.id, projectId: project.id, capabilities: ['read'], secretHash: 'a'.repeat(64), created: AT, lastUsed: null, revoked: null, revision: 1});
		db.invitations.push(invitation(main.id, root.id, 'carol'));
		db.signupDomains.push({id: newId(), tenantId: main.id, domain: 'corp.com', role: 'member', method: 'password', created: AT, createdBy: root.id, revision: 1});
	});
	return {store, dir};
}

function invitation(tenantId: string, invitedBy: string, username: string): Database['invitations'][number] {
	return {
		id: newId(),
		tenantId,
		username,
		email: `${username}@example.com`,
		role: 'member',
		method: 'password',
		invitedBy,
		created: AT,
		expires: AT,
		secretHash: 'b'.repeat(64),
		secretSealed: 'a.b.c',
		mail: {state: 'sent', at: AT},
		sentCount: 1,
		revision: 1,
	};
}

/** orgctl's own layout (record-lines.ts): one record per line, as an editor would find the file. */
function layoutOf(db: Database): string {
	const keys = Object.keys(databaseSchema().shape) as Array<keyof Database>;
	const sections = keys.map(key => {
		const value = db[key];
		if (!Array.isArray(value)) return `"${key}":${JSON.stringify(value)}`;
		return `"${key}":[\n${value.map(record => JSON.stringify(record)).join(',\n')}${value.length > 0 ? '\n' : ''}]`;
	});
	// The file's index of recent changes (store/change-index.ts), kept as it was: an edit that keeps it must not be taken for what it says.
	const index = (db as {recentChanges?: unknown}).recentChanges;
	if (index !== undefined) sections.push(`"recentChanges":${JSON.stringify(index)}`);
	return `{\n${sections.join(',\n')}\n}\n`;
}

/** A file in orgctl's layout without the spaces it leaves for records to grow in place (record-lines.ts Layout). */
function withoutRoom(text: string): string {
	return text
		.split('\n')
		.filter(line => line === '' || line.trim() !== '')
		.map(line => line.replace(/ +(,?)$/, '$1'))
		.join('\n');
}

const byName = (db: Database, username: string) => db.users.find(u => u.username === username)!;
const tenant = (db: Database, name: string) => db.tenants.find(t => t.name === name)!;

/** Each rule of issue 12, broken the way a hand edit (or a bug) would, with the phrase that names it. */
const BREACHES: Array<[string, (db: Database) => void, string]> = [
	['an invitation for a username a user of its tenant has (any case)', db => void (db.invitations[0]!.username = 'ALICE'), 'the invitation for ALICE is for a username a user of its tenant has'],
	['an invitation to an e-mail a user of its tenant has', db => void (db.invitations[0]!.email = 'Alice@Example.com'), 'the invitation to Alice@Example.com is for an e-mail a user of its tenant has'],
	['two invitations with one username (any case)', db => void db.invitations.push({...invitation(db.invitations[0]!.tenantId, db.invitations[0]!.invitedBy, 'Carol'), email: 'c2@example.com'}), 'two invitations are for the username Carol in one tenant'],
	['an inviter who does not exist', db => void (db.invitations[0]!.invitedBy = newId()), 'the invitation for carol was sent by a user who does not exist'],
	['a project owned by a user of another tenant', db => void (db.projects[0]!.owner = byName(db, 'bea').id), 'project web of tenant default is owned by bea of tenant beta'],
	['a project in a tenant that does not exist', db => void (db.projects[0]!.tenantId = newId()), 'project web belongs to a tenant that does not exist'],
	['a token whose tenant differs from its project’s', db => void (db.tokens[0]!.tenantId = tenant(db, 'beta').id), 'API token deploy of tenant beta belongs to project web of tenant default'],
	// (A domain in another case or with a trailing dot is refused before this, as not normalised: test/names.test.ts.)
	['a sign-up domain twice in one tenant', db => void db.signupDomains.push({...db.signupDomains[0]!, id: newId()}), 'sign-up domain corp.com is listed twice in tenant default'],
	['no superuser at all', db => void (byName(db, 'root').superuser = false), 'no user is a superuser'],
	['a tenant with no admin', db => void (byName(db, 'bea').role = 'member'), 'tenant beta has users but no admin'],
];

describe('cross-record rules', () => {
	it('each rule reads only the lists it names, directly or through the index (a change elsewhere cannot break it)', async () => {
		const {store} = await consistentStore();
		const db = structuredClone(store.read());
		for (const invariant of INVARIANTS) {
			const read = new Set<string>();
			const watched = new Proxy(db, {
				get(target, key, receiver) {
					if (typeof key === 'string') read.add(key);
					return Reflect.get(target, key, receiver) as unknown;
				},
			});
			expect(invariant.check(watched, indexOf(watched)), invariant.rule).toBeUndefined();
			expect({rule: invariant.rule, read: [...read].filter(list => !(invariant.lists as readonly string[]).includes(list))}).toEqual({rule: invariant.rule, read: []});
			expect(read.size, invariant.rule).toBeGreaterThan(0);
		}
	});

	it.each(BREACHES)('%s: found as well by the check of only the lists the breach changed', async (_name, breach, phrase) => {
		const {store} = await consistentStore();
		const before = structuredClone(store.read());
		const db = structuredClone(before);
		breach(db);
		const changed = new Set(Object.keys(db).filter(list => JSON.stringify(db[list as keyof Database]) !== JSON.stringify(before[list as keyof Database])));
		expect(changed.size).toBeGreaterThan(0);
		expect(checkInvariants(db, changed)).toBe(phrase);
		expect(checkInvariants(db, new Set(['schemaVersion', 'settings', 'audit']))).toBeUndefined();
	});

	it.skipIf(BACKEND !== 'file').each(BREACHES)('%s: a file edited so is refused on open, naming the rule, and left as it was', async (_name, breach, phrase) => {
		const {store} = await consistentStore();
		const db = JSON.parse(readFileSync(store.path, 'utf8')) as Database;
		breach(db);
		const text = JSON.stringify(db, null, 2);
		writeFileSync(store.path, text);
		await expect(Store.open(store.path)).rejects.toThrow(`Cannot use the store ${store.path}: the file is inconsistent (${phrase}); restore it from a backup or move it aside to start afresh (the file was not changed)`);
		expect(readFileSync(store.path, 'utf8')).toBe(text);
	});

	it.skipIf(BACKEND !== 'file').each(BREACHES)('%s: the same edit in orgctl’s own layout is refused by a console that has the store open', async (_name, breach, phrase) => {
		const {store} = await consistentStore();
		const open = await Store.open(store.path);
		const db = JSON.parse(readFileSync(store.path, 'utf8')) as Database;
		// orgctl's layout but for its room to grow (spaces at the end of a line, a line of them at the end of a list), which its reader takes as well.
		expect(layoutOf(db)).toBe(withoutRoom(readFileSync(store.path, 'utf8')));
		breach(db);
		writeFileSync(store.path, layoutOf(db));
		expect(() => open.read()).toThrow(`the file is inconsistent (${phrase})`);
		await expect(open.transact(d => touch(d.settings))).rejects.toThrow(phrase);
	});

	it.each(BREACHES)('%s: a change that would commit it is refused, and nothing is written', async (_name, breach, phrase) => {
		const {store, dir} = await consistentStore();
		const stored = await storedText(store, dir);
		const version = store.version;
		await expect(store.transact(breach)).rejects.toMatchObject({kind: 'invalid', message: `The change was not saved: ${phrase}.`});
		expect(await storedText(store, dir)).toBe(stored);
		expect(store.version).toBe(version);
		expect(checkInvariants(store.read())).toBeUndefined();
	});

	it('are one list: a store that breaks several rules gets each named once (for orgctl admin check)', async () => {
		const {store} = await consistentStore();
		const db = structuredClone(store.read());
		expect(brokenInvariants(db)).toEqual([]);
		const chosen = BREACHES.filter(([name]) => /token whose|no superuser|no admin/.test(name));
		for (const [, breach] of chosen) breach(db);
		const broken = brokenInvariants(db);
		expect(broken).toHaveLength(3);
		expect(broken).toEqual(expect.arrayContaining(chosen.map(([, , phrase]) => phrase)));
		expect(checkInvariants(db)).toBe(broken[0]);
		expect(new Set(INVARIANTS.map(i => i.rule)).size).toBe(INVARIANTS.length);
	});
});
