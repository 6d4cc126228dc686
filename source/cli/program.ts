import {Command, CommanderError, Option} from 'commander';
import {isOrgError} from '../core/errors.js';
import {inert, inertLines} from '../core/inert.js';
import {CliContext, UsageError, type ContextSource, type GlobalOptions} from './context.js';
import {registerAccountCommands} from './commands/account.js';
import {registerUserCommands} from './commands/users.js';
import {registerAuditCommands} from './commands/audit.js';
import {registerTenantCommands} from './commands/tenants.js';
import {registerSmtpCommands} from './commands/smtp.js';
import {registerSsoCommands} from './commands/sso.js';
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
	registerSsoCommands,
	registerInviteCommands,
	registerSignupCommands,
	registerServeCommands,
];

export function buildProgram(cli: CliContext): Command {
	const program = new Command('orgctl')
		.description('Account management for this server: users, invitations, self sign-up.\nRun with no arguments for the full-screen console.')
		.version(VERSION, '--version');
	for (const option of consoleOptions()) program.addOption(option);
	program
		.option('--json', 'print data as JSON on stdout (messages stay on stderr)')
		.showHelpAfterError('(run with --help for usage)')
		.exitOverride()
		.configureOutput({
			// Commander quotes what was typed ("unknown option '…'"): that is foreign text too.
			writeOut: text => process.stdout.write(inertLines(text)),
			writeErr: text => process.stderr.write(inertLines(text)),
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

/** Runs an orgctl subcommand with these arguments and returns the exit code: 0 ok, 1 refused or failed, 2 usage. */
export async function runCli(argv: readonly string[], source: ContextSource): Promise<number> {
	const cli = new CliContext(source);
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

/**
 * `orgctl`, `orgctl --store X` and `orgctl --tenant T` open the console: their options, or
 * undefined when the arguments name a subcommand (or are not valid; the subcommand parser then
 * says why). Commander parses them, with the very options the subcommands know, so `--store=a=b`
 * and `--store a=b` mean the same everywhere.
 */
export function consoleInvocation(argv: readonly string[]): GlobalOptions | undefined {
	const probe = new Command('orgctl').exitOverride().allowUnknownOption().allowExcessArguments().helpOption(false).configureOutput({writeOut: () => undefined, writeErr: () => undefined});
	for (const option of consoleOptions()) probe.addOption(option);
	try {
		const {operands, unknown} = probe.parseOptions([...argv]);
		if (operands.length > 0 || unknown.length > 0) return undefined;
	} catch {
		return undefined;
	}
	return probe.opts<GlobalOptions>();
}

/** The global options that also apply to the console. */
function consoleOptions(): Option[] {
	return [
		new Option('--store <path>', 'the store: a file (default: store/orgctl.json) or postgres://USER@HOST/DATABASE (env ORGCTL_STORE)'),
		new Option('--key-file <path>', 'the key file of a PostgreSQL store (default: store/orgctl.key; env ORGCTL_KEY_FILE)'),
		new Option('--tenant <name>', 'act in this tenant (superusers may name any)'),
	];
}

/** Prints why a run failed, on stderr, and returns its exit code. */
export function reportError(error: unknown): number {
	if (error instanceof CommanderError) {
		// --help and --version succeed; help shown because a subcommand is missing ('commander.help')
		// is a usage error like any other. Commander has already printed the message.
		if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
		return 2;
	}
	// Messages quote what was refused (a name typed, a line of a file, a store's content): inert.
	if (error instanceof UsageError) {
		process.stderr.write(`orgctl: ${inert(error.message)}\n`);
		return 2;
	}
	if (isOrgError(error)) {
		process.stderr.write(`orgctl: ${inert(error.message)}\n`);
		return 1;
	}
	process.stderr.write(`orgctl: unexpected error: ${inertLines(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`);
	return 1;
}
