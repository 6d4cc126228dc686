import type {Context} from './context.js';
import type {ApiToken, Database} from './model.js';

/**
 * What lets someone act as a user without typing their password: sessions (left by a sign-in) and
 * API tokens with the `cli` capability (ORGCTL_TOKEN). DESIGN §2: a credential never changes hands
 * and does not outlive its owner's standing, so these helpers end them where the owner's standing
 * changes (a disable, a password reset or change) and where a token changes hands.
 */

/** Whether a token acts as its owner through ORGCTL_TOKEN. */
export function actsAsOwner(token: Pick<ApiToken, 'capabilities'>): boolean {
	return token.capabilities.includes('cli');
}

/**
 * Makes a token's secret stop working for good, keeping the token (name, project, capabilities) for
 * whoever may re-issue it. Its dead secret's hash stays, so whoever presents it is told why.
 */
export function revokeToken(ctx: Context, token: ApiToken, reason: string): void {
	token.revoked = {at: ctx.now().toISOString(), reason};
	token.revision += 1;
}

/**
 * Ends every way in that the user's password opened: their sessions, and the live `cli` tokens that
 * act as them (a thief who had the password may have made one). Tokens that only post to the
 * server's API (no `cli`) do not act as the user and stay. Inside a transaction.
 */
export function endCredentials(db: Database, ctx: Context, userId: string, reason: string, options: {keepSession?: string} = {}): {sessions: number; tokens: number} {
	const before = db.sessions.length;
	db.sessions = db.sessions.filter(s => s.userId !== userId || s.id === options.keepSession);
	let tokens = 0;
	for (const token of db.tokens) {
		if (token.owner !== userId || token.revoked || !actsAsOwner(token)) continue;
		revokeToken(ctx, token, reason);
		tokens++;
	}
	return {sessions: before - db.sessions.length, tokens};
}

/** ", and their 2 cli API tokens were revoked (…)" after a disable or a password reset, or nothing when none was. */
export function revokedNote(tokens: number, whose: 'its' | 'their' | 'your'): string {
	if (tokens === 0) return '';
	const what = tokens === 1 ? `${whose} cli API token was` : `${whose} ${tokens} cli API tokens were`;
	const who = whose === 'your' ? 'you' : 'the owner';
	return `, and ${what} revoked (${who} re-issue${who === 'you' ? '' : 's'} ${tokens === 1 ? 'it' : 'them'} with orgctl tokens reissue ID)`;
}
