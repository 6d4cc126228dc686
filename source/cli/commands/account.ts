import type {Command} from 'commander';
import {registerAdminCheck} from './admin-check.js';
import {registerAdminStore} from './admin-store.js';
import {changeOwnPassword, createSession, endSession, initialize, login, resetPasswordBreakGlass} from '../../core/accounts.js';
import {revokedNote} from '../../core/credentials.js';
import {userView} from '../../core/users.js';
import {awaitDeviceLogin, ssoReady, startDeviceLogin} from '../../core/saml.js';
import {terminalOrigin} from '../../adapters/terminal-origin.js';
import {obtainPassword, readStdinSecret, UsageError, type CliContext} from '../context.js';
import {readSessionFile, removeSessionFile, writeSessionFile} from '../../adapters/session-file.js';

/** init, login, logout, whoami and the break-glass `admin reset-password`. */
export function registerAccountCommands(program: Command, cli: CliContext): void {
	program
		.command('init')
		.description('create the first user, admin and superuser of a first tenant (empty store only)')
		.requiredOption('--username <name>', 'the first user')
		.requiredOption('--email <address>', 'their e-mail')
		.option('--password-stdin', 'read the password from stdin')
		.action(async (options: {username: string; email: string; passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			const password = await obtainPassword(options);
			const actor = await initialize(ctx, {username: options.username, email: options.email, password, tenant: cli.tenant});
			cli.print(userView(ctx.store.read(), actor.user), () => `Created ${actor.user.username}, admin and superuser of tenant ${actor.tenant.name}. Sign in with: orgctl login --username ${actor.user.username}\n`);
		});

	program
		.command('login')
		.description('sign in and keep a session for later commands and the console (single sign-on users get a URL and a code)')
		.requiredOption('--username <name>', 'username or e-mail')
		.option('--password-stdin', 'read the password from stdin')
		.action(async (options: {username: string; passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			let actor;
			// Whether to sign in through single sign-on depends on the server (SSO set up) and on what the
			// user types, never on the account named: that would tell who signs in how (red team 10-14 #4).
			// Without --password-stdin: no terminal means single sign-on; on a terminal, Enter alone does.
			const sso = ssoReady(ctx.store.read());
			let password: string | undefined;
			if (options.passwordStdin || !sso) password = await obtainPassword(options);
			else if (process.stdin.isTTY) password = (await obtainPassword(options, 'Password (Enter alone for single sign-on): ')) || undefined;
			if (password === undefined) {
				// As gh auth login over SSH: a URL on orgctl serve and a code, typed in any browser; we poll the store.
				const started = await startDeviceLogin(ctx, {username: options.username, tenant: cli.tenant, origin: terminalOrigin()});
				cli.say(`Single sign-on for ${started.username}. Open ${started.url} in a browser and type the code ${started.code} (valid until ${started.expires}); waiting…`);
				const abort = new AbortController();
				const stop = () => abort.abort();
				process.once('SIGINT', stop);
				process.once('SIGTERM', stop);
				try {
					actor = await awaitDeviceLogin(ctx, started, {intervalMs: Number(process.env['ORGCTL_SSO_POLL_MS'] ?? 1000), signal: abort.signal, onRefusal: reason => cli.say(`The identity provider's answer was refused: ${reason} Still waiting; try again in the browser.`)});
				} finally {
					process.off('SIGINT', stop);
					process.off('SIGTERM', stop);
				}
			} else {
				actor = await login(ctx, {identifier: options.username, password, tenant: cli.tenant});
			}
			const session = await createSession(ctx, actor);
			writeSessionFile({store: ctx.store.path, ...session});
			cli.print({username: actor.user.username, tenant: actor.tenant.name, expires: session.expires}, () => `Signed in as ${actor.user.username} (${actor.user.role}${actor.user.superuser ? ', superuser' : ''}) in tenant ${actor.tenant.name} until ${session.expires}.\n`);
		});

	program
		.command('logout')
		.description('end the session left by orgctl login')
		.action(async () => {
			const ctx = await cli.ctx();
			const session = readSessionFile(ctx.store.path);
			if (session) await endSession(ctx, session.id);
			removeSessionFile(ctx.store.path);
			cli.say(session ? 'Signed out.' : 'You were not signed in.');
		});

	program
		.command('whoami')
		.description('show who is acting and in which tenant')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const actor = await cli.actor();
			const view = {...userView(ctx.store.read(), actor.user), actingIn: actor.tenant.name};
			cli.print(view, () => `${view.username} <${view.email}>, ${view.role}${view.superuser ? ', superuser' : ''}, tenant ${view.actingIn}\n`);
		});

	program
		.command('passwd')
		.description('change your own password (other sessions end)')
		.option('--password-stdin', 'read two lines from stdin: the current password, then the new one')
		.action(async (options: {passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			const actor = await cli.actor();
			let current: string;
			let next: string;
			if (options.passwordStdin) {
				const lines = (await readStdinSecret()).split(/\r?\n/);
				if (lines.length !== 2 || !lines[0] || !lines[1]) throw new UsageError('--password-stdin takes two lines for passwd: the current password, then the new one.');
				[current, next] = lines as [string, string];
			} else {
				current = await obtainPassword({}, 'Current password: ');
				next = await obtainPassword({}, 'New password: ');
				if ((await obtainPassword({}, 'New password again: ')) !== next) throw new UsageError('the two new passwords differ; nothing was changed.');
			}
			const {tokensRevoked} = await changeOwnPassword(ctx, actor, current, next);
			cli.say(`Password of ${actor.user.username} changed; your sessions have ended${revokedNote(tokensRevoked, 'your')}; sign in again where needed.`);
		});

	const admin = program.command('admin').description('break-glass tools for whoever can write the store file');
	admin
		.command('reset-password')
		.description("set a user's password without signing in (needs write access to the store file)")
		.argument('<user>', 'username or e-mail')
		.option('--password-stdin', 'read the new password from stdin')
		.action(async (username: string, options: {passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			const password = await obtainPassword(options, 'New password: ');
			const {user, tokensRevoked} = await resetPasswordBreakGlass(ctx, {username, password, tenant: cli.tenant});
			cli.say(`Password of ${user.username} reset; the account is enabled and its sessions ended${revokedNote(tokensRevoked, 'its')}.`);
		});
	registerAdminCheck(admin, cli);
	registerAdminStore(admin, cli);
}

