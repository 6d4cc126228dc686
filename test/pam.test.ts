import {describe, expect, it} from 'vitest';
import {login, newUser, THROTTLE} from '../source/core/accounts.js';
import {acceptInvitation, createInvitation} from '../source/core/invitations.js';
import {initializedContext} from './helpers/store.js';

// PAM needs a real system account and /etc/pam.d/orgctl: .ci/run creates both (as root) and
// exports these two variables. On a developer machine without them the test says why it skipped.
const user = process.env['ORGCTL_PAM_TEST_USER'];
const password = process.env['ORGCTL_PAM_TEST_PASSWORD'];

describe.skipIf(!user || !password)('PAM sign-in through the system stack (set ORGCTL_PAM_TEST_USER and _PASSWORD; .ci/run does)', () => {
	it('a PAM user signs in with the system password and not with a wrong one', async () => {
		const {ctx, root} = await initializedContext();
		await ctx.store.transact(db => {
			db.users.push(newUser(ctx, {tenantId: root.tenant.id, username: user!, email: `${user}@example.com`, role: 'member', method: 'pam', passwordHash: null}));
		});
		await expect(login(ctx, {identifier: user!, password: `${password}x`})).rejects.toThrow('Wrong username, e-mail or password.');
		const actor = await login(ctx, {identifier: user!, password: password!});
		expect(actor.user).toMatchObject({username: user, method: 'pam'});
	});

	it('a PAM invitee proves the system account with its password; wrong ones are throttled like logins', async () => {
		const {ctx, root} = await initializedContext();
		const issued = await createInvitation(ctx, root, {username: user!, email: `${user}@example.com`, method: 'pam'}, {sendEmail: false});
		await expect(acceptInvitation(ctx, {link: issued.link, password: `${password}x`})).rejects.toThrow(`The password of the system account ${user} is wrong (it is checked through PAM).`);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'refused'});
		for (let i = 1; i < THROTTLE.freeFailures; i++) await acceptInvitation(ctx, {link: issued.link, password: `${password}x`}).catch(() => undefined);
		// Locked now: even the right password waits, so the link cannot be used to guess the system password.
		await expect(acceptInvitation(ctx, {link: issued.link, password: password!})).rejects.toThrow(/Too many wrong passwords for the system account .*; try again in \d+ seconds\./);
		ctx.clock.advance(THROTTLE.firstLockSeconds + 1);
		const {user: created} = await acceptInvitation(ctx, {link: issued.link, password: password!});
		expect(created).toMatchObject({username: user, method: 'pam', passwordHash: null});
		expect(ctx.store.read().throttles).toEqual([]);
	});
});
