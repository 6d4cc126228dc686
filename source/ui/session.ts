import {createSession} from '../core/accounts.js';
import type {Actor, Context} from '../core/context.js';
import {writeSessionFile} from '../cli/session-file.js';

/**
 * Opens a session for the signed-in actor and leaves it in the session file, as `orgctl login`
 * does, so the next `orgctl` (console or subcommand) starts signed in.
 */
export async function keepSession(ctx: Context, actor: Actor): Promise<void> {
	const session = await createSession(ctx, actor);
	writeSessionFile({store: ctx.store.path, ...session});
}
