import {authorize, checked, perform} from './audit.js';
import type {Actor, Context} from './context.js';
import {normaliseDomain, parseAddress, type Address} from './email.js';
import {conflict, invalid, notFound, OrgError, refused} from './errors.js';
import {quoted, shortened} from './words.js';
import {newId} from './ids.js';
import {echo} from './inert.js';
import {touch, assertRevision} from './accounts.js';
import type {AuthMethod, Database, Role, SignupDomain} from './model.js';
import {canGrantRole} from './policy.js';
import {isPublicWebmailDomain} from './webmail.js';

/** A sign-up domain with who it already covers: users and pending invitations at that domain. */
export type SignupDomainView = SignupDomain & {
	readonly users: readonly string[];
	readonly invitations: readonly string[];
};

/**
 * Normalises a domain an admin typed for self sign-up: lower case, IDN to ASCII, one trailing
 * dot dropped (`corp.com.` is the same name written fully qualified). Throws one sentence if it
 * is not a domain, or looks like an address or a wildcard.
 */
export function normaliseSignupDomain(input: string): string {
	const text = input.trim();
	if (text.includes('@')) throw invalid(`${quoted(input)} is an e-mail address; give only the domain, e.g. ${shortened(text.split('@').pop() || 'corp.com')}.`, {field: 'domain'});
	if (text.includes('*')) throw invalid(`${quoted(input)} has a wildcard; list each domain and subdomain on its own, e.g. corp.com and eu.corp.com.`, {field: 'domain'});
	const domain = normaliseDomain(text.endsWith('.') && !text.endsWith('..') ? text.slice(0, -1) : text);
	if (!domain) throw invalid(`${quoted(input)} is not a domain name we accept: use a public DNS name such as corp.com, without spaces, ports or invisible characters.`, {field: 'domain'});
	return domain;
}

/** The domain of an e-mail address as the matching sees it (normalised), or undefined when the address is not one we accept. */
export function emailDomain(email: string): string | undefined {
	try {
		return parseAddress(email).domain;
	} catch {
		return undefined;
	}
}

/**
 * The sign-up domain of `tenantId` that an address falls under, if any. The address must pass
 * our strict parse and its normalised domain must equal a listed domain exactly: subdomains,
 * look-alikes and parser tricks do not match.
 */
export function matchSignupDomain(db: Database, tenantId: string, email: string): {address: Address; domain: SignupDomain} | undefined {
	let address: Address;
	try {
		address = parseAddress(email);
	} catch {
		return undefined;
	}
	const domain = db.signupDomains.find(d => d.tenantId === tenantId && d.domain === address.domain);
	return domain ? {address, domain} : undefined;
}

/** Tenants that list the domain of this address for self sign-up. */
export function tenantsForSignup(db: Database, email: string): string[] {
	const domain = emailDomain(email);
	if (!domain) return [];
	const ids = new Set(db.signupDomains.filter(d => d.domain === domain).map(d => d.tenantId));
	return db.tenants.filter(t => ids.has(t.id)).map(t => t.name);
}

/** Whether any tenant (or the named one) has a sign-up domain: the login screen offers "Sign up" only then. */
export function signupOpen(db: Database, tenantName?: string): boolean {
	const tenant = tenantName ? db.tenants.find(t => t.name === tenantName) : undefined;
	return db.signupDomains.some(d => !tenantName || d.tenantId === tenant?.id);
}

function coverage(db: Database, domain: SignupDomain): SignupDomainView {
	const users = db.users.filter(u => u.tenantId === domain.tenantId && emailDomain(u.email) === domain.domain).map(u => u.username);
	const invitations = db.invitations.filter(i => i.tenantId === domain.tenantId && emailDomain(i.email) === domain.domain).map(i => i.email);
	return {...domain, users, invitations};
}

/** The sign-up domains of the actor's tenant in domain order, each with the users and pending invitations it covers (admins and superusers); a refusal is audited. */
export async function listSignupDomains(ctx: Context, actor: Actor): Promise<SignupDomainView[]> {
	return checked(ctx, actor, 'signup-domains.list', actor.tenant.name, db => listSignupDomainsIn(db, actor));
}

/** listSignupDomains over data already read (the console derives its rows from the data it renders). */
export function listSignupDomainsIn(db: Database, actor: Actor): SignupDomainView[] {
	authorize(actor, 'signup-domains.configure');
	return db.signupDomains
		.filter(d => d.tenantId === actor.tenant.id)
		.sort((a, b) => a.domain.localeCompare(b.domain))
		.map(d => coverage(db, d));
}

function findDomain(db: Database, tenantId: string, name: string): SignupDomain {
	let domain: string;
	try {
		domain = normaliseSignupDomain(name);
	} catch {
		domain = name.trim().toLowerCase();
	}
	const record = db.signupDomains.find(d => d.tenantId === tenantId && d.domain === domain);
	if (!record) throw notFound(`${echo(name)} is not a sign-up domain of this tenant.`);
	return record;
}

function checkRole(actor: Actor, role: Role, domain: string): void {
	if (!canGrantRole(actor.user, role)) {
		throw refused(`A ${actor.user.role} cannot open sign-up for ${domain} with the ${role} role: nobody grants a role above their own.`);
	}
}

/**
 * Lists a domain for self sign-up in the actor's tenant with its own role (default member) and
 * method (default password). Public webmail is refused while the org policy blocks it.
 */
export async function addSignupDomain(ctx: Context, actor: Actor, input: {domain: string; role?: Role; method?: AuthMethod}): Promise<SignupDomain> {
	const role = input.role ?? 'member';
	const method = input.method ?? 'password';
	return perform(ctx, actor, 'signup-domain.add', input.domain.trim(), db => {
		authorize(actor, 'signup-domains.configure');
		const domain = normaliseSignupDomain(input.domain);
		checkRole(actor, role, domain);
		if (db.settings.policy.blockPublicWebmailDomains && isPublicWebmailDomain(domain)) {
			throw new OrgError('refused', `${domain} is a public webmail domain where anyone can get an address, so it cannot open sign-up while the org policy blocks public webmail.`, {field: 'domain'});
		}
		if (db.signupDomains.some(d => d.tenantId === actor.tenant.id && d.domain === domain)) {
			throw conflict(`${domain} is already a sign-up domain of this tenant; edit it to change its role or method.`, {field: 'domain'});
		}
		const record: SignupDomain = {
			id: newId(),
			tenantId: actor.tenant.id,
			domain,
			role,
			method,
			created: ctx.now().toISOString(),
			createdBy: actor.user.id,
			revision: 1,
		};
		db.signupDomains.push(record);
		return record;
	});
}

/** Changes the role or method a sign-up domain gives; `revision` guards against another admin's edit. */
export async function editSignupDomain(ctx: Context, actor: Actor, name: string, change: {role?: Role; method?: AuthMethod; revision?: number}): Promise<SignupDomain> {
	return perform(ctx, actor, 'signup-domain.edit', name.trim(), db => {
		authorize(actor, 'signup-domains.configure');
		const record = findDomain(db, actor.tenant.id, name);
		assertRevision(record, change.revision, `The sign-up domain ${record.domain}`);
		// Editing a domain that already grants a role above the actor's would let them keep it open.
		checkRole(actor, record.role, record.domain);
		if (change.role) checkRole(actor, change.role, record.domain);
		if (change.role === undefined && change.method === undefined) throw invalid('Nothing to change: give a role, a method or both.');
		if (change.role) record.role = change.role;
		if (change.method) record.method = change.method;
		touch(record);
		return record;
	});
}

/** Closes sign-up for a domain; sign-ups waiting for their code at that domain end with it. */
export async function removeSignupDomain(ctx: Context, actor: Actor, name: string): Promise<SignupDomain> {
	return perform(ctx, actor, 'signup-domain.remove', name.trim(), db => {
		authorize(actor, 'signup-domains.configure');
		const record = findDomain(db, actor.tenant.id, name);
		checkRole(actor, record.role, record.domain);
		db.signupDomains = db.signupDomains.filter(d => d.id !== record.id);
		db.pendingSignups = db.pendingSignups.filter(p => p.domainId !== record.id);
		return record;
	});
}
