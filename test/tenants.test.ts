import {describe, expect, it} from 'vitest';
import {createTenant, deleteTenant, listTenants} from '../source/core/tenants.js';
import {newUser} from '../source/core/accounts.js';
import {createInvitation} from '../source/core/invitations.js';
import {initializedContext} from './helpers/store.js';

describe('tenants', () => {
	it('a superuser creates a tenant and deletes it, with everything in it, after typing its name', async () => {
		const {ctx, root} = await initializedContext();
		const acme = await createTenant(ctx, root, 'acme');
		await ctx.store.transact(db => {
			db.users.push(newUser(ctx, {tenantId: acme.id, username: 'root', email: 'root@acme.example', role: 'admin', method: 'password', passwordHash: null}));
		});
		expect((await listTenants(ctx, root)).map(t => [t.name, t.users])).toEqual([['default', 1], ['acme', 1]]);
		await expect(deleteTenant(ctx, root, 'acme', 'acm')).rejects.toThrow(/typing its name exactly/);
		expect(await deleteTenant(ctx, root, 'acme', 'acme')).toEqual({users: 1, invitations: 0, signupDomains: 0, pendingSignups: 0, projects: 0, tokens: 0});
		expect(ctx.store.read().users.map(u => u.email)).toEqual(['root@example.com']);
	});

	it('deleting a tenant drops the mail still queued for its invitations', async () => {
		const {ctx, root} = await initializedContext();
		const acme = await createTenant(ctx, root, 'acme');
		const inAcme = {user: root.user, tenant: acme};
		await createInvitation(ctx, root, {username: 'kept', email: 'kept@example.com'});
		await createInvitation(ctx, inAcme, {username: 'zoe', email: 'zoe@example.com'});
		expect(ctx.store.read().outbox.map(m => m.to)).toEqual(['kept@example.com', 'zoe@example.com']);
		await deleteTenant(ctx, root, 'acme', 'acme');
		expect(ctx.store.read().outbox.map(m => m.to)).toEqual(['kept@example.com']);
	});

	it('the last tenant, and the operator’s own, cannot be deleted', async () => {
		const {ctx, root} = await initializedContext();
		await expect(deleteTenant(ctx, root, 'default', 'default')).rejects.toThrow('default is the last tenant and cannot be deleted.');
		await createTenant(ctx, root, 'acme');
		await expect(deleteTenant(ctx, root, 'default', 'default')).rejects.toThrow(/your own account belongs to/);
	});

	it('names are DNS labels and unique; only superusers manage tenants', async () => {
		const {ctx, root} = await initializedContext();
		await expect(createTenant(ctx, root, 'Not A Label')).rejects.toThrow(/DNS label/);
		await createTenant(ctx, root, 'acme');
		await expect(createTenant(ctx, root, 'acme')).rejects.toThrow('A tenant named acme already exists.');
		const ada = await ctx.store.transact(db => {
			const user = newUser(ctx, {tenantId: root.tenant.id, username: 'ada', email: 'ada@example.com', role: 'admin', method: 'password', passwordHash: null});
			db.users.push(user);
			return user;
		});
		const admin = {user: {...ada}, tenant: root.tenant};
		await expect(createTenant(ctx, admin, 'other')).rejects.toThrow(/only by a superuser/);
		expect(ctx.store.read().audit.filter(e => e.action === 'tenant.create').map(e => e.result)).toEqual(['refused', 'ok', 'refused', 'refused']);
	});
});
