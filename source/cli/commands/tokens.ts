import type {Command} from 'commander';
import {createToken, deleteToken, listTokens, reissueToken, tokenView, transferToken, TOKEN_CAPABILITIES} from '../../core/tokens.js';
import {table, type CliContext} from '../context.js';

/** `orgctl tokens create|list|transfer|delete`: API tokens, whose secret is shown once. */
export function registerTokenCommands(program: Command, cli: CliContext): void {
	const tokens = program.command('tokens').description('API tokens: the secret is shown once, at creation');
	tokens
		.command('create')
		.description('create an API token for a project; prints its secret once (use it as ORGCTL_TOKEN)')
		.argument('<name>', 'what the token is for')
		.requiredOption('--project <project>', 'the project it belongs to')
		.option('--capability <c>', `what it may do, repeatable: ${TOKEN_CAPABILITIES.join(', ')} (default error:post; cli: act as the owner through ORGCTL_TOKEN)`, (value: string, previous: string[]) => [...previous, value], [] as string[])
		.option('--owner <user>', 'who owns it (admins; a cli token only ever its creator)')
		.action(async (name: string, options: {project: string; capability: string[]; owner?: string}) => {
			const ctx = await cli.ctx();
			const input = {name, project: options.project, capabilities: options.capability, ...(options.owner === undefined ? {} : {owner: options.owner})};
			const {token, secret} = await createToken(ctx, await cli.actor(), input);
			const view = tokenView(ctx.store.read(), token);
			cli.print({...view, token: secret}, () => `${secret}\n`);
			cli.say(`Created API token ${view.name} (${view.id.slice(0, 8)}) for project ${view.project}; this is the only time its secret is shown.`);
		});
	tokens
		.command('list')
		.description('list API tokens (admins: all in the tenant; others: their own)')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const views = await listTokens(ctx, await cli.actor());
			cli.print(views, () =>
				table(
					views.map(v => ({...v, revoked: undefined, id: v.id.slice(0, 8), capabilities: v.capabilities.join(','), status: v.revoked ? `revoked ${v.revoked.at.slice(0, 10)}: ${v.revoked.reason}` : 'active'})),
					[['id', 'id'], ['name', 'name'], ['project', 'project'], ['ownerName', 'owner'], ['capabilities', 'capabilities'], ['lastUsed', 'last used'], ['status', 'status']],
				),
			);
		});
	tokens
		.command('transfer')
		.description('give an API token to another user (admins); its secret is revoked until the new owner re-issues it')
		.argument('<id>', 'the token id, or a unique prefix of it')
		.requiredOption('--to <user>', 'the new owner')
		.action(async (id: string, options: {to: string}) => {
			const ctx = await cli.ctx();
			const token = await transferToken(ctx, await cli.actor(), id, options.to);
			const view = tokenView(ctx.store.read(), token);
			cli.print(view, () => '');
			cli.say(`API token ${view.name} now belongs to ${view.ownerName}; its secret was revoked, so it works again only once ${view.ownerName} re-issues it (orgctl tokens reissue ${view.id.slice(0, 8)}).`);
		});
	tokens
		.command('reissue')
		.description('give an API token a new secret, shown once (a revoked token works again); the old secret stops at once')
		.argument('<id>', 'the token id, or a unique prefix of it')
		.action(async (id: string) => {
			const ctx = await cli.ctx();
			const {token, secret} = await reissueToken(ctx, await cli.actor(), id);
			const view = tokenView(ctx.store.read(), token);
			cli.print({...view, token: secret}, () => `${secret}\n`);
			cli.say(`Re-issued API token ${view.name} (${view.id.slice(0, 8)}) of ${view.ownerName}; this is the only time its new secret is shown, and the old one no longer works.`);
		});
	tokens
		.command('delete')
		.description('delete an API token: it stops working at once')
		.argument('<id>', 'the token id, or a unique prefix of it')
		.action(async (id: string) => {
			const token = await deleteToken(await cli.ctx(), await cli.actor(), id);
			cli.say(`Deleted API token ${token.name}.`);
		});
}
