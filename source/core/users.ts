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

/**
 * listUsersIn's users, of which only the first `count` are in their place when this returns: the
 * rest follow in store order until a microtask sorts the array in place, before the caller's
 * event loop runs any I/O, timer or immediate callback. For the console's first frame, which
 * shows one page (node --cpu-prof: sorting 10,000 users was 28 of the 74 ms from the store open
 * to the ready marker): the users are grouped by what their sort key begins with, and only the
 * groups that hold the first page get a key and are sorted now (a tenth of the bench's 10,000).
 * The microtask's sort gives listUsersIn's order: the first `count` are its first `count`, and the
 * others keep their store order among themselves, which a stable sort keeps for names alike.
 */
export function listUsersInSoon(db: {readonly users: readonly User[]}, actor: Actor, count: number): User[] {
	authorize(actor, 'users.list');
	const users = db.users.filter(u => u.tenantId === actor.tenant.id);
	const rows = firstByUsername(users, count);
	if (rows.length === users.length) return rows;
	const placed = new Set(rows);
	for (const user of users) if (!placed.has(user)) rows.push(user);
	queueMicrotask(() => {
		sortByUsername(rows);
	});
	return rows;
}

/**
 * The first `count` of sortByUsername(users), in that order, without a key for every user: the
 * first character of a name decides the first character of its key ({@link usernameKey}), so
 * every name in a lower group comes before every name in a higher one, and sorting the groups that
 * hold the first `count` (in their order in `users`: ties keep it) gives the same first `count`.
 * A name without a key (another character than a username may hold) makes sortByUsername compare
 * every name with the collator: then so does this.
 */
export function firstByUsername<T extends {username: string}>(users: readonly T[], count: number): T[] {
	// Group 0: the empty name; 1-3: _ - . ; 4: a digit; 5-30: a letter.
	const groups = new Uint8Array(users.length);
	const sizes = new Int32Array(31);
	for (let i = 0; i < users.length; i++) {
		const name = users[i]!.username;
		if (!hasKey(name)) return sortByUsername(users.slice()).slice(0, count);
		const group = name.length === 0 ? 0 : groupOf(name.charCodeAt(0));
		groups[i] = group;
		sizes[group]!++;
	}
	let last = 0;
	for (let taken = sizes[0]!; taken < count && last < 30; ) taken += sizes[++last]!;
	const chosen: T[] = [];
	for (let i = 0; i < users.length; i++) if (groups[i]! <= last) chosen.push(users[i]!);
	return sortByUsername(chosen).slice(0, count);
}

/**
 * Whether {@link usernameKey} has a key for the name: only A-Z a-z 0-9 . _ - in it. A regular
 * expression, compiled to machine code at once: a loop over the characters in the console's first
 * frame ran in V8's interpreter and cost as much as the keys it saved (node --cpu-prof).
 */
function hasKey(name: string): boolean {
	return KEYED_NAME.test(name);
}

const KEYED_NAME = /^[A-Za-z0-9._-]*$/;

/** The group of a name by its first character (one {@link hasKey} allows), in the order of the keys' first characters. */
function groupOf(code: number): number {
	if (code === 95) return 1;
	if (code === 45) return 2;
	if (code === 46) return 3;
	if (isDigit(code)) return 4;
	return 5 + (code | 32) - 97;
}

/**
 * The collator for names {@link usernameKey} has no key for, made the first time one is compared:
 * making it loads ICU's collation data, 10 ms of every `orgctl users list` (node --cpu-prof) that
 * then compared no such name.
 */
let collator: Intl.Collator | undefined;

/**
 * A string whose code-point order is the collator's order of usernames (case-insensitive, digit runs
 * by their value, leading zeros aside, `_` < `-` < `.` < digits < letters), equal exactly when the
 * collator says 0; undefined for a name with other characters than those a username may hold
 * (model.ts usernameSchema: A-Z a-z 0-9 . _ -). Intl.Collator.compare was 96 ms of a 770 ms
 * `orgctl users list --json` at 10,000 users (node --cpu-prof): a key per user, compared as plain
 * strings, costs a few. One pass over the characters, not a regular expression with a callback per
 * run: 10,000 keys in 3 ms instead of 10 (node, alternating, five rounds).
 */
export function usernameKey(name: string): string | undefined {
	// Checked on the name itself: toLowerCase maps some non-ASCII letters (the Kelvin sign K, İ) into a-z.
	const lower = name.toLowerCase();
	let key = '';
	let from = 0;
	for (let i = 0; i < name.length; ) {
		const code = name.charCodeAt(i);
		if (code > 127) return undefined;
		const c = lower.charCodeAt(i);
		if (c >= 97 && c <= 122) {
			i++;
			continue;
		}
		if (!isDigit(c) && c !== 95 && c !== 45 && c !== 46) return undefined;
		key += lower.slice(from, i);
		if (isDigit(c)) {
			let start = i;
			while (i < name.length && isDigit(name.charCodeAt(i))) i++;
			while (start < i - 1 && name.charCodeAt(start) === 48) start++;
			// Above punctuation, below letters; a longer run of significant digits is the bigger number.
			key += String.fromCharCode(4, 32 + i - start) + name.slice(start, i);
		} else {
			key += c === 95 ? '\u0001' : c === 45 ? '\u0002' : '\u0003';
			i++;
		}
		from = i;
	}
	return from === 0 ? lower : key + lower.slice(from);
}

function isDigit(code: number): boolean {
	return code >= 48 && code <= 57;
}

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
	if (x === undefined || y === undefined) return (collator ??= new Intl.Collator('en', {sensitivity: 'base', numeric: true})).compare(a.username, b.username);
	return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * `users` sorted in place by {@link byUsername}, each key made once. The keys are sorted through an
 * array of their indexes, not an object per user: at 10,000 users that was 10,000 objects more for
 * the console's first frame to allocate and copy out of the young generation.
 */
export function sortByUsername<T extends {username: string}>(users: T[]): T[] {
	const keys: string[] = new Array<string>(users.length);
	for (let i = 0; i < users.length; i++) {
		const key = usernameKey(users[i]!.username);
		if (key === undefined) return users.sort(byUsername);
		keys[i] = key;
	}
	const order = new Int32Array(users.length);
	for (let i = 0; i < order.length; i++) order[i] = i;
	// Ties keep their order, as Array.prototype.sort does.
	order.sort((a, b) => {
		const x = keys[a]!;
		const y = keys[b]!;
		return x < y ? -1 : x > y ? 1 : a - b;
	});
	const sorted = users.slice();
	for (let i = 0; i < order.length; i++) users[i] = sorted[order[i]!]!;
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
