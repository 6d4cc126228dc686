import {Command, CommanderError, Option} from 'commander';
import {isOrgError} from '../core/errors.js';
import {CliContext, UsageError, type GlobalOptions} from './context.js';
import {registerAccountCommands} from './commands/account.js';
import {registerUserCommands} from './commands/users.js';
import {registerAuditCommands} from './commands/audit.js';
import {registerTenantCommands} from './commands/tenants.js';
import {registerSmtpCommands} from './commands/smtp.js';
import {registerSettingsCommands} from './commands/settings.js';
import {registerInviteCommands} from './commands/invites.js';
import {registerUserAdminCommands} from './commands/user-admin.js';
import {registerProjectCommands} from './commands/projects.js';
import {registerTokenCommands} from './commands/tokens.js';
import {registerSignupCommands} from './commands/signup.js';
import {registerServeCommands} from './commands/serve.js';

export const VERSION = '0.1.0';

/** Every command group registers itself here; keep additions to one line each. */
const REGISTRARS: ReadonlyArray<(program: Command, cli: CliContext) => void> = [
	registerAccountCommands,
	registerUserCommands,
	registerUserAdminCommands,
	registerProjectCommands,
	registerTokenCommands,
	registerTenantCommands,
	registerAuditCommands,
	registerSettingsCommands,
	registerSmtpCommands,
	registerInviteCommands,
	registerSignupCommands,
	registerServeCommands,
];

export function buildProgram(cli: CliContext): Command {
	const program = new Command('orgctl')
		.description('Account management for this server: users, invitations, self sign-up.\nRun with no arguments for the full-screen console.')
		.version(VERSION, '--version')
		.addOption(new Option('--store <path>', 'the store file (default: store/orgctl.json; env ORGCTL_STORE)'))
		.addOption(new Option('--tenant <name>', 'act in this tenant (superusers may name any)'))
		.option('--json', 'print data as JSON on stdout (messages stay on stderr)')
		.showHelpAfterError('(run with --help for usage)')
		.exitOverride()
		.configureOutput({
			writeOut: text => process.stdout.write(text),
			writeErr: text => process.stderr.write(text),
		});
	program.hook('preAction', (_this, action) => cli.setGlobals(action.optsWithGlobals<GlobalOptions>()));
	for (const register of REGISTRARS) register(program, cli);
	// Every subcommand inherits exit handling so usage errors exit 2 wherever they occur.
	const inherit = (command: Command) => {
		for (const sub of command.commands) {
			sub.exitOverride().showHelpAfterError('(run with --help for usage)');
			inherit(sub);
		}
	};
	inherit(program);
	return program;
}

/** Runs orgctl with these arguments and returns the exit code: 0 ok, 1 refused or failed, 2 usage. */
export async function runCli(argv: readonly string[]): Promise<number> {
	const cli = new CliContext();
	if (isConsoleInvocation(argv)) return openConsole(cli, argv);
	const program = buildProgram(cli);
	try {
		await program.parseAsync([...argv], {from: 'user'});
		return cli.exitCode;
	} catch (error) {
		return reportError(error);
	} finally {
		await cli.close();
	}
}

/** `orgctl`, `orgctl --store X` and `orgctl --tenant T` open the console; anything else is a subcommand. */
function isConsoleInvocation(argv: readonly string[]): boolean {
	const rest = [...argv];
	while (rest.length > 0) {
		const arg = rest.shift()!;
		if (arg === '--store' || arg === '--tenant') {
			if (rest.shift() === undefined) return false;
		} else if (!arg.startsWith('--store=') && !arg.startsWith('--tenant=')) {
			return false;
		}
	}
	return true;
}

function reportError(error: unknown): number {
	if (error instanceof CommanderError) {
		// --help and --version succeed; help shown because a subcommand is missing ('commander.help')
		// is a usage error like any other. Commander has already printed the message.
		if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
		return 2;
	}
	if (error instanceof UsageError) {
		process.stderr.write(`orgctl: ${error.message}\n`);
		return 2;
	}
	if (isOrgError(error)) {
		process.stderr.write(`orgctl: ${error.message}\n`);
		return 1;
	}
	process.stderr.write(`orgctl: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
	return 1;
}

async function openConsole(cli: CliContext, argv: readonly string[]): Promise<number> {
	const globals: GlobalOptions = {};
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
		const value = inline ?? argv[++i];
		if (flag === '--store') globals.store = value;
		if (flag === '--tenant') globals.tenant = value;
	}
	cli.setGlobals(globals);
	const dumb = process.env['TERM'] === 'dumb';
	if (!process.stdin.isTTY || !process.stdout.isTTY || dumb) {
		process.stderr.write(
			`orgctl: the console needs a terminal${dumb ? ' that is not TERM=dumb' : ' on stdin and stdout'}; for scripts use the subcommands (orgctl --help), e.g. orgctl users list --json.\n`,
		);
		return 2;
	}
	try {
		const {startConsole} = await import('../ui/console.js');
		return await startConsole({storePath: cli.storePath, tenant: cli.tenant});
	} catch (error) {
		return reportError(error);
	}
}
