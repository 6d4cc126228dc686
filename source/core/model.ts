import * as z from 'zod';
import {isAcceptedAddress, normaliseDomain} from './email.js';
import {quoted as quotedText} from './words.js';
import {once} from './once.js';

/** The schema version this build reads and writes. Older files are migrated, newer ones refused. */
export const SCHEMA_VERSION = 7;

export const ROLES = ['guest', 'member', 'admin'] as const;
export const AUTH_METHODS = ['password', 'pam', 'saml'] as const;
export const SMTP_SECURITY = ['none', 'starttls', 'tls'] as const;
/** The two listeners a server has: one receives crash reports, the other serves people (`orgctl serve`). */
export const LISTENER_NAMES = ['crashes', 'requests'] as const;
/** How a SAML assertion is matched to a user: by its NameID (the default) or by its `email` attribute. */
export const SSO_MATCH_ATTRIBUTES = ['nameid', 'email'] as const;
/** How the browser carries our AuthnRequest to the IdP's single sign-on service. */
export const SSO_BINDINGS = ['redirect', 'post'] as const;

/** Audit targets and reasons keep at most this much of what they quote (core/audit.ts caps them). */
export const AUDIT_TEXT_MAX = 200;
/**
 * Audit reasons are our own sentences, which quote foreign text only cut short (quoted, echo); the
 * longest of them (Send test e-mail's stage and hint) run to about 260 characters, so they keep more.
 */
export const AUDIT_REASON_MAX = 400;
/** A mail status keeps at most this much of an SMTP server's reply. */
export const MAIL_REASON_MAX = 300;

/**
 * A TCP port, 1–65535, with the sentence a person reads when one is refused. One rule for the
 * SMTP settings and the listeners, at the door (parseInput) and in the store alike.
 */
export function portSchema(what: string) {
	const sentence = (issue: {input?: unknown}) => `${what} must be a whole number from 1 to 65535, not ${String(issue.input)}.`;
	return z.number({error: sentence}).int({error: sentence}).min(1, {error: sentence}).max(65535, {error: sentence});
}

/*
 * The schemas are built the first time one is needed, all at once: zod makes every schema an object
 * with its own methods, and building them all at module load was work of every start, the
 * console's and every subcommand's, which mostly read a store this build already validated
 * (validated.ts) and check nothing against them. The console now builds them in the store check
 * after its first frame: the bundle's module initialisation went from 43 to 22 ms, and the UI's
 * (Ink and the sections) from 49 to 31 ms (in-process marks, 13 alternating runs, load 4). Each
 * is exported as a function that gives the one schema.
 */
function defineSchemas() {
	const roleSchema = z.enum(ROLES);
	const authMethodSchema = z.enum(AUTH_METHODS);

	const id = z.string().regex(/^[0-9a-f]{16,32}$/, 'an id is 16 to 32 hex digits');
	const isoTime = z.iso.datetime({offset: true});
	const revision = z.number().int().min(1);
	/** A secret is stored only as a hex SHA-256. */
	const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
	/** AES-256-GCM output of `seal()`: iv.tag.ciphertext, base64url. */
	const sealed = z.string().regex(/^[\w-]+\.[\w-]+\.[\w-]*$/);

	/** The value a schema refused, quoted back short (printed through `inert` like any foreign text). */
	const quoted = (issue: {input?: unknown}) => quotedText(String(issue.input));

	/*
	 * Names have character rules at the door (DESIGN §4a): the same schemas check what a person types
	 * (through parseInput) and every record of a store file on open, so a control character in a
	 * username, or an e-mail that is not an address, is refused wherever it comes from.
	 */

	const tenantNameSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {error: issue => `${quoted(issue)} is not a valid tenant name: use lower-case letters, digits and -, as in a DNS label.`});

	const usernameSchema = z
		.string()
		.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {error: issue => `${quoted(issue)} is not a valid username: use 1 to 64 letters, digits, dots, _ or -, starting with a letter or digit.`});

	/** An address by our strict check (core/email.ts): one @, a conservative local part, a normalised domain. */
	const emailSchema = z.string().refine(isAcceptedAddress, {error: issue => `${quoted(issue)} is not an e-mail address orgctl accepts.`});

	/** A sign-up domain as stored: already normalised (lower case, ASCII, no trailing dot). */
	const domainSchema = z.string().refine(domain => normaliseDomain(domain) === domain, {error: issue => `${quoted(issue)} is not a normalised domain name such as corp.com.`});

	const projectNameSchema = z
		.string()
		.regex(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$/, {error: issue => `${quoted(issue)} is not a valid project name: use 1 to 100 letters, digits, spaces, dots, _ or -, starting with a letter or digit.`});

	/**
	 * What a token is for, in words: letters of any script, digits, punctuation, symbols and single
	 * spaces inside, at most two combining marks on a character; no control, invisible or
	 * bidirectional character, and no other kind of space.
	 */
	const tokenNameSchema = z
		.string()
		.max(300)
		.regex(/^(?! )(?:[\p{L}\p{N}\p{P}\p{S} ]\p{M}{0,2}){1,100}(?<! )$/u, {
			error: issue => `${quoted(issue)} is not a valid token name: use 1 to 100 letters, digits, spaces and punctuation, with no control or invisible characters.`,
		});

	/** Room for the cut mark `…[+N]` after a capped text. */
	const CUT_MARK = 24;
	const auditText = z.string().max(AUDIT_TEXT_MAX + CUT_MARK);
	const mailReason = z.string().max(MAIL_REASON_MAX + CUT_MARK);

	const tenantSchema = z.object({
		id,
		name: tenantNameSchema,
		created: isoTime,
		revision,
	});

	const userSchema = z.object({
		id,
		tenantId: id,
		username: usernameSchema,
		email: emailSchema,
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

	const mailStatusSchema = z.discriminatedUnion('state', [
		z.object({state: z.literal('queued'), at: isoTime}),
		z.object({state: z.literal('sent'), at: isoTime}),
		z.object({state: z.literal('retrying'), at: isoTime, reason: mailReason}),
		z.object({state: z.literal('failed'), at: isoTime, reason: mailReason}),
		z.object({state: z.literal('not-sent'), at: isoTime, reason: mailReason}),
	]);

	const invitationSchema = z.object({
		id,
		tenantId: id,
		username: usernameSchema,
		email: emailSchema,
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
	const invitationTombstoneSchema = z.object({
		/** The invitation's id, as its link carries it. */
		id,
		tenantId: id,
		fate: z.enum(['accepted', 'revoked']),
		at: isoTime,
		/** Who: the account the invitation became, or whoever revoked it. */
		by: auditText,
		/** The dead link's secret hash: only a link with the right secret learns it was used or revoked, and by whom (absent in tombstones made before it was kept). */
		secretHash: sha256Hex.optional(),
	});

	const signupDomainSchema = z.object({
		id,
		tenantId: id,
		domain: domainSchema,
		role: roleSchema,
		method: authMethodSchema,
		created: isoTime,
		createdBy: id,
		revision,
	});

	/** A self sign-up waiting for its e-mail code. */
	const pendingSignupSchema = z.object({
		id,
		tenantId: id,
		domainId: id,
		email: emailSchema,
		username: usernameSchema,
		codeHash: sha256Hex,
		attempts: z.number().int().min(0),
		created: isoTime,
		expires: isoTime,
		/** What happened to the mail with the code (absent in files written before it was tracked). */
		mail: mailStatusSchema.optional(),
		revision,
	});

	const projectSchema = z.object({
		id,
		tenantId: id,
		name: projectNameSchema,
		owner: id,
		created: isoTime,
		revision,
	});

	const apiTokenSchema = z.object({
		id,
		tenantId: id,
		name: tokenNameSchema,
		owner: id,
		projectId: id,
		capabilities: z.array(z.string().min(1)),
		secretHash: sha256Hex,
		created: isoTime,
		lastUsed: isoTime.nullable(),
		/**
		 * Set when the secret stopped working while the token stayed (it moved to another owner, or its
		 * owner was disabled or had their password reset): only a re-issue, shown to whoever may hold
		 * it, makes it work again. The hash of the dead secret is kept, so whoever presents it is told
		 * why. Added in schema version 6.
		 */
		revoked: z.object({at: isoTime, reason: z.string()}).nullable(),
		revision,
	});

	const sessionSchema = z.object({
		id,
		userId: id,
		secretHash: sha256Hex,
		created: isoTime,
		expires: isoTime,
	});

	/**
	 * Failed logins per key, for throttling: `user:<id>` for an account, `login:<hash>` for what was typed
	 * (a hash, so a 100 KB identifier costs the store 64 characters; core/accounts.ts identifierThrottleKey).
	 */
	const throttleSchema = z.object({
		key: z.string().max(160),
		failures: z.number().int().min(0),
		lockedUntil: isoTime.nullable(),
		last: isoTime,
	});


	/** A host name or an IP address (IPv6 in brackets or bare). */
	const SMTP_HOST = /^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:.]+\]?$/;
	const SMTP_TIMEOUT = 'The SMTP timeout must be from 100 to 300000 milliseconds.';

	const smtpSettingsSchema = z.object({
		host: z.string().regex(SMTP_HOST, {error: issue => `${quoted(issue)} is not a host name or IP address.`}),
		port: portSchema('The SMTP port'),
		security: z.enum(SMTP_SECURITY),
		user: z.string().nullable(),
		passwordSealed: sealed.nullable(),
		from: z.string().min(3),
		timeoutMs: z.number({error: SMTP_TIMEOUT}).int({error: SMTP_TIMEOUT}).min(100, {error: SMTP_TIMEOUT}).max(300_000, {error: SMTP_TIMEOUT}),
		caFile: z.string().nullable(),
	});

	const listenerSchema = z.object({
		name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, {error: issue => `${quoted(issue)} is not a listener name: use letters, digits, _ and -.`}),
		address: z.string().min(1),
		port: portSchema('The port'),
		ssl: z.boolean(),
	});

	/** A PEM certificate, as stored (the checks that it parses and is current run where it comes in). */
	const pemCertificate = z.string().startsWith('-----BEGIN CERTIFICATE-----').max(20_000);

	/** The identity provider we send people to: what its metadata says (DESIGN §5a). */
	const samlIdpSchema = z.object({
		entityId: z.string().min(1).max(1024),
		ssoUrl: z.url({protocol: /^https?$/}),
		binding: z.enum(SSO_BINDINGS),
		/** The IdP's signing certificates (several during a key rollover), PEM. */
		certificates: z.array(pemCertificate).min(1).max(10),
	});

	/**
	 * Single sign-on (SAML). The service provider (us) has its own key pair, made once: the key signs
	 * AuthnRequests and stays sealed with the key file; the certificate is published in our metadata.
	 * The SP entity ID and ACS URL follow from the public URL (core/sso-settings.ts: spEndpoints).
	 * Added in schema version 5.
	 */
	const ssoSettingsSchema = z.object({
		idp: samlIdpSchema.nullable(),
		matchAttribute: z.enum(SSO_MATCH_ATTRIBUTES),
		sp: z.object({privateKeySealed: sealed, certificate: pemCertificate}).nullable(),
	});

	const LIFETIME = 'The invitation lifetime must be between 1 hour and 90 days.';
	const MIN_PASSWORD = 'The minimum password length must be a whole number from 8 to 256.';
	const AUDIT_DAYS = 'The audit retention must be a whole number of days from 1 to 3650.';
	const AUDIT_EVENTS = 'The audit must keep a whole number of events from 1000 to 10000000.';

	const policySchema = z.object({
		invitationLifetimeSeconds: z.number({error: LIFETIME}).int({error: LIFETIME}).min(3600, {error: LIFETIME}).max(90 * 86_400, {error: LIFETIME}),
		minPasswordLength: z.number({error: MIN_PASSWORD}).int({error: MIN_PASSWORD}).min(8, {error: MIN_PASSWORD}).max(256, {error: MIN_PASSWORD}),
		requireEmailVerification: z.boolean(),
		blockPublicWebmailDomains: z.boolean(),
		/** Audit events older than this many days are removed (added in schema version 4). */
		auditRetentionDays: z.number({error: AUDIT_DAYS}).int({error: AUDIT_DAYS}).min(1, {error: AUDIT_DAYS}).max(3650, {error: AUDIT_DAYS}),
		/** At most this many audit events are kept, the oldest going first (added in schema version 4). */
		auditMaxEvents: z.number({error: AUDIT_EVENTS}).int({error: AUDIT_EVENTS}).min(1000, {error: AUDIT_EVENTS}).max(10_000_000, {error: AUDIT_EVENTS}),
	});

	const settingsSchema = z.object({
		smtp: smtpSettingsSchema.nullable(),
		ssl: z.object({cert: z.string(), key: z.string()}).nullable(),
		listeners: z.array(listenerSchema),
		publicUrl: z.url(),
		policy: policySchema,
		sso: ssoSettingsSchema,
		revision,
	});

	const auditEventSchema = z.object({
		id,
		time: isoTime,
		/** Username of whoever acted, `anonymous` for a sign-in that named no account, or `system` / `store-owner` for break-glass. */
		actor: auditText,
		tenantId: id.nullable(),
		action: z.string().max(64),
		/** What was acted on; as typed when it was refused, so capped (AUDIT_TEXT_MAX) and marked as cut. */
		target: auditText,
		result: z.enum(['ok', 'refused', 'failed']),
		reason: z.string().max(AUDIT_REASON_MAX + CUT_MARK).optional(),
		/** Where the request came from, when it came over the network (`orgctl serve`). */
		clientAddress: z.string().max(64).optional(),
	});

	/** When the store was last pruned (core/housekeeping.ts); added in schema version 4. */
	const housekeepingSchema = z.object({
		lastRun: isoTime.nullable(),
	});

	/** What a SAML sign-in is for: accepting an invitation, a sign-up at a SAML domain, or a terminal's sign-in code. */
	const samlPurposeSchema = z.discriminatedUnion('kind', [
		z.object({kind: z.literal('invitation'), invitationId: id}),
		z.object({kind: z.literal('signup'), domainId: id, email: emailSchema, username: usernameSchema}),
		z.object({kind: z.literal('device'), deviceLoginId: id}),
	]);

	/**
	 * An AuthnRequest we sent (its ID comes back, signed, as InResponseTo): usable for one answer
	 * until it expires. `burned` after a refused answer, `used` after the sign-in it made.
	 * Added in schema version 7.
	 */
	const samlRequestSchema = z.object({
		id: z.string().regex(/^_[0-9a-f]{32,64}$/),
		created: isoTime,
		expires: isoTime,
		purpose: samlPurposeSchema,
		state: z.enum(['pending', 'burned', 'used']),
	});

	/** An assertion ID that signed someone in, kept until the assertion could no longer be valid anyway (the replay cache). */
	const samlAssertionSchema = z.object({
		id: z.string().min(1).max(256),
		expires: isoTime,
	});

	/**
	 * A terminal's single sign-on (DESIGN §5a): the console or `orgctl login` shows a URL and a short
	 * code; the browser that enters the code sees where the sign-in started, then signs in at the IdP.
	 * Added in schema version 7.
	 */
	const deviceLoginSchema = z.object({
		id,
		/** HMAC of the code with the key file: an 8-letter code could be brute-forced from a plain hash. */
		codeMac: sha256Hex,
		/** The poller's proof (it alone turns a completed sign-in into a session). */
		pollSecretHash: sha256Hex,
		username: usernameSchema,
		tenant: tenantNameSchema.nullable(),
		/** The machine and the client address of the terminal that started it, shown on the code page (the address as the terminal claims it: an IP address, or "unknown"). */
		host: z.string().max(253),
		clientAddress: z.string().max(64),
		created: isoTime,
		expires: isoTime,
		state: z.enum(['pending', 'completed', 'finished', 'refused']),
		/** The user the terminal named, fixed when it started (null only in records made before that rule): the ACS requires this user's address. */
		userId: id.nullable(),
		/** Why the IdP's answer was refused (shown to the waiting terminal). */
		reason: z.string().max(500).nullable(),
	});

	/** One message waiting to be (re)sent, kept in the store so no mail is lost between processes. */
	const outboxItemSchema = z.object({
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

	const databaseSchema = z.object({
		schemaVersion: z.literal(SCHEMA_VERSION),
		/** Bumped on every committed change. */
		version: databaseVersionSchema(),
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
		housekeeping: housekeepingSchema,
		samlRequests: z.array(samlRequestSchema),
		samlAssertions: z.array(samlAssertionSchema),
		deviceLogins: z.array(deviceLoginSchema),
	});

	return {roleSchema, authMethodSchema, tenantNameSchema, usernameSchema, emailSchema, domainSchema, projectNameSchema, tokenNameSchema, tenantSchema, userSchema, mailStatusSchema, invitationSchema, invitationTombstoneSchema, signupDomainSchema, pendingSignupSchema, projectSchema, apiTokenSchema, sessionSchema, throttleSchema, smtpSettingsSchema, listenerSchema, samlIdpSchema, ssoSettingsSchema, policySchema, settingsSchema, auditEventSchema, housekeepingSchema, samlPurposeSchema, samlRequestSchema, samlAssertionSchema, deviceLoginSchema, outboxItemSchema, databaseSchema};
}

type Schemas = ReturnType<typeof defineSchemas>;

/**
 * The database's version number (databaseSchema's `version`), on its own: a read checks it before
 * any record, and a read of a file this build validated checks nothing else (store/record-lines.ts).
 */
export const databaseVersionSchema = once(() => z.number().int().min(0));

const defined = once(defineSchemas);

export const roleSchema = (): Schemas['roleSchema'] => defined().roleSchema;
export const authMethodSchema = (): Schemas['authMethodSchema'] => defined().authMethodSchema;
export const tenantNameSchema = (): Schemas['tenantNameSchema'] => defined().tenantNameSchema;
export const usernameSchema = (): Schemas['usernameSchema'] => defined().usernameSchema;
export const emailSchema = (): Schemas['emailSchema'] => defined().emailSchema;
export const domainSchema = (): Schemas['domainSchema'] => defined().domainSchema;
export const projectNameSchema = (): Schemas['projectNameSchema'] => defined().projectNameSchema;
export const tokenNameSchema = (): Schemas['tokenNameSchema'] => defined().tokenNameSchema;
export const tenantSchema = (): Schemas['tenantSchema'] => defined().tenantSchema;
export const userSchema = (): Schemas['userSchema'] => defined().userSchema;
export const mailStatusSchema = (): Schemas['mailStatusSchema'] => defined().mailStatusSchema;
export const invitationSchema = (): Schemas['invitationSchema'] => defined().invitationSchema;
export const invitationTombstoneSchema = (): Schemas['invitationTombstoneSchema'] => defined().invitationTombstoneSchema;
export const signupDomainSchema = (): Schemas['signupDomainSchema'] => defined().signupDomainSchema;
export const pendingSignupSchema = (): Schemas['pendingSignupSchema'] => defined().pendingSignupSchema;
export const projectSchema = (): Schemas['projectSchema'] => defined().projectSchema;
export const apiTokenSchema = (): Schemas['apiTokenSchema'] => defined().apiTokenSchema;
export const sessionSchema = (): Schemas['sessionSchema'] => defined().sessionSchema;
export const throttleSchema = (): Schemas['throttleSchema'] => defined().throttleSchema;
export const smtpSettingsSchema = (): Schemas['smtpSettingsSchema'] => defined().smtpSettingsSchema;
export const listenerSchema = (): Schemas['listenerSchema'] => defined().listenerSchema;
export const samlIdpSchema = (): Schemas['samlIdpSchema'] => defined().samlIdpSchema;
export const ssoSettingsSchema = (): Schemas['ssoSettingsSchema'] => defined().ssoSettingsSchema;
export const policySchema = (): Schemas['policySchema'] => defined().policySchema;
export const settingsSchema = (): Schemas['settingsSchema'] => defined().settingsSchema;
export const auditEventSchema = (): Schemas['auditEventSchema'] => defined().auditEventSchema;
export const housekeepingSchema = (): Schemas['housekeepingSchema'] => defined().housekeepingSchema;
export const samlPurposeSchema = (): Schemas['samlPurposeSchema'] => defined().samlPurposeSchema;
export const samlRequestSchema = (): Schemas['samlRequestSchema'] => defined().samlRequestSchema;
export const samlAssertionSchema = (): Schemas['samlAssertionSchema'] => defined().samlAssertionSchema;
export const deviceLoginSchema = (): Schemas['deviceLoginSchema'] => defined().deviceLoginSchema;
export const outboxItemSchema = (): Schemas['outboxItemSchema'] => defined().outboxItemSchema;
export const databaseSchema = (): Schemas['databaseSchema'] => defined().databaseSchema;

export type Role = z.infer<ReturnType<typeof roleSchema>>;
export type AuthMethod = z.infer<ReturnType<typeof authMethodSchema>>;

export type Tenant = z.infer<ReturnType<typeof tenantSchema>>;
export type User = z.infer<ReturnType<typeof userSchema>>;
export type MailStatus = z.infer<ReturnType<typeof mailStatusSchema>>;
export type Invitation = z.infer<ReturnType<typeof invitationSchema>>;
export type InvitationTombstone = z.infer<ReturnType<typeof invitationTombstoneSchema>>;
export type SignupDomain = z.infer<ReturnType<typeof signupDomainSchema>>;
export type PendingSignup = z.infer<ReturnType<typeof pendingSignupSchema>>;
export type Project = z.infer<ReturnType<typeof projectSchema>>;
export type ApiToken = z.infer<ReturnType<typeof apiTokenSchema>>;
export type Session = z.infer<ReturnType<typeof sessionSchema>>;
export type Throttle = z.infer<ReturnType<typeof throttleSchema>>;
export type SmtpSettings = z.infer<ReturnType<typeof smtpSettingsSchema>>;
export type Listener = z.infer<ReturnType<typeof listenerSchema>>;
export type Policy = z.infer<ReturnType<typeof policySchema>>;
export type SamlIdp = z.infer<ReturnType<typeof samlIdpSchema>>;
export type SsoSettings = z.infer<ReturnType<typeof ssoSettingsSchema>>;
export type Settings = z.infer<ReturnType<typeof settingsSchema>>;
export type AuditEvent = z.infer<ReturnType<typeof auditEventSchema>>;
export type OutboxItem = z.infer<ReturnType<typeof outboxItemSchema>>;
export type Housekeeping = z.infer<ReturnType<typeof housekeepingSchema>>;
export type SamlPurpose = z.infer<ReturnType<typeof samlPurposeSchema>>;
export type SamlRequest = z.infer<ReturnType<typeof samlRequestSchema>>;
export type SamlAssertion = z.infer<ReturnType<typeof samlAssertionSchema>>;
export type DeviceLogin = z.infer<ReturnType<typeof deviceLoginSchema>>;
export type Database = z.infer<ReturnType<typeof databaseSchema>>;

/**
 * A shallow copy of `db` (a new object, the same sections): where a store read left a list to be
 * parsed when first read (store/record-lines.ts, LAZY_LISTS), the copy leaves it so too, where a
 * spread would parse it now. Either way every reader sees the same list.
 */
export function copyDatabase(db: Database): Database {
	return Object.defineProperties({}, Object.getOwnPropertyDescriptors(db)) as Database;
}

/** The public URL a new store starts with: nobody but this machine can open it. */
export const DEFAULT_PUBLIC_URL = 'http://localhost:8080';

export const DEFAULT_POLICY: Policy = {
	invitationLifetimeSeconds: 7 * 86_400,
	minPasswordLength: 12,
	requireEmailVerification: true,
	blockPublicWebmailDomains: true,
	auditRetentionDays: 365,
	auditMaxEvents: 100_000,
};

/** Single sign-on before anything is set: no IdP, no SP key pair yet, users matched by NameID. */
export const EMPTY_SSO: SsoSettings = {idp: null, matchAttribute: 'nameid', sp: null};

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
			sso: {...EMPTY_SSO},
			revision: 1,
		},
		audit: [],
		outbox: [],
		housekeeping: {lastRun: null},
		samlRequests: [],
		samlAssertions: [],
		deviceLogins: [],
	};
}
