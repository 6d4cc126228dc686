import {authorize} from './audit.js';
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

/** Users of the actor's tenant, in username order (members, admins and superusers only). */
export function listUsers(ctx: Context, actor: Actor): User[] {
	return listUsersIn(ctx.store.read(), actor);
}

/** listUsers over data already read (the console derives its rows from the data it renders). */
export function listUsersIn(db: Database, actor: Actor): User[] {
	authorize(actor, 'users.list');
	return db.users.filter(u => u.tenantId === actor.tenant.id).sort(byUsername);
}

const collator = new Intl.Collator('en', {sensitivity: 'base', numeric: true});
/** Username order as people read it: case-insensitive, user2 before user10. */
export function byUsername(a: {username: string}, b: {username: string}): number {
	return collator.compare(a.username, b.username);
}

/** Finds a user of the actor's tenant by username or e-mail (any case), or by id. */
export function findUser(db: Database, tenantId: string, name: string): User {
	const key = name.trim().toLowerCase();
	const user = db.users.find(u => u.tenantId === tenantId && (u.username.toLowerCase() === key || u.email.toLowerCase() === key || u.id === key));
	if (!user) throw notFound(`There is no user ${echo(name)} in this tenant.`);
	return user;
}

/** One user: anyone may see their own profile; listing others needs users.list. */
export function showUser(ctx: Context, actor: Actor, name: string): User {
	const db = ctx.store.read();
	const user = findUser(db, actor.tenant.id, name);
	if (user.id !== actor.user.id) authorize(actor, 'users.list');
	return user;
}
