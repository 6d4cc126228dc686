import {isInitialized, resolveSession} from '../core/accounts.js';
import type {Context} from '../core/context.js';
import {readSessionFile} from '../adapters/session-file.js';
import type {Screen} from './state/shell.js';
import {sessionNotice} from './session.js';

/**
 * The first screen: the first-run form on an empty store, the console itself when the session
 * left by `orgctl login` (or an earlier console) is still good, otherwise the sign-in screen.
 */
export function startScreen(ctx: Context, storePath: string, tenant: string | undefined): Screen {
	if (!isInitialized(ctx.store.read())) return {kind: 'first-run'};
	const session = readSessionFile(storePath);
	if (!session) return {kind: 'login'};
	try {
		return {kind: 'main', actor: resolveSession(ctx, session, tenant), session: {id: session.id, secret: session.secret}};
	} catch (error) {
		return {kind: 'login', notice: sessionNotice(error)};
	}
}
