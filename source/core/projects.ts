import {assertRevision} from './accounts.js';
import {appendAudit, authorize, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {atField, conflict, notFound, refused} from './errors.js';
import {newId} from './ids.js';
import {echo} from './inert.js';
import {parseInput} from './input.js';
import {projectNameSchema, type Database, type Project, type User} from './model.js';
import {applyMigration, assertMayOwn, migrationEnds, planMigration} from './ownership.js';
import {decide} from './policy.js';
import {findUser} from './users.js';
import {actorFacts} from './context.js';

/** A project as shown outside the store: with its owner's username and its token count. */
export type ProjectView = Project & {ownerName: string; tokens: number};

export function projectView(db: Database, project: Project): ProjectView {
	return {
		...project,
		ownerName: db.users.find(u => u.id === project.owner)?.username ?? '?',
		tokens: db.tokens.filter(t => t.projectId === project.id).length,
	};
}

/** A project name by the model's rule. */
export function checkProjectName(name: string): string {
	return atField('name', () => parseInput(projectNameSchema, name.trim()));
}

/** Finds a project of the tenant by name (any case) or id. */
export function findProject(db: Database, tenantId: string, name: string): Project {
	const key = name.trim().toLowerCase();
	const project = db.projects.find(p => p.tenantId === tenantId && (p.name.toLowerCase() === key || p.id === key));
	if (!project) throw notFound(`There is no project ${echo(name)} in this tenant.`);
	return project;
}

/**
 * May the actor change or delete something owned by `ownerId`? Its owner may (unless a guest),
 * admins may in their tenant, superusers anywhere.
 */
export function assertMayManage(actor: Actor, ownerId: string, what: string): void {
	if (!decide(actorFacts(actor), 'projects.create', {ownerId}).allowed) {
		throw refused(actor.user.role === 'guest' ? `Guests cannot change ${what}.` : `Only its owner or an admin can change ${what}.`);
	}
}

/** Creates a project for the actor, or (admins) for another user of the tenant. Names are unique per tenant. */
export async function createProject(ctx: Context, actor: Actor, input: {name: string; owner?: string}): Promise<Project> {
	return perform(ctx, actor, 'project.create', input.name, db => {
		const name = checkProjectName(input.name);
		const owner: User = input.owner === undefined ? actor.user : atField('owner', () => findUser(db, actor.tenant.id, input.owner!));
		atField('owner', () => {
			authorize(actor, 'projects.create', {ownerId: owner.id});
			// A superuser acting in another tenant is not one of its users (an invariant of the store).
			if (owner.tenantId !== actor.tenant.id) throw refused(`A project of tenant ${actor.tenant.name} is owned by one of its users, and ${owner.username} is not; choose its owner (--owner) among them.`);
			assertMayOwn(owner, {kind: 'project'});
		});
		const clash = db.projects.find(p => p.tenantId === actor.tenant.id && p.name.toLowerCase() === name.toLowerCase());
		if (clash) throw conflict(`A project named ${clash.name} already exists in this tenant.`, {field: 'name'});
		const project: Project = {id: newId(), tenantId: actor.tenant.id, name, owner: owner.id, created: ctx.now().toISOString(), revision: 1};
		db.projects.push(project);
		return project;
	});
}

/** Projects of the tenant in name order; a guest sees only their own. */
export function listProjects(ctx: Context, actor: Actor): ProjectView[] {
	return listProjectsIn(ctx.store.read(), actor);
}

/** listProjects over data already read (the console derives its rows from the data it renders). */
export function listProjectsIn(db: Database, actor: Actor): ProjectView[] {
	const everyone = decide(actorFacts(actor), 'users.list').allowed;
	return db.projects
		.filter(p => p.tenantId === actor.tenant.id && (everyone || p.owner === actor.user.id))
		.sort((a, b) => a.name.localeCompare(b.name))
		.map(p => projectView(db, p));
}

/** Gives a project to another user of the tenant (admins; the new owner must be able to own it). */
export async function transferProject(ctx: Context, actor: Actor, name: string, toName: string, options: {expectedRevision?: number} = {}): Promise<Project> {
	return perform(ctx, actor, 'project.transfer', `${name} → ${toName}`, db => {
		const project = findProject(db, actor.tenant.id, name);
		assertRevision(project, options.expectedRevision, `The project ${project.name}`);
		const fromUser = db.users.find(u => u.id === project.owner)!;
		const {from, to} = migrationEnds(db, actor, fromUser.id, toName);
		applyMigration(db, ctx, actor, from, to, planMigration(db, from, to, [{kind: 'project', id: project.id}]));
		return project;
	});
}

/** Deletes a project and the API tokens that belong to it (each audited). */
export async function deleteProject(ctx: Context, actor: Actor, name: string, options: {expectedRevision?: number} = {}): Promise<{project: Project; tokensDeleted: number}> {
	return perform(ctx, actor, 'project.delete', name, db => {
		const project = findProject(db, actor.tenant.id, name);
		assertRevision(project, options.expectedRevision, `The project ${project.name}`);
		assertMayManage(actor, project.owner, `the project ${project.name}`);
		const tokens = db.tokens.filter(t => t.projectId === project.id);
		for (const token of tokens) appendAudit(db, ctx, actor, {action: 'token.delete', target: `${token.name} (${project.name})`, result: 'ok'});
		db.tokens = db.tokens.filter(t => t.projectId !== project.id);
		db.projects = db.projects.filter(p => p.id !== project.id);
		return {project, tokensDeleted: tokens.length};
	});
}
