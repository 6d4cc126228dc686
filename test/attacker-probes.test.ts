import {identifierThrottleKey} from '../source/core/accounts.js';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createInvitation} from '../source/core/invitations.js';
import {createProject, deleteProject, transferProject} from '../source/core/projects.js';
import {createToken} from '../source/core/tokens.js';
import {disableUser} from '../source/core/user-admin.js';
import {auditSince, cast, PASSWORD} from './helpers/cast.js';

/**
 * Attacks beyond the cases of issue 10, tried as an attacker would with the built orgctl: each hole
 * found became one of these tests and a fix; the others pin down that the door holds.
 */

const sentence = (result: {stderr: string}) => result.stderr.replace(/^orgctl: /, '').trimEnd();

describe('--tenant tricks', () => {
	it('a superuser acting in another tenant cannot leave a project or token there owned from outside it', async () => {
		const c = await cast();
		const project = await c.as('root', ['--tenant', 'other', 'projects', 'create', 'planted']);
		expect(project).toMatchObject({code: 1});
		expect(sentence(project)).toBe('A project of tenant other is owned by one of its users, and root is not; choose its owner (--owner) among them.');
		expect((await c.as('root', ['--tenant', 'other', 'projects', 'create', 'theirs', '--owner', 'olga'])).code).toBe(0);
		expect(sentence(await c.as('root', ['--tenant', 'other', 'tokens', 'create', 't', '--project', 'theirs', '--capability', 'cli']))).toBe('An API token of tenant other is owned by one of its users, and root is not; choose its owner (--owner) among them.');
		// Nor a cli token for one of its users: only its owner makes that.
		expect(sentence(await c.as('root', ['--tenant', 'other', 'tokens', 'create', 't', '--project', 'theirs', '--owner', 'olga', '--capability', 'cli']))).toMatch(/only its owner can create it/);
		const db = c.ctx.store.read();
		for (const record of [...db.projects, ...db.tokens]) expect(db.users.find(u => u.id === record.owner)?.tenantId).toBe(record.tenantId);
	});

	it('ORGCTL_TENANT is --tenant by another name: refused and audited for a non-superuser', async () => {
		const c = await cast();
		const before = c.ctx.store.read().audit.length;
		const result = await c.as('mia', ['users', 'list'], {env: {ORGCTL_TENANT: 'other'}});
		expect(result.code).toBe(1);
		expect(sentence(result)).toBe('Only a superuser can act in another tenant; mia belongs to default.');
		expect(auditSince(c, before).filter(e => e.result === 'refused')).toMatchObject([{actor: 'mia', action: 'tenant.enter'}]);
	});
});

describe('ids are found only inside the actor’s tenant', () => {
	it('another tenant’s admin naming default’s tokens and invitations by prefix finds nothing, and they stay', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('mia'), {name: 'mias'});
		const {token} = await createToken(c.ctx, c.actor('mia'), {name: 'ci', project: 'mias'});
		const {invitation} = await createInvitation(c.ctx, c.actor('mia'), {username: 'friend', email: 'friend@example.com'}, {sendEmail: false});
		for (const args of [['tokens', 'delete', token.id.slice(0, 4)], ['tokens', 'reissue', token.id], ['invites', 'delete', invitation.id.slice(0, 4)], ['invites', 'link', invitation.id]]) {
			const result = await c.as('olga', args);
			expect(result.code, args.join(' ')).toBe(1);
			expect(sentence(result)).toMatch(/^No (API token|invitation) has an id starting with/);
		}
		expect(c.ctx.store.read().tokens.map(t => t.secretHash)).toEqual([token.secretHash]);
		expect(c.ctx.store.read().invitations.map(i => i.id)).toEqual([invitation.id]);
		expect(sentence(await c.as('olga', ['users', 'show', c.users['mia']!.id]))).toBe(`There is no user ${c.users['mia']!.id} in this tenant.`);
	});
});

describe('a token outlives nothing it stood on', () => {
	it('a token whose project is deleted stops at once; one whose project moved still acts as its own owner only', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('mia'), {name: 'gone'});
		await createProject(c.ctx, c.actor('mia'), {name: 'moved'});
		const onGone = (await createToken(c.ctx, c.actor('mia'), {name: 'a', project: 'gone', capabilities: ['cli']})).secret;
		const onMoved = (await createToken(c.ctx, c.actor('mia'), {name: 'b', project: 'moved', capabilities: ['cli']})).secret;
		await deleteProject(c.ctx, c.root, 'gone');
		await transferProject(c.ctx, c.root, 'moved', 'ada');
		expect(sentence(await c.run(['whoami'], {env: {ORGCTL_TOKEN: onGone}}))).toMatch(/not valid/);
		// The project's new owner gained no credential: the token still is mia's, and acts as mia alone.
		expect(JSON.parse((await c.run(['--json', 'whoami'], {env: {ORGCTL_TOKEN: onMoved}})).stdout)).toMatchObject({username: 'mia', role: 'member'});
		expect(sentence(await c.run(['users', 'set-role', 'max', 'admin'], {env: {ORGCTL_TOKEN: onMoved}}))).toBe('Only admins can change roles, disable or delete users.');
	});
});

describe('a session file edited by hand', () => {
	it('pointing at another user’s session, or carrying a later expiry, gets nobody in, and is audited', async () => {
		const c = await cast();
		const sessionFile = join(c.ctx.dir, 'session.json');
		expect((await c.run(['login', '--username', 'root', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
		const rootSession = JSON.parse(readFileSync(sessionFile, 'utf8')) as {id: string; secret: string; expires: string; store: string};
		expect((await c.run(['login', '--username', 'mia', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
		const miaSession = JSON.parse(readFileSync(sessionFile, 'utf8')) as typeof rootSession;
		// mia's secret under root's session id.
		writeFileSync(sessionFile, JSON.stringify({...miaSession, id: rootSession.id}), {mode: 0o600});
		const before = c.ctx.store.read().audit.length;
		const swapped = await c.run(['users', 'set-superuser', 'mia', 'on']);
		expect(sentence(swapped)).toBe('Your session has ended; sign in again with `orgctl login`.');
		expect(auditSince(c, before)).toMatchObject([{action: 'authenticate', result: 'refused'}]);
		// An expiry pushed out in the file changes nothing: the store's expiry counts.
		writeFileSync(sessionFile, JSON.stringify({...miaSession, expires: '2999-01-01T00:00:00.000Z'}), {mode: 0o600});
		const store = JSON.parse(readFileSync(c.ctx.store.path, 'utf8')) as {sessions: Array<{id: string; expires: string}>};
		for (const s of store.sessions) s.expires = new Date(c.ctx.now().getTime() - 1000).toISOString();
		writeFileSync(c.ctx.store.path, JSON.stringify(store), {mode: 0o600});
		expect(sentence(await c.run(['whoami']))).toBe('Your session has expired; sign in again with `orgctl login`.');
		expect(c.ctx.store.read().users.find(u => u.username === 'mia')?.superuser).toBe(false);
	});
});

describe('disabled accounts', () => {
	it('ORGCTL_USER of a disabled user with the right password is refused, audited and throttled like any failure', async () => {
		const c = await cast();
		await disableUser(c.ctx, c.root, 'max');
		const before = c.ctx.store.read().audit.length;
		const result = await c.as('max', ['whoami']);
		expect(result.code).toBe(1);
		expect(sentence(result)).toBe('The account max is disabled; ask an admin to enable it.');
		expect(auditSince(c, before)).toMatchObject([{actor: 'max', action: 'login', result: 'refused', reason: sentence(result)}]);
		// Counted under what was typed and under the account (core/accounts.ts identifierThrottleKey).
		expect(c.ctx.store.read().throttles).toMatchObject([{key: identifierThrottleKey('max'), failures: 1}, {key: `user:${c.users['max']!.id}`, failures: 1}]);
		// A wrong password says nothing about the account being disabled.
		expect(sentence(await c.as('max', ['whoami'], {env: {ORGCTL_PASSWORD: 'a wrong password'}}))).toBe('Wrong username, e-mail or password.');
	});
});

describe('nobody climbs through their own profile', () => {
	it.each([
		['gus', ['users', 'set-role', 'gus', 'member'], 'Only admins can change roles, disable or delete users.'],
		['mia', ['users', 'set-role', 'mia', 'admin'], 'Only admins can change roles, disable or delete users.'],
		['ada', ['users', 'set-superuser', 'ada', 'on'], 'Only a superuser can grant or revoke the superuser bit.'],
		['gus', ['invites', 'create', 'gus2', 'gus2@example.com', '--role', 'admin', '--no-email'], 'Guests cannot send invitations; ask a member or an admin.'],
		['mia', ['invites', 'create', 'mia2', 'mia2@example.com', '--role', 'admin', '--no-email'], 'A member can invite with roles up to member, not admin.'],
		['ada', ['users', 'reset-password', 'root', '--password-stdin'], 'Only a superuser can change, disable or delete a superuser.'],
		['ada', ['users', 'disable', 'root'], 'Only a superuser can change, disable or delete a superuser.'],
	] as const)('%s: %s is refused', async (who, args, refusal) => {
		const c = await cast();
		const result = await c.as(who, args, {input: 'a new long password'});
		expect(result.code).toBe(1);
		expect(sentence(result)).toBe(refusal);
		const db = c.ctx.store.read();
		expect(db.users.find(u => u.username === who)).toMatchObject({role: c.users[who]!.role, superuser: c.users[who]!.superuser});
		expect(db.users.find(u => u.username === 'root')).toMatchObject({passwordHash: c.users['root']!.passwordHash, disabled: false});
		expect(db.invitations).toHaveLength(0);
	});
});
