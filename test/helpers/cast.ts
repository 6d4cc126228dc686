import {newUser} from '../../source/core/accounts.js';
import type {Actor} from '../../source/core/context.js';
import {newId} from '../../source/core/ids.js';
import type {Role, User} from '../../source/core/model.js';
import {orgctl, type CliResult} from './cli.js';
import {actorOf} from './people.js';
import {initializedContext, TEST_HASHER} from './store.js';

/** Everyone's password in the cast (hashed with the cheap test hasher, which the built orgctl checks as usual). */
export const PASSWORD = 'the right password, long enough';

export type Cast = {
	readonly ctx: Awaited<ReturnType<typeof initializedContext>>['ctx'];
	/** Root: admin and superuser of tenant default. */
	readonly root: Actor;
	/** The tenant `other` and its id. */
	readonly other: {readonly id: string; readonly name: 'other'};
	/** The users by username (olga, and the second sam, in tenant other). */
	readonly users: Readonly<Record<string, User>>;
	/** The actor a user of tenant default is, from the latest data. */
	readonly actor: (username: string) => Actor;
	/** Runs the built orgctl as a user (ORGCTL_USER + ORGCTL_PASSWORD). */
	readonly as: (username: string, args: readonly string[], options?: {input?: string; env?: Record<string, string | undefined>; cwd?: string}) => Promise<CliResult>;
	/** Runs the built orgctl with these environment variables and nothing else to say who acts. */
	readonly run: (args: readonly string[], options?: {input?: string; env?: Record<string, string | undefined>; cwd?: string}) => Promise<CliResult>;
};

/**
 * A real store in a temp folder: tenant default with root (admin + superuser), ada (admin), mia and
 * max (members), gus (guest) and sam; tenant other with olga (admin) and another sam. Everyone's
 * password is PASSWORD.
 */
export async function cast(): Promise<Cast> {
	const {ctx, root} = await initializedContext();
	const passwordHash = await TEST_HASHER.hash(PASSWORD);
	const other = {id: newId(), name: 'other' as const};
	const people: ReadonlyArray<readonly [string, Role, string]> = [
		['ada', 'admin', root.tenant.id],
		['mia', 'member', root.tenant.id],
		['max', 'member', root.tenant.id],
		['gus', 'guest', root.tenant.id],
		['sam', 'member', root.tenant.id],
		['olga', 'admin', other.id],
		['sam', 'member', other.id],
	];
	await ctx.store.transact(db => {
		db.tenants.push({id: other.id, name: other.name, created: ctx.now().toISOString(), revision: 1});
		db.users.find(u => u.id === root.user.id)!.passwordHash = passwordHash;
		for (const [username, role, tenantId] of people) {
			const email = tenantId === other.id ? `${username}@other.example` : `${username}@example.com`;
			db.users.push(newUser(ctx, {tenantId, username, email, role, method: 'password', passwordHash}));
		}
	});
	const users = Object.fromEntries(ctx.store.read().users.map(u => [u.tenantId === other.id && u.username === 'sam' ? 'sam@other' : u.username, u]));
	const run: Cast['run'] = (args, options = {}) => orgctl(ctx.dir, args, options);
	return {
		ctx,
		root: actorOf(ctx, 'root'),
		other,
		users,
		actor: username => actorOf(ctx, username),
		as: (username, args, options = {}) => run(args, {...options, env: {ORGCTL_USER: username, ORGCTL_PASSWORD: PASSWORD, ...options.env}}),
		run,
	};
}

/** The audit events added since `before` events were there. */
export function auditSince(c: Cast, before: number) {
	return c.ctx.store.read().audit.slice(before);
}
