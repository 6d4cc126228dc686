import {createRequire} from 'node:module';
import type {Command} from 'commander';
import type {Database, User} from '../../core/model.js';
import {revokedNote} from '../../core/credentials.js';
import {describeOwned, owned, revocationNotice} from '../../core/ownership.js';
import {projectView} from '../../core/projects.js';
import {tokenView} from '../../core/tokens.js';
import {checkPasswordReset, deleteUser, disableUser, enableUser, migrateToFrom, parseRole, previewDeletionAudited, resetUserPassword, setRole, setSuperuser, type MoveSpec} from '../../core/user-admin.js';
import {userView} from '../../core/users.js';
import {inert} from '../../core/inert.js';
import {suspendedNote} from '../../core/invitations.js';
import {plural} from '../../core/words.js';
import {obtainPassword, table, UsageError, type CliContext} from '../context.js';

/**
 * `orgctl users owned|set-role|set-superuser|disable|enable|delete|reset-password`: the admin side of
 * users, added to the `users` command that `users list|show` registered.
 */
export function registerUserAdminCommands(program: Command, cli: CliContext): void {
	const users = program.commands.find(c => c.name() === 'users') ?? program.command('users').description('the users of the tenant');
	const done = async (user: User, message: string) => {
		const ctx = await cli.ctx();
		cli.print(userView(ctx.store.read(), user), () => '');
		cli.say(message);
	};

	users
		.command('owned')
		.description('show the projects, API tokens and pending invitations a user owns')
		.argument('<user>', 'username or e-mail')
		.action(async (name: string) => {
			const ctx = await cli.readingCtx();
			const result = await owned(ctx, await cli.actor(), name);
			const db = ctx.store.read();
			const data = ownedData(db, result.user, result.owned);
			cli.print(data, () => `${result.user.username} owns ${describeOwned(result.owned)}.\n${result.items.length ? table(result.items, [['kind', 'kind'], ['name', 'name'], ['id', 'id']]) : ''}`);
		});

	users
		.command('set-role')
		.description('change a user’s role (admins; never above your own)')
		.argument('<user>', 'username or e-mail')
		.argument('<role>', 'guest, member or admin')
		.action(async (name: string, roleText: string) => {
			const role = parseRoleOrUsage(roleText);
			const user = await setRole(await cli.ctx(), await cli.actor(), name, role);
			await done(user, `${user.username} is now ${user.role}${suspendedNote(user.invitationsSuspended, 'their')}.`);
		});

	users
		.command('set-superuser')
		.description('grant or revoke the instance-wide superuser bit (superusers)')
		.argument('<user>', 'username or e-mail')
		.argument('<on|off>', 'on to grant, off to revoke')
		.action(async (name: string, state: string) => {
			if (state !== 'on' && state !== 'off') throw new UsageError(`set-superuser takes on or off, not "${state}".`);
			const user = await setSuperuser(await cli.ctx(), await cli.actor(), name, state === 'on');
			await done(user, `${user.username} ${user.superuser ? 'is now a superuser' : 'is no longer a superuser'}${suspendedNote(user.invitationsSuspended, 'their')}.`);
		});

	users
		.command('disable')
		.description('disable an account: it cannot sign in, its sessions end and its cli API tokens are revoked')
		.argument('<user>', 'username or e-mail')
		.action(async (name: string) => {
			const user = await disableUser(await cli.ctx(), await cli.actor(), name);
			await done(user, `${user.username} is disabled; their sessions ended${revokedNote(user.tokensRevoked, 'their')}${suspendedNote(user.invitationsSuspended, 'their')}.`);
		});

	users
		.command('enable')
		.description('enable a disabled account again')
		.argument('<user>', 'username or e-mail')
		.action(async (name: string) => {
			const user = await enableUser(await cli.ctx(), await cli.actor(), name);
			await done(user, `${user.username} is enabled.`);
		});

	users
		.command('reset-password')
		.description('set another user’s password (admins); their sessions end and their cli API tokens are revoked')
		.argument('<user>', 'username or e-mail')
		.option('--password-stdin', 'read the new password from stdin')
		.action(async (name: string, options: {passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			const actor = await cli.actor();
			// Refused before anyone types a password that would not be used.
			await checkPasswordReset(ctx, actor, name);
			const password = await obtainPassword(options, `New password for ${name}: `);
			const {tokensRevoked} = await resetUserPassword(ctx, actor, name, password);
			cli.say(`Password of ${name} set; their sessions ended${revokedNote(tokensRevoked, 'their')}.`);
		});

	users
		.command('delete')
		.description('delete a user; what they own must move to another user first (--migrate-to)')
		.argument('<user>', 'username or e-mail')
		.option('--migrate-to <user>', 'move all their projects, API tokens and pending invitations (or those not named by --move) to this user, then delete, in one step')
		.option('--move <kind:item=user>', 'move one thing to its own new owner, repeatable: project:NAME=USER, token:ID=USER, invitation:ID=USER (an id may be shortened to a unique prefix)', (value: string, previous: MoveSpec[]) => [...previous, parseMove(value)], [] as MoveSpec[])
		.option('--yes', 'do not ask for confirmation (needed without a terminal)')
		.action(async (name: string, options: {migrateTo?: string; move: MoveSpec[]; yes?: boolean}) => {
			const ctx = await cli.ctx();
			const actor = await cli.actor();
			const migrateTo = options.move.length === 0 ? options.migrateTo : migrateToFrom((await owned(ctx, actor, name)).owned, name, options.move, options.migrateTo);
			const plan = migrateTo === undefined ? {} : {migrateTo};
			if (!options.yes) {
				// The plan the delete will carry out, checked as it will be (a refusal audited) before anyone is asked, shown before anyone says yes.
				const preview = await previewDeletionAudited(ctx, actor, name, plan);
				if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UsageError(`deleting ${name} needs confirmation: add --yes when running without a terminal.`);
				const moves = preview.groups.flatMap(g => g.moves);
				const targets = [...new Set(moves.map(m => m.to))];
				const what = moves.length ? `, moving ${plural(moves.length, 'item')} to ${targets.join(', ')}` : '';
				const notice = revocationNotice(moves);
				if (notice) cli.say(notice);
				if (!(await confirm(`Delete ${preview.user.username}${what}? [y/N] `))) {
					cli.say('Nothing deleted.');
					return;
				}
			}
			const {user, moves} = await deleteUser(ctx, actor, name, plan);
			cli.print({user: user.username, moves}, () => moves.map(m => `moved ${m.kind} ${m.name} to ${m.to}\n`).join(''));
			const targets = [...new Set(moves.map(m => m.to))];
			cli.say(`Deleted ${user.username}${moves.length ? ` after moving ${plural(moves.length, 'item')} to ${targets.join(', ')}` : ''}.`);
			const notice = revocationNotice(moves);
			if (notice) cli.say(notice);
		});
}

/** `project:web=carol`: the kind, then the item, then (after the last =) the new owner. */
function parseMove(text: string): MoveSpec {
	const match = /^(project|token|invitation):(.+)=([^=]+)$/.exec(text);
	if (!match) throw new UsageError(`--move takes KIND:ITEM=USER with KIND project, token or invitation (e.g. project:web=carol), not ${JSON.stringify(text)}.`);
	return {kind: match[1] as MoveSpec['kind'], ref: match[2]!, to: match[3]!};
}

function parseRoleOrUsage(text: string) {
	try {
		return parseRole(text);
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
}

/** What `users owned --json` prints: the model's own field names, never a secret's hash. */
function ownedData(db: Database, user: User, mine: Awaited<ReturnType<typeof owned>>['owned']) {
	return {
		username: user.username,
		projects: mine.projects.map(p => projectView(db, p)),
		tokens: mine.tokens.map(t => tokenView(db, t)),
		invitations: mine.invitations.map(({secretHash, secretSealed, ...rest}) => rest),
	};
}

/**
 * Node's require, for node:readline/promises: loaded when a command asks for a confirmation, not
 * when the subcommands' bundle loads (four of Node's modules that `users list` and the others never
 * use). Required, not import()ed: the bundle runs in a vm.Script (source/app/code-cache.ts), where a
 * dynamic import of a module outside it fails.
 */
const load = createRequire(import.meta.url);

async function confirm(question: string): Promise<boolean> {
	const {createInterface} = load('node:readline/promises') as typeof import('node:readline/promises');
	const rl = createInterface({input: process.stdin, output: process.stderr});
	try {
		return /^y(es)?$/i.test((await rl.question(inert(question))).trim());
	} finally {
		rl.close();
	}
}
