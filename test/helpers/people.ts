import {newUser, resolveActor} from '../../source/core/accounts.js';
import type {Actor, Context} from '../../source/core/context.js';
import type {Role, User} from '../../source/core/model.js';
import {setSmtpSettings} from '../../source/core/smtp-settings.js';

/**
 * Adds a user with `role` to the actor's tenant, straight into the store (test set-up, not the
 * behaviour under test), and returns them as an actor.
 */
export async function addPerson(ctx: Context, tenantOf: Actor, username: string, role: Role): Promise<Actor> {
	const user = await ctx.store.transact(db => {
		const record = newUser(ctx, {tenantId: tenantOf.tenant.id, username, email: `${username}@example.com`, role, method: 'password', passwordHash: null});
		db.users.push(record);
		return record;
	});
	return {user, tenant: tenantOf.tenant};
}

/** Points the SMTP settings at a loopback test server, with short timeouts. */
export async function useLoopbackSmtp(ctx: Context, root: Actor, port: number, extra: {security?: 'none' | 'starttls' | 'tls'; caFile?: string | null; timeoutMs?: number} = {}): Promise<void> {
	await setSmtpSettings(ctx, root, {host: '127.0.0.1', port, security: extra.security ?? 'none', from: 'orgctl@example.com', caFile: extra.caFile ?? null, timeoutMs: extra.timeoutMs ?? 1000});
}
/**
 * Adds a user straight to the store (no scrypt: passwordHash null unless given), for tests that
 * need a cast of admins, members and guests.
 */
export async function addUser(ctx: Context, tenantId: string, username: string, fields: {role?: Role; superuser?: boolean; disabled?: boolean; passwordHash?: string} = {}): Promise<User> {
	return ctx.store.transact(db => {
		const user = newUser(ctx, {tenantId, username, email: `${username}@example.com`, role: fields.role ?? 'member', superuser: fields.superuser ?? false, method: 'password', passwordHash: fields.passwordHash ?? null});
		user.disabled = fields.disabled ?? false;
		db.users.push(user);
		return user;
	});
}

/** The actor a user is, from the latest data. */
export function actorOf(ctx: Context, username: string): Actor {
	const user = ctx.store.read().users.find(u => u.username === username);
	if (!user) throw new Error(`no user ${username}`);
	return resolveActor(ctx.store.read(), user.id);
}

/** Who owns what, by username, for assertions. */
export function ownership(ctx: Context): Record<string, string> {
	const db = ctx.store.read();
	const name = (id: string) => db.users.find(u => u.id === id)?.username ?? `<missing ${id}>`;
	return Object.fromEntries([
		...db.projects.map(p => [`project ${p.name}`, name(p.owner)]),
		...db.tokens.map(t => [`token ${t.name}`, name(t.owner)]),
		...db.invitations.map(i => [`invitation ${i.username}`, name(i.invitedBy)]),
	]);
}

/** A pending invitation sent by `invitedBy`, written straight to the store (mail not involved). */
export async function addInvitation(ctx: Context, tenantId: string, invitedBy: string, username: string, role: Role = 'member'): Promise<void> {
	const {newId, newSecret, sha256} = await import('../../source/core/ids.js');
	await ctx.store.transact(db => {
		const secret = newSecret();
		const now = ctx.now();
		db.invitations.push({
			id: newId(),
			tenantId,
			username,
			email: `${username}@example.com`,
			role,
			method: 'password',
			invitedBy,
			created: now.toISOString(),
			expires: new Date(now.getTime() + 7 * 86_400_000).toISOString(),
			secretHash: sha256(secret),
			secretSealed: ctx.secrets.seal(secret),
			mail: {state: 'not-sent', at: now.toISOString(), reason: 'SMTP is not configured'},
			sentCount: 0,
			revision: 1,
		});
	});
}
