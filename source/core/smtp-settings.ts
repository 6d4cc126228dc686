import {X509Certificate} from 'node:crypto';
import {echo} from './inert.js';
import {CONTROL, isHostName, isIpAddress, isLoopback} from './hosts.js';
import {touch} from './accounts.js';
import {appendAudit, authorize, checked, perform, refuse} from './audit.js';
import type {Actor, Context} from './context.js';
import {parseAddress} from './email.js';
import {invalid, unavailable} from './errors.js';
import {parseInput, typedNumber} from './input.js';
import {MAIL_STAGE_NAMES} from './mail.js';
import {SMTP_SECURITY, smtpSettingsSchema, type Database, type SmtpSettings} from './model.js';
import {openMailer} from './outbox.js';
import {assertStanding} from './standing.js';
import {once} from './once.js';

/** Connection and greeting timeout by default; the socket timeout is three times it (DESIGN §5). */
export const DEFAULT_SMTP_TIMEOUT_MS = 10_000;

/** The security modes as the console names them. */
export const SMTP_SECURITY_NAMES: Readonly<Record<SmtpSettings['security'], string>> = {none: 'none', starttls: 'STARTTLS required', tls: 'TLS'};

export type SmtpInput = {
	readonly host: string;
	/** A number, or the digits as typed. */
	readonly port: number | string;
	readonly security: SmtpSettings['security'];
	readonly from: string;
	/** Login name; null or absent for a server that takes mail without a login. */
	readonly user?: string | null;
	/** The password for `user`; absent keeps the stored one when the user stays the same. */
	readonly password?: string | null;
	readonly caFile?: string | null;
	/** Milliseconds, as a number or typed; absent: DEFAULT_SMTP_TIMEOUT_MS. */
	readonly timeoutMs?: number | string;
};

/** What the SMTP settings show outside the store: never the password, sealed or not. */
export type SmtpView = Omit<SmtpSettings, 'passwordSealed'> & {hasPassword: boolean};

export function smtpView(smtp: SmtpSettings | null): SmtpView | null {
	if (!smtp) return null;
	const {passwordSealed, ...rest} = smtp;
	return {...rest, hasPassword: passwordSealed !== null};
}

/** The host, port and timeout of SMTP settings, by the model's rules; built when first needed, as the model's are (model.ts). */
const smtpInputSchema = once(() =>
	smtpSettingsSchema()
		.pick({host: true, port: true, timeoutMs: true})
		.extend({
			port: typedNumber(smtpSettingsSchema().shape.port),
			timeoutMs: typedNumber(smtpSettingsSchema().shape.timeoutMs),
		}),
);

/** Checks a CA file: readable, and holding at least one PEM certificate Node can parse. */
function checkCaFile(ctx: Context, path: string): void {
	let text: string;
	try {
		text = ctx.readFile(path, 'CA file').toString('utf8');
	} catch (error) {
		throw invalid(`The CA file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`);
	}
	const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text);
	try {
		if (!first) throw new Error('no PEM certificate');
		new X509Certificate(first[0]);
	} catch {
		throw invalid(`The CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
	}
}

/** Saves the SMTP settings (superuser only); the password is stored sealed with the key file. */
export async function setSmtpSettings(ctx: Context, actor: Actor, input: SmtpInput): Promise<SmtpView> {
	// Every check runs inside perform() so that a refusal is audited too (DESIGN §2).
	const smtp = await perform(ctx, actor, 'settings.smtp.set', `${input.host.trim()}:${String(input.port).trim()}`, db => {
		authorize(actor, 'server.settings');
		const timeout = typeof input.timeoutMs === 'string' && input.timeoutMs.trim() === '' ? undefined : input.timeoutMs;
		const {host, port, timeoutMs} = parseInput(smtpInputSchema(), {host: input.host.trim(), port: input.port, timeoutMs: timeout ?? DEFAULT_SMTP_TIMEOUT_MS});
		if (!(SMTP_SECURITY as readonly string[]).includes(input.security)) throw invalid(`The SMTP security must be none, starttls or tls, not "${input.security}".`);
		if (!isHostName(host) && !isIpAddress(host)) throw invalid(`"${echo(host)}" is not a host name or IP address: a name is labels of letters, digits and inner hyphens (at most 63 characters each), an address is IPv4 or IPv6.`, {field: 'host'});
		const from = parseAddress(input.from).address;
		const user = input.user?.trim() || null;
		if (user !== null && CONTROL.test(user)) throw invalid('The SMTP user must not contain control characters.', {field: 'user'});
		if (input.password && !user) throw invalid('An SMTP password needs an SMTP user (--user).');
		// A login over plain text hands the SMTP password to anyone on the path; only a relay on this machine is exempt.
		if (user && input.security === 'none' && !isLoopback(host)) {
			throw invalid(`Signing in to ${host} with --security none would send the SMTP user and password in clear text; use --security starttls or tls (or a relay on this machine).`, {field: 'security'});
		}
		const caFile = input.caFile?.trim() ? ctx.resolvePath(input.caFile.trim()) : null;
		if (caFile) checkCaFile(ctx, caFile);
		const sealedPassword = input.password ? ctx.secrets.seal(input.password) : null;
		const previous = db.settings.smtp;
		// Changing only the host or the port should not force the admin to type the password again.
		const passwordSealed = sealedPassword ?? (user && previous?.user === user && input.password === undefined ? previous.passwordSealed : null);
		const next: SmtpSettings = {host, port, security: input.security, user, passwordSealed, from, timeoutMs, caFile};
		db.settings.smtp = next;
		touch(db.settings);
		return next;
	});
	return smtpView(smtp)!;
}

/** Removes the SMTP settings: invitations are then kept with "not sent: SMTP is not configured". */
export async function clearSmtpSettings(ctx: Context, actor: Actor): Promise<void> {
	await perform(ctx, actor, 'settings.smtp.clear', 'smtp', db => {
		authorize(actor, 'server.settings');
		db.settings.smtp = null;
		touch(db.settings);
	});
}

/** The SMTP settings as the console draws them, from data already read (superusers only). */
export function smtpViewIn(db: Database, actor: Actor): SmtpView | null {
	authorize(actor, 'server.settings');
	return smtpView(db.settings.smtp);
}

/** `orgctl settings smtp show`: never the password; a refusal is audited. */
export async function showSmtpSettings(ctx: Context, actor: Actor): Promise<SmtpView | null> {
	return checked(ctx, actor, 'settings.smtp.show', 'smtp', db => smtpViewIn(db, actor));
}

/**
 * Sends a test message with the saved settings, directly rather than through the outbox, so the
 * admin sees at once whether the server is reachable. Throws one sentence naming the stage that
 * failed (DNS, connection, TLS, authentication, sender, recipient, message) and the server's reason.
 */
export async function sendTestMail(ctx: Context, actor: Actor, to: string): Promise<{response: string}> {
	let address = to;
	let mailer;
	// The checks before sending are audited too (DESIGN §2): the send itself is audited below.
	try {
		assertStanding(ctx.store.read(), ctx, actor);
		authorize(actor, 'server.settings');
		address = parseAddress(to).address;
		mailer = await openMailer(ctx);
		if (!mailer) throw unavailable('SMTP is not configured; set it with orgctl settings smtp set --host H --port N --security none|starttls|tls --from ADDR.');
	} catch (error) {
		return refuse(ctx, actor, 'settings.smtp.test', address, error);
	}
	let outcome;
	try {
		outcome = await mailer.send({
			to: address,
			subject: 'orgctl test e-mail',
			text: `This is a test e-mail from orgctl, sent by ${actor.user.username}. The SMTP settings work.\n`,
			html: `<p>This is a test e-mail from orgctl. The SMTP settings work.</p>\n`,
		});
	} finally {
		mailer.close();
	}
	const failure = outcome.result === 'sent' ? undefined : `The test e-mail to ${address} failed at the ${MAIL_STAGE_NAMES[outcome.stage]} stage: ${outcome.reason.replace(/\.$/, '')}.`;
	await ctx.store.transact(db => appendAudit(db, ctx, actor, {action: 'settings.smtp.test', target: address, result: failure ? 'failed' : 'ok', ...(failure ? {reason: failure} : {})}));
	if (outcome.result !== 'sent') throw unavailable(failure!);
	return {response: outcome.response};
}
