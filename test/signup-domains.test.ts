import {beforeAll, describe, expect, it} from 'vitest';
import {newUser, resolveActor} from '../source/core/accounts.js';
import {setRole} from '../source/core/user-admin.js';
import type {Actor} from '../source/core/context.js';
import type {Role} from '../source/core/model.js';
import {addSignupDomain, editSignupDomain, listSignupDomains, matchSignupDomain, normaliseSignupDomain, removeSignupDomain} from '../source/core/signup-domains.js';
import {initializedContext} from './helpers/store.js';

type Ctx = Awaited<ReturnType<typeof initializedContext>>['ctx'];

/** Adds a user straight to the store (setup only; the operations under test go through the core). */
async function addUser(ctx: Ctx, root: Actor, username: string, role: Role, email = `${username}@example.com`): Promise<Actor> {
	return ctx.store.transact(db => {
		const user = newUser(ctx, {tenantId: root.tenant.id, username, email, role, method: 'password', passwordHash: null});
		db.users.push(user);
		return {user, tenant: root.tenant};
	});
}

describe('which addresses a sign-up domain matches', () => {
	let match: (email: string) => string | null;
	beforeAll(async () => {
		const {ctx, root} = await initializedContext();
		await addSignupDomain(ctx, root, {domain: 'corp.com'});
		await addSignupDomain(ctx, root, {domain: 'eu.corp.com'});
		await addSignupDomain(ctx, root, {domain: 'BÜCHER.de'});
		const db = ctx.store.read();
		match = email => matchSignupDomain(db, root.tenant.id, email)?.domain.domain ?? null;
	});

	// [address, the listed domain it falls under (null: none), why]
	const table: ReadonlyArray<readonly [string, string | null, string]> = [
		['alice@corp.com', 'corp.com', 'the listed domain'],
		['Alice@CORP.COM', 'corp.com', 'upper case is the same domain'],
		['alice@Corp.Com', 'corp.com', 'mixed case'],
		['  alice@corp.com  ', 'corp.com', 'surrounding spaces are trimmed'],
		['alice+tag@corp.com', 'corp.com', 'plus-addressing stays in the corp mailbox'],
		['alice.smith@corp.com', 'corp.com', 'dots in the local part'],
		['bob@eu.corp.com', 'eu.corp.com', 'a subdomain that is listed itself'],
		['bob@us.corp.com', null, 'a subdomain that is not listed'],
		['bob@mail.eu.corp.com', null, 'a sub-subdomain of a listed subdomain'],
		['a@corp.com.evil.com', null, 'the listed domain as a prefix of another'],
		['a@evilcorp.com', null, 'the listed domain as a suffix of a label'],
		['a@corp.co', null, 'a shorter domain'],
		['a@corp.com.', null, 'a trailing dot'],
		['a@corp.com..', null, 'two trailing dots'],
		['a@evil.com?@corp.com', null, 'two @ with a query'],
		['a@evil.com@corp.com', null, 'two @'],
		['corp.com@evil.com', null, 'the listed domain in the local part'],
		['a%evil.com@corp.com', null, 'the percent hack'],
		['"a@evil.com"@corp.com', null, 'a quoted local part hiding an @'],
		['"alice"@corp.com', null, 'a quoted local part'],
		['alice(comment)@corp.com', null, 'a comment in the local part'],
		['alice@corp.com(comment)', null, 'a comment after the domain'],
		['alice@(comment)corp.com', null, 'a comment before the domain'],
		['Alice <alice@corp.com>', null, 'a display name'],
		['a@evil.com,b@corp.com', null, 'an address list'],
		['a@corp.com,', null, 'a trailing comma'],
		['a@corp.com\nBcc: x@evil.com', null, 'a header injection'],
		['a@c\u043erp.com', null, 'a Cyrillic о in corp.com (punycode differs)'],
		['a@c\u03bfrp.com', null, 'a Greek ο in corp.com'],
		['a@\uff43\uff4f\uff52\uff50.com', null, 'full-width letters IDNA would fold to corp.com'],
		['a@corp\uff0ecom', null, 'a full-width dot'],
		['a@corp.com\u3002', null, 'an ideographic full stop as trailing dot'],
		['a@cor\u00adp.com', null, 'a soft hyphen IDNA would drop'],
		['a@cor\u200bp.com', null, 'a zero-width space'],
		['a@corp%2ecom', null, 'a percent-escaped dot'],
		['a@corp.com:25', null, 'a port'],
		['a@[192.0.2.1]', null, 'an address literal'],
		['a@corp..com', null, 'an empty label'],
		['a..b@corp.com', null, 'two dots in the local part'],
		['.a@corp.com', null, 'a leading dot in the local part'],
		['\u0430lice@corp.com', null, 'a Cyrillic а in the local part'],
		['a\\@evil.com@corp.com', null, 'an escaped @'],
		['a@corp.com\u0000', null, 'a NUL byte'],
		['@corp.com', null, 'no local part'],
		['alice@', null, 'no domain'],
		['a@b\u00fccher.de', 'xn--bcher-kva.de', 'an IDN domain in Unicode'],
		['a@B\u00dcCHER.DE', 'xn--bcher-kva.de', 'an IDN domain in upper case'],
		['a@xn--bcher-kva.de', 'xn--bcher-kva.de', 'an IDN domain in punycode'],
		['a@bucher.de', null, 'the IDN domain without its umlaut'],
	];

	it.each(table)('%j → %s (%s)', (email, expected) => {
		expect(match(email)).toBe(expected);
	});

	it('covers at least 30 addresses', () => {
		expect(table.length).toBeGreaterThanOrEqual(30);
	});
});

describe('configuring sign-up domains', () => {
	it('normalises a domain: lower case, IDN to ASCII, no trailing dot', async () => {
		expect(normaliseSignupDomain('Corp.COM.')).toBe('corp.com');
		expect(normaliseSignupDomain('bücher.de')).toBe('xn--bcher-kva.de');
		expect(() => normaliseSignupDomain('alice@corp.com')).toThrow(/give only the domain, e.g. corp.com/);
		expect(() => normaliseSignupDomain('*.corp.com')).toThrow(/wildcard/);
		expect(() => normaliseSignupDomain('localhost')).toThrow(/not a domain name/);
		expect(() => normaliseSignupDomain('corp.com:443')).toThrow(/not a domain name/);
	});

	it('an admin adds a domain with member and password by default, and it is audited', async () => {
		const {ctx, root} = await initializedContext();
		const admin = await addUser(ctx, root, 'ada', 'admin');
		const added = await addSignupDomain(ctx, admin, {domain: 'Corp.com'});
		expect(added).toMatchObject({domain: 'corp.com', role: 'member', method: 'password', tenantId: root.tenant.id});
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'signup-domain.add', actor: 'ada', result: 'ok'});
	});

	it('each domain keeps its own role and method', async () => {
		const {ctx, root} = await initializedContext();
		await addSignupDomain(ctx, root, {domain: 'corp.com', role: 'guest', method: 'saml'});
		await addSignupDomain(ctx, root, {domain: 'eng.corp.com', role: 'admin', method: 'pam'});
		expect((await listSignupDomains(ctx, root)).map(d => [d.domain, d.role, d.method])).toEqual([
			['corp.com', 'guest', 'saml'],
			['eng.corp.com', 'admin', 'pam'],
		]);
	});

	it('a member or a guest cannot configure sign-up domains, and the refusal is audited', async () => {
		const {ctx, root} = await initializedContext();
		for (const role of ['member', 'guest'] as const) {
			const actor = await addUser(ctx, root, role, role);
			await expect(addSignupDomain(ctx, actor, {domain: 'corp.com'})).rejects.toThrow('Only admins can configure self sign-up domains.');
			expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'signup-domain.add', actor: role, result: 'refused'});
			await expect(listSignupDomains(ctx, actor)).rejects.toThrow(/Only admins/);
			expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'signup-domains.list', actor: role, result: 'refused'});
		}
		expect(ctx.store.read().signupDomains).toHaveLength(0);
	});

	it('an admin may open a domain with the admin role; once demoted, they can no longer touch it', async () => {
		const {ctx, root} = await initializedContext();
		const admin = await addUser(ctx, root, 'ada', 'admin');
		await expect(addSignupDomain(ctx, admin, {domain: 'corp.com', role: 'admin'})).resolves.toMatchObject({role: 'admin'});
		await setRole(ctx, root, 'ada', 'member');
		const demoted: Actor = resolveActor(ctx.store.read(), admin.user.id);
		await expect(editSignupDomain(ctx, demoted, 'corp.com', {method: 'pam'})).rejects.toThrow(/Only admins/);
	});

	it('public webmail is refused while the policy blocks it, and allowed when it does not', async () => {
		const {ctx, root} = await initializedContext();
		for (const domain of ['gmail.com', 'Outlook.com', 'hotmail.com', 'yahoo.com', 'icloud.com', 'proton.me', 'gmx.de', 'mail.ru', 'yandex.ru', 'qq.com', 'aol.com']) {
			await expect(addSignupDomain(ctx, root, {domain})).rejects.toThrow(/is a public webmail domain/);
		}
		await ctx.store.transact(db => {
			db.settings.policy.blockPublicWebmailDomains = false;
		});
		await expect(addSignupDomain(ctx, root, {domain: 'gmail.com'})).resolves.toMatchObject({domain: 'gmail.com'});
	});

	it('a duplicate is refused, however it is written', async () => {
		const {ctx, root} = await initializedContext();
		await addSignupDomain(ctx, root, {domain: 'bücher.de'});
		await expect(addSignupDomain(ctx, root, {domain: 'XN--BCHER-KVA.DE.'})).rejects.toThrow(/already a sign-up domain/);
	});

	it('edit changes role and method; remove closes it and ends sign-ups waiting there', async () => {
		const {ctx, root} = await initializedContext();
		const added = await addSignupDomain(ctx, root, {domain: 'corp.com'});
		const edited = await editSignupDomain(ctx, root, 'CORP.com', {role: 'guest', method: 'pam', revision: added.revision});
		expect(edited).toMatchObject({role: 'guest', method: 'pam', revision: 2});
		await expect(editSignupDomain(ctx, root, 'corp.com', {role: 'member', revision: 1})).rejects.toThrow(/changed by another admin/);
		await expect(removeSignupDomain(ctx, root, 'other.com')).rejects.toThrow('other.com is not a sign-up domain of this tenant.');
		await removeSignupDomain(ctx, root, 'corp.com');
		expect(ctx.store.read().signupDomains).toHaveLength(0);
		expect(ctx.store.read().audit.map(e => e.action)).toEqual(expect.arrayContaining(['signup-domain.edit', 'signup-domain.remove']));
	});

	it('shows which existing users and pending invitations each domain covers', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root, 'alice', 'member', 'Alice@Corp.com');
		await addUser(ctx, root, 'eve', 'member', 'eve@corp.com.evil.com');
		await ctx.store.transact(db => {
			db.invitations.push({
				id: 'ab'.repeat(16),
				tenantId: root.tenant.id,
				username: 'bob',
				email: 'bob@corp.com',
				role: 'member',
				method: 'password',
				invitedBy: root.user.id,
				created: ctx.now().toISOString(),
				expires: ctx.now().toISOString(),
				secretHash: '0'.repeat(64),
				secretSealed: 'a.b.c',
				mail: {state: 'sent', at: ctx.now().toISOString()},
				sentCount: 1,
				revision: 1,
			});
		});
		await addSignupDomain(ctx, root, {domain: 'corp.com'});
		const [view] = await listSignupDomains(ctx, root);
		expect(view).toMatchObject({domain: 'corp.com', users: ['alice'], invitations: ['bob@corp.com']});
	});

	it('a superuser configures another tenant by acting in it; its domains stay apart', async () => {
		const {ctx, root} = await initializedContext();
		const other = await ctx.store.transact(db => {
			const tenant = {id: 'cd'.repeat(16), name: 'other', created: ctx.now().toISOString(), revision: 1};
			db.tenants.push(tenant);
			return tenant;
		});
		await addSignupDomain(ctx, {user: root.user, tenant: other}, {domain: 'corp.com'});
		expect(await listSignupDomains(ctx, root)).toEqual([]);
		expect((await listSignupDomains(ctx, {user: root.user, tenant: other})).map(d => d.domain)).toEqual(['corp.com']);
		expect(matchSignupDomain(ctx.store.read(), root.tenant.id, 'a@corp.com')).toBeUndefined();
	});
});
