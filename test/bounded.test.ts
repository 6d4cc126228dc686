import {existsSync, statSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {createSession, identifierThrottleKey, login, THROTTLE} from '../source/core/accounts.js';
import {appendAudit, recordRefusal} from '../source/core/audit.js';
import {refused} from '../source/core/errors.js';
import {HOUSEKEEPING} from '../source/core/housekeeping.js';
import {newId} from '../source/core/ids.js';
import {createInvitation, revokeInvitation, TOMBSTONE_DAYS} from '../source/core/invitations.js';
import {AUDIT_REASON_MAX, AUDIT_TEXT_MAX, type AuditEvent} from '../source/core/model.js';
import {setPolicy} from '../source/core/server-settings.js';
import {addSignupDomain} from '../source/core/signup-domains.js';
import {orgctl} from './helpers/cli.js';
import {Clock, initializedContext} from './helpers/store.js';
import {signIn} from './helpers/term.js';
import {BACKEND} from './helpers/backend.js';

type Ctx = Awaited<ReturnType<typeof initializedContext>>['ctx'];

const HOUR = 3600;
const DAY = 86_400;

/** A failed login with a name that is no account: the anonymous input the bounds are about. */
async function failLogin(ctx: Ctx, identifier = 'nobody'): Promise<void> {
	await expect(login(ctx, {identifier, password: 'wrong'})).rejects.toMatchObject({kind: 'auth'});
}

const fileSize = (ctx: Ctx) => statSync(ctx.store.path).size;

const prunes = (ctx: Ctx) => ctx.store.read().audit.filter(e => e.action === 'store.prune');

describe('what anonymous input leaves in the store is bounded', () => {
	it('a refused 100 KB identifier leaves a capped, marked audit target and a hashed throttle key', async () => {
		const {ctx} = await initializedContext();
		const identifier = `m2\u001b]52;c;${'Y'.repeat(100_000)}\u0007`;
		await failLogin(ctx, identifier);
		const event = ctx.store.read().audit.at(-1)!;
		expect(event).toMatchObject({actor: 'anonymous', action: 'login', result: 'refused', reason: 'Wrong username, e-mail or password.'});
		expect(event.target).toBe(`${identifier.slice(0, AUDIT_TEXT_MAX)}…[+${identifier.length - AUDIT_TEXT_MAX}]`);
		expect(ctx.store.read().throttles).toEqual([expect.objectContaining({key: identifierThrottleKey(identifier), failures: 1})]);
		expect(ctx.store.read().throttles[0]!.key.length).toBeLessThan(100);
	});

	it('a failed login that names an account is audited under that account, for its tenant’s admins to see', async () => {
		const {ctx, root} = await initializedContext();
		await failLogin(ctx, 'ROOT@example.com');
		expect(ctx.store.read().audit.at(-1)).toMatchObject({actor: 'root', tenantId: root.tenant.id, target: 'ROOT@example.com', result: 'refused'});
	});

	// The size of the store file (on PostgreSQL the same bounds hold the rows: the other tests here).
	it.skipIf(BACKEND !== 'file')('1,000 failed logins with 100 KB identifiers grow the store by less than 1 MB', async () => {
		// In memory-backed /dev/shm where there is one: the size is the point here, and each durable
		// commit costs about 18 ms of fsync on this machine's disk (41 s for the 1,000; 12 s there).
		const {ctx} = await initializedContext(new Clock(), {}, existsSync('/dev/shm') ? '/dev/shm' : undefined);
		const before = fileSize(ctx);
		const started = performance.now();
		for (let i = 0; i < 1000; i++) await failLogin(ctx, `${String(i).padStart(4, '0')}${'x'.repeat(100_000)}`);
		const grown = fileSize(ctx) - before;
		expect(ctx.store.read().audit.filter(e => e.action === 'login')).toHaveLength(1000);
		expect(ctx.store.read().throttles).toHaveLength(1000);
		expect(grown).toBeLessThan(1_000_000);
		// For the record (the report quotes it): bytes per attempt and the time taken, cheap hasher.
		console.info(`1,000 failed logins with 100 KB identifiers: store grew ${grown} bytes (${Math.round(grown / 1000)} per attempt) in ${Math.round(performance.now() - started)} ms`);
	}, 120_000);
});

describe('housekeeping on the core’s clock', () => {
	it('removes expired sessions and sign-ups, quiet throttles and old tombstones, and audits what went', async () => {
		const clock = new Clock();
		const {ctx, root} = await initializedContext(clock);
		await createSession(ctx, root);
		const invitation = await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'}, {sendEmail: false});
		await revokeInvitation(ctx, root, invitation.invitation.id);
		const domain = await addSignupDomain(ctx, root, {domain: 'corp.com'});
		await ctx.store.transact(db => {
			const at = clock.now().toISOString();
			const expires = new Date(clock.now().getTime() + 8 * HOUR * 1000).toISOString();
			db.pendingSignups.push({id: newId(), tenantId: root.tenant.id, domainId: domain.id, email: 'sam@corp.com', username: 'sam', codeHash: 'a'.repeat(64), attempts: 0, created: at, expires, revision: 1});
		});
		await failLogin(ctx, 'nobody');
		const locked = 'also-nobody';
		for (let i = 0; i < THROTTLE.freeFailures; i++) await failLogin(ctx, locked);
		expect(ctx.store.read().throttles.find(t => t.key === identifierThrottleKey(locked))!.lockedUntil).not.toBeNull();
		expect(ctx.store.read().sessions).toHaveLength(1);
		expect(prunes(ctx)).toEqual([]);

		// A day later: the session (12 h), the sign-up (8 h) and the quiet throttles have served their time.
		clock.advance(DAY + HOUR);
		await failLogin(ctx, 'someone-else');
		const db = ctx.store.read();
		expect(db.sessions).toEqual([]);
		expect(db.pendingSignups).toEqual([]);
		expect(db.throttles.map(t => t.key)).toEqual([identifierThrottleKey('someone-else')]);
		expect(db.invitationTombstones).toHaveLength(1);
		expect(prunes(ctx)).toEqual([expect.objectContaining({actor: 'system', tenantId: null, result: 'ok', target: 'removed 1 expired session, 1 expired sign-up, 2 throttle entries'})]);
		expect(db.housekeeping.lastRun).toBe(clock.now().toISOString());

		// Tombstones go after TOMBSTONE_DAYS.
		clock.advance(TOMBSTONE_DAYS * DAY);
		await failLogin(ctx, 'late');
		expect(ctx.store.read().invitationTombstones).toEqual([]);
		expect(prunes(ctx).at(-1)!.target).toContain('1 old invitation tombstone');
	});

	it('removes single sign-on’s expired requests, replay-cache entries and terminal sign-ins, keeping the current ones', async () => {
		const clock = new Clock();
		const {ctx, root} = await initializedContext(clock);
		const iso = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000).toISOString();
		const at = iso(0);
		await ctx.store.transact(db => {
			for (const [suffix, expires] of [['0', iso(10 * 60)], ['1', iso(2 * HOUR)]] as const) {
				db.samlRequests.push({id: `_${suffix.repeat(40)}`, created: at, expires, purpose: {kind: 'device', deviceLoginId: newId()}, state: 'pending'});
				db.samlAssertions.push({id: `assertion-${suffix}`, expires});
				db.deviceLogins.push({id: newId(), codeMac: suffix.repeat(64), pollSecretHash: 'b'.repeat(64), username: root.user.username, tenant: null, host: 'h', clientAddress: 'a', created: at, expires, state: 'pending', userId: null, reason: null});
			}
		});
		await failLogin(ctx);
		expect(ctx.store.read().samlRequests).toHaveLength(2);

		// An hour on: the 10-minute ones have served their time, the 2-hour ones stay.
		clock.advance(HOUR + 60);
		await failLogin(ctx);
		const db = ctx.store.read();
		expect(db.samlRequests.map(r => r.id)).toEqual([`_${'1'.repeat(40)}`]);
		expect(db.samlAssertions.map(a => a.id)).toEqual(['assertion-1']);
		expect(db.deviceLogins.map(d => d.codeMac)).toEqual(['1'.repeat(64)]);
		expect(prunes(ctx).at(-1)!.target).toContain('1 expired SAML request, 1 expired SAML assertion id, 1 expired terminal sign-in');
	});

	it('runs at most once an hour, and again when the clock has gone back', async () => {
		const clock = new Clock();
		const {ctx, root} = await initializedContext(clock);
		await failLogin(ctx);
		const first = ctx.store.read().housekeeping.lastRun;
		expect(first).toBe(clock.now().toISOString());
		await createSession(ctx, root);
		clock.advance(13 * HOUR);
		await ctx.store.transact(db => {
			db.housekeeping.lastRun = new Date(clock.now().getTime() - (HOUSEKEEPING.everySeconds - 60) * 1000).toISOString();
		});
		await failLogin(ctx);
		expect(ctx.store.read().sessions).toHaveLength(1);
		clock.advance(60);
		await failLogin(ctx);
		expect(ctx.store.read().sessions).toEqual([]);
		// A last run "in the future" (the clock was set back): due now, not in a year.
		await createSession(ctx, root);
		clock.advance(13 * HOUR);
		await ctx.store.transact(db => {
			db.housekeeping.lastRun = new Date(clock.now().getTime() + 365 * DAY * 1000).toISOString();
		});
		await failLogin(ctx);
		expect(ctx.store.read().sessions).toEqual([]);
	});

	it('keeps at most THROTTLE.maxUnknown entries for names that are no account, the longest quiet going first', async () => {
		const clock = new Clock();
		const {ctx} = await initializedContext(clock);
		const old = new Date(clock.now().getTime() - HOUR * 1000).toISOString();
		await ctx.store.transact(db => {
			for (let i = 0; i < THROTTLE.maxUnknown + 200; i++) db.throttles.push({key: identifierThrottleKey(`spray${i}`), failures: 1, lockedUntil: null, last: i < 200 ? old : clock.now().toISOString()});
		});
		await failLogin(ctx, 'the-newest');
		const keys = new Set(ctx.store.read().throttles.map(t => t.key));
		expect(keys.size).toBe(THROTTLE.maxUnknown);
		expect(keys.has(identifierThrottleKey('the-newest'))).toBe(true);
		expect(keys.has(identifierThrottleKey('spray0'))).toBe(false);
		expect(keys.has(identifierThrottleKey('spray200'))).toBe(false);
		expect(keys.has(identifierThrottleKey('spray201'))).toBe(true);
	});
});

describe('the audit retention policy', () => {
	function oldEvents(count: number, time: string): AuditEvent[] {
		return Array.from({length: count}, () => ({id: newId(), time, actor: 'root', tenantId: null, action: 'project.create', target: 'p', result: 'ok' as const}));
	}

	it('removes events older than auditRetentionDays', async () => {
		const clock = new Clock();
		const {ctx, root} = await initializedContext(clock);
		await setPolicy(ctx, root, {auditRetentionDays: 30});
		clock.advance(31 * DAY);
		await failLogin(ctx);
		const actions = ctx.store.read().audit.map(e => e.action);
		expect(actions).toEqual(['login', 'store.prune']);
		expect(prunes(ctx)[0]!.target).toBe('removed 2 audit events past retention');
	});

	it('keeps at most auditMaxEvents, the oldest going first, once the log is well over', async () => {
		const clock = new Clock();
		const {ctx, root} = await initializedContext(clock);
		await setPolicy(ctx, root, {auditMaxEvents: 1000});
		await ctx.store.transact(db => {
			db.audit.unshift(...oldEvents(1200, new Date(clock.now().getTime() - 1000).toISOString()));
		});
		await failLogin(ctx);
		const audit = ctx.store.read().audit;
		expect(audit).toHaveLength(1000);
		expect(audit.slice(-2).map(e => e.action)).toEqual(['login', 'store.prune']);
		// The oldest went first: of the 1,200 older events, what leaves room for the newest four.
		expect(audit.filter(e => e.action === 'project.create')).toHaveLength(996);
		expect(audit.slice(-4, -2).map(e => e.action)).toEqual(['init', 'settings.org']);
	});

	it('over auditMaxEvents, anonymous refusals go first: no real event is removed while one remains, and the prune says what it removed', async () => {
		const clock = new Clock();
		const {ctx, root} = await initializedContext(clock);
		await setPolicy(ctx, root, {auditMaxEvents: 1000});
		const time = new Date(clock.now().getTime() - 1000).toISOString();
		const anonymous = (n: number) => Array.from({length: n}, () => ({id: newId(), time, actor: 'anonymous', tenantId: null, action: 'invitation.accept', target: 'invitation x', result: 'refused' as const, clientAddress: '127.0.0.9'}));
		await ctx.store.transact(db => {
			db.audit.unshift(...anonymous(1150));
		});
		const real = ctx.store.read().audit.filter(e => e.clientAddress === undefined).map(e => e.id);
		await failLogin(ctx);
		const audit = ctx.store.read().audit;
		expect(audit).toHaveLength(1000);
		for (const id of real) expect(audit.some(e => e.id === id)).toBe(true);
		expect(prunes(ctx)[0]!.target).toMatch(/^removed 15\d anonymous refused requests over the cap of 1,000 audit events$/);
		// Only when no anonymous event is left do real ones go, and the prune says so.
		await ctx.store.transact(db => {
			db.audit = db.audit.filter(e => e.clientAddress === undefined);
			db.audit.unshift(...oldEvents(1200, time));
			db.housekeeping = {lastRun: null};
		});
		await failLogin(ctx);
		expect(prunes(ctx).at(-1)!.target).toMatch(/^removed [\d,]+ audit events over the cap of 1,000 \(the oldest; no anonymous ones were left\)$/);
	});

	it('takes its bounds from the org policy, each value checked with one sentence', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setPolicy(ctx, root, {auditRetentionDays: 0})).rejects.toThrow('The audit retention must be a whole number of days from 1 to 3650.');
		await expect(setPolicy(ctx, root, {auditMaxEvents: 10})).rejects.toThrow('The audit must keep a whole number of events from 1000 to 10000000.');
		await expect(setPolicy(ctx, root, {auditRetentionDays: 90, auditMaxEvents: 5000})).resolves.toMatchObject({auditRetentionDays: 90, auditMaxEvents: 5000});
	});

	it('is set with orgctl settings org set --audit-retention and --audit-max-events', async () => {
		const {ctx, root} = await initializedContext();
		const dir = ctx.dir;
		await signIn(ctx, root, dir);
		const set = await orgctl(dir, ['settings', 'org', 'set', '--audit-retention', '90d', '--audit-max-events', '5000']);
		expect(set).toMatchObject({code: 0, stdout: 'Policy saved.\n'});
		expect((await orgctl(dir, ['settings', 'show'])).stdout).toContain('audit kept         90 days, at most 5000 events');
		expect(await orgctl(dir, ['settings', 'org', 'set', '--audit-retention', '12h'])).toMatchObject({code: 2, stderr: expect.stringContaining('--audit-retention takes whole days, such as 90d or 365d, not "12h".')});
		expect(await orgctl(dir, ['settings', 'org', 'set', '--audit-max-events', '10'])).toMatchObject({code: 1, stderr: 'orgctl: The audit must keep a whole number of events from 1000 to 10000000.\n'});
	});
});

describe('audit events', () => {
	it('cap what they quote at AUDIT_TEXT_MAX (reasons, our own sentences, at AUDIT_REASON_MAX), marked as cut', async () => {
		const {ctx, root} = await initializedContext();
		// Both ways in: appendAudit (ok or failed) and recordRefusal, the one way a refusal is written.
		await ctx.store.transact(db => {
			appendAudit(db, ctx, {label: 'a'.repeat(5000), tenantId: null}, {action: 'x', target: 't'.repeat(5000), result: 'failed', reason: 'r'.repeat(AUDIT_REASON_MAX + 100)});
			recordRefusal(db, ctx, {label: 'a'.repeat(5000), tenantId: null}, 'x', 't'.repeat(5000), refused('r'.repeat(AUDIT_REASON_MAX + 100)));
		});
		const events = ctx.store.read().audit.slice(-2);
		expect(events.map(e => e.result)).toEqual(['failed', 'refused']);
		for (const event of events) {
			expect(event.actor).toBe(`${'a'.repeat(AUDIT_TEXT_MAX)}…[+4800]`);
			expect(event.target).toBe(`${'t'.repeat(AUDIT_TEXT_MAX)}…[+4800]`);
			expect(event.reason).toBe(`${'r'.repeat(AUDIT_REASON_MAX)}…[+100]`);
		}
		expect(root.user.username).toBe('root');
	});
});
