import {Option, type Command} from 'commander';
import {SMTP_SECURITY} from '../../core/model.js';
import {clearSmtpSettings, sendTestMail, setSmtpSettings, showSmtpSettings, type SmtpView} from '../../core/smtp-settings.js';
import {readStdinSecret, UsageError, type CliContext} from '../context.js';
import {inert} from '../../core/inert.js';

/** The `settings` group, shared with other settings commands whichever registers first. */
export function settingsCommand(program: Command): Command {
	return program.commands.find(c => c.name() === 'settings') ?? program.command('settings').description('server settings (superuser only)');
}

export function describeSmtp(view: SmtpView | null): string {
	if (!view) return 'SMTP is not configured.\n';
	// Each stored value is inert on its line: a line break inside one cannot start a line of its own.
	const login = view.user ? `${inert(view.user)}${view.hasPassword ? ' (password set)' : ' (no password)'}` : 'none';
	return [
		`host      ${inert(view.host)}:${view.port}`,
		`security  ${view.security}`,
		`from      ${inert(view.from)}`,
		`login     ${login}`,
		`CA file   ${view.caFile === null ? '(system trust store)' : inert(view.caFile)}`,
		`timeout   ${view.timeoutMs} ms (socket ${view.timeoutMs * 3} ms)`,
	].join('\n') + '\n';
}

/** A commander parser for a whole-number option: a bad value is a usage error (exit 2). */
export function integer(name: string) {
	return (value: string): number => {
		if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number, not "${value}".`);
		return Number(value);
	};
}

/** `orgctl settings smtp set|show|test|clear`. */
export function registerSmtpCommands(program: Command, cli: CliContext): void {
	const smtp = settingsCommand(program).command('smtp').description('the SMTP server that sends invitations and sign-up codes');
	smtp
		.command('set')
		.description('save the SMTP settings (the password is read from stdin and stored encrypted)')
		.requiredOption('--host <host>', 'SMTP server host name or address')
		.requiredOption('--port <n>', 'SMTP port', integer('--port'))
		.addOption(new Option('--security <mode>', 'none, starttls (required upgrade) or tls (from the first byte)').choices(SMTP_SECURITY).makeOptionMandatory())
		.requiredOption('--from <address>', 'sender address of the messages')
		.option('--user <name>', 'login name, if the server wants one')
		.option('--password-stdin', 'read the login password from stdin')
		.option('--ca-file <path>', 'PEM file of the CA that signed the server certificate (verification is always on)')
		.option('--timeout <ms>', 'connection and greeting timeout in ms (socket: three times it)', integer('--timeout'))
		.action(async (options: {host: string; port: number; security: SmtpView['security']; from: string; user?: string; passwordStdin?: boolean; caFile?: string; timeout?: number}) => {
			if (options.passwordStdin && !options.user) throw new UsageError('--password-stdin needs --user.');
			const ctx = await cli.ctx();
			const actor = await cli.actor();
			const password = options.passwordStdin ? await readStdinSecret() : undefined;
			const view = await setSmtpSettings(ctx, actor, {
				host: options.host,
				port: options.port,
				security: options.security,
				from: options.from,
				user: options.user ?? null,
				password,
				caFile: options.caFile ?? null,
				timeoutMs: options.timeout,
			});
			cli.print(view, () => describeSmtp(view));
			cli.say(`SMTP settings saved; check them with: orgctl settings smtp test --to ADDRESS`);
		});
	smtp
		.command('show')
		.description('show the SMTP settings (never the password)')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const view = await showSmtpSettings(ctx, await cli.actor());
			cli.print(view, () => describeSmtp(view));
		});
	smtp
		.command('test')
		.description('send a test e-mail with the saved settings')
		.requiredOption('--to <address>', 'recipient of the test message')
		.action(async (options: {to: string}) => {
			const ctx = await cli.ctx();
			const result = await sendTestMail(ctx, await cli.actor(), options.to);
			cli.print({to: options.to, sent: true, response: result.response}, () => `Test e-mail sent to ${inert(options.to)}: ${inert(result.response)}\n`);
		});
	smtp
		.command('clear')
		.description('remove the SMTP settings (invitations are then kept as "not sent")')
		.action(async () => {
			const ctx = await cli.ctx();
			await clearSmtpSettings(ctx, await cli.actor());
			cli.say('SMTP settings removed.');
		});
}
