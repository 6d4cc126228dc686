import {authorize} from './audit.js';
import type {Actor, Context} from './context.js';
import {notFound} from './errors.js';
import type {Database, User} from './model.js';

/** What a user record shows outside the store: never the password hash. */
export type UserView = Omit<User, 'passwordHash' | 'tenantId'> & {tenant: string; hasPassword: boolean};

export function userView(db: Database, user: User): UserView {
	const {passwordHash, tenantId, ...rest} = user;
	return {...rest, tenant: db.tenants.find(t => t.id === tenantId)?.name ?? '?', hasPassword: passwordHash !== null};
}

/** Users of the actor's tenant, in username order (members, admins and superusers only). */
export function listUsers(ctx: Context, actor: Actor): User[] {
	authorize(actor, 'users.list');
	return ctx.store
		.read()
		.users.filter(u => u.tenantId === actor.tenant.id)
		.sort((a, b) => a.username.localeCompare(b.username));
}

/** Finds a user of the actor's tenant by username or e-mail (any case), or by id. */
export function findUser(db: Database, tenantId: string, name: string): User {
	const key = name.trim().toLowerCase();
	const user = db.users.find(u => u.tenantId === tenantId && (u.username.toLowerCase() === key || u.email.toLowerCase() === key || u.id === key));
	if (!user) throw notFound(`There is no user ${name} in this tenant.`);
	return user;
}

/** One user: anyone may see their own profile; listing others needs users.list. */
export function showUser(ctx: Context, actor: Actor, name: string): User {
	const db = ctx.store.read();
	const user = findUser(db, actor.tenant.id, name);
	if (user.id !== actor.user.id) authorize(actor, 'users.list');
	return user;
}
