import type {Command} from 'commander';
import {certificateWarning, listenerWarning, LISTENERS, parseDuration, removeListener, REQUESTS_LISTENER, setListener, setPolicy, setPublicUrl, setSsl, showSettings, unreachableLinks, type CertificateFacts, type PolicyChange} from '../../core/server-settings.js';
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
			const ctx = await cli.readingCtx();
			const view = await showSettings(ctx, await cli.actor());
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
					`SSL                ${view.ssl ? `${inert(view.ssl.cert)} (${view.ssl.facts ? `${inert(view.ssl.facts.subject)}, expires ${view.ssl.facts.validTo.slice(0, 10)}` : inert(view.ssl.unreadable ?? '')})` : 'not configured'}`,
					...(view.ssl?.warning ? [`                   ! ${inert(view.ssl.warning)}`] : []),
					'',
					'SMTP',
					describeSmtp(view.smtp).replace(/^/gm, '  ').trimEnd(),
					'',
					'Listeners',
					table(
						[
							...LISTENERS.map(known => ({...known, ...view.listeners.find(l => l.name === known.name)})),
							// Listeners an older orgctl allowed under other names: shown, so they can be removed.
							...view.listeners.filter(l => !LISTENERS.some(known => known.name === l.name)).map(l => ({...l, purpose: 'nothing (remove it)'})),
						],
						[['name', 'name'], ['address', 'address'], ['port', 'port'], ['ssl', 'ssl'], ['purpose', 'for']],
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

	const listeners = settings.command('listeners').description('the ports that receive crashes and user requests');
	listeners
		.command('set')
		.description('add or change a listener: its port, address and TLS')
		.argument('<name>', 'crashes (crash reports) or requests (user requests: orgctl serve)')
		.requiredOption('--port <n>', 'port 1-65535, unique', integer('--port'))
		.option('--address <address>', 'address to listen on (default 0.0.0.0)')
		.option('--ssl <on|off>', 'serve TLS with the configured certificate', onOff('--ssl'))
		.action(async (name: string, options: {port: number; address?: string; ssl?: boolean}) => {
			const ctx = await cli.ctx();
			const listener = await setListener(ctx, await cli.actor(), {name, ...options});
			cli.print(listener, () => `Listener ${listener.name} on ${listener.address}:${listener.port}${listener.ssl ? ' with SSL' : ''}.\n`);
			const warning = listenerWarning(listener);
			if (warning) cli.say(`Warning: ${warning}`);
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
			cli.print(facts, () => describeCertificate(facts));
			const warning = certificateWarning('The certificate', facts);
			if (warning) cli.say(`Warning: ${warning}`);
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

/** The facts of a certificate for people, one per line (a certificate's names are foreign text: inert). */
export function describeCertificate(facts: CertificateFacts): string {
	return [
		`subject      ${inert(facts.subject)}`,
		`issuer       ${inert(facts.issuer)}`,
		`names        ${facts.subjectAltNames.map(inert).join(', ') || '(none)'}`,
		`valid        ${facts.validFrom.slice(0, 10)} to ${facts.validTo.slice(0, 10)}`,
		`SHA-256      ${facts.fingerprint256}`,
	].join('\n') + '\n';
}
function durationOption(text: string): number {
	try {
		return parseDuration(text);
	} catch (error) {
		if (isOrgError(error)) throw new UsageError(error.message.replace(/\.$/, ''));
		throw error;
	}
}
