import {authorize, checked} from './audit.js';
import type {Actor, Context} from './context.js';
import {notFound} from './errors.js';
import type {Database, User} from './model.js';
import {echo} from './inert.js';

/** What a user record shows outside the store: never the password hash. */
export type UserView = Omit<User, 'passwordHash' | 'tenantId'> & {tenant: string; hasPassword: boolean};

export function userView(db: Database, user: User): UserView {
	// Field by field: object rest (`{passwordHash, ...rest}`) takes V8's slow path, 10 µs a user.
	return {
		id: user.id,
		username: user.username,
		email: user.email,
		role: user.role,
		superuser: user.superuser,
		method: user.method,
		disabled: user.disabled,
		created: user.created,
		lastLogin: user.lastLogin,
		revision: user.revision,
		tenant: db.tenants.length === 1 ? db.tenants[0]!.name : (db.tenants.find(t => t.id === user.tenantId)?.name ?? '?'),
		hasPassword: user.passwordHash !== null,
	};
}

const indexes = new WeakMap<Database, {users: readonly User[]; version: number; count: number; map: Map<string, User>}>();

/** Users by id, built once per version of the data (views of thousands of records look users up). */
export function usersById(db: Database): ReadonlyMap<string, User> {
	const cached = indexes.get(db);
	if (cached && cached.users === db.users && cached.version === db.version && cached.count === db.users.length) return cached.map;
	const map = new Map(db.users.map(u => [u.id, u]));
	indexes.set(db, {users: db.users, version: db.version, count: db.users.length, map});
	return map;
}

/** Users of the actor's tenant, in username order (members, admins and superusers only); a refusal is audited. */
export async function listUsers(ctx: Context, actor: Actor): Promise<User[]> {
	return checked(ctx, actor, 'users.list', actor.tenant.name, db => listUsersIn(db, actor));
}

/** listUsers over data already read (the console derives its rows from the data it renders). */
export function listUsersIn(db: {readonly users: readonly User[]}, actor: Actor): User[] {
	authorize(actor, 'users.list');
	return sortByUsername(db.users.filter(u => u.tenantId === actor.tenant.id));
}

const collator = new Intl.Collator('en', {sensitivity: 'base', numeric: true});

/** What a username may hold (model.ts usernameSchema): for these, {@link usernameKey} orders as the collator does. */
const USERNAME_CHARACTERS = /^[A-Za-z0-9._-]*$/;

/**
 * A string whose code-point order is the collator's order of usernames (case-insensitive, digit runs
 * by their value, leading zeros aside, `_` < `-` < `.` < digits < letters), equal exactly when the
 * collator says 0; undefined for a name with other characters. Intl.Collator.compare was 96 ms of a
 * 770 ms `orgctl users list --json` at 10,000 users (node --cpu-prof): a key per user, compared as
 * plain strings, costs a few.
 */
export function usernameKey(name: string): string | undefined {
	if (!USERNAME_CHARACTERS.test(name)) return undefined;
	return name.toLowerCase().replace(SPECIAL, part => {
		if (part === '_') return '\u0001';
		if (part === '-') return '\u0002';
		if (part === '.') return '\u0003';
		// Above punctuation, below letters; a longer run of significant digits is the bigger number.
		const digits = part.replace(LEADING_ZEROS, '');
		return String.fromCharCode(4, 32 + digits.length) + digits;
	});
}

const SPECIAL = /[._-]|\d+/g;
const LEADING_ZEROS = /^0+(?=\d)/;

const keys = new Map<string, string | undefined>();

function keyOf(name: string): string | undefined {
	let key = keys.get(name);
	if (key === undefined && !keys.has(name)) {
		// Bounded: a console that has seen many names starts its cache again.
		if (keys.size > 250_000) keys.clear();
		keys.set(name, (key = usernameKey(name)));
	}
	return key;
}

/** Username order as people read it: case-insensitive, user2 before user10. */
export function byUsername(a: {username: string}, b: {username: string}): number {
	const x = keyOf(a.username);
	const y = keyOf(b.username);
	if (x === undefined || y === undefined) return collator.compare(a.username, b.username);
	return x < y ? -1 : x > y ? 1 : 0;
}

/** `users` sorted in place by {@link byUsername}, each key made once. */
export function sortByUsername<T extends {username: string}>(users: T[]): T[] {
	const decorated = users.map((user, at) => ({user, at, key: usernameKey(user.username)}));
	if (decorated.some(d => d.key === undefined)) return users.sort(byUsername);
	// Ties keep their order, as Array.prototype.sort does.
	decorated.sort((a, b) => (a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : a.at - b.at));
	for (let i = 0; i < users.length; i++) users[i] = decorated[i]!.user;
	return users;
}

/** A user of the tenant by username or e-mail (any case), or by id; undefined when none. */
export function lookUpUser(db: Database, tenantId: string, name: string): User | undefined {
	const key = name.trim().toLowerCase();
	return db.users.find(u => u.tenantId === tenantId && (u.username.toLowerCase() === key || u.email.toLowerCase() === key || u.id === key));
}

/** Finds a user of the actor's tenant by username or e-mail (any case), or by id. */
export function findUser(db: Database, tenantId: string, name: string): User {
	const user = lookUpUser(db, tenantId, name);
	if (!user) throw notFound(`There is no user ${echo(name)} in this tenant.`);
	return user;
}

/** One user: anyone may see their own profile; seeing others needs users.list. A refusal is audited. */
export async function showUser(ctx: Context, actor: Actor, name: string): Promise<User> {
	return checked(ctx, actor, 'users.show', name, db => {
		const user = lookUpUser(db, actor.tenant.id, name);
		// Asked before "no such user", so whoever may not list users does not learn who exists.
		if (user?.id !== actor.user.id) authorize(actor, 'users.list');
		if (!user) throw notFound(`There is no user ${echo(name)} in this tenant.`);
		return user;
	});
}
