import type {Mailer, MailerOptions} from './mail.js';
import type {Database, OutboxItem, SamlIdp, SmtpSettings, Tenant, User} from './model.js';
import type {ActorFacts} from './policy.js';
import type {RefusalFacts} from './refusal-tally.js';

/** Which outbox messages to claim: those due at `now` (and among `ids`, when given), claimed until `until`. */
export type OutboxClaim = {readonly now: Date; readonly until: Date; readonly ids?: readonly string[] | undefined};

/** The parts of the Database that are lists of records (users, invitations, audit, ...). */
export type RecordList = {[K in keyof Database]: Database[K] extends readonly unknown[] ? K : never}[keyof Database];

/** The record type of one list: `RecordOf<'users'>` is User. */
export type RecordOf<K extends RecordList> = Database[K][number];

/**
 * How one list changed: the records that left it (deleted, or replaced by their next version)
 * and those that entered it (created, or the next version), as objects. A record changed in place
 * is in both. The order within the list is the store's; consumers that sort sort themselves.
 */
export type ListChange<T> = {readonly removed: readonly T[]; readonly added: readonly T[]};

/** What one change to the data did, as a store tells its subscribers (StorePort.subscribe). */
export type StoreChange = {
	/** The version counter of the data now in memory. */
	readonly version: number;
	/**
	 * The lists that changed, and how; a list not named did not change. Undefined when the store
	 * cannot tell (it read everything again: a file edited by hand, a lost connection): then any
	 * part may have changed.
	 */
	readonly lists: {readonly [K in RecordList]?: ListChange<RecordOf<K>>} | undefined;
	/** Whether the settings record changed (true when `lists` is undefined). */
	readonly settings: boolean;
};

/** Who hears of changes to the data (StorePort.subscribe). */
export type StoreListener = {
	/** A change is applied in memory (read() returns it): this process's commit or another's. */
	readonly changed: (change: StoreChange) => void;
	/** The data can no longer be read (a file truncated or edited into nonsense): the store's OrgError. */
	readonly failed: (error: Error) => void;
};

/**
 * The store as the core sees it: the lowdb file (source/store/store.ts) or PostgreSQL
 * (source/store/postgres/, DESIGN §4b), chosen by the store address. The data is held in memory:
 * reads are synchronous.
 */
export type StorePort = {
	/**
	 * The latest data this process has; do not mutate it (only a transact change may). A file store
	 * looks at the file first; a PostgreSQL store serves its copy, brought up to date by every
	 * transaction, by `refresh()`, and, while someone is subscribed, by every change another host
	 * commits.
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
	/**
	 * Tells `listener` of every change from now on, after it is applied in memory: this process's
	 * commits and other processes' alike. While anyone listens the store watches for changes made
	 * elsewhere (the file store: the folder's inotify events, with a stat every 2 s where events do
	 * not come; PostgreSQL: LISTEN/NOTIFY), so listeners need no timer of their own. Listeners are
	 * called one change at a time, never from inside a transact or a read. Returns the unsubscribe.
	 */
	subscribe(listener: StoreListener): () => void;
	/**
	 * Applies what other processes committed since the data was last read, reading only what
	 * changed, and tells the listeners; costs a stat (the file) or nothing (a live LISTEN) when
	 * nothing changed. Rejects with the store's OrgError when the data can no longer be read.
	 */
	refresh(): Promise<void>;
	/** Lets go of connections and watches; the store is not used after. */
	close?(): Promise<void>;
	/** The file's real path, or the PostgreSQL address without its password. */
	readonly path: string;
	/** Why a change could not be written now (the store's folder refuses a new file), or undefined when it could: a cheap probe for health checks. */
	writable?(): string | undefined;
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

/** What a file named in the settings is for: a key must not be readable by anybody else. */
export type SettingsFileKind = 'certificate' | 'key' | 'CA file';

/**
 * Reads a file an admin named (a certificate, a key, a CA file); throws the system's error (with its
 * `code`) when it cannot. With a kind, the file must sit in a safe place, as the store does
 * (store/safe-place.ts: owned by the running user or root, writable by nobody else, a key readable
 * by nobody else), checked on the very file read: at save and at every load.
 */
export type FileReader = (path: string, kind?: SettingsFileKind) => Buffer;

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
	/** A path as typed, made absolute (against the working directory): what is saved is what every later process reads. */
	readonly resolvePath: (path: string) => string;
	readonly makeKeyPair: KeyPairMaker;
	readonly saml: SamlPort;
	/** The network address the request came from (the web server sets it per request): every audit event records it. */
	readonly clientAddress?: string;
	/**
	 * Set by the web server with clientAddress: where a refusal of an anonymous client goes instead
	 * of a store write of its own (counted per address and minute, written in batches: core/refusal-tally.ts).
	 */
	readonly deferRefusal?: (refusal: RefusalFacts) => void;
};

/** Who is acting, and in which tenant (a superuser may act in any tenant). */
export type Actor = {
	readonly user: User;
	readonly tenant: Tenant;
	/** Set when the actor acts through an API token (ORGCTL_TOKEN): the token's id, so the audit can say so. */
	readonly tokenId?: string;
	/**
	 * Set when the actor acts through a session (`orgctl login`'s file, the console's): the session's
	 * id. Without a token or a session, the actor signed in with a password for this command alone.
	 */
	readonly sessionId?: string;
};

/**
 * An actor as the store has them now: copies, so that what a command signed in as stays what it
 * was (a change committed in this process edits the store's records in place), and the store's
 * standing check (core/standing.ts) compares the two.
 */
export function actorAsNow(user: User, tenant: Tenant): Actor {
	return {user: {...user}, tenant: {...tenant}};
}

export function actorFacts(actor: Actor): ActorFacts {
	return {userId: actor.user.id, role: actor.user.role, superuser: actor.user.superuser};
}
