import type {Command} from 'commander';
import {parseDuration, removeListener, REQUESTS_LISTENER, setListener, setPolicy, setPublicUrl, setSsl, showSettings, unreachableLinks, type PolicyChange} from '../../core/server-settings.js';
import {isOrgError} from '../../core/errors.js';
import {table, UsageError, type CliContext} from '../context.js';
import {describeSmtp, integer, settingsCommand} from './smtp.js';
import {inert} from '../../core/inert.js';

function onOff(name: string) {
	return (value: string): boolean => {
		if (value === 'on') return true;
		if (value === 'off') return false;
		throw new UsageError(`${name} takes on or off, not "${value}".`);
	};
}

/** `orgctl settings show | public-url set | org set | listeners set|remove | ssl set` (superusers). */
export function registerSettingsCommands(program: Command, cli: CliContext): void {
	const settings = settingsCommand(program);
	settings
		.command('show')
		.description('show every server setting (never a secret)')
		.action(async () => {
			const ctx = await cli.ctx();
			const view = showSettings(ctx, await cli.actor());
			cli.print(view, () => {
				const p = view.policy;
				return [
					`public URL         ${inert(view.publicUrl)}`,
					...(view.linksUnreachable ? [`                   ! ${view.linksUnreachable}`] : []),
					`invitations last   ${p.invitationLifetimeSeconds / 86_400} days`,
					`min password       ${p.minPasswordLength} characters`,
					`verify e-mail      ${p.requireEmailVerification ? 'on' : 'off'}`,
					`block webmail      ${p.blockPublicWebmailDomains ? 'on' : 'off'}`,
					`audit kept         ${p.auditRetentionDays} days, at most ${p.auditMaxEvents} events`,
					`SSL                ${view.ssl ? `${inert(view.ssl.cert)} (${inert(view.ssl.subject ?? 'unreadable now')}, expires ${view.ssl.validTo ?? '?'})` : 'not configured'}`,
					'',
					'SMTP',
					describeSmtp(view.smtp).replace(/^/gm, '  ').trimEnd(),
					'',
					'Listeners',
					table(
						view.listeners.map(l => ({...l, serves: l.name === REQUESTS_LISTENER ? 'user requests (orgctl serve)' : null})),
						[['name', 'name'], ['address', 'address'], ['port', 'port'], ['ssl', 'ssl'], ['serves', 'serves']],
					).replace(/^/gm, '  ').trimEnd(),
					...(view.listeners.some(l => l.name === REQUESTS_LISTENER) ? [] : [`  orgctl serve needs a listener named ${REQUESTS_LISTENER}: orgctl settings listeners set ${REQUESTS_LISTENER} --port 8080 [--ssl on]`]),
				].join('\n') + '\n';
			});
		});

	settings
		.command('public-url')
		.description('the base address of invitation links')
		.command('set')
		.description('set the address invitation links start with (the server as browsers reach it)')
		.argument('<url>', 'e.g. https://crash.example.com')
		.action(async (url: string) => {
			const ctx = await cli.ctx();
			const value = await setPublicUrl(ctx, await cli.actor(), url);
			cli.print({publicUrl: value}, () => `Invitation links now start with ${value}/invite/.\n`);
			const warning = unreachableLinks(value);
			if (warning) cli.say(warning);
		});

	settings
		.command('org')
		.description('organization-wide policy')
		.command('set')
		.description('change invitation lifetime, password length, e-mail verification or the webmail block')
		.option('--invitation-lifetime <duration>', 'how long an invitation link works: 7d, 48h, ...')
		.option('--min-password-length <n>', 'shortest password accepted', integer('--min-password-length'))
		.option('--require-email-verification <on|off>', 'self sign-up must prove the address', onOff('--require-email-verification'))
		.option('--block-webmail <on|off>', 'refuse public webmail domains for self sign-up', onOff('--block-webmail'))
		.option('--audit-retention <days>', 'remove audit events older than this: 90d, 365d, ... (1 to 3650 days)', daysOption('--audit-retention'))
		.option('--audit-max-events <n>', 'keep at most this many audit events, the oldest going first (1000 to 10000000)', integer('--audit-max-events'))
		.action(async (options: {invitationLifetime?: string; minPasswordLength?: number; requireEmailVerification?: boolean; blockWebmail?: boolean; auditRetention?: number; auditMaxEvents?: number}) => {
			const change: PolicyChange = {
				invitationLifetimeSeconds: options.invitationLifetime === undefined ? undefined : durationOption(options.invitationLifetime),
				minPasswordLength: options.minPasswordLength,
				requireEmailVerification: options.requireEmailVerification,
				blockPublicWebmailDomains: options.blockWebmail,
				auditRetentionDays: options.auditRetention,
				auditMaxEvents: options.auditMaxEvents,
			};
			if (Object.values(change as Record<string, unknown>).every(v => v === undefined)) throw new UsageError('name at least one setting to change (see orgctl settings org set --help).');
			const ctx = await cli.ctx();
			const policy = await setPolicy(ctx, await cli.actor(), change);
			cli.print(policy, () => `Policy saved.\n`);
		});

	const listeners = settings.command('listeners').description('ports that receive crashes and user requests');
	listeners
		.command('set')
		.description('add or change a listener: its port, address and TLS')
		.argument('<name>', 'listener name, e.g. http or https')
		.requiredOption('--port <n>', 'port 1-65535, unique', integer('--port'))
		.option('--address <address>', 'address to listen on (default 0.0.0.0)')
		.option('--ssl <on|off>', 'serve TLS with the configured certificate', onOff('--ssl'))
		.action(async (name: string, options: {port: number; address?: string; ssl?: boolean}) => {
			const ctx = await cli.ctx();
			const listener = await setListener(ctx, await cli.actor(), {name, ...options});
			cli.print(listener, () => `Listener ${listener.name} on ${listener.address}:${listener.port}${listener.ssl ? ' with SSL' : ''}.\n`);
		});
	listeners
		.command('remove')
		.description('remove a listener')
		.argument('<name>', 'listener name')
		.action(async (name: string) => {
			const ctx = await cli.ctx();
			await removeListener(ctx, await cli.actor(), name);
			cli.say(`Listener ${name} removed.`);
		});

	settings
		.command('ssl')
		.description('the certificate and key the listeners serve')
		.command('set')
		.description('set the certificate and key (checked readable and matching)')
		.requiredOption('--cert <file>', 'PEM certificate (chain) file')
		.requiredOption('--key <file>', 'PEM private key file (unencrypted)')
		.action(async (options: {cert: string; key: string}) => {
			const ctx = await cli.ctx();
			const facts = await setSsl(ctx, await cli.actor(), options);
			cli.print(facts, () => `Certificate ${inert(facts.subject)}, expires ${facts.validTo}, SHA-256 ${facts.fingerprint256}.\n`);
		});
}

/** `90d` (or a bare number of days): the audit retention is counted in whole days. */
function daysOption(name: string) {
	return (value: string): number => {
		const text = value.trim();
		const seconds = /^\d+$/.test(text) ? Number(text) * 86_400 : durationOption(text);
		if (seconds % 86_400 !== 0) throw new UsageError(`${name} takes whole days, such as 90d or 365d, not "${value}".`);
		return seconds / 86_400;
	};
}

function durationOption(text: string): number {
	try {
		return parseDuration(text);
	} catch (error) {
		if (isOrgError(error)) throw new UsageError(error.message.replace(/\.$/, ''));
		throw error;
	}
}
