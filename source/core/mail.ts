/**
 * The mail port the core uses. The nodemailer adapter (source/adapters/mailer.ts) implements it;
 * tests use that same adapter against a real SMTP server on loopback.
 */

/** One message to one recipient. Bodies are plain strings; the caller has escaped the HTML. */
export type OutgoingMail = {
	readonly to: string;
	readonly subject: string;
	readonly text: string;
	readonly html: string;
};

/**
 * What happened to one message. `temporary` is worth retrying later (4xx replies, timeouts,
 * refused or dropped connections); `permanent` is not (5xx replies, a refused login, a TLS
 * certificate we do not trust, a server without the STARTTLS we require): retrying cannot help
 * until someone changes the settings or the address, so the status says so at once.
 */
export type SendOutcome =
	| {readonly result: 'sent'; readonly response: string}
	| {readonly result: 'temporary' | 'permanent'; readonly stage: MailStage; readonly reason: string};

/**
 * Where in the conversation with the SMTP server a message failed: looking up the host, opening the
 * connection (and its greeting), TLS, logging in, the server refusing the sender or the recipient,
 * or the message itself. `settings` is our side: settings that cannot be used (a CA file gone).
 */
export const MAIL_STAGES = ['settings', 'dns', 'connect', 'tls', 'auth', 'sender', 'recipient', 'message'] as const;
export type MailStage = (typeof MAIL_STAGES)[number];

/** How a stage is named to people ("failed at the authentication stage"). */
export const MAIL_STAGE_NAMES: Readonly<Record<MailStage, string>> = {
	settings: 'settings',
	dns: 'DNS',
	connect: 'connection',
	tls: 'TLS',
	auth: 'authentication',
	sender: 'sender',
	recipient: 'recipient',
	message: 'message',
};

/** How a mailer connects: one connection for a message, a pool for many. */
export type MailerOptions = {
	/** Keep a pool of connections open for bulk sending. */
	readonly pool?: boolean;
	/** Parallel connections of the pool. */
	readonly maxConnections?: number;
};

export type Mailer = {
	send(mail: OutgoingMail): Promise<SendOutcome>;
	/** Ends pooled connections. */
	close(): void;
};

/** Escapes text for the HTML part of a message. */
export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, ch => `&#${ch.charCodeAt(0)};`);
}
