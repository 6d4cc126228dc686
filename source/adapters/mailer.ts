import {readFileSync} from 'node:fs';
import type {SecretBox} from '../core/context.js';
import {parseAddress} from '../core/email.js';
import {invalid} from '../core/errors.js';
import type {Mailer, MailerOptions} from '../core/mail.js';
import type {SmtpSettings} from '../core/model.js';

/** nodemailer's error: `code` names what went wrong, `responseCode`/`response` are the server's reply. */
type NodemailerError = Error & {code?: string; responseCode?: number; response?: string; command?: string; cause?: unknown};

/** TLS verification failures reported by Node: certificate problems, not network trouble. */
const CERTIFICATE_CODES = new Set([
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'SELF_SIGNED_CERT_IN_CHAIN',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_HAS_EXPIRED',
	'CERT_NOT_YET_VALID',
	'CERT_REVOKED',
	'CERT_UNTRUSTED',
	'CERT_REJECTED',
	'ERR_TLS_CERT_ALTNAME_INVALID',
	'HOSTNAME_MISMATCH',
]);

function errorChain(error: unknown): NodemailerError[] {
	const chain: NodemailerError[] = [];
	let current = error;
	while (current instanceof Error && chain.length < 5) {
		chain.push(current);
		current = (current as NodemailerError).cause;
	}
	return chain;
}

/** The server's own words when it replied, else the error's message, on one line. */
function reasonText(error: NodemailerError): string {
	const text = error.response ?? error.message;
	return text.replace(/\s+/g, ' ').trim();
}

/**
 * Sorts a failed send into temporary or permanent, keeping the server's reason. Certificate
 * errors are permanent: the server will present the same certificate next time, and the fix is a
 * CA file in the settings (verification is never switched off).
 */
export function classifyFailure(error: unknown): {temporary: boolean; reason: string} {
	const chain = errorChain(error);
	const top = chain[0];
	if (!top) return {temporary: true, reason: String(error)};
	const certificate = chain.find(e => (e.code && CERTIFICATE_CODES.has(e.code)) || /certificate|self[- ]signed/i.test(e.message));
	if (certificate) {
		return {temporary: false, reason: `the SMTP server's TLS certificate is not trusted (${certificate.message}); set a CA file with orgctl settings smtp set --ca-file`};
	}
	if (top.command === 'STARTTLS') {
		return {temporary: false, reason: `the SMTP server does not offer the STARTTLS the settings require (${reasonText(top)})`};
	}
	const code = top.responseCode;
	if (code !== undefined && code >= 400 && code < 500) return {temporary: true, reason: reasonText(top)};
	if (code !== undefined && code >= 500) return {temporary: false, reason: reasonText(top)};
	switch (top.code) {
		case 'EAUTH':
		case 'ENOAUTH':
			return {temporary: false, reason: `the SMTP server refused the login: ${reasonText(top)}`};
		case 'ETLS':
		case 'EREQUIRETLS':
			return {temporary: false, reason: `TLS with the SMTP server failed: ${reasonText(top)}`};
		case 'EENVELOPE':
		case 'EMESSAGE':
		case 'ECONFIG':
			return {temporary: false, reason: reasonText(top)};
		case 'ETIMEDOUT':
			return {temporary: true, reason: `the SMTP server did not answer in time (${top.message})`};
		default:
			// ECONNECTION, ESOCKET (refused, reset), EDNS, EPROTOCOL: the network or the server may recover.
			return {temporary: true, reason: `cannot reach the SMTP server (${reasonText(top)})`};
	}
}

/**
 * nodemailer's transport options for our settings: verification always on, timeouts always set
 * (connection and greeting `timeoutMs`, about 10 s by default; the socket three times that).
 */
export function transportOptions(smtp: SmtpSettings, secrets: Pick<SecretBox, 'unseal'>, options: MailerOptions = {}) {
	const timeout = smtp.timeoutMs;
	let ca: string | undefined;
	if (smtp.caFile) {
		try {
			ca = readFileSync(smtp.caFile, 'utf8');
		} catch (error) {
			throw invalid(`The SMTP CA file ${smtp.caFile} cannot be read (${(error as Error).message}); fix it with orgctl settings smtp set --ca-file.`);
		}
	}
	return {
		host: smtp.host,
		port: smtp.port,
		// tls: TLS from the first byte; starttls: upgrade and refuse to go on without it;
		// none: plain text, and no opportunistic STARTTLS that could fail on an untrusted certificate.
		secure: smtp.security === 'tls',
		requireTLS: smtp.security === 'starttls',
		ignoreTLS: smtp.security === 'none',
		auth: smtp.user && smtp.passwordSealed ? {user: smtp.user, pass: secrets.unseal(smtp.passwordSealed)} : undefined,
		tls: {rejectUnauthorized: true, minVersion: 'TLSv1.2' as const, ...(ca ? {ca} : {})},
		connectionTimeout: timeout,
		greetingTimeout: timeout,
		socketTimeout: timeout * 3,
		dnsTimeout: timeout,
		pool: options.pool === true,
		maxConnections: options.maxConnections ?? 5,
		maxMessages: Number.POSITIVE_INFINITY,
		disableFileAccess: true,
		disableUrlAccess: true,
	};
}

/**
 * Opens a nodemailer transport for the SMTP settings. nodemailer is loaded on demand so that
 * subcommands which send nothing do not pay for it.
 */
export async function createMailer(smtp: SmtpSettings, secrets: Pick<SecretBox, 'unseal'>, options: MailerOptions = {}): Promise<Mailer> {
	const from = parseAddress(smtp.from).address;
	const config = transportOptions(smtp, secrets, options);
	const nodemailer = (await import('nodemailer')).default;
	const transport = nodemailer.createTransport(config);
	return {
		async send(mail) {
			let to: string;
			try {
				to = parseAddress(mail.to).address;
			} catch (error) {
				return {result: 'permanent', reason: (error as Error).message};
			}
			try {
				// Addresses as objects and an explicit envelope: nodemailer's own address parser would
				// send `a@evil,b@corp` to evil; our strict check already refused it.
				const info = await transport.sendMail({
					from: {name: '', address: from},
					to: [{name: '', address: to}],
					envelope: {from, to: [to]},
					subject: mail.subject,
					text: mail.text,
					html: mail.html,
				});
				if (info.rejected.length > 0) return {result: 'permanent', reason: `the SMTP server rejected ${to}: ${info.response}`};
				return {result: 'sent', response: info.response};
			} catch (error) {
				const {temporary, reason} = classifyFailure(error);
				return {result: temporary ? 'temporary' : 'permanent', reason};
			}
		},
		close() {
			transport.close();
		},
	};
}
