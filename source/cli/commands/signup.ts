import {welcomeMessage} from '../../core/accounts.js';
import {Option, type Command} from 'commander';
import {describeMailStatus} from '../../core/outbox.js';
import {AUTH_METHODS, ROLES, type AuthMethod, type Role} from '../../core/model.js';
import {addSignupDomain, editSignupDomain, listSignupDomains, removeSignupDomain} from '../../core/signup-domains.js';
import {pendingSignupMethod, startSignup, verifySignup} from '../../core/signup.js';
import {obtainPassword, table, UsageError, type CliContext} from '../context.js';

const roleOption = () => new Option('--role <role>', 'role given to people who sign up').choices(ROLES);
const methodOption = () => new Option('--method <method>', 'how they sign in').choices(AUTH_METHODS);

/** `orgctl signup-domains add|list|set|remove` (admins) and `orgctl signup` / `signup verify` (no login needed). */
export function registerSignupCommands(program: Command, cli: CliContext): void {
	const domains = program.command('signup-domains').description('domains whose addresses may sign up by themselves (admins)');
	domains
		.command('add')
		.description('open self sign-up for a domain (default role member, method password)')
		.argument('<domain>', 'e.g. corp.com; subdomains must be listed on their own')
		.addOption(roleOption().default('member'))
		.addOption(methodOption().default('password'))
		.action(async (domain: string, options: {role: Role; method: AuthMethod}) => {
			const ctx = await cli.ctx();
			const record = await addSignupDomain(ctx, await cli.actor(), {domain, role: options.role, method: options.method});
			cli.print(record, () => `Addresses at ${record.domain} can now sign up as ${record.role} (${record.method}).\n`);
		});
	domains
		.command('list')
		.description('list the sign-up domains with the users and pending invitations each covers')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const views = await listSignupDomains(ctx, await cli.actor());
			cli.print(views, () =>
				table(
					views.map(v => ({...v, users: v.users.length, invitations: v.invitations.length})),
					[
						['domain', 'domain'],
						['role', 'role'],
						['method', 'method'],
						['users', 'users'],
						['invitations', 'invitations'],
					],
				),
			);
		});
	domains
		.command('set')
		.description('change the role or method a sign-up domain gives')
		.argument('<domain>')
		.addOption(roleOption())
		.addOption(methodOption())
		.action(async (domain: string, options: {role?: Role; method?: AuthMethod}) => {
			if (!options.role && !options.method) throw new UsageError('give --role, --method or both.');
			const ctx = await cli.ctx();
			const record = await editSignupDomain(ctx, await cli.actor(), domain, options);
			cli.print(record, () => `Addresses at ${record.domain} now sign up as ${record.role} (${record.method}).\n`);
		});
	domains
		.command('remove')
		.description('close self sign-up for a domain (sign-ups waiting for their code there end too)')
		.argument('<domain>')
		.action(async (domain: string) => {
			const ctx = await cli.ctx();
			const record = await removeSignupDomain(ctx, await cli.actor(), domain);
			cli.say(`Self sign-up for ${record.domain} is closed.`);
		});

	const signup = program
		.command('signup')
		.description('sign yourself up with an address of a listed domain; a code is mailed to it')
		.argument('<email>', 'your e-mail address')
		.argument('<username>', 'the username you want')
		.action(async (email: string, username: string) => {
			const ctx = await cli.ctx();
			const started = await startSignup(ctx, {email, username, ...(cli.tenant ? {tenant: cli.tenant} : {})});
			cli.print({...started, mail: describeMailStatus(started.mail)}, () => '');
			cli.say(started.message);
			if (started.mail.state === 'failed' || started.mail.state === 'not-sent') cli.exitCode = 1;
			else cli.say(`Then run: orgctl signup verify ${started.email} CODE --tenant ${started.tenant}`);
		});
	signup
		.command('verify')
		.description('finish signing up with the code from the mail (password accounts choose a password)')
		.argument('<email>')
		.argument('<code>')
		.option('--password-stdin', 'read the new password from stdin')
		.action(async (email: string, code: string, options: {passwordStdin?: boolean}) => {
			const ctx = await cli.ctx();
			const tenant = cli.tenant;
			const method = pendingSignupMethod(ctx, email, tenant);
			const password = method === 'password' || (method === undefined && options.passwordStdin) ? await obtainPassword(options, 'Choose a password: ') : undefined;
			const actor = await verifySignup(ctx, {email, code, ...(password !== undefined ? {password} : {}), ...(tenant ? {tenant} : {})});
			const {user} = actor;
			cli.print({username: user.username, email: user.email, role: user.role, method: user.method, tenant: actor.tenant.name}, () => '');
			cli.say(welcomeMessage(user, actor.tenant));
		});
}
