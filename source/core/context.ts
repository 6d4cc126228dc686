import type {Mailer, MailerOptions} from './mail.js';
import type {Database, OutboxItem, SmtpSettings, Tenant, User} from './model.js';
import type {ActorFacts} from './policy.js';

/** Which outbox messages to claim: those due at `now` (and among `ids`, when given), claimed until `until`. */
export type OutboxClaim = {readonly now: Date; readonly until: Date; readonly ids?: readonly string[] | undefined};

/**
 * The store as the core sees it: the lowdb file (source/store/store.ts) or PostgreSQL
 * (source/store/postgres/), chosen by the store address.
 */
export type StorePort = {
	/**
	 * The latest data this process has; do not mutate it. A file store looks at the file first; a
	 * PostgreSQL store serves its copy, brought up to date by every transaction, by `refresh()`,
	 * and, while someone is subscribed, by every change another host commits.
	 */
	read(): Database;
	/**
	 * Applies a change to the latest data and commits it atomically, or changes nothing if it
	 * throws. `change` must be synchronous and act only on `db` (and through its result): when
	 * another host committed first, a backend may run it again on the fresh data.
	 */
	transact<T>(change: (db: Database) => T): Promise<T>;
	/**
	 * Marks the due outbox messages claimed (one transaction) and returns copies of them. Two
	 * processes claiming at once never get the same message.
	 */
	claimOutbox(claim: OutboxClaim): Promise<OutboxItem[]>;
	/** Brings `read()` up to date with what other processes committed; true when something changed. */
	refresh?(): Promise<boolean>;
	/**
	 * Calls `listener` after `read()` changed because another process committed (PostgreSQL:
	 * LISTEN/NOTIFY); returns the function that stops it.
	 */
	subscribe?(listener: () => void): () => void;
	/** Lets go of connections and timers; the store is not used after. */
	close?(): Promise<void>;
	/** The file's real path, or the PostgreSQL address without its password. */
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
