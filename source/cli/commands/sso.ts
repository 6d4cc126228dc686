import type {Command} from 'commander';
import {MATCH_ATTRIBUTE_NAMES, clearIdp, importIdpMetadata, prepareServiceProvider, setIdpByHand, setMatchAttribute, showSso, type SsoSaved, type SsoView} from '../../core/sso-settings.js';
import {UsageError, type CliContext} from '../context.js';
import {settingsCommand} from './smtp.js';

/** The single sign-on settings for people: the IdP, how users are matched, and what to hand to the IdP. */
export function describeSso(view: SsoView): string {
	const lines: string[] = [];
	if (view.idp) {
		lines.push(`IdP entity ID     ${view.idp.entityId}`, `SSO URL           ${view.idp.ssoUrl} (HTTP-${view.idp.binding === 'redirect' ? 'Redirect' : 'POST'})`);
		view.idp.certificates.forEach((cert, i) => {
			lines.push(`IdP certificate ${i + 1} ${cert.subject}, expires ${cert.validTo.slice(0, 10)}`, `                  SHA-256 ${cert.fingerprint256}`);
		});
	} else {
		lines.push('IdP               not configured: orgctl settings sso set --idp-metadata FILE');
	}
	lines.push(
		`match users by    ${MATCH_ATTRIBUTE_NAMES[view.matchAttribute]}`,
		'',
		'For the IdP:',
		`SP entity ID      ${view.sp.entityId}`,
		`ACS URL           ${view.sp.acsUrl} (HTTP-POST)`,
		view.sp.certificate ? `SP certificate    SHA-256 ${view.sp.certificate.fingerprint256}, expires ${view.sp.certificate.validTo.slice(0, 10)}` : 'SP certificate    not made yet: orgctl settings sso sp-metadata makes it',
	);
	for (const warning of view.warnings) lines.push(`! ${warning}`);
	return `${lines.join('\n')}\n`;
}

/** `orgctl settings sso set | show | sp-metadata | clear` (superusers). */
export function registerSsoCommands(program: Command, cli: CliContext): void {
	const sso = settingsCommand(program).command('sso').description('single sign-on (SAML): the identity provider, and what to hand to it');
	sso
		.command('set')
		.description('set the identity provider from its metadata XML, or by hand')
		.option('--idp-metadata <file>', 'the IdP metadata XML (entity ID, SSO URL and signing certificates are read from it)')
		.option('--idp-entity-id <id>', 'by hand: the IdP entity ID')
		.option('--sso-url <url>', 'by hand: the IdP single sign-on URL')
		.option('--binding <redirect|post>', 'by hand: how the request reaches the SSO URL (default redirect)')
		.option('--idp-cert <file>', 'by hand: PEM file with the IdP signing certificate(s)')
		.option('--match-attribute <nameid|email>', 'match users by the NameID (default) or the email attribute; alone, changes only that')
		.action(async (options: {idpMetadata?: string; idpEntityId?: string; ssoUrl?: string; binding?: string; idpCert?: string; matchAttribute?: string}) => {
			const byHand = [options.idpEntityId, options.ssoUrl, options.idpCert];
			const ctx = await cli.ctx();
			if (options.idpMetadata === undefined && byHand.every(v => v === undefined) && options.matchAttribute !== undefined) {
				const view = await setMatchAttribute(ctx, await cli.actor(), options.matchAttribute);
				cli.print(view, () => describeSso(view));
				return;
			}
			if (options.idpMetadata !== undefined && byHand.some(v => v !== undefined)) throw new UsageError('give either --idp-metadata or --idp-entity-id, --sso-url and --idp-cert, not both.');
			if (options.idpMetadata === undefined && byHand.some(v => v === undefined)) throw new UsageError('give --idp-metadata FILE, or all of --idp-entity-id, --sso-url and --idp-cert (or only --match-attribute).');
			const actor = await cli.actor();
			const match = options.matchAttribute === undefined ? {} : {matchAttribute: options.matchAttribute};
			const saved: SsoSaved =
				options.idpMetadata !== undefined
					? await importIdpMetadata(ctx, actor, {path: options.idpMetadata, ...match})
					: await setIdpByHand(ctx, actor, {entityId: options.idpEntityId!, ssoUrl: options.ssoUrl!, certificateFile: options.idpCert!, ...(options.binding === undefined ? {} : {binding: options.binding}), ...match});
			cli.print(saved.view, () => describeSso(saved.view));
			for (const note of saved.notes) cli.say(`Note: ${note}`);
			cli.say('Single sign-on settings saved; hand the IdP our metadata: orgctl settings sso sp-metadata > sp.xml');
		});
	sso
		.command('show')
		.description('show the single sign-on settings, with our entity ID, ACS URL and metadata for the IdP')
		.action(async () => {
			const ctx = await cli.readingCtx();
			const view = await showSso(ctx, await cli.actor());
			cli.print(view, () => describeSso(view));
		});
	sso
		.command('sp-metadata')
		.description('print our SAML metadata (XML) for the IdP; makes our key pair the first time')
		.action(async () => {
			const ctx = await cli.ctx();
			const view = await prepareServiceProvider(ctx, await cli.actor());
			process.stdout.write(cli.json ? `${JSON.stringify({metadata: view.sp.metadata}, null, 2)}\n` : (view.sp.metadata ?? ''));
		});
	sso
		.command('clear')
		.description('forget the identity provider (SAML sign-in stops; our key pair stays)')
		.action(async () => {
			const ctx = await cli.ctx();
			await clearIdp(ctx, await cli.actor());
			cli.say('The identity provider is forgotten; SAML users cannot sign in until one is set again.');
		});
}
