import type {Mailer, MailerOptions} from './mail.js';
import type {Database, SamlIdp, SmtpSettings, Tenant, User} from './model.js';
import type {ActorFacts} from './policy.js';

/** The store as the core sees it (the lowdb adapter in source/store implements it). */
export type StorePort = {
	/** The latest data; do not mutate it. */
	read(): Database;
	/** Applies a change under the inter-process lock and commits it atomically, or changes nothing if it throws. */
	transact<T>(change: (db: Database) => T): Promise<T>;
	readonly path: string;
};

/** Encrypts what must be shown or used again (the key file beside the store). */
export type SecretBox = {
	seal(plain: string): string;
	unseal(sealed: string): string;
	/**
	 * HMAC-SHA-256 with the key file, hex: for short secrets (8-digit codes) whose plain SHA-256
	 * could be brute-forced by anyone holding a copy of the JSON.
	 */
	mac(text: string): string;
};

/** Hashes passwords and checks them against a stored hash (scrypt in production, source/adapters/scrypt-hasher.ts). */
export type PasswordHasher = {
	hash(password: string): Promise<string>;
	/** False for a wrong password or a hash this hasher cannot read. */
	verify(password: string, stored: string): Promise<boolean>;
	/** A well-formed hash that no password matches, as costly to check as a real one: an unknown user takes as long as a known one. */
	readonly decoy: string;
};

/** Checks a password against the system's PAM stack: false when it is wrong, an OrgError when PAM itself is unusable. */
export type PamCheck = (username: string, password: string) => Promise<boolean>;

/** Opens a mailer for SMTP settings (nodemailer in production, loaded only when mail is sent). */
export type MailerFactory = (smtp: SmtpSettings, options: MailerOptions) => Promise<Mailer>;

/** Reads a file an admin named (a certificate, a key, a CA file); throws the system's error (with its `code`) when it cannot. */
export type FileReader = (path: string) => Buffer;

/** A new key pair and a self-signed certificate for it, both PEM: our own SAML signing key. */
export type KeyPair = {readonly privateKeyPem: string; readonly certificatePem: string};

/** Makes a key pair (RSA 2048) and a self-signed certificate valid from `notBefore` for `days` (the core's clock decides when). */
export type KeyPairMaker = (request: {readonly commonName: string; readonly notBefore: Date; readonly days: number}) => Promise<KeyPair>;

/** Everything the SAML library needs for one request or response: the IdP, and us. */
export type SamlConfig = {
	readonly idp: SamlIdp;
	readonly spEntityId: string;
	readonly acsUrl: string;
	readonly nameIdFormat: string;
	readonly spPrivateKeyPem: string;
	readonly spCertificatePem: string;
};

/** What the SAML library verified (the IdP's signatures, the audience): the XML the core's own checks read. */
export type SamlVerified = {
	/** The assertion as the verified signature covers it (never the raw document's). */
	readonly assertionXml: string;
	/** The whole response, whose root the verified Response signature covers. */
	readonly responseXml: string;
};

/**
 * The SAML library (node-saml in production, source/adapters/saml-sp.ts). Refusals are OrgErrors
 * with a `saml.<reason>` code; `isPending` answers from the store whether a request id may be answered.
 */
export type SamlPort = {
	authorizeUrl(config: SamlConfig, request: {readonly id: string; readonly relayState: string; readonly forceAuthn: boolean}): Promise<string>;
	verify(config: SamlConfig, samlResponse: string, isPending: (requestId: string) => boolean): Promise<SamlVerified>;
};

/**
 * What every operation gets: the ports to the world outside the core. The composition root
 * (source/app/context.ts) builds it; tests build it the same way with their own clock and a
 * cheaper hasher.
 */
export type Context = {
	readonly store: StorePort;
	readonly secrets: SecretBox;
	/** The one clock: tests move it. */
	readonly now: () => Date;
	readonly hasher: PasswordHasher;
	readonly pam: PamCheck;
	readonly mailer: MailerFactory;
	readonly readFile: FileReader;
	readonly makeKeyPair: KeyPairMaker;
	readonly saml: SamlPort;
	/** The network address the request came from (the web server sets it per request): every audit event records it. */
	readonly clientAddress?: string;
};

/** Who is acting, and in which tenant (a superuser may act in any tenant). */
export type Actor = {
	readonly user: User;
	readonly tenant: Tenant;
	/** Set when the actor acts through an API token (ORGCTL_TOKEN): the token's id, so the audit can say so. */
	readonly tokenId?: string;
};

export function actorFacts(actor: Actor): ActorFacts {
	return {userId: actor.user.id, role: actor.user.role, superuser: actor.user.superuser};
}
