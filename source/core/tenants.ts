import {checkTenantName} from './accounts.js';
import {authorize, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {conflict, invalid, notFound, refused} from './errors.js';
import {newId} from './ids.js';
import type {Database, Tenant} from './model.js';
import {echo} from './inert.js';

/** A tenant with the counts an operator wants to see before touching it. */
export type TenantView = Tenant & {users: number; invitations: number; projects: number};

export function listTenants(ctx: Context, actor: Actor): TenantView[] {
	authorize(actor, 'tenants.manage');
	const db = ctx.store.read();
	const count = (records: readonly {tenantId: string}[], id: string) => records.filter(r => r.tenantId === id).length;
	return db.tenants.map(t => ({...t, users: count(db.users, t.id), invitations: count(db.invitations, t.id), projects: count(db.projects, t.id)}));
}

export async function createTenant(ctx: Context, actor: Actor, input: string): Promise<Tenant> {
	return perform(ctx, actor, 'tenant.create', input, db => {
		authorize(actor, 'tenants.manage');
		const name = checkTenantName(input);
		if (db.tenants.some(t => t.name === name)) throw conflict(`A tenant named ${name} already exists.`);
		const tenant: Tenant = {id: newId(), name, created: ctx.now().toISOString(), revision: 1};
		db.tenants.push(tenant);
		return tenant;
	});
}

/**
 * Deletes a tenant and everything in it. The operator must type the tenant's name; the last
 * tenant and the operator's own tenant cannot be deleted.
 */
export async function deleteTenant(ctx: Context, actor: Actor, name: string, confirmation: string): Promise<{users: number}> {
	return perform(ctx, actor, 'tenant.delete', name, db => {
		authorize(actor, 'tenants.manage');
		const tenant = db.tenants.find(t => t.name === name);
		if (!tenant) throw notFound(`There is no tenant named ${echo(name)}.`);
		if (confirmation !== tenant.name) throw invalid(`To delete tenant ${tenant.name}, confirm by typing its name exactly.`);
		if (db.tenants.length === 1) throw refused(`${tenant.name} is the last tenant and cannot be deleted.`);
		if (tenant.id === actor.user.tenantId) throw refused(`You cannot delete ${tenant.name}, the tenant your own account belongs to.`);
		return removeTenant(db, tenant.id);
	});
}

function removeTenant(db: Database, tenantId: string): {users: number} {
	const userIds = new Set(db.users.filter(u => u.tenantId === tenantId).map(u => u.id));
	// Mail queued for the tenant's invitations and sign-ups must not go out after it is gone.
	const refs = new Set([...db.invitations, ...db.pendingSignups].filter(r => r.tenantId === tenantId).map(r => r.id));
	db.outbox = db.outbox.filter(item => item.ref === null || !refs.has(item.ref));
	const keep = <T extends {tenantId: string}>(records: T[]) => records.filter(r => r.tenantId !== tenantId);
	db.users = keep(db.users);
	db.invitations = keep(db.invitations);
	db.invitationTombstones = keep(db.invitationTombstones);
	db.signupDomains = keep(db.signupDomains);
	db.pendingSignups = keep(db.pendingSignups);
	db.projects = keep(db.projects);
	db.tokens = keep(db.tokens);
	db.sessions = db.sessions.filter(s => !userIds.has(s.userId));
	db.tenants = db.tenants.filter(t => t.id !== tenantId);
	return {users: userIds.size};
}
