import type {Database, Tenant, User} from './model.js';
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

/** What every operation gets: the store, the key file and a clock (tests move the clock). */
export type Context = {
	readonly store: StorePort;
	readonly secrets: SecretBox;
	readonly now: () => Date;
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

export function isoNow(ctx: Context): string {
	return ctx.now().toISOString();
}
