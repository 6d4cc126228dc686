import {checkTenantName, resolveActor} from './accounts.js';
import {authorize, checked, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {conflict, invalid, notFound, refused} from './errors.js';
import {newId} from './ids.js';
import type {Database, Tenant} from './model.js';
import {echo} from './inert.js';
import {plural} from './words.js';

/** What a tenant holds: what goes with it when it is deleted. */
export type TenantContents = {
	readonly users: number;
	readonly invitations: number;
	readonly signupDomains: number;
	readonly pendingSignups: number;
	readonly projects: number;
	readonly tokens: number;
};

/** A tenant with the counts an operator wants to see before touching it. */
export type TenantView = Tenant & TenantContents;

/** What is in a tenant, counted. */
export function tenantContents(db: Database, tenantId: string): TenantContents {
	const count = (records: readonly {tenantId: string}[]) => records.reduce((n, r) => (r.tenantId === tenantId ? n + 1 : n), 0);
	return {
		users: count(db.users),
		invitations: count(db.invitations),
		signupDomains: count(db.signupDomains),
		pendingSignups: count(db.pendingSignups),
		projects: count(db.projects),
		tokens: count(db.tokens),
	};
}

/** "3 users, 1 invitation and 2 projects", or "nothing" for an empty tenant. */
export function describeTenantContents(contents: TenantContents): string {
	const parts = [
		[contents.users, 'user'],
		[contents.invitations, 'invitation'],
		[contents.signupDomains, 'sign-up domain'],
		[contents.pendingSignups, 'pending sign-up'],
		[contents.projects, 'project'],
		[contents.tokens, 'API token'],
	] as const;
	const named = parts.filter(([n]) => n > 0).map(([n, what]) => plural(n, what));
	if (named.length === 0) return 'nothing';
	return named.length === 1 ? named[0]! : `${named.slice(0, -1).join(', ')} and ${named.at(-1)!}`;
}

/** Every tenant with its counts, from data already read (superusers only). */
export function listTenantsIn(db: Database, actor: Actor): TenantView[] {
	authorize(actor, 'tenants.manage');
	return db.tenants.map(t => ({...t, ...tenantContents(db, t.id)}));
}

/** `orgctl tenants list`: a refusal is audited. */
export async function listTenants(ctx: Context, actor: Actor): Promise<TenantView[]> {
	return checked(ctx, actor, 'tenants.list', 'tenants', db => listTenantsIn(db, actor));
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
 * Deletes a tenant and everything in it, and says what went with it. The operator must type the
 * tenant's name; the last tenant and the operator's own tenant cannot be deleted.
 */
export async function deleteTenant(ctx: Context, actor: Actor, name: string, confirmation: string): Promise<TenantContents> {
	return perform(ctx, actor, 'tenant.delete', name, db => {
		authorize(actor, 'tenants.manage');
		const tenant = db.tenants.find(t => t.name === name);
		if (!tenant) throw notFound(`There is no tenant named ${echo(name)}.`);
		if (confirmation !== tenant.name) throw invalid(`To delete tenant ${tenant.name}, confirm by typing its name exactly.`);
		if (db.tenants.length === 1) throw refused(`${tenant.name} is the last tenant and cannot be deleted.`);
		if (tenant.id === actor.user.tenantId) throw refused(`You cannot delete ${tenant.name}, the tenant your own account belongs to.`);
		const contents = tenantContents(db, tenant.id);
		removeTenant(db, tenant.id);
		return contents;
	});
}

/**
 * The actor acting in another tenant (the console's tenant switcher, `--tenant`): superusers only.
 * Nothing changes in the store; a refusal is audited.
 */
export async function actInTenant(ctx: Context, actor: Actor, name: string): Promise<Actor> {
	return checked(ctx, actor, 'tenant.switch', name, db => {
		authorize(actor, 'tenants.manage');
		// The same credential (session, token) acts there: its standing is asked again at every change.
		const {user: _user, tenant: _tenant, ...credential} = actor;
		return {...resolveActor(db, actor.user.id, name), ...credential};
	});
}

function removeTenant(db: Database, tenantId: string): void {
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
}
