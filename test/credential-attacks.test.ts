import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {actorFacts} from '../source/core/context.js';
import {addInvitation} from './helpers/people.js';
import {createInvitation} from '../source/core/invitations.js';
import {decide} from '../source/core/policy.js';
import {createProject} from '../source/core/projects.js';
import {createToken, transferToken} from '../source/core/tokens.js';
import {auditSince, cast, PASSWORD, type Cast} from './helpers/cast.js';

/**
 * Issue 10, each case written as the attack it describes, through the built orgctl (real processes,
 * a real store in a temp folder). Each failed on the main these fixes started from.
 */

/** Exit 1 with this sentence on stderr. */
function refusedWith(result: {code: number; stderr: string}, sentence: string | RegExp): void {
	expect(result.code).toBe(1);
	if (typeof sentence === 'string') expect(result.stderr).toBe(`orgctl: ${sentence}\n`);
	else expect(result.stderr).toMatch(sentence);
}

/** The refusals (and failures) added to the audit since `before`. */
function refusalsSince(c: Cast, before: number) {
	return auditSince(c, before).filter(e => e.result !== 'ok');
}

async function cliToken(c: Cast, owner: string, project: string, name = 'laptop'): Promise<string> {
	const actor = c.actor(owner);
	if (!c.ctx.store.read().projects.some(p => p.name === project)) await createProject(c.ctx, actor, {name: project});
	return (await createToken(c.ctx, actor, {name, project, capabilities: ['cli']})).secret;
}

describe('1. a cli secret is only ever shown to its owner', () => {
	it('an admin cannot make a cli token owned by root, so cannot act as root through ORGCTL_TOKEN', async () => {
		const c = await cast();
		await createProject(c.ctx, c.root, {name: 'p1'});
		const before = c.ctx.store.read().audit.length;
		const made = await c.as('ada', ['--json', 'tokens', 'create', 'x', '--project', 'p1', '--owner', 'root', '--capability', 'cli']);
		refusedWith(made, 'A token with the cli capability acts as its owner, so only its owner can create it; ask them to create it themselves.');
		expect(made.stdout).toBe('');
		expect(c.ctx.store.read().tokens).toHaveLength(0);
		expect(refusalsSince(c, before)).toMatchObject([{actor: 'ada', action: 'token.create', result: 'refused'}]);
		// So the chain of the issue ends where it began: ada cannot grant herself the bit or make tenants.
		refusedWith(await c.as('ada', ['users', 'set-superuser', 'ada', 'on']), 'Only a superuser can grant or revoke the superuser bit.');
		refusedWith(await c.as('ada', ['tenants', 'create', 'mine']), 'Tenants can be created and deleted only by a superuser.');
	});

	it('nobody, not even a superuser, makes a cli token for a member or an admin', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('mia'), {name: 'mias'});
		refusedWith(await c.as('ada', ['tokens', 'create', 'x', '--project', 'mias', '--owner', 'mia', '--capability', 'cli']), /only its owner can create it/);
		refusedWith(await c.as('root', ['tokens', 'create', 'x', '--project', 'mias', '--owner', 'mia', '--capability', 'cli']), /only its owner can create it/);
		refusedWith(await c.as('root', ['tokens', 'create', 'x', '--project', 'mias', '--owner', 'ada', '--capability', 'cli']), /only its owner can create it/);
		expect(c.ctx.store.read().tokens).toHaveLength(0);
		// Her own, she may; a token that only posts crashes, an admin may make for her.
		expect((await c.as('mia', ['tokens', 'create', 'mine', '--project', 'mias', '--capability', 'cli'])).code).toBe(0);
		expect((await c.as('ada', ['tokens', 'create', 'crashes', '--project', 'mias', '--owner', 'mia'])).code).toBe(0);
	});
});

describe('2. a token’s secret never changes hands', () => {
	it('tokens transfer revokes the secret: it does not act as the new owner, who alone re-issues it', async () => {
		const c = await cast();
		const secret = await cliToken(c, 'mia', 'mias');
		const id = secret.slice(0, 8);
		const moved = await c.as('ada', ['tokens', 'transfer', id, '--to', 'max']);
		expect(moved.code).toBe(0);
		expect(moved.stderr).toContain('its secret was revoked');
		refusedWith(await c.run(['whoami'], {env: {ORGCTL_TOKEN: secret}}), /^orgctl: The API token laptop was revoked on .* \(it moved from mia to max\)/);
		// The admin who moved it cannot get its secret either.
		refusedWith(await c.as('ada', ['tokens', 'reissue', id]), 'A token with the cli capability acts as its owner, so only its owner can re-issue it.');
		const reissued = await c.as('max', ['--json', 'tokens', 'reissue', id]);
		expect(reissued.code).toBe(0);
		const {token} = JSON.parse(reissued.stdout) as {token: string};
		expect(JSON.parse((await c.run(['--json', 'whoami'], {env: {ORGCTL_TOKEN: token}})).stdout)).toMatchObject({username: 'max'});
		refusedWith(await c.run(['whoami'], {env: {ORGCTL_TOKEN: secret}}), /not valid/);
	});

	it('tokens transfer --to root by an admin is refused; by root the secret still dies', async () => {
		const c = await cast();
		const secret = await cliToken(c, 'ada', 'adas');
		refusedWith(await c.as('ada', ['tokens', 'transfer', secret.slice(0, 8), '--to', 'root']), 'Only a superuser can give projects, tokens or invitations to a superuser.');
		expect((await c.as('root', ['tokens', 'transfer', secret.slice(0, 8), '--to', 'root'])).code).toBe(0);
		refusedWith(await c.run(['users', 'set-superuser', 'ada', 'on'], {env: {ORGCTL_TOKEN: secret}}), /revoked/);
		expect(c.ctx.store.read().users.find(u => u.username === 'ada')?.superuser).toBe(false);
	});

	it('users delete mem --migrate-to root: the deleted member’s secret does not become a superuser’s', async () => {
		const c = await cast();
		const secret = await cliToken(c, 'mia', 'mias');
		refusedWith(await c.as('ada', ['users', 'delete', 'mia', '--migrate-to', 'root', '--yes']), 'Only a superuser can give projects, tokens or invitations to a superuser.');
		const deleted = await c.as('root', ['users', 'delete', 'mia', '--migrate-to', 'root', '--yes']);
		expect(deleted.code).toBe(0);
		expect(deleted.stderr).toContain('The API token moved is revoked');
		refusedWith(await c.run(['users', 'set-superuser', 'max', 'on'], {env: {ORGCTL_TOKEN: secret}}), /revoked .*it moved from mia to root/);
		refusedWith(await c.run(['tenants', 'create', 'stolen'], {env: {ORGCTL_TOKEN: secret}}), /revoked/);
		expect(c.ctx.store.read().tenants.map(t => t.name)).not.toContain('stolen');
	});

	it.each([
		['an admin resets the owner’s password', ['users', 'reset-password', 'mia', '--password-stdin'], 'ada', 'a new long password\n', /its owner’s password was reset/],
		['the store owner resets it (break-glass)', ['admin', 'reset-password', 'mia', '--password-stdin'], undefined, 'a new long password\n', /its owner’s password was reset/],
		['the owner changes it', ['passwd', '--password-stdin'], 'mia', `${PASSWORD}\na new long password\n`, /its owner changed their password/],
		['an admin disables the owner (and enables again)', ['users', 'disable', 'mia'], 'ada', '', /its owner was disabled/],
	] as const)('a cli token stops acting when %s', async (_what, args, by, input, reason) => {
		const c = await cast();
		const secret = await cliToken(c, 'mia', 'mias');
		expect(JSON.parse((await c.run(['--json', 'whoami'], {env: {ORGCTL_TOKEN: secret}})).stdout)).toMatchObject({username: 'mia'});
		const done = by === undefined ? await c.run(args, {input}) : await c.as(by, args, {input});
		expect(done).toMatchObject({code: 0, stderr: expect.stringContaining('cli API token was revoked')});
		if (args[1] === 'disable') expect((await c.as('ada', ['users', 'enable', 'mia'])).code).toBe(0);
		refusedWith(await c.run(['whoami'], {env: {ORGCTL_TOKEN: secret}}), reason);
	});
});

describe('3. the throttle is reserved before the password is checked', () => {
	it('twenty parallel wrong logins get five password checks, and the right password right after is refused', async () => {
		const c = await cast();
		const before = c.ctx.store.read().audit.length;
		const wrong = await Promise.all(Array.from({length: 20}, () => c.run(['login', '--username', 'mia', '--password-stdin'], {input: 'a wrong password\n'})));
		expect(wrong.every(r => r.code === 1)).toBe(true);
		const right = await c.run(['login', '--username', 'mia', '--password-stdin'], {input: `${PASSWORD}\n`});
		refusedWith(right, /^orgctl: Too many failed logins for mia; try again in \d+ seconds\.\n$/);
		const events = auditSince(c, before).filter(e => e.action === 'login');
		expect(events.filter(e => e.reason === 'Wrong username, e-mail or password.')).toHaveLength(5);
		expect(events.filter(e => e.reason?.startsWith('Too many failed logins'))).toHaveLength(16);
		expect(events.some(e => e.result === 'ok')).toBe(false);
		expect(c.ctx.store.read().sessions).toHaveLength(0);
		// ORGCTL_USER goes through the same door.
		refusedWith(await c.as('mia', ['whoami']), /Too many failed logins for mia/);
	});
});

describe('4. nobody but a superuser acts on what a superuser owns or sent', () => {
	it('an admin can neither delete, move, re-issue, create for, copy, resend nor revoke root’s things', async () => {
		const c = await cast();
		await createProject(c.ctx, c.root, {name: 'roots'});
		await createProject(c.ctx, c.actor('ada'), {name: 'adas'});
		const {token} = await createToken(c.ctx, c.root, {name: 'crashes', project: 'roots'});
		const {invitation} = await createInvitation(c.ctx, c.root, {username: 'newbie', email: 'newbie@example.com'}, {sendEmail: false});
		const tokenId = token.id.slice(0, 8);
		const inviteId = invitation.id.slice(0, 8);
		const before = c.ctx.store.read();
		const attempts: ReadonlyArray<readonly [readonly string[], string]> = [
			[['projects', 'delete', 'roots'], 'Only a superuser can change or delete a project a superuser owns.'],
			[['projects', 'transfer', 'roots', '--to', 'ada'], 'Only a superuser can move what a superuser owns.'],
			[['projects', 'create', 'dumped', '--owner', 'root'], 'Only a superuser can create a project for a superuser.'],
			[['tokens', 'delete', tokenId], 'Only a superuser can delete an API token a superuser owns.'],
			[['tokens', 'transfer', tokenId, '--to', 'ada'], 'Only a superuser can move what a superuser owns.'],
			[['tokens', 'reissue', tokenId], 'Only a superuser can re-issue an API token a superuser owns.'],
			[['tokens', 'create', 'planted', '--project', 'adas', '--owner', 'root'], 'Only a superuser can create an API token for a superuser.'],
			[['tokens', 'create', 'mine', '--project', 'roots'], 'Only a superuser can create an API token for a project a superuser owns.'],
			[['invites', 'link', inviteId], 'Only a superuser can resend, copy or revoke an invitation a superuser sent.'],
			[['invites', 'resend', inviteId], 'Only a superuser can resend, copy or revoke an invitation a superuser sent.'],
			[['invites', 'delete', inviteId], 'Only a superuser can resend, copy or revoke an invitation a superuser sent.'],
		];
		for (const [args, sentence] of attempts) {
			const audit = c.ctx.store.read().audit.length;
			const result = await c.as('ada', args);
			refusedWith(result, sentence);
			expect(result.stdout).toBe('');
			expect(refusalsSince(c, audit), args.join(' ')).toMatchObject([{actor: 'ada', result: 'refused', reason: sentence}]);
		}
		const after = c.ctx.store.read();
		expect(after.projects.map(p => p.name).sort()).toEqual(before.projects.map(p => p.name).sort());
		expect(after.tokens).toEqual(before.tokens);
		expect(after.invitations).toEqual(before.invitations);
		// Root may.
		expect((await c.as('root', ['invites', 'link', inviteId])).code).toBe(0);
	});
});

describe('5. every refusal is audited: reads, other tenants, failed authentications', () => {
	it('each of these leaves exactly one refusal in the audit log, with the sentence the user read', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('mia'), {name: 'mias'});
		const crashes = (await createToken(c.ctx, c.actor('mia'), {name: 'crashes', project: 'mias'})).secret;
		const moved = (await createToken(c.ctx, c.actor('mia'), {name: 'moved', project: 'mias', capabilities: ['cli']})).secret;
		await transferToken(c.ctx, c.root, moved.slice(0, 8), 'max');
		// A session file edited by hand: mia's session id with a made-up secret.
		const login = await c.run(['login', '--username', 'mia', '--password-stdin'], {input: `${PASSWORD}\n`});
		expect(login.code).toBe(0);
		const sessionFile = join(c.ctx.dir, 'session.json');
		const session = JSON.parse(readFileSync(sessionFile, 'utf8')) as {secret: string};
		const edited = join(c.ctx.dir, 'edited-session.json');
		writeFileSync(edited, JSON.stringify({...session, secret: 'x'.repeat(43)}), {mode: 0o600});
		const cases: ReadonlyArray<readonly [who: string | Record<string, string>, args: readonly string[], action: string]> = [
			['gus', ['users', 'list'], 'users.list'],
			['gus', ['users', 'show', 'mia'], 'users.show'],
			['gus', ['invites', 'list'], 'invitations.list'],
			['mia', ['audit'], 'audit.read'],
			['mia', ['signup-domains', 'list'], 'signup-domains.list'],
			['mia', ['users', 'owned', 'root'], 'users.owned'],
			['mia', ['invites', 'deliver'], 'mail.deliver'],
			['ada', ['settings', 'show'], 'settings.show'],
			['ada', ['settings', 'smtp', 'show'], 'settings.smtp.show'],
			['ada', ['tenants', 'list'], 'tenants.list'],
			['ada', ['--tenant', 'other', 'users', 'list'], 'tenant.enter'],
			['olga', ['--tenant', 'default', 'users', 'list'], 'tenant.enter'],
			[{ORGCTL_TOKEN: 'garbage'}, ['whoami'], 'authenticate'],
			[{ORGCTL_TOKEN: crashes}, ['whoami'], 'authenticate'],
			[{ORGCTL_TOKEN: moved}, ['whoami'], 'authenticate'],
			[{ORGCTL_SESSION_FILE: edited}, ['whoami'], 'authenticate'],
			[{}, ['login', '--username', 'sam', '--password-stdin'], 'login'],
		];
		for (const [who, args, action] of cases) {
			const before = c.ctx.store.read().audit.length;
			const result = typeof who === 'string' ? await c.as(who, args) : await c.run(args, {env: who, input: `${PASSWORD}\n`});
			expect(result.code, `${JSON.stringify(who)} ${args.join(' ')}`).toBe(1);
			const refusals = refusalsSince(c, before);
			expect(refusals, `${JSON.stringify(who)} ${args.join(' ')}`).toHaveLength(1);
			expect(refusals[0]).toMatchObject({action, result: 'refused', reason: result.stderr.replace(/^orgctl: /, '').trimEnd()});
		}
		expect(c.ctx.store.read().audit.filter(e => e.action === 'login' && e.reason === 'sam names accounts in several tenants with this password; name one with --tenant.')).toHaveLength(1);
		// Some thirty orgctl processes one after another: 17 s alone, past a minute beside the permission matrix.
	}, 240_000);
});

describe('6. members see only their own things', () => {
	it('users owned root is refused to a member, and no list shows a member someone else’s token, project or invitation', async () => {
		const c = await cast();
		await createProject(c.ctx, c.root, {name: 'roots'});
		await createToken(c.ctx, c.root, {name: 'root-secret-name', project: 'roots', capabilities: ['cli']});
		await addInvitation(c.ctx, c.root.tenant.id, c.root.user.id, 'rootsguest');
		await createProject(c.ctx, c.actor('mia'), {name: 'mias'});
		await createToken(c.ctx, c.actor('mia'), {name: 'mine', project: 'mias'});
		const owned = await c.as('mia', ['--json', 'users', 'owned', 'root']);
		refusedWith(owned, 'Members can see only what they own themselves.');
		expect(owned.stdout).toBe('');
		const everything = (await Promise.all([['tokens', 'list'], ['projects', 'list'], ['invites', 'list'], ['users', 'owned', 'mia']].map(args => c.as('mia', ['--json', ...args])))).map(r => {
			expect(r.code).toBe(0);
			return r.stdout;
		});
		for (const out of everything) {
			expect(out).not.toContain('root-secret-name');
			expect(out).not.toContain('roots');
			expect(out).not.toContain('rootsguest');
		}
		expect((JSON.parse(everything[0]!) as Array<{name: string}>).map(t => t.name)).toEqual(['mine']);
		expect((JSON.parse(everything[1]!) as Array<{name: string}>).map(p => p.name)).toEqual(['mias']);
		// An admin sees them (and sees that they cannot act on root's).
		expect((await c.as('ada', ['--json', 'users', 'owned', 'root'])).stdout).toContain('root-secret-name');
	});
});

describe('7. each decision has its own policy row', () => {
	it('deleting, listing and creating follow the rows named for them, sentence for sentence', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('max'), {name: 'maxs'});
		await createToken(c.ctx, c.actor('max'), {name: 'maxtoken', project: 'maxs'});
		const mia = actorFacts(c.actor('mia'));
		const max = c.users['max']!.id;
		const row = (...args: Parameters<typeof decide>) => {
			const decision = decide(...args);
			return decision.allowed ? '(allowed)' : decision.reason;
		};
		refusedWith(await c.as('mia', ['projects', 'delete', 'maxs']), row(mia, 'projects.manage', {ownerId: max, ownerSuperuser: false}));
		refusedWith(await c.as('mia', ['tokens', 'create', 't', '--project', 'maxs']), row(mia, 'tokens.create', {ownerId: mia.userId, projectOwnerId: max}));
		// A member looks ids up among the tokens she may list (tokens.list-all: her own): max's is no such token (red team #14).
		const maxToken = c.ctx.store.read().tokens[0]!.id;
		expect(row(mia, 'tokens.manage', {ownerId: max})).not.toBe('(allowed)');
		refusedWith(await c.as('mia', ['tokens', 'delete', maxToken]), `No API token has an id starting with "${maxToken}".`);
		expect(row(mia, 'projects.list-all')).toBe('Members see only their own projects.');
		expect(JSON.parse((await c.as('mia', ['--json', 'projects', 'list'])).stdout)).toEqual([]);
		expect(row(mia, 'tokens.list-all')).toBe('Members see only their own API tokens.');
		expect(JSON.parse((await c.as('mia', ['--json', 'tokens', 'list'])).stdout)).toEqual([]);
		expect(JSON.parse((await c.as('ada', ['--json', 'tokens', 'list'])).stdout)).toHaveLength(1);
	});
});
