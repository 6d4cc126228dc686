import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {changeOwnPassword, createSession, login, THROTTLE} from '../../source/core/accounts.js';
import {App} from '../../source/ui/app.js';
import {renderInk} from '../helpers/ink.js';
import {FIRST_PASSWORD, initializedContext, TEST_HASHER} from '../helpers/store.js';

const savedSessionFile = process.env['ORGCTL_SESSION_FILE'];
afterEach(() => {
	if (savedSessionFile === undefined) delete process.env['ORGCTL_SESSION_FILE'];
	else process.env['ORGCTL_SESSION_FILE'] = savedSessionFile;
});

describe('My Account p: the current password is throttled like a login (red team 10-14 #2)', () => {
	it('after five wrong current passwords (here through the CLI\'s operation) the console\'s p waits too, even with the right one, and so does a login', async () => {
		const {ctx, root} = await initializedContext();
		process.env['ORGCTL_SESSION_FILE'] = join(ctx.dir, 'session.json');
		const {id, secret} = await createSession(ctx, root);
		const thief = {...root, sessionId: id};
		for (let i = 0; i < THROTTLE.freeFailures; i++) await expect(changeOwnPassword(ctx, thief, `guess ${i}`, 'a new and longer passphrase')).rejects.toThrow('The current password is wrong.');
		const ink = await renderInk(<App ctx={ctx} start={{kind: 'main', actor: root, session: {id, secret}}} tenant={undefined} />, {columns: 100, rows: 24});
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
		await ink.waitFor(frame => /Too many wrong passwords for root; try again in \d+ seconds\./.test(frame), 20_000);
		expect(await TEST_HASHER.verify(FIRST_PASSWORD, ctx.store.read().users[0]!.passwordHash!)).toBe(true);
		// One key for the account: its login waits as well (silently, under this spelling).
		await expect(login(ctx, {identifier: 'root', tenant: 'default', password: FIRST_PASSWORD})).rejects.toThrow(/^Wrong tenant, username, e-mail or password\.$/);
		ink.unmount();
	});
});
