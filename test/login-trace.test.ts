import {describe, expect, it} from 'vitest';
import {login, resolveActor, signInToAct, THROTTLE} from '../source/core/accounts.js';
import type {PasswordHasher} from '../source/core/context.js';
import {showUser} from '../source/core/users.js';
import {PASSWORD} from './helpers/cast.js';
import {addUser, actorOf} from './helpers/people.js';
import {initializedContext, TEST_HASHER} from './helpers/store.js';

/** The test hasher, counting what each password check was compared against. */
function countingHasher(): PasswordHasher & {checked: string[]} {
	const checked: string[] = [];
	return {
		checked,
		hash: password => TEST_HASHER.hash(password),
		verify: async (password, stored) => {
			checked.push(stored);
			return TEST_HASHER.verify(password, stored);
		},
		decoy: TEST_HASHER.decoy,
	};
}

async function world() {
	const hasher = countingHasher();
	const {ctx, root} = await initializedContext(undefined, {hasher});
	const passwordHash = await TEST_HASHER.hash(PASSWORD);
	const mia = await addUser(ctx, root.tenant.id, 'mia', {passwordHash});
	await addUser(ctx, root.tenant.id, 'sue', {});
	await ctx.store.transact(db => {
		db.users.find(u => u.username === 'sue')!.method = 'saml';
		db.tenants.push({id: 'a'.repeat(32), name: 'other', created: ctx.now().toISOString(), revision: 1});
	});
	// The same name in another tenant, that tenant's admin (a tenant with users has one).
	await addUser(ctx, 'a'.repeat(32), 'mia', {passwordHash, role: 'admin'});
	hasher.checked.length = 0;
	return {ctx, root, hasher, mia};
}

describe('a failed login costs the same and leaves the same trace, whatever the identifier named', () => {
	it('one password check per account the identifier could mean, at once, or the hasher’s decoy when it means none', async () => {
		const {ctx, hasher, mia} = await world();
		const attempts = [
			{identifier: 'mia', password: 'wrong', tenant: 'default'},
			{identifier: 'nobody', password: 'wrong'},
			{identifier: 'mia', password: PASSWORD, tenant: 'no-such-tenant'},
			{identifier: 'mia', password: 'wrong'},
			{identifier: 'sue', password: 'anything'},
		];
		for (const attempt of attempts) await expect(login(ctx, attempt)).rejects.toMatchObject({kind: 'auth'});
		// Without a tenant, mia means both mias (red team 10-14 #5: the one whose password matches signs in).
		expect(hasher.checked).toEqual([mia.passwordHash, TEST_HASHER.decoy, TEST_HASHER.decoy, mia.passwordHash, mia.passwordHash, TEST_HASHER.decoy]);
	});

	it('an unknown account and a known one with a wrong password get the same answer, audit event and throttle', async () => {
		const {ctx} = await world();
		const errors: string[] = [];
		for (const identifier of ['mia@example.com', 'nobody@example.com']) {
			await login(ctx, {identifier, password: 'wrong', tenant: 'default'}).catch((error: Error) => errors.push(error.message));
		}
		expect(errors).toEqual(['Wrong tenant, username, e-mail or password.', 'Wrong tenant, username, e-mail or password.']);
		const db = ctx.store.read();
		const shape = (e: (typeof db.audit)[number]) => ({action: e.action, result: e.result, reason: e.reason, tenantId: e.tenantId, actorIsIdentifier: e.actor === e.target});
		const [known, unknown] = db.audit.slice(-2);
		expect(shape(unknown!)).toEqual(shape(known!));
		// Each identifier as typed (the only lock ever shown), and mia's account besides (kept silently).
		expect(db.throttles.map(t => [t.key.split(':')[0], t.failures])).toEqual([['login', 1], ['user', 1], ['login', 1]]);
		// Both lock after the same number of tries.
		for (let i = 1; i < THROTTLE.freeFailures; i++) {
			for (const identifier of ['mia@example.com', 'nobody@example.com']) await login(ctx, {identifier, password: 'wrong', tenant: 'default'}).catch(() => undefined);
		}
		for (const identifier of ['mia@example.com', 'nobody@example.com']) {
			await expect(login(ctx, {identifier, password: 'wrong', tenant: 'default'})).rejects.toThrow(/Too many failed logins/);
		}
	});

	it('a name in several tenants is answered only after a password check: a wrong one like any failure, one that opens both asks for the tenant', async () => {
		const {ctx, hasher} = await world();
		for (let i = 0; i < THROTTLE.freeFailures; i++) await expect(login(ctx, {identifier: 'mia', password: `wrong ${i}`})).rejects.toThrow(/^Wrong username, e-mail or password\.$/);
		expect(hasher.checked).toHaveLength(2 * THROTTLE.freeFailures);
		await expect(login(ctx, {identifier: 'mia', password: PASSWORD})).rejects.toThrow(/Too many failed logins for mia/);
		expect(hasher.checked).toHaveLength(2 * THROTTLE.freeFailures);
		expect(ctx.store.read().audit.filter(e => e.action === 'login' && e.result === 'refused')).toHaveLength(THROTTLE.freeFailures + 1);
	});

	it('a password that opens accounts in two tenants is proven, not a guess: the owner is asked for the tenant and loses no try', async () => {
		const {ctx} = await world();
		await expect(login(ctx, {identifier: 'mia', password: PASSWORD})).rejects.toThrow('mia names accounts in several tenants with this password; name one with --tenant.');
		expect(ctx.store.read().throttles).toEqual([]);
		expect((await login(ctx, {identifier: 'mia', password: PASSWORD, tenant: 'default'})).tenant.name).toBe('default');
	});

	it('a password changed between the check and the sign-in no longer opens the account', async () => {
		const {ctx, mia} = await world();
		const slow: PasswordHasher = {
			...TEST_HASHER,
			verify: async (password, stored) => {
				const ok = await TEST_HASHER.verify(password, stored);
				// Meanwhile an admin resets the password.
				await ctx.store.transact(db => {
					db.users.find(u => u.id === mia.id)!.passwordHash = TEST_HASHER.decoy;
				});
				return ok;
			},
		};
		await expect(login({...ctx, hasher: slow}, {identifier: 'mia', password: PASSWORD, tenant: 'default'})).rejects.toThrow(/Wrong/);
		expect(ctx.store.read().sessions).toHaveLength(0);
	});
});

describe('what a refusal does not give away', () => {
	it('ORGCTL_USER with --tenant answers alike for a name in that tenant, a name only elsewhere and no name at all', async () => {
		const {ctx, root, hasher} = await world();
		await addUser(ctx, root.tenant.id, 'only-here', {passwordHash: await TEST_HASHER.hash(PASSWORD)});
		hasher.checked.length = 0;
		const answers: string[] = [];
		for (const identifier of ['mia', 'only-here', 'nobody']) {
			await signInToAct(ctx, {identifier, password: 'a wrong password'}, 'other').catch((error: Error) => answers.push(error.message));
		}
		expect(answers).toEqual(Array(3).fill('Wrong tenant, username, e-mail or password.'));
		expect(hasher.checked).toHaveLength(3);
		// With the right password: the tenant's own account; a name only elsewhere is refused as acting there.
		expect((await signInToAct(ctx, {identifier: 'mia', password: PASSWORD}, 'other')).tenant.name).toBe('other');
		await expect(signInToAct(ctx, {identifier: 'only-here', password: PASSWORD}, 'other')).rejects.toThrow('Only a superuser can act in another tenant; only-here belongs to default.');
	});

	it('a non-superuser naming another tenant is refused alike whether it exists or not', async () => {
		const {ctx} = await world();
		const mia = ctx.store.read().users.find(u => u.username === 'mia')!;
		const answers = ['other', 'no-such-tenant'].map(tenant => {
			try {
				resolveActor(ctx.store.read(), mia.id, tenant);
				return 'allowed';
			} catch (error) {
				return (error as Error).message;
			}
		});
		expect(answers).toEqual(['Only a superuser can act in another tenant; mia belongs to default.', 'Only a superuser can act in another tenant; mia belongs to default.']);
	});

	it('a guest asking for another user is refused alike whether the user exists or not', async () => {
		const {ctx, root} = await world();
		await addUser(ctx, root.tenant.id, 'gus', {role: 'guest'});
		const gus = actorOf(ctx, 'gus');
		await expect(showUser(ctx, gus, 'root')).rejects.toThrow('Guests can see only their own profile, not the list of users.');
		await expect(showUser(ctx, gus, 'nobody')).rejects.toThrow('Guests can see only their own profile, not the list of users.');
		await expect(showUser(ctx, gus, 'gus')).resolves.toMatchObject({username: 'gus'});
	});
});
