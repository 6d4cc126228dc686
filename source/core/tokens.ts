import {assertRevision, enterTenant, touch} from './accounts.js';
import {allowed, authorize, checked, perform, refuse, type AuditActor} from './audit.js';
import type {Actor, Context} from './context.js';
import {actsAsOwner} from './credentials.js';
import {atField, authFailed, conflict, invalid} from './errors.js';
import {byIdPrefix, newId, newSecret, secretMatches, sha256} from './ids.js';
import {parseInput} from './input.js';
import {tokenNameSchema, type ApiToken, type Database, type Project} from './model.js';
import {applyMigration, assertMayOwn, migrationEnds, planMigration} from './ownership.js';
import {tokenFacts} from './token-facts.js';
import {findProject, ownerHere} from './projects.js';
import {findUser} from './users.js';

/** An API token as handed to its owner once: `<id>.<secret>`; the store keeps only the secret's hash. */
export function formatToken(id: string, secret: string): string {
	return `${id}.${secret}`;
}

/** A hash no secret matches, for presented ids that name no token: every answer costs one comparison. */
const DECOY_HASH = sha256('orgctl decoy token secret');

/**
 * The actor an API token (ORGCTL_TOKEN) stands for: its owner, if the token exists, matches, is not
 * revoked, carries `cli` and the owner may still act. Every refusal is audited (naming the token's
 * owner when the secret proved the token, an anonymous `token` otherwise). Records when it was
 * last used.
 */
export async function authenticateToken(ctx: Context, presented: string, tenantName?: string): Promise<Actor> {
	const [id, secret] = presented.trim().split('.', 2);
	const db = ctx.store.read();
	const token = id && /^[0-9a-f]{32}$/.test(id) ? db.tokens.find(t => t.id === id) : undefined;
	const matches = secretMatches(secret ?? '', token?.secretHash ?? DECOY_HASH);
	const target = `token ${(id ?? '').slice(0, 8) || '(malformed)'}`;
	if (!token || !secret || !matches) {
		return refuse(ctx, {label: 'token', tenantId: null}, 'authenticate', target, authFailed('The API token in ORGCTL_TOKEN is not valid; it may have been deleted.'));
	}
	const owner = db.users.find(u => u.id === token.owner);
	const ownerTenant = owner ? db.tenants.find(t => t.id === owner.tenantId) : undefined;
	const who: AuditActor = owner && ownerTenant ? {user: owner, tenant: ownerTenant, tokenId: token.id} : {label: 'token', tenantId: token.tenantId};
	if (token.revoked) {
		return refuse(ctx, who, 'authenticate', target, authFailed(`The API token ${token.name} was revoked on ${token.revoked.at} (${token.revoked.reason}); its owner can re-issue it with \`orgctl tokens reissue ${token.id.slice(0, 8)}\`.`));
	}
	// A token made to post crashes must not carry its owner's whole account: only `cli` tokens act as the owner.
	if (!actsAsOwner(token)) {
		return refuse(ctx, who, 'authenticate', target, authFailed(`The API token ${token.name} lacks the cli capability needed for ORGCTL_TOKEN; create one with \`orgctl tokens create NAME --project P --capability cli\`.`));
	}
	const actor = await enterTenant(ctx, token.owner, tenantName, {tokenId: token.id});
	// Hourly resolution is enough for "last used", and spares a write on every command.
	const now = ctx.now();
	if (!token.lastUsed || now.getTime() - new Date(token.lastUsed).getTime() > 3_600_000) {
		await ctx.store.transact(d => {
			const t = d.tokens.find(x => x.id === token.id);
			if (t) t.lastUsed = now.toISOString();
		});
	}
	return actor;
}

/**
 * What an API token may do on the server (the vocabulary of the crash-reporting API), plus `cli`:
 * act as the owner through ORGCTL_TOKEN. `cli` is never a default.
 */
export const TOKEN_CAPABILITIES = ['error:post', 'symbol:post', 'query:post', 'sync:post', 'cli'] as const;
export type TokenCapability = (typeof TOKEN_CAPABILITIES)[number];
/** A token created without --capability may submit crashes and nothing else. */
export const DEFAULT_CAPABILITIES: readonly TokenCapability[] = ['error:post'];

/** A token as shown outside the store: never the secret's hash; with owner and project names. */
export type TokenView = Omit<ApiToken, 'secretHash'> & {ownerName: string; project: string};

export function tokenView(db: Database, token: ApiToken): TokenView {
	const {secretHash, ...rest} = token;
	return {
		...rest,
		ownerName: db.users.find(u => u.id === token.owner)?.username ?? '?',
		project: db.projects.find(p => p.id === token.projectId)?.name ?? '?',
	};
}

export function checkCapabilities(capabilities: readonly string[]): TokenCapability[] {
	if (capabilities.length === 0) return [...DEFAULT_CAPABILITIES];
	const known = new Set<string>(TOKEN_CAPABILITIES);
	for (const c of capabilities) {
		if (!known.has(c)) throw invalid(`"${c}" is not a token capability: use ${TOKEN_CAPABILITIES.join(', ')}.`);
	}
	return [...new Set(capabilities)] as TokenCapability[];
}


/**
 * The check createToken runs, and the console's `t` key before its form opens: the policy's
 * `tokens.create` for a token on `project`, owned by `token.owner` (the actor when not named) with
 * `token.capabilities` (none named: no `cli`).
 */
export function assertMayAddToken(db: Database, actor: Actor, project: Pick<Project, 'id'>, token: {owner?: string; capabilities?: readonly string[]} = {}): void {
	authorize(actor, 'tokens.create', tokenFacts(db, {owner: token.owner ?? actor.user.id, projectId: project.id, capabilities: token.capabilities ?? []}));
}

/**
 * Creates an API token for a project, owned by the actor or (admins) by another user. The secret is
 * returned here once, as `<id>.<secret>`; the store keeps only its SHA-256. Members may create
 * tokens only for their own projects; a `cli` token only for themselves, whoever they are.
 */
export async function createToken(
	ctx: Context,
	actor: Actor,
	input: {name: string; project: string; capabilities?: readonly string[]; owner?: string},
): Promise<{token: ApiToken; secret: string}> {
	const secret = newSecret();
	const token = await perform(ctx, actor, 'token.create', `${input.name} (${input.project})`, db => {
		const name = atField('name', () => parseInput(tokenNameSchema(), input.name.trim()));
		const capabilities = checkCapabilities(input.capabilities ?? []);
		const project = findProject(db, actor.tenant.id, input.project);
		const owner = input.owner === undefined ? ownerHere(actor, 'API token') : findUser(db, actor.tenant.id, input.owner);
		assertMayAddToken(db, actor, project, {owner: owner.id, capabilities});
		assertMayOwn(owner, {kind: 'token'});
		const clash = db.tokens.find(t => t.projectId === project.id && t.name.toLowerCase() === name.toLowerCase());
		if (clash) throw conflict(`The project ${project.name} already has a token named ${clash.name}.`, {field: 'name'});
		const record: ApiToken = {
			id: newId(),
			tenantId: actor.tenant.id,
			name,
			owner: owner.id,
			projectId: project.id,
			capabilities,
			secretHash: sha256(secret),
			created: ctx.now().toISOString(),
			lastUsed: null,
			revoked: null,
			revision: 1,
		};
		db.tokens.push(record);
		return record;
	});
	return {token, secret: formatToken(token.id, secret)};
}

/** Tokens of the tenant for admins, a user's own tokens otherwise; newest first. A refusal is audited. */
export async function listTokens(ctx: Context, actor: Actor): Promise<TokenView[]> {
	return checked(ctx, actor, 'tokens.list', actor.tenant.name, db => listTokensIn(db, actor));
}

/** listTokens over data already read (the console derives its rows from the data it renders). */
export function listTokensIn(db: Database, actor: Actor): TokenView[] {
	const everyone = allowed(actor, 'tokens.list-all');
	return db.tokens
		.filter(t => t.tenantId === actor.tenant.id && (everyone || t.owner === actor.user.id))
		.sort((a, b) => b.created.localeCompare(a.created))
		.map(t => tokenView(db, t));
}

/**
 * A token by a unique id prefix (as morgue abbreviates ids), among those the actor may see: the
 * tenant's for admins, their own for members and guests, so a prefix tells nobody of a token they
 * could not list (its owner, its capabilities, that it exists).
 */
export function findToken(db: Database, actor: Actor, idPrefix: string): ApiToken {
	const everyone = allowed(actor, 'tokens.list-all');
	return byIdPrefix(
		db.tokens.filter(t => t.tenantId === actor.tenant.id && (everyone || t.owner === actor.user.id)),
		idPrefix,
		'API token',
	);
}

/**
 * Gives a token to another user of the tenant (admins; the new owner must be able to own it). Its
 * secret is revoked in the same transaction: a credential never changes hands (DESIGN §2), and the
 * admin who moves it is not the one who may see a new one. The new owner re-issues it
 * (`reissueToken`) and is the only one shown the new secret; until then nothing can use it.
 */
export async function transferToken(ctx: Context, actor: Actor, idPrefix: string, toName: string, options: {expectedRevision?: number} = {}): Promise<ApiToken> {
	return perform(ctx, actor, 'token.transfer', `${idPrefix} → ${toName}`, db => {
		const token = findToken(db, actor, idPrefix);
		assertRevision(token, options.expectedRevision, `The API token ${token.name}`);
		const {from, to} = migrationEnds(db, actor, token.owner, toName);
		applyMigration(db, ctx, actor, from, to, planMigration(db, from, to, [{kind: 'token', id: token.id}]));
		return token;
	});
}

/** The check reissueToken runs, and the console's `r` key on a token: the policy's `tokens.reissue` on it. */
export function assertMayReissueToken(db: Database, actor: Actor, token: Pick<ApiToken, 'owner' | 'projectId' | 'capabilities'>): void {
	authorize(actor, 'tokens.reissue', tokenFacts(db, token));
}

/**
 * Gives a token a fresh secret, shown here once, and makes it work again if it was revoked; the old
 * secret stops at once. A `cli` token only by its owner (it acts as them); another by whoever may
 * create it for that owner.
 */
export async function reissueToken(ctx: Context, actor: Actor, idPrefix: string, options: {expectedRevision?: number} = {}): Promise<{token: ApiToken; secret: string}> {
	const secret = newSecret();
	const token = await perform(ctx, actor, 'token.reissue', idPrefix, db => {
		const record = findToken(db, actor, idPrefix);
		assertRevision(record, options.expectedRevision, `The API token ${record.name}`);
		assertMayReissueToken(db, actor, record);
		const owner = db.users.find(u => u.id === record.owner);
		if (owner) assertMayOwn(owner, {kind: 'token'});
		record.secretHash = sha256(secret);
		record.revoked = null;
		record.lastUsed = null;
		touch(record);
		return record;
	});
	return {token, secret: formatToken(token.id, secret)};
}

/** The check deleteToken runs, and the console's `d` key on a token: the policy's `tokens.manage` on it. */
export function assertMayDeleteToken(db: Database, actor: Actor, token: Pick<ApiToken, 'owner' | 'projectId' | 'capabilities'>): void {
	authorize(actor, 'tokens.manage', tokenFacts(db, token));
}

/** Deletes a token: it stops working at once. Its owner or an admin may (a superuser's: only a superuser). */
export async function deleteToken(ctx: Context, actor: Actor, idPrefix: string, options: {expectedRevision?: number} = {}): Promise<ApiToken> {
	return perform(ctx, actor, 'token.delete', idPrefix, db => {
		const token = findToken(db, actor, idPrefix);
		assertRevision(token, options.expectedRevision, `The API token ${token.name}`);
		assertMayDeleteToken(db, actor, token);
		db.tokens = db.tokens.filter(t => t.id !== token.id);
		return token;
	});
}
