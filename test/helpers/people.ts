import {newUser} from '../../source/core/accounts.js';
import type {Actor, Context} from '../../source/core/context.js';
import type {Role} from '../../source/core/model.js';
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
