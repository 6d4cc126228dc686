import {resolveActor} from './accounts.js';
import type {Actor, Context} from './context.js';
import {authFailed} from './errors.js';
import {secretMatches} from './ids.js';

/** An API token as handed to its owner once: `<id>.<secret>`; the store keeps only the secret's hash. */
export function formatToken(id: string, secret: string): string {
	return `${id}.${secret}`;
}

/**
 * The actor an API token (ORGCTL_TOKEN) stands for: its owner, if the token exists, matches and the
 * owner may still sign in. Records when it was last used.
 */
export async function authenticateToken(ctx: Context, presented: string, tenantName?: string): Promise<Actor> {
	const [id, secret] = presented.trim().split('.', 2);
	const db = ctx.store.read();
	const token = id && secret ? db.tokens.find(t => t.id === id) : undefined;
	if (!token || !secretMatches(secret!, token.secretHash)) throw authFailed('The API token in ORGCTL_TOKEN is not valid; it may have been deleted.');
	const actor = resolveActor(db, token.owner, tenantName);
	// Hourly resolution is enough for "last used", and spares a write on every command.
	const now = ctx.now();
	if (!token.lastUsed || now.getTime() - new Date(token.lastUsed).getTime() > 3_600_000) {
		await ctx.store.transact(d => {
			const t = d.tokens.find(x => x.id === token.id);
			if (t) t.lastUsed = now.toISOString();
		});
	}
	return actor;
}
