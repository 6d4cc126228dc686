import {createSession} from '../core/accounts.js';
import type {Actor, Context} from '../core/context.js';
import {isOrgError} from '../core/errors.js';
import {writeSessionFile} from '../adapters/session-file.js';

/** The session an open console acts under: checked against the store on every refresh and before every action. */
export type SessionKey = {readonly id: string; readonly secret: string};

/**
 * Opens a session for the signed-in actor and leaves it in the session file, as `orgctl login`
 * does, so the next `orgctl` (console or subcommand) starts signed in. Throws when the session
 * cannot be opened; `unsaved` says why the file could not be written (the session still holds).
 */
export async function keepSession(ctx: Context, actor: Actor): Promise<{session: SessionKey; unsaved?: string}> {
	const {id, secret, expires} = await createSession(ctx, actor);
	try {
		writeSessionFile({store: ctx.store.path, id, secret, expires});
		return {session: {id, secret}};
	} catch (error) {
		return {session: {id, secret}, unsaved: error instanceof Error ? error.message : String(error)};
	}
}

/** Why the console is back at sign-in, in one sentence for the sign-in screen (which is where to sign in again). */
export function sessionNotice(error: unknown): string {
	return isOrgError(error) ? error.message.replace(/ with `orgctl login`/, '') : String(error);
}
