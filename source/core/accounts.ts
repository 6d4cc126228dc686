import {appendAudit, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {parseAddress} from './email.js';
import {atField, authFailed, conflict, invalid, notFound, refused} from './errors.js';
import {newId, newSecret, secretMatches, sha256} from './ids.js';
import {echo} from './inert.js';
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
/** How long a login session lasts. */
export const SESSION_SECONDS = 12 * 3600;

/** A username by the model's rule (letters, digits, dots, _ and -). */
export function checkUsername(username: string): string {
	return atField('username', () => parseInput(usernameSchema, username.trim()));
}

/** A tenant name by the model's rule (a DNS label). */
export function checkTenantName(name: string): string {
	return atField('tenant', () => parseInput(tenantNameSchema, name.trim()));
}

export function checkPassword(password: string, minLength: number): void {
	if ([...password].length < minLength) throw invalid(`The password is too short: it needs at least ${minLength} characters.`, {field: 'password'});
	if (password.length > 1024) throw invalid('The password is too long: at most 1024 characters.', {field: 'password'});
}

/** Username or e-mail already taken in the tenant, by a user or by a pending invitation (case-insensitive)? */
export function assertAccountFree(db: Database, tenantId: string, username: string, email: string, except?: {invitationId?: string}): void {
	const name = username.toLowerCase();
	const mail = email.toLowerCase();
	for (const user of db.users) {
		if (user.tenantId !== tenantId) continue;
		if (user.username.toLowerCase() === name) throw conflict(`A user named ${user.username} already exists in this tenant.`, {field: 'username'});
		if (user.email.toLowerCase() === mail) throw conflict(`The e-mail ${email} already belongs to user ${user.username}.`, {field: 'email'});
	}
	for (const inv of db.invitations) {
		if (inv.tenantId !== tenantId || inv.id === except?.invitationId) continue;
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
		return {user, tenant};
	});
}

/** Finds the one account an identifier (username or e-mail, any case) names. */
function findAccount(db: Database, identifier: string, tenantName?: string): User | undefined {
	const key = identifier.trim().toLowerCase();
	const tenant = tenantName ? db.tenants.find(t => t.name === tenantName) : undefined;
	if (tenantName && !tenant) throw notFound(`There is no tenant named ${echo(tenantName)}.`);
	const matches = db.users.filter(u => (!tenant || u.tenantId === tenant.id) && (u.username.toLowerCase() === key || u.email.toLowerCase() === key));
	if (matches.length > 1) throw invalid(`${identifier} exists in several tenants; name one with --tenant.`);
	return matches[0];
}

/**
 * Failed logins count per account, however it was spelled (username, e-mail, with or without a
 * tenant); only identifiers that match no account count by their normalised spelling, hashed: the
 * store keeps 64 hex digits of whatever was typed, not the text.
 */
function throttleKey(user: User | undefined, identifier: string, tenantName?: string): string {
	return user ? `user:${user.id}` : unknownThrottleKey(tenantName, identifier);
}

/** The throttle key of an identifier that names no account (exported for the schema 4 migration, which re-keys old entries). */
export function unknownThrottleKey(tenantName: string | undefined, identifier: string): string {
	return `unknown:${tenantName?.trim().toLowerCase() ?? '*'}/${sha256(identifier.trim().toLowerCase())}`;
}

/** Who a sign-in attempt names in the audit: the account it matched, or `anonymous` when it matched none (the identifier is the target). */
function attemptActor(user: User | undefined): {label: string; tenantId: string | null} {
	return {label: user?.username ?? 'anonymous', tenantId: user?.tenantId ?? null};
}

/** Seconds left on the lock-out of `key` (a login name, a system account), or 0 when it may try. */
export function lockedSeconds(db: Database, key: string, now: Date): number {
	const lockedUntil = db.throttles.find(t => t.key === key)?.lockedUntil;
	return lockedUntil && new Date(lockedUntil) > now ? Math.ceil((new Date(lockedUntil).getTime() - now.getTime()) / 1000) : 0;
}

/** Counts a failed attempt on `key`; past the free failures each one locks it for longer (inside a transaction). */
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

/** Forgets the failures of `key` after a success. */
export function clearFailures(db: Database, key: string): void {
	db.throttles = db.throttles.filter(t => t.key !== key);
}

/**
 * Checks a username or e-mail and password. Unknown accounts cost the same scrypt time as known
 * ones; repeated failures lock the account name for a growing time. Every failure is audited.
 */
export async function login(ctx: Context, input: {identifier: string; password: string; tenant?: string}): Promise<Actor> {
	const db = ctx.store.read();
	const user = findAccount(db, input.identifier, input.tenant);
	const key = throttleKey(user, input.identifier, input.tenant);
	const seconds = lockedSeconds(db, key, ctx.now());
	if (seconds > 0) {
		const error = refused(`Too many failed logins for ${echo(input.identifier)}; try again in ${plural(seconds, 'second')}.`);
		await ctx.store.transact(d => appendAudit(d, ctx, attemptActor(user), {action: 'login', target: input.identifier, result: 'refused', reason: error.message}));
		throw error;
	}
	let ok = false;
	let failure = 'Wrong username, e-mail or password.';
	if (user?.method === 'saml') {
		failure = `${user.username} signs in through the organization's identity provider (SAML); open the server's login page and choose single sign-on.`;
	} else if (user?.method === 'pam') {
		ok = await ctx.pam(user.username, input.password);
	} else {
		ok = await ctx.hasher.verify(input.password, user?.passwordHash ?? ctx.hasher.decoy);
	}
	if (ok && user?.disabled) {
		ok = false;
		failure = `The account ${user.username} is disabled; ask an admin to enable it.`;
	}
	return ctx.store.transact(d => {
		const current = ok && user ? d.users.find(u => u.id === user.id) : undefined;
		if (current && !current.disabled) {
			clearFailures(d, key);
			current.lastLogin = ctx.now().toISOString();
			const tenant = d.tenants.find(t => t.id === current.tenantId)!;
			appendAudit(d, ctx, {user: current, tenant}, {action: 'login', target: current.username, result: 'ok'});
			return {user: current, tenant};
		}
		countFailure(d, key, ctx.now());
		appendAudit(d, ctx, attemptActor(user), {action: 'login', target: input.identifier, result: 'refused', reason: failure});
		// Thrown from inside the transaction would undo the throttle; return it and throw after.
		return failure;
	}).then(result => {
		if (typeof result === 'string') throw authFailed(result);
		return result;
	});
}

/** Resolves who is acting from a user id, refusing disabled or deleted accounts; `tenant` lets a superuser act elsewhere. */
export function resolveActor(db: Database, userId: string, tenantName?: string): Actor {
	const user = db.users.find(u => u.id === userId);
	if (!user) throw authFailed('Your account no longer exists; sign in again.');
	if (user.disabled) throw authFailed(`The account ${user.username} is disabled; ask an admin to enable it.`);
	const own = db.tenants.find(t => t.id === user.tenantId)!;
	if (!tenantName || tenantName === own.name) return {user, tenant: own};
	const tenant = db.tenants.find(t => t.name === tenantName);
	if (!tenant) throw notFound(`There is no tenant named ${tenantName}.`);
	if (!user.superuser) throw refused(`Only a superuser can act in another tenant; ${user.username} belongs to ${own.name}.`);
	return {user, tenant};
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

/** The user a session belongs to, if it is still valid and the user may still sign in. */
export function resolveSession(ctx: Context, session: {id: string; secret: string}, tenantName?: string): Actor {
	const db = ctx.store.read();
	const record = db.sessions.find(s => s.id === session.id);
	if (!record || !secretMatches(session.secret, record.secretHash)) throw authFailed('Your session has ended; sign in again with `orgctl login`.');
	if (new Date(record.expires) <= ctx.now()) throw authFailed('Your session has expired; sign in again with `orgctl login`.');
	return resolveActor(db, record.userId, tenantName);
}

export async function endSession(ctx: Context, sessionId: string): Promise<void> {
	await ctx.store.transact(db => {
		db.sessions = db.sessions.filter(s => s.id !== sessionId);
	});
}

/** Changes the actor's own password after checking the current one. */
export async function changeOwnPassword(ctx: Context, actor: Actor, current: string, next: string): Promise<void> {
	if (actor.user.method !== 'password') throw refused(`${actor.user.username} signs in with ${actor.user.method.toUpperCase()}, so there is no orgctl password to change.`);
	checkPassword(next, ctx.store.read().settings.policy.minPasswordLength);
	if (!(await ctx.hasher.verify(current, actor.user.passwordHash ?? ctx.hasher.decoy))) {
		await perform(ctx, actor, 'password.change', actor.user.username, () => {
			throw authFailed('The current password is wrong.', {field: 'current'});
		});
	}
	const hash = await ctx.hasher.hash(next);
	await perform(ctx, actor, 'password.change', actor.user.username, db => {
		const user = db.users.find(u => u.id === actor.user.id);
		if (!user) throw notFound('Your account no longer exists.');
		user.passwordHash = hash;
		touch(user);
		// Other sessions of this user end: a changed password should lock out whoever had the old one.
		db.sessions = db.sessions.filter(s => s.userId !== user.id);
	});
}

/**
 * Break-glass: sets a user's password with no actor, for whoever can write the store file. The
 * account is also enabled and its throttle cleared, so the owner can sign in at once.
 */
export async function resetPasswordBreakGlass(ctx: Context, input: {username: string; password: string; tenant?: string}): Promise<User> {
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
		d.throttles = d.throttles.filter(t => t.key !== throttleKey(target, target.username));
		d.sessions = d.sessions.filter(s => s.userId !== target.id);
		return target;
	});
}
