import type {Command} from 'commander';
import {createTenant, deleteTenant, describeTenantContents, listTenants} from '../../core/tenants.js';
import {table, type CliContext} from '../context.js';

/** `orgctl tenants create|list|delete` (superusers). */
export function registerTenantCommands(program: Command, cli: CliContext): void {
	const tenants = program.command('tenants').description('tenants of this instance (superusers)');
	tenants
		.command('list')
		.description('list tenants with their user, invitation and project counts')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const views = await listTenants(ctx, await cli.actor());
			cli.print(views, () => table(views, [['name', 'name'], ['users', 'users'], ['invitations', 'invitations'], ['projects', 'projects'], ['created', 'created']]));
		});
	tenants
		.command('create')
		.description('create a tenant')
		.argument('<name>', 'a DNS label: lower-case letters, digits and -')
		.action(async (name: string) => {
			const ctx = await cli.ctx();
			const tenant = await createTenant(ctx, await cli.actor(), name);
			cli.print(tenant, () => `Created tenant ${tenant.name}.\n`);
		});
	tenants
		.command('delete')
		.description('delete a tenant and everything in it')
		.argument('<name>', 'the tenant')
		.requiredOption('--confirm <name>', 'type the tenant name again to confirm')
		.action(async (name: string, options: {confirm: string}) => {
			const ctx = await cli.ctx();
			const contents = await deleteTenant(ctx, await cli.actor(), name, options.confirm);
			cli.print({name, deleted: contents}, () => '');
			cli.say(`Deleted tenant ${name} and with it ${describeTenantContents(contents)}.`);
		});
}
