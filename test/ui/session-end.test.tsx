import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {createSession, SESSION_SECONDS} from '../../source/core/accounts.js';
import {App} from '../../source/ui/app.js';
import {renderInk} from '../helpers/ink.js';
import {FIRST_PASSWORD, initializedContext} from '../helpers/store.js';
import {seedUsers} from '../helpers/term.js';

const savedSessionFile = process.env['ORGCTL_SESSION_FILE'];
afterEach(() => {
	if (savedSessionFile === undefined) delete process.env['ORGCTL_SESSION_FILE'];
	else process.env['ORGCTL_SESSION_FILE'] = savedSessionFile;
});

/** root signed in with a real session record, zed a member to act on. */
async function signedIn() {
	const {ctx, root} = await initializedContext();
	// A renewed session is written to the session file: keep it in the test's folder.
	process.env['ORGCTL_SESSION_FILE'] = join(ctx.dir, 'session.json');
	await seedUsers(ctx, root.tenant.id, [{username: 'zed'}]);
	const {id, secret} = await createSession(ctx, root);
	const ink = await renderInk(<App ctx={ctx} start={{kind: 'main', actor: root, session: {id, secret}}} tenant={undefined} />, {columns: 100, rows: 24});
	await ink.waitFor('zed@example.com');
	return {ctx, ink, sessionId: id};
}

describe('an open console whose session ends', () => {
	it('refuses the next action and returns to sign-in with the reason when the session record is gone', async () => {
		const {ctx, ink, sessionId} = await signedIn();
		await ink.press('j', 'x');
		await ink.waitFor('Disable zed?');
		// As `orgctl logout` or an admin's reset-password does, from outside the console, while it
		// asks: the store tells the console at once, and the answer must not act under the dead session.
		await ctx.store.transact(db => {
			db.sessions = db.sessions.filter(s => s.id !== sessionId);
		});
		await ink.press('y');
		await ink.waitFor('Your session has ended; sign in again.', 5000);
		expect(ink.frame()).toContain('Sign in');
		expect(ink.frame()).toContain('not signed in');
		expect(ctx.store.read().users.find(u => u.username === 'zed')!.disabled).toBe(false);
		ink.unmount();
	});

	it('returns to sign-in once the session has expired', async () => {
		const {ctx, ink} = await signedIn();
		ctx.clock.advance(SESSION_SECONDS + 1);
		await ink.press('R');
		await ink.waitFor('Your session has expired; sign in again.', 5000);
		expect(ink.frame()).toContain('not signed in');
		ink.unmount();
	});

	it('changing one\'s own password (which ends every session of the user) keeps this console signed in under a new session', async () => {
		const {ctx, ink, sessionId} = await signedIn();
		const type = (text: string) => ink.press(...text.split(''));
		await ink.press('shift-tab');
		await ink.waitFor('Press p to change your password');
		await ink.press('p');
		await ink.waitFor('Current password');
		await type(FIRST_PASSWORD);
		await ink.press('enter');
		await type('a new and longer passphrase');
		await ink.press('enter');
		await type('a new and longer passphrase');
		await ink.press('enter');
		await ink.waitFor('Password changed', 20_000);
		const sessions = ctx.store.read().sessions;
		expect(sessions.map(s => s.id)).not.toContain(sessionId);
		expect(sessions).toHaveLength(1);
		await ink.press('R');
		await ink.waitFor('Reloaded from the store.');
		expect(ink.frame()).toMatch(/root admin ★superuser/);
		ink.unmount();
	});
});
