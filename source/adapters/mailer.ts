import {readFileSync} from 'node:fs';
import {inert} from '../core/inert.js';
import type {SecretBox} from '../core/context.js';
import {parseAddress} from '../core/email.js';
import {invalid} from '../core/errors.js';
import type {Mailer, MailerOptions, MailStage} from '../core/mail.js';
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

/** An SMTP server's reply, on one line and inert (core/inert.ts). */
export const inertReply = (reply: string): string => inert(reply.replace(/\s+/g, ' ').trim());

/** The server's own words when it replied, else the error's message, on one line and inert. */
function reasonText(error: NodemailerError): string {
	return inertReply(error.response ?? error.message);
}

/** What a failure is judged against: the settings' host and port, and who the message was from and to. */
export type Conversation = {
	readonly host: string;
	readonly port: number;
	readonly security: SmtpSettings['security'];
	readonly timeoutMs: number;
	readonly user: string | null;
	readonly from: string;
	readonly to: string;
};

export type Failure = {temporary: boolean; stage: MailStage; reason: string};

/** TLS itself failed (not the certificate): a plain-text port spoken to in TLS, no shared protocol. */
function isTlsProtocolError(error: NodemailerError & {library?: string; reason?: string}): boolean {
	return error.library === 'SSL routines' || (error.code?.startsWith('ERR_SSL') ?? false) || /SSL routines|wrong version number|handshake failure/i.test(error.message);
}

/**
 * Sorts a failed send by the stage of the SMTP conversation it happened in (DNS, connection, TLS,
 * authentication, sender, recipient, message) and into temporary or permanent, keeping the
 * server's reason. nodemailer says which command failed (`command`: CONN, STARTTLS, AUTH PLAIN,
 * MAIL FROM, RCPT TO, DATA), its own `code` (EDNS, ESOCKET, ETIMEDOUT, EAUTH, EENVELOPE …) and the
 * server's `responseCode`. Certificate errors are permanent: the server will present the same
 * certificate next time, and the fix is a CA file in the settings (verification is never switched off).
 */
export function classifyFailure(error: unknown, talk: Conversation): Failure {
	const chain = errorChain(error);
	const top = chain[0];
	if (!top) return {temporary: true, stage: 'connect', reason: String(error)};
	const where = `${talk.host}:${talk.port}`;
	const byCode = (stage: MailStage, reason: string): Failure => ({temporary: top.responseCode !== undefined && top.responseCode < 500, stage, reason});
	const certificate = chain.find(e => (e.code && CERTIFICATE_CODES.has(e.code)) || /certificate|self[- ]signed/i.test(e.message));
	if (certificate) {
		return {temporary: false, stage: 'tls', reason: `the SMTP server's TLS certificate is not trusted (${inertReply(certificate.message)}); set a CA file with orgctl settings smtp set --ca-file`};
	}
	if (chain.some(isTlsProtocolError)) {
		const hint = talk.security === 'tls' ? `; ${where} may start in plain text: choose STARTTLS (or none) instead of TLS` : '';
		const tlsError = chain.find(isTlsProtocolError) as NodemailerError & {reason?: string};
		// OpenSSL's own `reason` ("wrong version number") rather than its message with source paths.
		return {temporary: false, stage: 'tls', reason: `no TLS handshake with ${where} (${inertReply(tlsError.reason ?? tlsError.message)})${hint}`};
	}
	const command = top.command ?? '';
	if (command === 'STARTTLS' || top.code === 'ETLS' || top.code === 'EREQUIRETLS') {
		return {temporary: false, stage: 'tls', reason: `the SMTP server does not offer the STARTTLS the settings require (${reasonText(top)})`};
	}
	if (top.code === 'EAUTH' || top.code === 'ENOAUTH' || command.startsWith('AUTH')) {
		return {temporary: false, stage: 'auth', reason: `the SMTP server refused the login${talk.user ? ` of ${talk.user}` : ''}: ${reasonText(top)}`};
	}
	if (command === 'MAIL FROM') {
		// 530: "authentication required" before MAIL FROM is a login problem, not a sender problem.
		if (top.responseCode === 530) return {temporary: false, stage: 'auth', reason: `the SMTP server wants a login before it takes mail (${reasonText(top)}); set a user and password`};
		return byCode('sender', `the SMTP server refused the sender ${talk.from}: ${reasonText(top)}`);
	}
	if (command === 'RCPT TO') return byCode('recipient', `the SMTP server refused the recipient ${talk.to}: ${reasonText(top)}`);
	if (command === 'DATA' || command === 'MESSAGE' || top.code === 'EMESSAGE') return byCode('message', `the SMTP server refused the message: ${reasonText(top)}`);
	if (top.responseCode !== undefined && top.responseCode >= 400) return byCode('message', reasonText(top));
	switch (top.code) {
		case 'EDNS':
			// Retried: a name server that is down answers like a name that does not exist.
			return {temporary: true, stage: 'dns', reason: `the SMTP host name ${talk.host} does not resolve (${top.message})`};
		case 'ECONFIG':
			return {temporary: false, stage: 'settings', reason: reasonText(top)};
		case 'ETIMEDOUT': {
			const hint = talk.security === 'tls' ? '' : `; if ${where} expects TLS from the first byte (as port 465 does), choose TLS`;
			return {temporary: true, stage: 'connect', reason: `the SMTP server ${where} did not answer in time (${top.message}, waited ${talk.timeoutMs} ms)${hint}`};
		}
		default:
			// ECONNECTION, ESOCKET (refused, reset), EPROTOCOL: the network or the server may recover.
			return {temporary: true, stage: 'connect', reason: `cannot reach the SMTP server ${where} (${reasonText(top)})`};
	}
}

/**
 * nodemailer's transport options for our settings: verification always on, timeouts always set
 * (connection and greeting `timeoutMs`, about 10 s by default; the socket three times that).
 */
/** How the mailer reads the CA file: the composition root passes the place-checked reader (store/safe-place.ts). */
export type CaReader = {readonly readCa?: (path: string) => string};

export function transportOptions(smtp: SmtpSettings, secrets: Pick<SecretBox, 'unseal'>, options: MailerOptions & CaReader = {}) {
	const timeout = smtp.timeoutMs;
	let ca: string | undefined;
	if (smtp.caFile) {
		try {
			ca = options.readCa ? options.readCa(smtp.caFile) : readFileSync(smtp.caFile, 'utf8');
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
export async function createMailer(smtp: SmtpSettings, secrets: Pick<SecretBox, 'unseal'>, options: MailerOptions & CaReader = {}): Promise<Mailer> {
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
				return {result: 'permanent', stage: 'recipient', reason: (error as Error).message};
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
				if (info.rejected.length > 0) return {result: 'permanent', stage: 'recipient', reason: `the SMTP server refused the recipient ${to}: ${inertReply(info.response)}`};
				return {result: 'sent', response: inertReply(info.response)};
			} catch (error) {
				const {temporary, stage, reason} = classifyFailure(error, {host: smtp.host, port: smtp.port, security: smtp.security, timeoutMs: smtp.timeoutMs, user: smtp.user, from, to});
				return {result: temporary ? 'temporary' : 'permanent', stage, reason};
			}
		},
		close() {
			transport.close();
		},
	};
}
