import {authenticateSession, isInitialized} from '../core/accounts.js';
import {isOrgError} from '../core/errors.js';
import type {Context} from '../core/context.js';
import {readSessionFile} from '../adapters/session-file.js';
import type {Screen} from './state/shell.js';
import {sessionNotice} from './session.js';

/**
 * The first screen: the first-run form on an empty store, the console itself when the session
 * left by `orgctl login` (or an earlier console) is still good, otherwise the sign-in screen. A
 * session file the store refuses (ended, expired, edited, its user disabled, a tenant the user may
 * not act in) is audited as a failed authentication, as it is for a subcommand.
 */
export async function startScreen(ctx: Context, storePath: string, tenant: string | undefined): Promise<Screen> {
	if (!isInitialized(ctx.store.read())) return {kind: 'first-run'};
	const session = readSessionFile(storePath);
	if (!session) return {kind: 'login'};
	try {
		return {kind: 'main', actor: await authenticateSession(ctx, session, tenant), session: {id: session.id, secret: session.secret}};
	} catch (error) {
		if (isOrgError(error) && error.kind === 'store') throw error;
		return {kind: 'login', notice: sessionNotice(error)};
	}
}
