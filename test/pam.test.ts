import {describe, expect, it} from 'vitest';
import {login, newUser} from '../source/core/accounts.js';
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
});
