import type {Command} from 'commander';
import {createProject, deleteProject, listProjects, projectView, transferProject} from '../../core/projects.js';
import {plural} from '../../core/words.js';
import {table, type CliContext} from '../context.js';

/** `orgctl projects create|list|transfer|delete`. */
export function registerProjectCommands(program: Command, cli: CliContext): void {
	const projects = program.command('projects').description('projects of the tenant, each owned by a user');
	projects
		.command('create')
		.description('create a project (for yourself, or --owner U for admins)')
		.argument('<name>', 'unique in the tenant')
		.option('--owner <user>', 'who owns it (admins)')
		.action(async (name: string, options: {owner?: string}) => {
			const ctx = await cli.ctx();
			const project = await createProject(ctx, await cli.actor(), options.owner === undefined ? {name} : {name, owner: options.owner});
			const view = projectView(ctx.store.read(), project);
			cli.print(view, () => '');
			cli.say(`Created project ${view.name}, owned by ${view.ownerName}.`);
		});
	projects
		.command('list')
		.description('list projects with their owners')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const views = await listProjects(ctx, await cli.actor());
			cli.print(views, () => table(views, [['name', 'name'], ['ownerName', 'owner'], ['tokens', 'tokens'], ['created', 'created']]));
		});
	projects
		.command('transfer')
		.description('give a project to another user (admins)')
		.argument('<name>', 'the project')
		.requiredOption('--to <user>', 'the new owner')
		.action(async (name: string, options: {to: string}) => {
			const ctx = await cli.ctx();
			const project = await transferProject(ctx, await cli.actor(), name, options.to);
			const view = projectView(ctx.store.read(), project);
			cli.print(view, () => '');
			cli.say(`Project ${view.name} now belongs to ${view.ownerName}.`);
		});
	projects
		.command('delete')
		.description('delete a project and its API tokens')
		.argument('<name>', 'the project')
		.action(async (name: string) => {
			const {project, tokensDeleted} = await deleteProject(await cli.ctx(), await cli.actor(), name);
			cli.say(`Deleted project ${project.name}${tokensDeleted ? ` and its ${plural(tokensDeleted, 'API token')}` : ''}.`);
		});
}
