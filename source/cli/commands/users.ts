import type {Command} from 'commander';
import {listUsers, showUser, userView} from '../../core/users.js';
import {table, type CliContext} from '../context.js';

export const USER_COLUMNS = [
	['username', 'username'],
	['email', 'e-mail'],
	['role', 'role'],
	['superuser', 'superuser'],
	['method', 'method'],
	['status', 'status'],
	['lastLogin', 'last login'],
] as const;

/** `orgctl users ...`: list and show; the user management commands register beside these. */
export function registerUserCommands(program: Command, cli: CliContext): Command {
	const users = program.command('users').description('the users of the tenant');
	users
		.command('list')
		.description('list the users of the tenant')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const actor = await cli.actor();
			const db = ctx.store.read();
			const views = (await listUsers(ctx, actor)).map(u => userView(db, u));
			cli.print(views, () => table(views.map(v => ({...v, status: v.disabled ? 'disabled' : 'active'})), USER_COLUMNS));
		});
	users
		.command('show')
		.description('show one user')
		.argument('<user>', 'username or e-mail')
		.action(async (name: string) => {
			const ctx = await cli.readingCtx();
			const actor = await cli.actor();
			const view = userView(ctx.store.read(), await showUser(ctx, actor, name));
			cli.print(view, () =>
				Object.entries(view)
					.map(([k, v]) => `${k.padEnd(12)} ${v ?? '-'}`)
					.join('\n') + '\n',
			);
		});
	return users;
}
