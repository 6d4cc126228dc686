import {appendAudit, checked, perform, recordRefusal, refuse, type AuditActor} from './audit.js';
import {actorAsNow, actorFacts, type Actor, type Context} from './context.js';
import {endCredentials} from './credentials.js';
import {parseAddress} from './email.js';
import {atField, authFailed, conflict, invalid, isOrgError, notFound, refused} from './errors.js';
import {newId, newSecret, secretMatches, sha256} from './ids.js';
import {echo} from './inert.js';
import {decide} from './policy.js';
import {parseInput} from './input.js';
import {plural} from './words.js';
import {tenantNameSchema, usernameSchema, type AuthMethod, type Database, type Role, type Tenant, type User} from './model.js';

/**
 * Throttling: after this many failures in a row, each further failure locks the account for longer.
 * An entry is forgotten once it has been quiet for `forgetSeconds` and is not locked
 * (core/housekeeping.ts), and at most `maxUnknown` entries for identifiers that name no account are
 * kept, the longest quiet going first: a spray of made-up names cannot grow the store for ever.
 */
export const THROTTLE = {freeFailures: 5, firstLockSeconds: 30, maxLockSeconds: 15 * 60, forgetSeconds: 24 * 3600, maxUnknown: 10_000} as const;
/** A hash no secret matches, compared against when a presented id names nothing, so every answer costs the same. */
const DECOY_HASH = sha256('orgctl decoy session secret');

/** How long a login session lasts. */
export const SESSION_SECONDS = 12 * 3600;

/** A username by the model's rule (letters, digits, dots, _ and -). */
export function checkUsername(username: string): string {
	return atField('username', () => parseInput(usernameSchema(), username.trim()));
}

/** A tenant name by the model's rule (a DNS label). */
export function checkTenantName(name: string): string {
	return atField('tenant', () => parseInput(tenantNameSchema(), name.trim()));
}

export function checkPassword(password: string, minLength: number): void {
	if ([...password].length < minLength) throw invalid(`The password is too short: it needs at least ${minLength} characters.`, {field: 'password'});
	if (password.length > 1024) throw invalid('The password is too long: at most 1024 characters.', {field: 'password'});
}

/** Username or e-mail already taken in the tenant, by a user or by a pending invitation (case-insensitive)? */
/**
 * Who asks, when the answer must not tell them of invitations they may not see (a member sees only
 * their own; someone signing up, none): another's pending invitation reads as a name that is taken.
 */
export type AccountViewer = {readonly userId: string | null; readonly seesAllInvitations: boolean};

/** Someone signing up: sees no invitation. */
export const ANONYMOUS: AccountViewer = {userId: null, seesAllInvitations: false};

export function assertAccountFree(db: Database, tenantId: string, username: string, email: string, except?: {invitationId?: string; viewer?: AccountViewer}): void {
	const name = username.toLowerCase();
	const mail = email.toLowerCase();
	for (const user of db.users) {
		if (user.tenantId !== tenantId) continue;
		if (user.username.toLowerCase() === name) throw conflict(`A user named ${user.username} already exists in this tenant.`, {field: 'username'});
		if (user.email.toLowerCase() === mail) throw conflict(`The e-mail ${email} already belongs to user ${user.username}.`, {field: 'email'});
	}
	for (const inv of db.invitations) {
		if (inv.tenantId !== tenantId || inv.id === except?.invitationId) continue;
		const viewer = except?.viewer;
		if (viewer && !viewer.seesAllInvitations && inv.invitedBy !== viewer.userId) {
			if (inv.username.toLowerCase() === name) throw conflict(`The username ${username} is already taken in this tenant; choose another.`, {field: 'username'});
			if (inv.email.toLowerCase() === mail) throw conflict(`The e-mail ${email} cannot be used for a new account in this tenant; ask an admin.`, {field: 'email'});
			continue;
		}
		if (inv.username.toLowerCase() === name) throw conflict(`An invitation for the username ${inv.username} is already pending.`, {field: 'username'});
		if (inv.email.toLowerCase() === mail) throw conflict(`An invitation to ${inv.email} is already pending.`, {field: 'email'});
	}
}

/** What the new user reads once the account exists: how to sign in from now on (the CLI, the console and the web say the same). */
export function welcomeMessage(user: Pick<User, 'username' | 'role' | 'method'>, tenant: Pick<Tenant, 'name'>): string {
	const login = `orgctl login --username ${user.username}${tenant.name === 'default' ? '' : ` --tenant ${tenant.name}`}`;
	const signIn =
		user.method === 'saml'
			? "sign in through the organization's identity provider (single sign-on)"
			: user.method === 'pam'
				? `sign in with your system password: ${login}`
				: `sign in with: ${login}`;
	return `Welcome, ${user.username}: your account in ${tenant.name} is ready (${user.role}); ${signIn}.`;
}

/** Builds a new user record (the caller checks permissions and collisions). */
export function newUser(ctx: Context, fields: {tenantId: string; username: string; email: string; role: Role; superuser?: boolean; method: AuthMethod; passwordHash: string | null}): User {
	return {
		id: newId(),
		tenantId: fields.tenantId,
		username: fields.username,
		email: fields.email,
		role: fields.role,
		superuser: fields.superuser ?? false,
		method: fields.method,
		passwordHash: fields.passwordHash,
		disabled: false,
		created: ctx.now().toISOString(),
		lastLogin: null,
		revision: 1,
	};
}

/** Marks a record changed: its revision tells a console that another admin got there first. */
export function touch(record: {revision: number}): void {
	record.revision += 1;
}

/** Throws when `record` changed since the caller read it at `expected`. */
export function assertRevision(record: {revision: number}, expected: number | undefined, what: string): void {
	if (expected !== undefined && record.revision !== expected) {
		throw conflict(`${what} was changed by another admin since you opened it; reload and try again.`);
	}
}

export function isInitialized(db: Database): boolean {
	return db.users.length > 0;
}

/**
 * First run: the first user becomes admin and superuser of a first tenant. Refused once any user
 * exists, so it cannot be used to add a second superuser.
 */
export async function initialize(ctx: Context, input: {username: string; email: string; password: string; tenant?: string}): Promise<Actor> {
	const username = checkUsername(input.username);
	const email = parseAddress(input.email).address;
	const tenantName = checkTenantName(input.tenant ?? 'default');
	checkPassword(input.password, ctx.store.read().settings.policy.minPasswordLength);
	const passwordHash = await ctx.hasher.hash(input.password);
	return perform(ctx, {label: username, tenantId: null}, 'init', username, db => {
		if (isInitialized(db)) throw refused('This store already has users; sign in instead, or use `orgctl admin reset-password` if you lost the password.');
		const tenant: Tenant = {id: newId(), name: tenantName, created: ctx.now().toISOString(), revision: 1};
		db.tenants.push(tenant);
		const user = newUser(ctx, {tenantId: tenant.id, username, email, role: 'admin', superuser: true, method: 'password', passwordHash});
		db.users.push(user);
		return actorAsNow(user, tenant);
	});
}

/**
 * The account an identifier (username or e-mail, any case) names, in the named tenant or in any.
 * `problem` says why a sign-in cannot go on even with the right password (several accounts match);
 * an unknown tenant is like an unknown account, so neither answers whether a tenant exists.
 */
function lookUpAccount(db: Database, identifier: string, tenantName?: string): {user?: User; tenantId: string | null; problem?: string} {
	const key = identifier.trim().toLowerCase();
	const tenant = tenantName === undefined ? undefined : db.tenants.find(t => t.name === tenantName);
	if (tenantName !== undefined && !tenant) return {tenantId: null};
	const matches = db.users.filter(u => (!tenant || u.tenantId === tenant.id) && (u.username.toLowerCase() === key || u.email.toLowerCase() === key));
	if (matches.length > 1) return {tenantId: null, problem: `${echo(identifier)} exists in several tenants; name one with --tenant.`};
	const user = matches[0];
	return user ? {user, tenantId: user.tenantId} : {tenantId: tenant?.id ?? null};
}

/** The one account an identifier names, for operations that need exactly one (break-glass). */
function findAccount(db: Database, identifier: string, tenantName?: string): User | undefined {
	if (tenantName !== undefined && !db.tenants.some(t => t.name === tenantName)) throw notFound(`There is no tenant named ${echo(tenantName)}.`);
	const found = lookUpAccount(db, identifier, tenantName);
	if (found.problem) throw invalid(found.problem);
	return found.user;
}

/**
 * The throttle keys of a sign-in attempt (red team 10-14 #3): every attempt counts under its
 * identifier, normalised and hashed, whatever tenant was named (the store keeps 64 hex digits of
 * whatever was typed, not the text), and under every account it could sign in to. Only the
 * identifier's lock is ever shown ("Too many failed logins for X"), and it is the same for a name
 * that exists and one that does not, in any tenant; an account's own lock (its username tried
 * under its e-mail, or in another tenant) is kept silently: its password is then not checked and
 * the answer is the usual "wrong" one, so no lock tells which spellings name an account or where.
 */
export function identifierThrottleKey(identifier: string): string {
	return `login:${sha256(identifier.trim().toLowerCase())}`;
}

/** The throttle key of one account: failed logins and failed current-password checks alike. */
export function accountThrottleKey(user: Pick<User, 'id'>): string {
	return `user:${user.id}`;
}

/** The key an identifier that named no account had before identifierThrottleKey (exported for the schema 4 migration, which re-keys old entries). */
export function unknownThrottleKey(tenantName: string | undefined, identifier: string): string {
	return `unknown:${tenantName?.trim().toLowerCase() ?? '*'}/${sha256(identifier.trim().toLowerCase())}`;
}

/**
 * Who a sign-in attempt names in the audit: the account it matched, or `anonymous` when it matched
 * none or several (the identifier is the target), under the tenant it was looked for in: an
 * unknown name in a named tenant is filed where a known one would be.
 */
function attemptActor(found: {user?: User; tenantId: string | null}): AuditActor {
	return {label: found.user?.username ?? 'anonymous', tenantId: found.tenantId};
}

/** Seconds left on the lock-out of `key` (a login name, a system account), or 0 when it may try. */
export function lockedSeconds(db: Database, key: string, now: Date): number {
	const lockedUntil = db.throttles.find(t => t.key === key)?.lockedUntil;
	return lockedUntil && new Date(lockedUntil) > now ? Math.ceil((new Date(lockedUntil).getTime() - now.getTime()) / 1000) : 0;
}

/**
 * Counts an attempt on `key` as failed until it proves right; past the free failures each one
 * locks the key for longer. Inside a transaction.
 */
export function countFailure(db: Database, key: string, now: Date): void {
	const index = db.throttles.findIndex(t => t.key === key);
	const entry = index >= 0 ? db.throttles[index]! : {key, failures: 0, lockedUntil: null, last: ''};
	entry.failures += 1;
	entry.last = now.toISOString();
	const over = entry.failures - THROTTLE.freeFailures;
	if (over >= 0) {
		const seconds = Math.min(THROTTLE.firstLockSeconds * 2 ** over, THROTTLE.maxLockSeconds);
		entry.lockedUntil = new Date(now.getTime() + seconds * 1000).toISOString();
	}
	if (index < 0) db.throttles.push(entry);
}

/** Gives back one reserved try of `key` (an account an identifier named but did not mean). Inside a transaction. */
function releaseFailure(db: Database, key: string): void {
	const entry = db.throttles.find(t => t.key === key);
	if (entry && entry.failures > 0 && entry.lockedUntil === null) entry.failures -= 1;
}

/** Forgets the failures of `key` after a success. */
export function clearFailures(db: Database, key: string): void {
	db.throttles = db.throttles.filter(t => t.key !== key);
}

/** What a sign-in attempt got from its reservation: go on and check the password against these accounts, or a refusal. */
type Reservation = {readonly go: true; readonly candidates: readonly User[]; readonly keys: readonly string[]} | {readonly go: false; readonly error: Error};

/** The accounts an identifier (username or e-mail, any case) could sign in to: in the named tenant, or in any. */
function candidatesFor(db: Database, identifier: string, tenantName: string | undefined, orAnyTenant: boolean): {users: User[]; tenantId: string | null} {
	const key = identifier.trim().toLowerCase();
	const named = (u: User) => u.username.toLowerCase() === key || u.email.toLowerCase() === key;
	const tenant = tenantName === undefined ? undefined : db.tenants.find(t => t.name === tenantName);
	const inTenant = tenant ? db.users.filter(u => u.tenantId === tenant.id && named(u)) : [];
	if (tenantName !== undefined && (inTenant.length > 0 || !orAnyTenant)) return {users: inTenant, tenantId: tenant?.id ?? null};
	const anywhere = db.users.filter(named);
	return {users: anywhere, tenantId: anywhere.length === 1 ? anywhere[0]!.tenantId : (tenant?.id ?? null)};
}

/** Whether `password` opens `user`: its hash, or the system's PAM stack; a SAML account has no password here. */
async function passwordOpens(ctx: Context, user: User, password: string): Promise<boolean> {
	if (user.method === 'pam') return ctx.pam(user.username, password);
	const hash = user.method === 'password' ? user.passwordHash : null;
	return (await ctx.hasher.verify(password, hash ?? ctx.hasher.decoy)) && hash !== null;
}

/**
 * Checks a username or e-mail and password. In one transaction, before any password is checked,
 * the throttle is read and the attempt reserved under the identifier and every account it names
 * (counted as a failure until it proves right: identifierThrottleKey), so no number of parallel
 * attempts gets more than the free tries. Then the password is checked against each account the
 * identifier could mean, at once, or against the hasher's decoy (as costly) when it means none:
 * an unknown account, an unknown tenant, a SAML account, a silently locked one.
 *
 * Before the password proves right every identifier gets the same answer (red team 10-14 #4):
 * no "several tenants", no "signs in through SAML", no "disabled". An identifier that names
 * accounts in several tenants, with no tenant named, signs in to the one whose password matches
 * (#5): usernames are unique only per tenant, so another tenant's users must not be able to stop
 * anyone's sign-in by taking the same name; only the owner of two accounts with one password is
 * asked to name the tenant, once that password proved right.
 */
export async function login(ctx: Context, input: {identifier: string; password: string; tenant?: string; orAnyTenant?: boolean}): Promise<Actor> {
	const target = input.identifier;
	let who: AuditActor = attemptActor({tenantId: null});
	const reservation = await ctx.store.transact((db): Reservation => {
		const found = candidatesFor(db, input.identifier, input.tenant, input.orAnyTenant ?? false);
		who = attemptActor({...(found.users.length === 1 ? {user: found.users[0]!} : {}), tenantId: found.tenantId});
		const now = ctx.now();
		const visible = identifierThrottleKey(input.identifier);
		const seconds = lockedSeconds(db, visible, now);
		if (seconds > 0) {
			const error = refused(`Too many failed logins for ${echo(input.identifier)}; try again in ${plural(seconds, 'second')}.`);
			recordRefusal(db, ctx, who, 'login', target, error);
			return {go: false, error};
		}
		// An account locked under another spelling or tenant is not tried: its password is not checked now.
		const candidates = found.users.filter(u => lockedSeconds(db, accountThrottleKey(u), now) === 0);
		const keys = [visible, ...found.users.map(accountThrottleKey)];
		for (const key of keys) countFailure(db, key, now);
		// Copies: each password is checked against the account as it was now, and compared again at the end.
		return {go: true, candidates: candidates.map(u => ({...u})), keys};
	});
	if (!reservation.go) throw reservation.error;
	const {candidates, keys} = reservation;
	const checks = candidates.length > 0 ? candidates.map(user => passwordOpens(ctx, user, input.password)) : [ctx.hasher.verify(input.password, ctx.hasher.decoy).then(() => false)];
	const results = await Promise.all(checks);
	const matched = candidates.filter((_, i) => results[i]);
	let failure = input.tenant === undefined ? 'Wrong username, e-mail or password.' : 'Wrong tenant, username, e-mail or password.';
	const user = matched.length === 1 ? matched[0] : undefined;
	if (matched.length > 1) failure = `${echo(input.identifier)} names accounts in several tenants with this password; name one with --tenant.`;
	if (user?.disabled) failure = `The account ${user.username} is disabled; ask an admin to enable it.`;
	if (user) who = attemptActor({user, tenantId: user.tenantId});
	const signedIn = user && !user.disabled ? await ctx.store.transact(d => {
		const current = d.users.find(u => u.id === user.id);
		// Disabled, deleted or given a new password since the check: this password no longer opens it.
		if (!current || current.disabled || current.passwordHash !== user.passwordHash) return undefined;
		clearFailures(d, identifierThrottleKey(input.identifier));
		clearFailures(d, accountThrottleKey(current));
		// The other accounts this identifier named were not what it meant: their reserved try is given back.
		for (const key of keys) if (key !== accountThrottleKey(current) && key.startsWith('user:')) releaseFailure(d, key);
		current.lastLogin = ctx.now().toISOString();
		const tenant = d.tenants.find(t => t.id === current.tenantId)!;
		appendAudit(d, ctx, {user: current, tenant}, {action: 'login', target: current.username, result: 'ok'});
		return actorAsNow(current, tenant);
	}) : undefined;
	if (signedIn) return signedIn;
	// Two accounts opened by one password: the owner's, proven, not a guess; their tries are given back.
	const proven = matched.length > 1 ? (d: Database) => [identifierThrottleKey(input.identifier), ...matched.map(accountThrottleKey)].forEach(key => clearFailures(d, key)) : undefined;
	return refuse(ctx, who, 'login', target, authFailed(failure), proven);
}

/**
 * Signs in for one command (ORGCTL_USER + ORGCTL_PASSWORD) to act in `tenantName`: as the account of
 * that tenant the identifier names, else as the one it names anywhere (a superuser acting in
 * another tenant; anyone else is refused and audited by enterTenant). The choice is made inside
 * login's reservation and worded the same either way, so it tells nobody where an account is.
 */
export async function signInToAct(ctx: Context, input: {identifier: string; password: string}, tenantName: string | undefined): Promise<Actor> {
	const actor = await login(ctx, {...input, ...(tenantName === undefined ? {} : {tenant: tenantName, orAnyTenant: true})});
	return enterTenant(ctx, actor.user.id, tenantName);
}

/** Resolves who is acting from a user id, refusing disabled or deleted accounts; `tenant` lets a superuser act elsewhere. */
export function resolveActor(db: Database, userId: string, tenantName?: string): Actor {
	const user = db.users.find(u => u.id === userId);
	if (!user) throw authFailed('Your account no longer exists; sign in again.');
	if (user.disabled) throw authFailed(`The account ${user.username} is disabled; ask an admin to enable it.`);
	const own = db.tenants.find(t => t.id === user.tenantId)!;
	if (tenantName === undefined || tenantName === own.name) return actorAsNow(user, own);
	const decision = decide(actorFacts({user, tenant: own}), 'tenants.act-in-any');
	// Asked before the tenant is looked up, so a refused user does not learn which tenants exist.
	if (!decision.allowed) throw refused(`${decision.reason.replace(/\.$/, '')}; ${user.username} belongs to ${own.name}.`);
	const tenant = db.tenants.find(t => t.name === tenantName);
	if (!tenant) throw notFound(`There is no tenant named ${echo(tenantName)}.`);
	return actorAsNow(user, tenant);
}

/**
 * resolveActor for a credential just presented (a session, a token, a password): a refusal is
 * audited, naming the user, as `authenticate` (the account is gone or disabled) or `tenant.enter`
 * (another tenant, refused or unknown).
 */
export async function enterTenant(ctx: Context, userId: string, tenantName: string | undefined, via: {tokenId?: string; sessionId?: string} = {}): Promise<Actor> {
	const db = ctx.store.read();
	try {
		const actor = resolveActor(db, userId, tenantName);
		return {...actor, ...(via.tokenId === undefined ? {} : {tokenId: via.tokenId}), ...(via.sessionId === undefined ? {} : {sessionId: via.sessionId})};
	} catch (error) {
		const user = db.users.find(u => u.id === userId);
		const tenant = user ? db.tenants.find(t => t.id === user.tenantId) : undefined;
		const who: AuditActor = user && tenant ? {user, tenant, ...(via.tokenId === undefined ? {} : {tokenId: via.tokenId})} : {label: 'deleted account', tenantId: null};
		const entering = isOrgError(error) && error.kind !== 'auth';
		return refuse(ctx, who, entering ? 'tenant.enter' : 'authenticate', entering ? `tenant ${tenantName ?? ''}` : (user?.username ?? userId), error);
	}
}

/** Opens a session for a signed-in user; the secret goes to the session file, only its hash to the store. */
export async function createSession(ctx: Context, actor: Actor): Promise<{id: string; secret: string; expires: string}> {
	const secret = newSecret();
	const id = newId();
	const now = ctx.now();
	const expires = new Date(now.getTime() + SESSION_SECONDS * 1000).toISOString();
	await ctx.store.transact(db => {
		// Drop expired sessions while we hold the lock.
		db.sessions = db.sessions.filter(s => new Date(s.expires) > now);
		db.sessions.push({id, userId: actor.user.id, secretHash: sha256(secret), created: now.toISOString(), expires});
	});
	return {id, secret, expires};
}

/** The user id a session stands for, if it exists, matches and has not expired. */
function sessionOwner(ctx: Context, db: Database, session: {id: string; secret: string}): string {
	const record = db.sessions.find(s => s.id === session.id);
	// Always one constant-time comparison, whether or not the id exists.
	const matches = secretMatches(session.secret, record?.secretHash ?? DECOY_HASH);
	if (!record || !matches) throw authFailed('Your session has ended; sign in again with `orgctl login`.');
	if (new Date(record.expires) <= ctx.now()) throw authFailed('Your session has expired; sign in again with `orgctl login`.');
	return record.userId;
}

/** The user a session belongs to, if it is still valid and the user may still sign in (the console checks it on every refresh). */
export function resolveSession(ctx: Context, session: {id: string; secret: string}, tenantName?: string): Actor {
	const db = ctx.store.read();
	return {...resolveActor(db, sessionOwner(ctx, db, session), tenantName), sessionId: session.id};
}

/**
 * resolveSession for a session file just presented (a command, a console starting): a session that
 * is unknown, tampered with, expired or whose user may no longer act is audited before it is refused.
 */
export async function authenticateSession(ctx: Context, session: {id: string; secret: string}, tenantName?: string): Promise<Actor> {
	let userId: string;
	try {
		userId = sessionOwner(ctx, ctx.store.read(), session);
	} catch (error) {
		return refuse(ctx, {label: 'session', tenantId: null}, 'authenticate', `session ${session.id.slice(0, 8)}`, error);
	}
	return enterTenant(ctx, userId, tenantName, {sessionId: session.id});
}

export async function endSession(ctx: Context, sessionId: string): Promise<void> {
	await ctx.store.transact(db => {
		db.sessions = db.sessions.filter(s => s.id !== sessionId);
	});
}

/**
 * Changes the actor's own password after checking the current one. Every other way in that the old
 * password opened ends: the user's other sessions (all of them, unless `keepSession` names the one
 * the console goes on with) and their `cli` tokens, which they re-issue (a thief who had the old
 * password may have made one).
 */
export async function changeOwnPassword(ctx: Context, actor: Actor, current: string, next: string, options: {keepSession?: string} = {}): Promise<{tokensRevoked: number}> {
	const target = actor.user.username;
	await checked(ctx, actor, 'password.change', target, db => {
		if (actor.user.method !== 'password') throw refused(`${actor.user.username} signs in with ${actor.user.method.toUpperCase()}, so there is no orgctl password to change.`);
		checkPassword(next, db.settings.policy.minPasswordLength);
	});
	// Throttled as a login is, under the account's own key (a stolen session or token cannot guess the
	// password faster than a login could): read and reserved in one transaction before the check.
	const key = accountThrottleKey(actor.user);
	const locked = await ctx.store.transact((db): Error | undefined => {
		const seconds = lockedSeconds(db, key, ctx.now());
		if (seconds > 0) {
			const error = refused(`Too many wrong passwords for ${actor.user.username}; try again in ${plural(seconds, 'second')}.`, {field: 'current'});
			recordRefusal(db, ctx, actor, 'password.change', target, error);
			return error;
		}
		countFailure(db, key, ctx.now());
		return undefined;
	});
	if (locked) throw locked;
	if (!(await ctx.hasher.verify(current, actor.user.passwordHash ?? ctx.hasher.decoy)) || actor.user.passwordHash === null) {
		return refuse(ctx, actor, 'password.change', target, authFailed('The current password is wrong.', {field: 'current'}));
	}
	const hash = await ctx.hasher.hash(next);
	return perform(ctx, actor, 'password.change', target, db => {
		const user = db.users.find(u => u.id === actor.user.id);
		if (!user) throw notFound('Your account no longer exists.');
		if (user.passwordHash !== actor.user.passwordHash) throw conflict('Your password was changed meanwhile; sign in again with the new one.');
		clearFailures(db, key);
		user.passwordHash = hash;
		touch(user);
		const ended = endCredentials(db, ctx, user.id, 'its owner changed their password', options.keepSession === undefined ? {} : {keepSession: options.keepSession});
		return {tokensRevoked: ended.tokens};
	});
}

/**
 * Break-glass: sets a user's password with no actor, for whoever can write the store file. The
 * account is also enabled and its throttle cleared, so the owner can sign in at once; whatever else
 * could act as them (sessions, `cli` tokens) ends, as after any password reset.
 */
export async function resetPasswordBreakGlass(ctx: Context, input: {username: string; password: string; tenant?: string}): Promise<{user: User; tokensRevoked: number}> {
	const db = ctx.store.read();
	const user = findAccount(db, input.username, input.tenant);
	if (!user) throw notFound(`There is no user ${input.username}${input.tenant ? ` in tenant ${input.tenant}` : ''}.`);
	if (user.method !== 'password') throw invalid(`${user.username} signs in with ${user.method.toUpperCase()}; only password accounts have a password to reset.`);
	checkPassword(input.password, db.settings.policy.minPasswordLength);
	const hash = await ctx.hasher.hash(input.password);
	return perform(ctx, {label: 'store-owner', tenantId: user.tenantId}, 'admin.reset-password', user.username, d => {
		const target = d.users.find(u => u.id === user.id);
		if (!target) throw notFound(`The user ${user.username} was deleted meanwhile.`);
		target.passwordHash = hash;
		target.disabled = false;
		touch(target);
		clearFailures(d, accountThrottleKey(target));
		for (const spelling of [target.username, target.email]) clearFailures(d, identifierThrottleKey(spelling));
		const ended = endCredentials(d, ctx, target.id, 'its owner’s password was reset');
		return {user: target, tokensRevoked: ended.tokens};
	});
}
