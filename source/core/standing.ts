import type {Actor, Context} from './context.js';
import {actsAsOwner} from './credentials.js';
import {authFailed} from './errors.js';
import type {Database} from './model.js';

/**
 * A command keeps no rights it started with (DESIGN §2: a credential does not outlive its owner's
 * standing). An actor is resolved once, when a command or a console signs in, and a command can
 * then wait as long as a prompt waits (`users reset-password`'s password, `users delete`'s [y/N],
 * a console's dialog). So every change and every checked read asks the store again, in the
 * transaction that commits: the account still exists and is enabled, holds the role and the
 * superuser bit it was resolved with, the tenant it acts in still exists, and the credential it
 * came with (its session, its API token, or for a password given to this command alone, that
 * password's hash) is still live. Otherwise the change is refused, and audited (perform, checked).
 */
export function assertStanding(db: Database, ctx: Context, actor: Actor): void {
	const then = actor.user;
	const user = db.users.find(u => u.id === then.id);
	const again = 'nothing was changed; sign in again';
	if (!user) throw authFailed(`The account ${then.username} was deleted after this command signed in; ${again}.`, {code: 'standing.deleted'});
	if (user.disabled) throw authFailed(`The account ${user.username} was disabled after this command signed in; nothing was changed.`, {code: 'standing.disabled'});
	if (user.role !== then.role) throw authFailed(`The role of ${user.username} changed from ${then.role} to ${user.role} after this command signed in; nothing was changed; run it again.`, {code: 'standing.role'});
	if (user.superuser !== then.superuser) {
		throw authFailed(`${user.username} ${user.superuser ? 'became' : 'stopped being'} a superuser after this command signed in; nothing was changed; run it again.`, {code: 'standing.superuser'});
	}
	if (!db.tenants.some(t => t.id === actor.tenant.id)) throw authFailed(`The tenant ${actor.tenant.name} was deleted after this command signed in; nothing was changed.`, {code: 'standing.tenant'});
	if (actor.tokenId !== undefined) {
		const token = db.tokens.find(t => t.id === actor.tokenId);
		if (!token || token.owner !== user.id || token.revoked || !actsAsOwner(token)) {
			throw authFailed(`The API token this command acts with was ${token ? 'revoked' : 'deleted'} after it signed in; nothing was changed.`, {code: 'standing.token'});
		}
		return;
	}
	if (actor.sessionId !== undefined) {
		const session = db.sessions.find(s => s.id === actor.sessionId);
		if (!session || session.userId !== user.id || new Date(session.expires) <= ctx.now()) {
			throw authFailed(`The session this command acts under ended after it signed in; ${again}.`, {code: 'standing.session'});
		}
		return;
	}
	// Signed in with a password for this command alone (ORGCTL_USER): a reset or change of it ends the command's power too.
	if (user.passwordHash !== then.passwordHash) throw authFailed(`The password of ${user.username} was changed after this command signed in; ${again}.`, {code: 'standing.password'});
}
