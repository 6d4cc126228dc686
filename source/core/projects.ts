import {assertRevision} from './accounts.js';
import {allowed, appendAudit, authorize, checked, perform} from './audit.js';
import {actorFacts, type Actor, type Context} from './context.js';
import {atField, conflict, notFound, refused} from './errors.js';
import {newId} from './ids.js';
import {echo} from './inert.js';
import {parseInput} from './input.js';
import {projectNameSchema, type Database, type Project, type User} from './model.js';
import {applyMigration, assertMayOwn, migrationEnds, planMigration} from './ownership.js';
import {decide, type TargetFacts} from './policy.js';
import {tokenFacts} from './token-facts.js';
import {findUser, usersById} from './users.js';

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
	return atField('name', () => parseInput(projectNameSchema(), name.trim()));
}

/** Finds a project of the tenant by name (any case) or id. */
export function findProject(db: Database, tenantId: string, name: string): Project {
	const key = name.trim().toLowerCase();
	const project = db.projects.find(p => p.tenantId === tenantId && (p.name.toLowerCase() === key || p.id === key));
	if (!project) throw notFound(`There is no project ${echo(name)} in this tenant.`);
	return project;
}

/**
 * The owner of something made without naming one: the actor, who must belong to the tenant it is
 * made in (a superuser acting in another tenant names an owner of that tenant), so nothing of a
 * tenant is ever owned from outside it.
 */
export function ownerHere(actor: Actor, what: 'project' | 'API token'): User {
	// A superuser acting in another tenant is not one of its users (an invariant of the store).
	if (actor.user.tenantId !== actor.tenant.id) {
		throw refused(`${what === 'project' ? 'A project' : 'An API token'} of tenant ${actor.tenant.name} is owned by one of its users, and ${actor.user.username} is not; choose its owner (--owner) among them.`);
	}
	return actor.user;
}

/** What the policy needs to know about a project's (or a would-be project's) owner. */
function ownerFacts(owner: User | undefined, ownerId: string): TargetFacts {
	return {ownerId, ownerSuperuser: owner?.superuser ?? false};
}

/** The check deleteProject runs, and the console's `d` key on a project: the policy's `projects.manage` on its owner. */
export function assertMayManageProject(db: Database, actor: Actor, project: Pick<Project, 'owner'>): void {
	authorize(actor, 'projects.manage', ownerFacts(db.users.find(u => u.id === project.owner), project.owner));
}

/**
 * The check deleteProject runs, and the console's `d` key on a project: `projects.manage` on the
 * project, and `tokens.manage` on every API token it would take along (deleting the project deletes
 * them), so a delete that `tokens delete` would refuse for one of them is refused as a whole, naming them.
 */
export function assertMayDeleteProject(db: Database, actor: Actor, project: Pick<Project, 'id' | 'owner' | 'name'>): void {
	assertMayManageProject(db, actor, project);
	const facts = actorFacts(actor);
	const names = usersById(db);
	const barred = db.tokens.filter(t => t.projectId === project.id && !decide(facts, 'tokens.manage', tokenFacts(db, t)).allowed);
	if (barred.length === 0) return;
	const first = decide(facts, 'tokens.manage', tokenFacts(db, barred[0]!));
	const why = first.allowed ? '' : ` ${first.reason}`;
	const listed = barred.map(t => `${t.name} (${t.id.slice(0, 8)}, owned by ${names.get(t.owner)?.username ?? 'a deleted user'})`).join(', ');
	throw refused(`Deleting the project ${project.name} would delete ${barred.length === 1 ? 'an API token' : `${barred.length} API tokens`} you may not delete: ${listed}.${why} Ask their owners (or an admin) to delete or move them first.`);
}

/** Creates a project for the actor, or (admins) for another user of the tenant. Names are unique per tenant. */
export async function createProject(ctx: Context, actor: Actor, input: {name: string; owner?: string}): Promise<Project> {
	return perform(ctx, actor, 'project.create', input.name, db => {
		const name = checkProjectName(input.name);
		const owner: User = atField('owner', () => (input.owner === undefined ? ownerHere(actor, 'project') : findUser(db, actor.tenant.id, input.owner)));
		atField('owner', () => {
			authorize(actor, 'projects.create', ownerFacts(owner, owner.id));
			assertMayOwn(owner, {kind: 'project'});
		});
		const clash = db.projects.find(p => p.tenantId === actor.tenant.id && p.name.toLowerCase() === name.toLowerCase());
		if (clash) throw conflict(`A project named ${clash.name} already exists in this tenant.`, {field: 'name'});
		const project: Project = {id: newId(), tenantId: actor.tenant.id, name, owner: owner.id, created: ctx.now().toISOString(), revision: 1};
		db.projects.push(project);
		return project;
	});
}

/** Projects of the tenant in name order for admins; a member or a guest sees only their own. A refusal is audited. */
export async function listProjects(ctx: Context, actor: Actor): Promise<ProjectView[]> {
	return checked(ctx, actor, 'projects.list', actor.tenant.name, db => listProjectsIn(db, actor));
}

/** listProjects over data already read (the console derives its rows from the data it renders). */
export function listProjectsIn(db: Database, actor: Actor): ProjectView[] {
	const everyone = allowed(actor, 'projects.list-all');
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
		assertMayDeleteProject(db, actor, project);
		const tokens = db.tokens.filter(t => t.projectId === project.id);
		for (const token of tokens) appendAudit(db, ctx, actor, {action: 'token.delete', target: `${token.name} (${project.name})`, result: 'ok'});
		db.tokens = db.tokens.filter(t => t.projectId !== project.id);
		db.projects = db.projects.filter(p => p.id !== project.id);
		return {project, tokensDeleted: tokens.length};
	});
}
