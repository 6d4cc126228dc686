import {readFileSync, writeFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {unknownThrottleKey} from '../source/core/accounts.js';
import {createInvitation} from '../source/core/invitations.js';
import {AUDIT_TEXT_MAX, DEFAULT_POLICY, SCHEMA_VERSION, tokenNameSchema} from '../source/core/model.js';
import {createProject} from '../source/core/projects.js';
import {addSignupDomain} from '../source/core/signup-domains.js';
import {createTenant} from '../source/core/tenants.js';
import {createToken} from '../source/core/tokens.js';
import {repairedTokenName} from '../source/store/migrations.js';
import {Store} from '../source/store/store.js';
import {initializedContext} from './helpers/store.js';

const ESC = '\u001b';
const TOKEN_NAME = `t${ESC}]0;TOK\u0007`;
const OSC52 = `${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\u0007`;

describe('names have character rules at the door', () => {
	it('a token name with a control character is refused, and the refusal is audited', async () => {
		const {ctx, root} = await initializedContext();
		await createProject(ctx, root, {name: 'p'});
		await expect(createToken(ctx, root, {name: TOKEN_NAME, project: 'p'})).rejects.toMatchObject({kind: 'invalid', message: expect.stringContaining('is not a valid token name')});
		expect(ctx.store.read().tokens).toEqual([]);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'token.create', result: 'refused', target: `${TOKEN_NAME} (p)`});
		// Words, other scripts and punctuation are names; invisible and bidirectional characters are not.
		for (const name of ['CI deploy (prod)', 'Zoë’s key', '日本のトークン', 'a/b:c@d']) expect(tokenNameSchema().safeParse(name).success, name).toBe(true);
		for (const name of ['', ' lead', 'trail ', 'two\tparts', 'rlo\u202eexe', 'zero\u200bwidth', 'nbsp\u00a0', 'x'.repeat(101), `e${'\u0301'.repeat(5)}`]) {
			expect(tokenNameSchema().safeParse(name).success, JSON.stringify(name)).toBe(false);
		}
	});

	it('project, tenant, user and domain names are checked by the model’s rule', async () => {
		const {ctx, root} = await initializedContext();
		await expect(createProject(ctx, root, {name: `p${OSC52}`})).rejects.toThrow(/is not a valid project name/);
		await expect(createTenant(ctx, root, `t${OSC52}`)).rejects.toThrow(/is not a valid tenant name/);
		await expect(createInvitation(ctx, root, {username: `m2${OSC52}`, email: 'm2@example.com'}, {sendEmail: false})).rejects.toThrow(/is not a valid username/);
		await expect(createInvitation(ctx, root, {username: 'm2', email: `m2@example.com${ESC}[2J`}, {sendEmail: false})).rejects.toThrow(/is not an e-mail address we accept/);
		await expect(addSignupDomain(ctx, root, {domain: `corp.com${ESC}]0;x\u0007`})).rejects.toThrow(/is not a domain name we accept/);
		expect(ctx.store.read().projects).toEqual([]);
		expect(ctx.store.read().invitations).toEqual([]);
	});

	it('a message quotes a rejected value short, never a whole paste', async () => {
		const {ctx, root} = await initializedContext();
		const paste = `m2${'A'.repeat(100_000)}`;
		const error = (await createInvitation(ctx, root, {username: paste, email: 'm2@example.com'}, {sendEmail: false}).then(
			() => new Error('accepted'),
			(e: unknown) => e,
		)) as Error;
		expect(error.message.length).toBeLessThan(250);
		expect(error.message).toMatch(/^"m2A+…" \(100,002 characters\) is not a valid username/);
	});
});

describe('a store file that breaks the name rules', () => {
	async function storeWith(edit: (data: {users: Array<Record<string, unknown>>}) => void): Promise<string> {
		const {ctx} = await initializedContext();
		const data = JSON.parse(readFileSync(ctx.store.path, 'utf8')) as {users: Array<Record<string, unknown>>};
		edit(data);
		writeFileSync(ctx.store.path, JSON.stringify(data), {mode: 0o600});
		return ctx.store.path;
	}

	it('is refused on open when a username holds a control character, and left as it was', async () => {
		const path = await storeWith(data => {
			data.users[0]!['username'] = `m2${OSC52}`;
		});
		const before = readFileSync(path);
		await expect(Store.open(path)).rejects.toMatchObject({kind: 'store', message: expect.stringMatching(/does not validate at users\.0\.username \(".*"( \([\d,]+ characters\))? is not a valid username/)});
		expect(readFileSync(path).equals(before)).toBe(true);
	});

	it('is refused on open when a sign-up domain is not in its normalised form', async () => {
		const path = await storeWith(data => {
			(data as unknown as {signupDomains: unknown[]; users: Array<{id: string; tenantId: string}>}).signupDomains.push({
				id: 'ab'.repeat(16),
				tenantId: data.users[0]!['tenantId'],
				domain: 'Corp.COM.',
				role: 'member',
				method: 'password',
				created: new Date().toISOString(),
				createdBy: data.users[0]!['id'],
				revision: 1,
			});
		});
		await expect(Store.open(path)).rejects.toThrow(/does not validate at signupDomains\.0\.domain \("Corp\.COM\." is not a normalised domain name such as corp\.com\.\)/);
	});

	it('is refused on open when an e-mail is not an address', async () => {
		const path = await storeWith(data => {
			data.users[0]!['email'] = 'root@example.com, evil@attacker.example';
		});
		await expect(Store.open(path)).rejects.toThrow(/does not validate at users\.0\.email \(.* is not an e-mail address orgctl accepts/);
	});
});

describe('a store written before the name rules and the bounds (schema version 3)', () => {
	it('is migrated with a backup: token names made visible, long texts cut, unknown throttle keys hashed, the changes audited', async () => {
		const {ctx, root} = await initializedContext();
		const project = await createProject(ctx, root, {name: 'p'});
		await createToken(ctx, root, {name: 'fine', project: 'p'});
		// Turn the file into one a version 3 orgctl could have written.
		const data = JSON.parse(readFileSync(ctx.store.path, 'utf8')) as Record<string, unknown> & {audit: Array<Record<string, unknown>>; tokens: Array<Record<string, unknown>>; settings: {policy: Record<string, unknown>}};
		const identifier = `m2${OSC52}${'x'.repeat(120_000)}`;
		data.schemaVersion = 3;
		delete data['housekeeping'];
		delete data.settings.policy['auditRetentionDays'];
		delete data.settings.policy['auditMaxEvents'];
		data.tokens.push({...data.tokens[0]!, id: 'ab'.repeat(16), name: TOKEN_NAME, projectId: project.id});
		data.audit.push({id: 'cd'.repeat(16), time: new Date().toISOString(), actor: identifier, tenantId: null, action: 'login', target: identifier, result: 'refused', reason: 'Wrong username, e-mail or password.'});
		data['throttles'] = [{key: `unknown:*/${identifier.toLowerCase()}`, failures: 3, lockedUntil: null, last: new Date().toISOString()}];
		const original = JSON.stringify(data);
		writeFileSync(ctx.store.path, original, {mode: 0o600});

		const store = await Store.open(ctx.store.path, {now: ctx.now});
		const db = store.read();
		expect(db.schemaVersion).toBe(SCHEMA_VERSION);
		expect(readFileSync(`${ctx.store.path}.v3.bak`, 'utf8')).toBe(original);
		expect(db.tokens.map(t => t.name)).toEqual(['fine', 't\\e]0;TOK\\x07']);
		const old = db.audit.find(e => e.id === 'cd'.repeat(16))!;
		expect(old.target).toBe(`${identifier.slice(0, AUDIT_TEXT_MAX)}…[+${identifier.length - AUDIT_TEXT_MAX}]`);
		expect(old.actor.length).toBeLessThan(AUDIT_TEXT_MAX + 20);
		expect(db.throttles).toEqual([expect.objectContaining({key: unknownThrottleKey(undefined, identifier), failures: 3})]);
		expect(db.settings.policy).toMatchObject({auditRetentionDays: DEFAULT_POLICY.auditRetentionDays, auditMaxEvents: DEFAULT_POLICY.auditMaxEvents});
		expect(db.audit.at(-1)).toMatchObject({actor: 'system', action: 'store.migrate', result: 'ok', target: expect.stringMatching(/^schema 4: renamed 1 API token .*t\\e\]0;TOK\\x07.*; cut 2 stored texts/)});
		expect(readFileSync(ctx.store.path).length).toBeLessThan(original.length / 10);
	});

	it('repairs a token name into one that follows the rule, or falls back to its id', () => {
		expect(repairedTokenName('already fine', 'ab'.repeat(16))).toBe('already fine');
		expect(repairedTokenName(`rtl\u202eexe  two\u00a0spaces`, 'ab'.repeat(16))).toBe('rtl\\u202eexe two\\u00a0spaces');
		expect(repairedTokenName('\u0007'.repeat(200), 'ab'.repeat(16))).toMatch(/^(\\x07){25}$/);
		expect(repairedTokenName(`e${'\u0301'.repeat(9)}`, 'ab'.repeat(16))).toBe('e\\u0301\\u0301\\u0301\\u0301\\u0301\\u0301\\u0301\\u0301\\u0301');
		expect(repairedTokenName('   ', 'ab'.repeat(16))).toBe('token abababab');
	});
});
