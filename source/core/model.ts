import * as z from 'zod';

/** The schema version this build reads and writes. Older files are migrated, newer ones refused. */
export const SCHEMA_VERSION = 3;

export const ROLES = ['guest', 'member', 'admin'] as const;
export const AUTH_METHODS = ['password', 'pam', 'saml'] as const;
export const SMTP_SECURITY = ['none', 'starttls', 'tls'] as const;

export const roleSchema = z.enum(ROLES);
export const authMethodSchema = z.enum(AUTH_METHODS);
export type Role = z.infer<typeof roleSchema>;
export type AuthMethod = z.infer<typeof authMethodSchema>;

const id = z.string().regex(/^[0-9a-f]{16,32}$/, 'an id is 16 to 32 hex digits');
const isoTime = z.iso.datetime({offset: true});
const revision = z.number().int().min(1);
/** A secret is stored only as a hex SHA-256. */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
/** AES-256-GCM output of `seal()`: iv.tag.ciphertext, base64url. */
const sealed = z.string().regex(/^[\w-]+\.[\w-]+\.[\w-]*$/);

export const tenantSchema = z.object({
	id,
	name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {error: issue => `"${String(issue.input)}" is not a valid tenant name: use lower-case letters, digits and -, as in a DNS label.`}),
	created: isoTime,
	revision,
});

export const userSchema = z.object({
	id,
	tenantId: id,
	username: z.string().min(1).max(64),
	email: z.string().min(3).max(254),
	role: roleSchema,
	superuser: z.boolean(),
	method: authMethodSchema,
	/** `scrypt$N$r$p$salt$hash`; null for PAM and SAML users and for password users who have not set one. */
	passwordHash: z.string().nullable(),
	disabled: z.boolean(),
	created: isoTime,
	lastLogin: isoTime.nullable(),
	revision,
});

export const mailStatusSchema = z.discriminatedUnion('state', [
	z.object({state: z.literal('queued'), at: isoTime}),
	z.object({state: z.literal('sent'), at: isoTime}),
	z.object({state: z.literal('retrying'), at: isoTime, reason: z.string()}),
	z.object({state: z.literal('failed'), at: isoTime, reason: z.string()}),
	z.object({state: z.literal('not-sent'), at: isoTime, reason: z.string()}),
]);

export const invitationSchema = z.object({
	id,
	tenantId: id,
	username: z.string().min(1).max(64),
	email: z.string().min(3).max(254),
	role: roleSchema,
	method: authMethodSchema,
	invitedBy: id,
	created: isoTime,
	expires: isoTime,
	/** SHA-256 of the link secret, for checking an accept. */
	secretHash: sha256Hex,
	/** The link secret encrypted with the key file, for Copy Invite Link. */
	secretSealed: sealed,
	mail: mailStatusSchema,
	sentCount: z.number().int().min(0),
	revision,
});

/**
 * What became of an invitation that left the list (accepted or revoked), so that its dead link can
 * say so. Kept for a while after (TOMBSTONE_DAYS in core/invitations/record.ts), then dropped.
 * Added in schema version 2.
 */
export const invitationTombstoneSchema = z.object({
	/** The invitation's id, as its link carries it. */
	id,
	tenantId: id,
	fate: z.enum(['accepted', 'revoked']),
	at: isoTime,
	/** Who: the account the invitation became, or whoever revoked it. */
	by: z.string(),
});

export const signupDomainSchema = z.object({
	id,
	tenantId: id,
	domain: z.string().min(1).max(253),
	role: roleSchema,
	method: authMethodSchema,
	created: isoTime,
	createdBy: id,
	revision,
});

/** A self sign-up waiting for its e-mail code. */
export const pendingSignupSchema = z.object({
	id,
	tenantId: id,
	domainId: id,
	email: z.string(),
	username: z.string(),
	codeHash: sha256Hex,
	attempts: z.number().int().min(0),
	created: isoTime,
	expires: isoTime,
	/** What happened to the mail with the code (absent in files written before it was tracked). */
	mail: mailStatusSchema.optional(),
	revision,
});

export const projectSchema = z.object({
	id,
	tenantId: id,
	name: z.string().min(1).max(100),
	owner: id,
	created: isoTime,
	revision,
});

export const apiTokenSchema = z.object({
	id,
	tenantId: id,
	name: z.string().min(1).max(100),
	owner: id,
	projectId: id,
	capabilities: z.array(z.string().min(1)),
	secretHash: sha256Hex,
	created: isoTime,
	lastUsed: isoTime.nullable(),
	revision,
});

export const sessionSchema = z.object({
	id,
	userId: id,
	secretHash: sha256Hex,
	created: isoTime,
	expires: isoTime,
});

/** Failed logins per account key, for throttling. */
export const throttleSchema = z.object({
	key: z.string(),
	failures: z.number().int().min(0),
	lockedUntil: isoTime.nullable(),
	last: isoTime,
});

/**
 * A TCP port, 1–65535, with the sentence a person reads when one is refused. One rule for the
 * SMTP settings and the listeners, at the door (parseInput) and in the store alike.
 */
export function portSchema(what: string) {
	const sentence = (issue: {input?: unknown}) => `${what} must be a whole number from 1 to 65535, not ${String(issue.input)}.`;
	return z.number({error: sentence}).int({error: sentence}).min(1, {error: sentence}).max(65535, {error: sentence});
}

/** A host name or an IP address (IPv6 in brackets or bare). */
const SMTP_HOST = /^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:.]+\]?$/;
const SMTP_TIMEOUT = 'The SMTP timeout must be from 100 to 300000 milliseconds.';

export const smtpSettingsSchema = z.object({
	host: z.string().regex(SMTP_HOST, {error: issue => `"${String(issue.input)}" is not a host name or IP address.`}),
	port: portSchema('The SMTP port'),
	security: z.enum(SMTP_SECURITY),
	user: z.string().nullable(),
	passwordSealed: sealed.nullable(),
	from: z.string().min(3),
	timeoutMs: z.number({error: SMTP_TIMEOUT}).int({error: SMTP_TIMEOUT}).min(100, {error: SMTP_TIMEOUT}).max(300_000, {error: SMTP_TIMEOUT}),
	caFile: z.string().nullable(),
});

export const listenerSchema = z.object({
	name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, {error: issue => `"${String(issue.input)}" is not a listener name: use letters, digits, _ and -.`}),
	address: z.string().min(1),
	port: portSchema('The port'),
	ssl: z.boolean(),
});

export const ssoSettingsSchema = z.object({
	idpEntityId: z.string(),
	ssoUrl: z.string(),
	idpCertificates: z.array(z.string()),
	spEntityId: z.string(),
	acsUrl: z.string(),
});

const LIFETIME = 'The invitation lifetime must be between 1 hour and 90 days.';
const MIN_PASSWORD = 'The minimum password length must be a whole number from 8 to 256.';

export const policySchema = z.object({
	invitationLifetimeSeconds: z.number({error: LIFETIME}).int({error: LIFETIME}).min(3600, {error: LIFETIME}).max(90 * 86_400, {error: LIFETIME}),
	minPasswordLength: z.number({error: MIN_PASSWORD}).int({error: MIN_PASSWORD}).min(8, {error: MIN_PASSWORD}).max(256, {error: MIN_PASSWORD}),
	requireEmailVerification: z.boolean(),
	blockPublicWebmailDomains: z.boolean(),
});

export const settingsSchema = z.object({
	smtp: smtpSettingsSchema.nullable(),
	ssl: z.object({cert: z.string(), key: z.string()}).nullable(),
	listeners: z.array(listenerSchema),
	publicUrl: z.url(),
	policy: policySchema,
	sso: ssoSettingsSchema.nullable(),
	revision,
});

export const auditEventSchema = z.object({
	id,
	time: isoTime,
	/** Username of whoever acted, or `system` / `store-owner` for break-glass. */
	actor: z.string(),
	tenantId: id.nullable(),
	action: z.string(),
	target: z.string(),
	result: z.enum(['ok', 'refused', 'failed']),
	reason: z.string().optional(),
	/** Where the request came from, when it came over the network (`orgctl serve`). */
	clientAddress: z.string().max(64).optional(),
});

/** One message waiting to be (re)sent, kept in the store so no mail is lost between processes. */
export const outboxItemSchema = z.object({
	id,
	kind: z.enum(['invitation', 'signup-code', 'test']),
	/** The record the message is about (invitation id, pending sign-up id). */
	ref: id.nullable(),
	to: z.string(),
	subject: z.string(),
	text: z.string(),
	html: z.string(),
	attempts: z.number().int().min(0),
	nextAttempt: isoTime,
	created: isoTime,
	/** Set while a process is sending it, so two consoles do not both send it. */
	claimedUntil: isoTime.nullable(),
});

export const databaseSchema = z.object({
	schemaVersion: z.literal(SCHEMA_VERSION),
	/** Bumped on every committed change. */
	version: z.number().int().min(0),
	tenants: z.array(tenantSchema),
	users: z.array(userSchema),
	invitations: z.array(invitationSchema),
	invitationTombstones: z.array(invitationTombstoneSchema),
	signupDomains: z.array(signupDomainSchema),
	pendingSignups: z.array(pendingSignupSchema),
	projects: z.array(projectSchema),
	tokens: z.array(apiTokenSchema),
	sessions: z.array(sessionSchema),
	throttles: z.array(throttleSchema),
	settings: settingsSchema,
	audit: z.array(auditEventSchema),
	outbox: z.array(outboxItemSchema),
});

export type Tenant = z.infer<typeof tenantSchema>;
export type User = z.infer<typeof userSchema>;
export type MailStatus = z.infer<typeof mailStatusSchema>;
export type Invitation = z.infer<typeof invitationSchema>;
export type InvitationTombstone = z.infer<typeof invitationTombstoneSchema>;
export type SignupDomain = z.infer<typeof signupDomainSchema>;
export type PendingSignup = z.infer<typeof pendingSignupSchema>;
export type Project = z.infer<typeof projectSchema>;
export type ApiToken = z.infer<typeof apiTokenSchema>;
export type Session = z.infer<typeof sessionSchema>;
export type Throttle = z.infer<typeof throttleSchema>;
export type SmtpSettings = z.infer<typeof smtpSettingsSchema>;
export type Listener = z.infer<typeof listenerSchema>;
export type Policy = z.infer<typeof policySchema>;
export type Settings = z.infer<typeof settingsSchema>;
export type AuditEvent = z.infer<typeof auditEventSchema>;
export type OutboxItem = z.infer<typeof outboxItemSchema>;
export type Database = z.infer<typeof databaseSchema>;

/** The public URL a new store starts with: nobody but this machine can open it. */
export const DEFAULT_PUBLIC_URL = 'http://localhost:8080';

export const DEFAULT_POLICY: Policy = {
	invitationLifetimeSeconds: 7 * 86_400,
	minPasswordLength: 12,
	requireEmailVerification: true,
	blockPublicWebmailDomains: true,
};

/** A new, empty database: no tenant and no user until `init` or the console's first-run form. */
export function emptyDatabase(): Database {
	return {
		schemaVersion: SCHEMA_VERSION,
		version: 0,
		tenants: [],
		users: [],
		invitations: [],
		invitationTombstones: [],
		signupDomains: [],
		pendingSignups: [],
		projects: [],
		tokens: [],
		sessions: [],
		throttles: [],
		settings: {
			smtp: null,
			ssl: null,
			listeners: [],
			publicUrl: DEFAULT_PUBLIC_URL,
			policy: {...DEFAULT_POLICY},
			sso: null,
			revision: 1,
		},
		audit: [],
		outbox: [],
	};
}
