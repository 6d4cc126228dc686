import {assertRevision, resolveActor} from './accounts.js';
import {authorize, perform} from './audit.js';
import {actorFacts, type Actor, type Context} from './context.js';
import {atField, authFailed, conflict, invalid, refused} from './errors.js';
import {byIdPrefix, newId, newSecret, secretMatches, sha256} from './ids.js';
import {parseInput} from './input.js';
import {tokenNameSchema, type ApiToken, type Database, type Project} from './model.js';
import {applyMigration, assertMayOwn, migrationEnds, planMigration} from './ownership.js';
import {decide} from './policy.js';
import {assertMayManage, findProject} from './projects.js';
import {findUser} from './users.js';

/** An API token as handed to its owner once: `<id>.<secret>`; the store keeps only the secret's hash. */
export function formatToken(id: string, secret: string): string {
	return `${id}.${secret}`;
}

/**
 * The actor an API token (ORGCTL_TOKEN) stands for: its owner, if the token exists, matches and the
 * owner may still sign in. Records when it was last used.
 */
export async function authenticateToken(ctx: Context, presented: string, tenantName?: string): Promise<Actor> {
	const [id, secret] = presented.trim().split('.', 2);
	const db = ctx.store.read();
	const token = id && secret ? db.tokens.find(t => t.id === id) : undefined;
	if (!token || !secretMatches(secret!, token.secretHash)) throw authFailed('The API token in ORGCTL_TOKEN is not valid; it may have been deleted.');
	// A token made to post crashes must not carry its owner's whole account: only `cli` tokens act as the owner.
	if (!token.capabilities.includes('cli')) {
		throw authFailed(`The API token ${token.name} lacks the cli capability needed for ORGCTL_TOKEN; create one with \`orgctl tokens create NAME --project P --capability cli\`.`);
	}
	const actor: Actor = {...resolveActor(db, token.owner, tenantName), tokenId: token.id};
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

/** Members add tokens only to their own projects; admins to any project of the tenant. */
export function assertMayAddToken(actor: Actor, project: Pick<Project, 'name' | 'owner'>): void {
	authorize(actor, 'tokens.create');
	if (!decide(actorFacts(actor), 'ownership.migrate').allowed && project.owner !== actor.user.id) {
		throw refused(`Members can create API tokens only for their own projects; ${project.name} belongs to someone else.`);
	}
}

/**
 * Creates an API token for a project, owned by the actor or (admins) by another user. The secret is
 * returned here once, as `<id>.<secret>`; the store keeps only its SHA-256. Members may create
 * tokens only for their own projects.
 */
export async function createToken(
	ctx: Context,
	actor: Actor,
	input: {name: string; project: string; capabilities?: readonly string[]; owner?: string},
): Promise<{token: ApiToken; secret: string}> {
	const secret = newSecret();
	const token = await perform(ctx, actor, 'token.create', `${input.name} (${input.project})`, db => {
		const name = atField('name', () => parseInput(tokenNameSchema, input.name.trim()));
		const capabilities = checkCapabilities(input.capabilities ?? []);
		const project = findProject(db, actor.tenant.id, input.project);
		const owner = input.owner === undefined ? actor.user : findUser(db, actor.tenant.id, input.owner);
		authorize(actor, 'tokens.create', {ownerId: owner.id});
		assertMayAddToken(actor, project);
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
			revision: 1,
		};
		db.tokens.push(record);
		return record;
	});
	return {token, secret: formatToken(token.id, secret)};
}

/** Tokens of the tenant for admins, a member's own tokens otherwise; newest first. */
export function listTokens(ctx: Context, actor: Actor): TokenView[] {
	return listTokensIn(ctx.store.read(), actor);
}

/** listTokens over data already read (the console derives its rows from the data it renders). */
export function listTokensIn(db: Database, actor: Actor): TokenView[] {
	const everyone = decide(actorFacts(actor), 'ownership.migrate').allowed;
	return db.tokens
		.filter(t => t.tenantId === actor.tenant.id && (everyone || t.owner === actor.user.id))
		.sort((a, b) => b.created.localeCompare(a.created))
		.map(t => tokenView(db, t));
}

/** A token of the tenant by a unique id prefix (as morgue abbreviates ids). */
export function findToken(db: Database, tenantId: string, idPrefix: string): ApiToken {
	return byIdPrefix(
		db.tokens.filter(t => t.tenantId === tenantId),
		idPrefix,
		'API token',
	);
}

/** Gives a token to another user of the tenant (admins; the new owner must be able to own it). */
export async function transferToken(ctx: Context, actor: Actor, idPrefix: string, toName: string, options: {expectedRevision?: number} = {}): Promise<ApiToken> {
	return perform(ctx, actor, 'token.transfer', `${idPrefix} → ${toName}`, db => {
		const token = findToken(db, actor.tenant.id, idPrefix);
		assertRevision(token, options.expectedRevision, `The API token ${token.name}`);
		const {from, to} = migrationEnds(db, actor, token.owner, toName);
		applyMigration(db, ctx, actor, from, to, planMigration(db, from, to, [{kind: 'token', id: token.id}]));
		return token;
	});
}

/** Deletes a token: it stops working at once. Its owner or an admin may. */
export async function deleteToken(ctx: Context, actor: Actor, idPrefix: string, options: {expectedRevision?: number} = {}): Promise<ApiToken> {
	return perform(ctx, actor, 'token.delete', idPrefix, db => {
		const token = findToken(db, actor.tenant.id, idPrefix);
		assertRevision(token, options.expectedRevision, `The API token ${token.name}`);
		assertMayManage(actor, token.owner, `the API token ${token.name}`);
		db.tokens = db.tokens.filter(t => t.id !== token.id);
		return token;
	});
}
