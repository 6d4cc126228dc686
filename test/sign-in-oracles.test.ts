import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {createSession, identifierThrottleKey, accountThrottleKey} from '../source/core/accounts.js';
import {createInvitation} from '../source/core/invitations.js';
import {startDeviceLogin} from '../source/core/saml.js';
import {addSignupDomain} from '../source/core/signup-domains.js';
import {SIGNUP, verifySignup} from '../source/core/signup.js';
import {disableUser} from '../source/core/user-admin.js';
import {auditSince, cast, PASSWORD, type Cast} from './helpers/cast.js';
import {ORGCTL} from './helpers/cli.js';
import {testKeyPair} from './helpers/idp.js';
import {useLoopbackSmtp} from './helpers/people.js';
import {TestSmtpServer} from './helpers/smtp.js';
import {addSamlUser, cachedKeyPair, configureSso} from './helpers/saml.js';
import {Clock, initializedContext, TEST_HASHER} from './helpers/store.js';

/**
 * Red team 10-14, the sign-in findings (#2 #3 #4 #5 #11 #15), each written as the attack, through
 * the built orgctl (real processes, a real store in a temp folder) or the core where the rule lives.
 */

const WRONG = 'orgctl: Wrong username, e-mail or password.\n';
const WRONG_IN_TENANT = 'orgctl: Wrong tenant, username, e-mail or password.\n';

/** Five wrong passwords for `identifier` at once (the free tries: each is reserved before it is checked). */
async function spendFreeTries(c: Cast, identifier: string, args: readonly string[] = []): Promise<void> {
	const tries = await Promise.all(Array.from({length: 5}, (_, i) => c.run([...args, 'login', '--username', identifier, '--password-stdin'], {input: `wrong ${i}`})));
	for (const attempt of tries) expect(attempt.stderr).toMatch(/^orgctl: Wrong (tenant, )?username, e-mail or password\.\n$/);
}

/** Dozens of orgctl processes: minutes on a loaded 2-core machine. */
const MANY_PROCESSES = 240_000;

/** Runs the built orgctl with no terminal, reads the first line it says, then interrupts it (Ctrl-C cancels a waiting sign-in). */
async function firstLineThenInterrupt(dir: string, args: readonly string[]): Promise<string> {
	const child = spawn(process.execPath, [ORGCTL, ...args], {env: {...process.env, ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json'), ORGCTL_USER: '', ORGCTL_PASSWORD: '', ORGCTL_TOKEN: ''}, stdio: ['pipe', 'pipe', 'pipe']});
	child.stdin.end();
	let stderr = '';
	const closed = new Promise<void>(resolve => child.on('close', () => resolve()));
	const line = await new Promise<string>((resolve, reject) => {
		child.stderr.on('data', d => {
			stderr += d;
			if (stderr.includes('\n')) resolve(stderr.split('\n')[0]!);
		});
		child.on('close', () => reject(new Error(`orgctl ended first: ${stderr}`)));
	});
	child.kill('SIGINT');
	await closed;
	return line;
}

/** A session for `username` left in its own file, as `orgctl login` leaves it. */
async function sessionFile(c: Cast, username: string): Promise<Record<string, string>> {
	const session = await createSession(c.ctx, c.actor(username));
	const file = join(c.ctx.dir, `session-${username}.json`);
	writeFileSync(file, JSON.stringify({store: c.ctx.store.path, ...session}), {mode: 0o600});
	return {ORGCTL_SESSION_FILE: file};
}

describe('#2 passwd: a stolen session or token cannot guess the current password faster than a login', () => {
	it('eight parallel wrong guesses through a session: five are checked, the rest wait, and the right one then waits too', async () => {
		const c = await cast();
		const env = await sessionFile(c, 'gus');
		const before = c.ctx.store.read().audit.length;
		const guesses = await Promise.all(Array.from({length: 8}, (_, i) => c.run(['passwd', '--password-stdin'], {input: `wrong${i}\nnewpassword-aaaaaa-1\n`, env})));
		const said = guesses.map(g => g.stderr.replace(/\d+ seconds/, 'N seconds'));
		expect(said.filter(s => s === 'orgctl: The current password is wrong.\n')).toHaveLength(5);
		expect(said.filter(s => s === 'orgctl: Too many wrong passwords for gus; try again in N seconds.\n')).toHaveLength(3);
		// Locked: the right password is not even checked, and the account's login waits as well (one key).
		const right = await c.run(['passwd', '--password-stdin'], {input: `${PASSWORD}\nnewpassword-aaaaaa-1\n`, env});
		expect(right.stderr).toMatch(/^orgctl: Too many wrong passwords for gus; try again in \d+ seconds\.\n$/);
		// Five counted; a locked try is refused before it counts.
		expect(c.ctx.store.read().throttles.find(t => t.key === accountThrottleKey(c.users['gus']!))).toMatchObject({failures: 5});
		expect((await c.as('gus', ['whoami'])).code).toBe(1);
		expect(await TEST_HASHER.verify(PASSWORD, c.ctx.store.read().users.find(u => u.username === 'gus')!.passwordHash!)).toBe(true);
		expect(auditSince(c, before).filter(e => e.action === 'password.change').map(e => e.result)).toEqual(Array(9).fill('refused'));
	}, MANY_PROCESSES);

	it('the right current password clears the count', async () => {
		const c = await cast();
		const env = await sessionFile(c, 'gus');
		expect((await c.run(['passwd', '--password-stdin'], {input: 'wrong\nnewpassword-aaaaaa-1\n', env})).code).toBe(1);
		expect((await c.run(['passwd', '--password-stdin'], {input: `${PASSWORD}\nnewpassword-aaaaaa-1\n`, env})).code).toBe(0);
		expect(c.ctx.store.read().throttles.some(t => t.key === accountThrottleKey(c.users['gus']!))).toBe(false);
	});
});

describe('#3 the throttle tells nobody which identifiers name an account, nor its tenant', () => {
	it('five wrong tries, then the same name in a tenant: a known and an unknown name answer alike', async () => {
		const c = await cast();
		await spendFreeTries(c, 'ada@example.com');
		await spendFreeTries(c, 'zed@example.com');
		const known = await c.run(['--tenant', 'default', 'login', '--username', 'ada@example.com', '--password-stdin'], {input: 'x'});
		const unknown = await c.run(['--tenant', 'default', 'login', '--username', 'zed@example.com', '--password-stdin'], {input: 'x'});
		const seconds = (text: string) => text.replace(/\d+ seconds/, 'N seconds');
		expect(seconds(known.stderr.replace('ada', 'NAME'))).toBe(seconds(unknown.stderr.replace('zed', 'NAME')));
		expect(known.stderr).toMatch(/^orgctl: Too many failed logins for ada@example.com; try again in \d+ seconds\.\n$/);
		// Which tenant holds an account: five tries in tenant other, then none named; the same either way.
		await spendFreeTries(c, 'olga', ['--tenant', 'other']);
		await spendFreeTries(c, 'nobody', ['--tenant', 'other']);
		const a = await c.run(['login', '--username', 'olga', '--password-stdin'], {input: 'x'});
		const b = await c.run(['login', '--username', 'nobody', '--password-stdin'], {input: 'x'});
		expect(seconds(a.stderr.replace('olga', 'NAME'))).toBe(seconds(b.stderr.replace('nobody', 'NAME')));
	}, MANY_PROCESSES);

	it('a lock under the e-mail does not show under the username (it tells that both name one account), yet still holds the account', async () => {
		const c = await cast();
		await spendFreeTries(c, 'ada@example.com');
		await spendFreeTries(c, 'zed@example.com');
		expect((await c.run(['login', '--username', 'ada', '--password-stdin'], {input: 'x'})).stderr).toBe(WRONG);
		expect((await c.run(['login', '--username', 'zed', '--password-stdin'], {input: 'x'})).stderr).toBe(WRONG);
		// Even ada's right password does not open it under the other spelling while her account is locked.
		expect((await c.run(['login', '--username', 'ada', '--password-stdin'], {input: PASSWORD})).stderr).toBe(WRONG);
		// The store keeps hashes of what was typed, not the text.
		const keys = c.ctx.store.read().throttles.map(t => t.key);
		expect(keys).toContain(identifierThrottleKey('zed@example.com'));
		expect(keys.join(' ')).not.toContain('zed');
	}, MANY_PROCESSES);
});

describe('#4 before a credential is proven every identifier gets the same answer', () => {
	it('a name in several tenants, a SAML account, a disabled one and nobody: a wrong password answers the same', async () => {
		const c = await cast();
		await addSamlUser(c.ctx, c.root.tenant.id, 'sally', 'sally@example.com');
		await disableUser(c.ctx, c.root, 'max');
		for (const name of ['sam', 'sally', 'max', 'nobody', 'sam@example.com']) {
			expect((await c.run(['login', '--username', name, '--password-stdin'], {input: 'not it'})).stderr, name).toBe(WRONG);
			expect((await c.run(['whoami'], {env: {ORGCTL_USER: name, ORGCTL_PASSWORD: 'not it'}})).stderr, name).toBe(WRONG);
		}
		expect((await c.run(['--tenant', 'default', 'login', '--username', 'sally', '--password-stdin'], {input: 'not it'})).stderr).toBe(WRONG_IN_TENANT);
		// The right password learns more: max is disabled.
		expect((await c.run(['login', '--username', 'max', '--password-stdin'], {input: PASSWORD})).stderr).toBe('orgctl: The account max is disabled; ask an admin to enable it.\n');
	}, MANY_PROCESSES);

	describe('starting single sign-on (the console\'s button, orgctl login without a password)', () => {
		let keysDir: string;
		let idp: {privateKeyPem: string; certificatePem: string};
		beforeAll(() => {
			keysDir = mkdtempSync(join(tmpdir(), 'orgctl-authfix-keys-'));
			// Made before any test clock starts: valid from a moment before the clock's now.
			idp = testKeyPair(keysDir, 'idp');
		});
		afterAll(() => rmSync(keysDir, {recursive: true, force: true}));

		async function withSso() {
			const {ctx, root} = await initializedContext(new Clock(), {makeKeyPair: cachedKeyPair});
			await configureSso(ctx, root, {publicUrl: 'http://localhost:8099', idp: {entityId: 'http://127.0.0.1:9/idp', ssoUrl: 'http://127.0.0.1:9/sso', certificatePem: idp.certificatePem}});
			await addSamlUser(ctx, root.tenant.id, 'sally', 'sally@example.com');
			await addSamlUser(ctx, root.tenant.id, 'sid', 'sid@example.com');
			await disableUser(ctx, root, 'sid');
			await ctx.store.transact(db => {
				db.tenants.push({id: 'f'.repeat(32), name: 'other', created: ctx.now().toISOString(), revision: 1});
			});
			await addSamlUser(ctx, 'f'.repeat(32), 'sally', 'sally@other.example', 'admin');
			await addSamlUser(ctx, root.tenant.id, 'solo', 'solo@example.com');
			return {ctx, root};
		}

		it('hands out a code for every name: a SAML user, a password user, a disabled one, one in several tenants, nobody; the audit calls the starter anonymous', async () => {
			const {ctx} = await withSso();
			const origin = {host: 'build-01', clientAddress: '198.51.100.4'};
			const before = ctx.store.read().audit.length;
			for (const username of ['solo', 'root', 'sid', 'sally', 'nosuchuser']) {
				const started = await startDeviceLogin(ctx, {username, origin});
				expect(started.username).toBe(username);
				expect(started.code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
				expect(started.url).toBe('http://localhost:8099/login/device');
			}
			const nameless = await startDeviceLogin(ctx, {username: 'NoSuchUser', tenant: 'nosuchtenant', origin});
			expect(nameless.username).toBe('NoSuchUser');
			expect(ctx.store.read().audit.slice(before).map(e => [e.actor, e.action, e.result])).toEqual(Array(6).fill(['anonymous', 'login.sso.start', 'ok']));
			// Only the one enabled SAML user the name means is whom a sign-in is for.
			const forWhom = ctx.store.read().deviceLogins.map(d => d.userId);
			expect(forWhom.filter(id => id !== null)).toEqual([ctx.store.read().users.find(u => u.username === 'solo')!.id]);
		});

		it('orgctl login --username without a terminal starts single sign-on for any name alike', async () => {
			const {ctx} = await withSso();
			const said: string[] = [];
			for (const name of ['solo', 'root', 'nosuchuser']) {
				const first = await firstLineThenInterrupt(ctx.dir, ['login', '--username', name]);
				said.push(first.replace(name, 'NAME').replace(/code [A-Z]{4}-[A-Z]{4}/, 'code C').replace(/until \S+\)/, 'until T)'));
			}
			expect(new Set(said).size).toBe(1);
			expect(said[0]).toBe('Single sign-on for NAME. Open http://localhost:8099/login/device in a browser and type the code C (valid until T); waiting…');
		});

		it('a refused start (single sign-on not set up) is audited as anonymous, whatever name was typed', async () => {
			const c = await cast();
			const before = c.ctx.store.read().audit.length;
			await expect(startDeviceLogin(c.ctx, {username: 'root', origin: {host: 'h', clientAddress: '127.0.0.1'}})).rejects.toThrow(/single sign-on|Single sign-on/);
			expect(auditSince(c, before)).toMatchObject([{actor: 'anonymous', action: 'login.sso.start', target: 'root', result: 'failed'}]);
		});
	});
});

describe('#5 one tenant\'s users cannot change how another tenant\'s users sign in', () => {
	it('a member of tenant other takes the name root there; root still signs in without --tenant, by the password that matches', async () => {
		const c = await cast();
		const {link} = await createInvitation(c.ctx, c.actor('olga'), {username: 'root', email: 'root@example.com', role: 'member'}, {sendEmail: false});
		expect((await c.run(['accept', link, '--password-stdin'], {input: 'the evil root password 1'})).code).toBe(0);
		const whoami = await c.as('root', ['--json', 'whoami']);
		expect(whoami.stderr).toBe('');
		expect(JSON.parse(whoami.stdout)).toMatchObject({username: 'root', superuser: true});
		const signedIn = await c.run(['--json', 'login', '--username', 'root@example.com', '--password-stdin'], {input: PASSWORD});
		expect(JSON.parse(signedIn.stdout)).toMatchObject({username: 'root', tenant: 'default'});
		// And the other root, by its own password, is the other account.
		const evil = await c.run(['--json', 'whoami'], {env: {ORGCTL_USER: 'root', ORGCTL_PASSWORD: 'the evil root password 1'}});
		expect(JSON.parse(evil.stdout)).toMatchObject({username: 'root', superuser: false, actingIn: 'other'});
		// A wrong password counts against both accounts the name means; the right one gives back what it reserved on the other.
		expect((await c.as('root', ['whoami'], {env: {ORGCTL_PASSWORD: 'wrong'}})).stderr).toBe(WRONG);
		expect(await c.as('root', ['whoami']).then(r => r.code)).toBe(0);
		const rootTenantOther = c.ctx.store.read().users.find(u => u.username === 'root' && !u.superuser)!;
		expect(c.ctx.store.read().throttles.find(t => t.key === accountThrottleKey(rootTenantOther))?.failures).toBe(1);
	}, MANY_PROCESSES);

	it('two accounts with one password: the owner, once the password proved right, is asked to name the tenant', async () => {
		const c = await cast();
		// Both sams have the cast's password.
		expect((await c.as('sam', ['whoami'])).stderr).toBe('orgctl: sam names accounts in several tenants with this password; name one with --tenant.\n');
		expect((await c.as('sam', ['--tenant', 'other', 'whoami'])).code).toBe(0);
	});
});

let smtp: TestSmtpServer;
beforeAll(async () => {
	smtp = await new TestSmtpServer().start();
});
afterAll(async () => smtp.stop());

describe('#11 parallel guesses get exactly the sign-up code\'s tries', () => {
	it('twelve wrong codes at once: five are compared, the rest refused', async () => {
		const c = await cast();
		await useLoopbackSmtp(c.ctx, c.root, smtp.port);
		await addSignupDomain(c.ctx, c.root, {domain: 'corp.com'});
		// A waiting sign-up, as startSignup leaves it (its mail does not matter here).
		const {startSignup} = await import('../source/core/signup.js');
		await startSignup(c.ctx, {email: 'bea@corp.com', username: 'bea'});
		const answers = await Promise.allSettled(Array.from({length: 12}, (_, i) => verifySignup(c.ctx, {email: 'bea@corp.com', code: String(10_000_000 + i), password: 'pw-bea-123456789'})));
		const said = answers.map(a => (a.status === 'rejected' ? (a.reason as Error).message : 'signed up'));
		expect(said.filter(s => /^The code is wrong; \d tr(y|ies) left\.$/.test(s)).sort()).toEqual(['The code is wrong; 1 try left.', 'The code is wrong; 2 tries left.', 'The code is wrong; 3 tries left.', 'The code is wrong; 4 tries left.']);
		// The fifth compared one ended the sign-up; every other was refused before its code was compared.
		expect(said.filter(s => s.startsWith('Too many wrong codes for bea@corp.com') || s.startsWith('No sign-up is waiting for bea@corp.com'))).toHaveLength(8);
		expect(c.ctx.store.read().pendingSignups).toHaveLength(0);
		expect(SIGNUP.maxAttempts).toBe(5);
	});
});

describe('#15 a refusal comes before the prompt', () => {
	it('an admin is refused resetting a superuser\'s password before being asked for one, and `users delete` is refused before it asks for --yes', async () => {
		const c = await cast();
		const before = c.ctx.store.read().audit.length;
		// No terminal and no --password-stdin: on main this asked for the password (a usage error here) before the permission.
		const reset = await c.as('ada', ['users', 'reset-password', 'root']);
		expect(reset.stderr).toBe('orgctl: Only a superuser can change, disable or delete a superuser.\n');
		const deletion = await c.as('ada', ['users', 'delete', 'root']);
		expect(deletion.stderr).toBe('orgctl: Only a superuser can change, disable or delete a superuser.\n');
		expect(auditSince(c, before).filter(e => e.result === 'refused').map(e => [e.actor, e.action])).toEqual([
			['ada', 'user.reset-password'],
			['ada', 'user.delete'],
		]);
	});
});
