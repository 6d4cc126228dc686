import {randomBytes} from 'node:crypto';
import {assertAccountFree, checkUsername, newUser} from '../accounts.js';
import {appendAudit, refuse, type AuditActor} from '../audit.js';
import type {Context, SamlConfig} from '../context.js';
import {parseAddress} from '../email.js';
import {isOrgError, notFound, refused, unavailable} from '../errors.js';
import {inert} from '../inert.js';
import {quoted} from '../words.js';
import {assertSenderStands} from '../invitations/accept.js';
import {auditTarget, buryInvitation, isExpired} from '../invitations/record.js';
import type {Database, SamlPurpose, SamlRequest, Tenant, User} from '../model.js';
import {NAMEID_EMAIL, NAMEID_UNSPECIFIED} from '../saml-metadata.js';
import {matchSignupDomain} from '../signup-domains.js';
import {makeRoomForSignup} from '../signup.js';
import {MATCH_ATTRIBUTE_NAMES, spEndpoints} from '../sso-settings.js';
import {MAX_RESPONSE_BYTES} from './limits.js';
import type {CheckedAssertion} from './response.js';

/** A request we send is good for one answer within this time (the terminal's code lasts as long). */
export const SAML_REQUEST_SECONDS = 10 * 60;

const NOT_SET_UP = "Single sign-on is not set up on this server: a superuser sets the identity provider with orgctl settings sso set (or the console's Single Sign-On section).";

/** What the SAML library needs, from the stored settings: refused with one sentence while single sign-on is not set up. */
export function samlConfigIn(ctx: Context, db: Database): SamlConfig {
	const {sso, publicUrl} = db.settings;
	if (!sso.idp || !sso.sp) throw unavailable(NOT_SET_UP, {code: 'saml.not-set-up'});
	const {entityId, acsUrl} = spEndpoints(publicUrl);
	return {
		idp: sso.idp,
		spEntityId: entityId,
		acsUrl,
		nameIdFormat: sso.matchAttribute === 'nameid' ? NAMEID_EMAIL : NAMEID_UNSPECIFIED,
		spPrivateKeyPem: ctx.secrets.unseal(sso.sp.privateKeySealed),
		spCertificatePem: sso.sp.certificate,
	};
}

/** Whether single sign-on can be used now (an IdP and our key pair are set). */
export function ssoReady(db: Database): boolean {
	return db.settings.sso.idp !== null && db.settings.sso.sp !== null;
}

/** A request id as SAML wants it: an xs:ID, so it starts with a letter or `_`. */
function newRequestId(): string {
	return `_${randomBytes(20).toString('hex')}`;
}

/** Drops what can no longer matter: expired requests and assertions past their validity (inside a transaction). */
function prune(db: Database, now: Date): void {
	const iso = now.toISOString();
	db.samlRequests = db.samlRequests.filter(r => r.expires > iso);
	db.samlAssertions = db.samlAssertions.filter(a => a.expires > iso);
}

/** Records a request for `purpose` (inside the caller's transaction) and returns its id. */
export function addSamlRequest(ctx: Context, db: Database, purpose: SamlPurpose): string {
	const now = ctx.now();
	prune(db, now);
	const id = newRequestId();
	db.samlRequests.push({id, created: now.toISOString(), expires: new Date(now.getTime() + SAML_REQUEST_SECONDS * 1000).toISOString(), purpose, state: 'pending'});
	return id;
}

function isPendingIn(db: Database, id: string, now: Date): SamlRequest | undefined {
	const request = db.samlRequests.find(r => r.id === id);
	return request && request.state === 'pending' && new Date(request.expires) > now ? request : undefined;
}

/**
 * `GET /saml/login?request=ID`: the IdP's URL carrying our signed AuthnRequest with that ID (the
 * Redirect binding). The request was made by a form of ours (an invitation, a sign-up, a terminal's
 * code); a terminal's sign-in always asks the IdP for the password again (the browser may hold
 * someone else's IdP session).
 */
export async function samlLoginUrl(ctx: Context, requestId: string): Promise<string> {
	const db = ctx.store.read();
	const config = samlConfigIn(ctx, db);
	const request = isPendingIn(db, requestId, ctx.now());
	if (!request) throw refused('This sign-in link is no longer valid (used, expired or unknown); go back to where you started and try again.', {code: 'saml.request-gone'});
	if (config.idp.binding !== 'redirect') throw unavailable('The identity provider takes sign-in requests only by HTTP-POST, which orgctl does not send yet; give it a Redirect binding.', {code: 'saml.binding'});
	return ctx.saml.authorizeUrl(config, {id: request.id, relayState: '', forceAuthn: request.purpose.kind === 'device'});
}

/** What a completed sign-in did, for the page the browser lands on. */
export type SamlOutcome =
	| {readonly kind: 'invitation'; readonly user: User; readonly tenant: Tenant}
	| {readonly kind: 'signup'; readonly user: User; readonly tenant: Tenant}
	| {readonly kind: 'device'; readonly user: User; readonly tenant: Tenant; readonly host: string};

/** The e-mail address the assertion vouches for, by the configured match attribute; refused with a sentence naming the attribute. */
function assertedEmail(db: Database, checked: CheckedAssertion): string {
	const match = db.settings.sso.matchAttribute;
	const named = MATCH_ATTRIBUTE_NAMES[match];
	let value: string | null;
	if (match === 'nameid') {
		if (checked.nameIdFormat !== NAMEID_EMAIL) {
			throw refused(`Users are matched by ${named}, but the identity provider sent a NameID of format ${checked.nameIdFormat ? quoted(inert(checked.nameIdFormat), 120) : '(none)'}; set it to send emailAddress, or match users by the email attribute.`, {code: 'saml.no-email'});
		}
		value = checked.nameId;
	} else {
		const values = checked.attributes['email'] ?? checked.attributes['mail'] ?? checked.attributes['urn:oid:0.9.2342.19200300.100.1.3'] ?? [];
		if (values.length > 1) throw refused(`Users are matched by ${named}, but the identity provider sent ${values.length} values for it; it must send one.`, {code: 'saml.no-email'});
		value = values[0] ?? null;
	}
	if (!value) throw refused(`Users are matched by ${named}, but the identity provider sent none.`, {code: 'saml.no-email'});
	try {
		return parseAddress(value).address.toLowerCase();
	} catch {
		throw refused(`Users are matched by ${named}, but the identity provider sent ${quoted(inert(value), 120)}, which is not an e-mail address.`, {code: 'saml.no-email'});
	}
}

function sameEmail(a: string, b: string): boolean {
	return a.toLowerCase() === b.toLowerCase();
}

/** Applies a verified sign-in to what it was for, inside the transaction that uses the request and records the assertion. */
function applyPurpose(ctx: Context, db: Database, purpose: SamlPurpose, email: string): SamlOutcome {
	const named = MATCH_ATTRIBUTE_NAMES[db.settings.sso.matchAttribute];
	switch (purpose.kind) {
		case 'invitation': {
			const invitation = db.invitations.find(i => i.id === purpose.invitationId);
			if (!invitation) {
				const tombstone = db.invitationTombstones.find(t => t.id === purpose.invitationId);
				if (tombstone?.fate === 'revoked') throw refused(`This invitation was revoked on ${tombstone.at} by ${tombstone.by} while you were signing in; ask for a new invitation.`, {code: 'saml.invitation-gone'});
				if (tombstone?.fate === 'accepted') throw refused(`This invitation was already used on ${tombstone.at}: the account ${tombstone.by} exists.`, {code: 'saml.invitation-gone'});
				throw refused('This invitation no longer exists; ask for a new one.', {code: 'saml.invitation-gone'});
			}
			if (isExpired(invitation, ctx.now())) throw refused(`This invitation expired on ${invitation.expires}; ask for it to be resent.`, {code: 'saml.invitation-gone'});
			if (invitation.method !== 'saml') throw refused('This invitation is not accepted through single sign-on.', {code: 'saml.invitation-gone'});
			assertSenderStands(db, invitation);
			if (!sameEmail(invitation.email, email)) throw refused(`The identity provider signed you in as ${inert(email)} (${named}), but the invitation is for ${invitation.email}; sign in at the identity provider as ${invitation.email}.`, {code: 'saml.wrong-user'});
			const tenant = db.tenants.find(t => t.id === invitation.tenantId);
			if (!tenant) throw notFound('The organization of this invitation no longer exists.');
			assertAccountFree(db, tenant.id, invitation.username, invitation.email, {invitationId: invitation.id});
			const user = newUser(ctx, {tenantId: tenant.id, username: invitation.username, email: invitation.email, role: invitation.role, method: 'saml', passwordHash: null});
			user.lastLogin = ctx.now().toISOString();
			db.users.push(user);
			buryInvitation(db, ctx, invitation, 'accepted', user.username);
			return {kind: 'invitation', user, tenant};
		}
		case 'signup': {
			const domain = db.signupDomains.find(d => d.id === purpose.domainId);
			if (!domain || domain.method !== 'saml') throw refused(`Self sign-up through single sign-on for ${purpose.email.split('@')[1] ?? 'this domain'} has been closed meanwhile; ask an admin for an invitation.`, {code: 'saml.signup-closed'});
			if (!sameEmail(purpose.email, email)) throw refused(`The identity provider signed you in as ${inert(email)} (${named}), but you signed up as ${purpose.email}; sign up with the address the identity provider knows.`, {code: 'saml.wrong-user'});
			const tenant = db.tenants.find(t => t.id === domain.tenantId)!;
			try {
				assertAccountFree(db, tenant.id, purpose.username, purpose.email);
			} catch (error) {
				// No more than the mailed-code sign-up tells (its mail says only that no account was made): not which of the two is taken, nor by whom.
				if (isOrgError(error) && error.kind === 'conflict') throw refused(`No account was made: the username ${purpose.username} or the address ${purpose.email} is taken in ${tenant.name}. If the account is yours, sign in (an admin can reset it); otherwise sign up again with another username.`, {code: 'saml.taken'});
				throw error;
			}
			const user = newUser(ctx, {tenantId: tenant.id, username: purpose.username, email: purpose.email, role: domain.role, method: 'saml', passwordHash: null});
			user.lastLogin = ctx.now().toISOString();
			db.users.push(user);
			return {kind: 'signup', user, tenant};
		}
		case 'device': {
			const device = db.deviceLogins.find(d => d.id === purpose.deviceLoginId);
			if (!device || device.state !== 'pending') throw refused('This terminal sign-in is already finished: a code works once.', {code: 'saml.device-used'});
			if (new Date(device.expires) <= ctx.now()) throw refused(`The sign-in code expired at ${device.expires}; start the sign-in again in the terminal.`, {code: 'saml.device-expired'});
			// The user the terminal named when it started, by id: no other account anywhere (another
			// tenant's user with the same address, say) changes whom this sign-in is for.
			// Started for no enabled SAML user (any name gets a code, red team 10-14 #4): whoever signed in
			// at the IdP is told only what a wrong IdP account is told, so the answer names no account's method.
			if (device.userId === null) throw refused(`The identity provider signed you in as ${inert(email)} (${named}), but the terminal asked to sign in ${device.username}; sign in at the identity provider as ${device.username}.`, {code: 'saml.wrong-user'});
			const user = db.users.find(u => u.id === device.userId);
			if (!user) throw refused(`The account ${device.username} no longer exists; start the sign-in again in the terminal.`, {code: 'saml.no-user'});
			if (!sameEmail(user.email, email)) throw refused(`The identity provider signed you in as ${inert(email)} (${named}), but the terminal asked to sign in ${user.username}; sign in at the identity provider as ${user.username}.`, {code: 'saml.wrong-user'});
			if (user.method !== 'saml') throw refused(`${user.username} signs in with ${user.method === 'pam' ? 'the system password' : 'a password'}, not through single sign-on.`, {code: 'saml.wrong-method'});
			if (user.disabled) throw refused(`The account ${user.username} is disabled; ask an admin to enable it.`, {code: 'saml.disabled'});
			device.state = 'completed';
			device.reason = null;
			user.lastLogin = ctx.now().toISOString();
			return {kind: 'device', user, tenant: db.tenants.find(t => t.id === user.tenantId)!, host: device.host};
		}
	}
}

/** The audit's words for what a request was for. */
function purposeTarget(db: Database, purpose: SamlPurpose | undefined): string {
	switch (purpose?.kind) {
		case undefined:
			return 'single sign-on';
		case 'invitation': {
			const invitation = db.invitations.find(i => i.id === purpose.invitationId);
			return invitation ? auditTarget(invitation) : `invitation ${purpose.invitationId}`;
		}
		case 'signup':
			return `${purpose.username} <${purpose.email}>`;
		case 'device': {
			const device = db.deviceLogins.find(d => d.id === purpose.deviceLoginId);
			return `terminal sign-in of ${device?.username ?? '?'}`;
		}
	}
}

const SUCCESS_ACTIONS: Readonly<Record<SamlPurpose['kind'], string>> = {invitation: 'invitation.accept', signup: 'signup.sso', device: 'login.sso'};

/**
 * `POST /saml/acs`: the IdP's answer. The library verifies the signatures and the audience, the
 * core checks the rest on its clock, then ONE transaction uses the request, records the assertion
 * ID and does what the request was for (an account from an invitation or a sign-up, a terminal's
 * sign-in): two posts of one response, in one process or two, let exactly one through. Every
 * refusal is audited with its own sentence and thrown as an OrgError whose code names the reason
 * (`saml.replayed`, `saml.wrong-destination`, ...). A refusal of a document the IdP signed burns the
 * request (a new try starts a new one) and tells a waiting terminal why; one the IdP's key does not
 * vouch for (anyone can post it) does neither, and is counted like any anonymous refusal (no store
 * write of its own): hostile XML is refused by a linear pre-scan before any parser sees it.
 */
export async function completeSamlSignIn(ctx: Context, samlResponse: string | undefined): Promise<SamlOutcome> {
	let request: SamlRequest | undefined;
	let verifiedDocument = false;
	const anonymous: AuditActor = {label: 'anonymous', tenantId: null};
	try {
		if (typeof samlResponse !== 'string' || samlResponse.length === 0) throw refused('The request carries no SAMLResponse.', {code: 'saml.malformed'});
		if (samlResponse.length > MAX_RESPONSE_BYTES) throw refused('The SAMLResponse is larger than any sign-in needs.', {code: 'saml.malformed'});
		// The XML checks load the parser: only a sign-in pays for it, not every command that imports the core.
		const {checkVerifiedResponse, readEnvelope} = await import('./response.js');
		const envelope = readEnvelope(Buffer.from(samlResponse, 'base64').toString('utf8'));
		const db = ctx.store.read();
		const config = samlConfigIn(ctx, db);
		const now = ctx.now();
		if (!envelope.inResponseTo) throw refused('The SAML response answers no sign-in request of ours (it has no InResponseTo): sign-ins start here, not at the identity provider.', {code: 'saml.unsolicited'});
		const inResponseTo = envelope.inResponseTo;
		request = db.samlRequests.find(r => r.id === inResponseTo);
		assertAnswerable(request, now);
		let verified;
		try {
			verified = await ctx.saml.verify(config, samlResponse, id => isPendingIn(ctx.store.read(), id, ctx.now()) !== undefined);
		} catch (error) {
			// Another process may have used (or burned) the request meanwhile: say which, from the latest data.
			if (isOrgError(error) && error.code === 'saml.unknown-request') assertAnswerable(ctx.store.read().samlRequests.find(r => r.id === inResponseTo), ctx.now());
			throw error;
		}
		// From here on the IdP's key vouches for the document: a refusal now ends the request (burn).
		verifiedDocument = true;
		const checked = checkVerifiedResponse(envelope, verified.assertionXml, {acsUrl: config.acsUrl, idpEntityId: config.idp.entityId, now: ctx.now(), authnSince: request.purpose.kind === 'device' ? new Date(request.created) : undefined});
		const pending = request;
		const done = await ctx.store.transact(d => {
			const current = d.samlRequests.find(r => r.id === pending.id);
			if (!current || current.state === 'used') throw refused('The SAML response was already used to sign in; it works once.', {code: 'saml.replayed'});
			if (current.state !== 'pending') throw refused('The sign-in request this answers already had an answer; start again.', {code: 'saml.request-used'});
			if (d.samlAssertions.some(a => a.id === checked.assertionId)) throw refused('The SAML assertion was already used to sign in; it works once.', {code: 'saml.replayed'});
			const outcome = applyPurpose(ctx, d, current.purpose, assertedEmail(d, checked));
			current.state = 'used';
			prune(d, ctx.now());
			d.samlAssertions.push({id: checked.assertionId, expires: checked.keepUntil.toISOString()});
			appendAudit(d, ctx, {user: outcome.user, tenant: outcome.tenant}, {action: SUCCESS_ACTIONS[current.purpose.kind], target: purposeTarget(d, current.purpose), result: 'ok'});
			return outcome;
		});
		return done;
	} catch (error) {
		// An answer the IdP's key does not vouch for (anyone can post one) leaves the request pending
		// and the waiting terminal untold; only a refusal of the IdP's own signed words is the IdP's.
		const signedByIdp = verifiedDocument || (isOrgError(error) && error.code === 'saml.idp-error');
		return refuseSignIn(ctx, signedByIdp ? request : undefined, anonymous, error, request);
	}
}

/** Throws why a response naming `request` cannot be answered (unknown, used, answered, expired); nothing when it is pending. */
function assertAnswerable(request: SamlRequest | undefined, now: Date): asserts request is SamlRequest {
	if (!request) throw refused('The SAML response answers a sign-in request this server never made (or forgot long ago).', {code: 'saml.unknown-request'});
	if (request.state === 'used') throw refused('The SAML response was already used to sign in; it works once.', {code: 'saml.replayed'});
	if (request.state === 'burned') throw refused('The sign-in request this answers already had an answer; start again.', {code: 'saml.request-used'});
	if (new Date(request.expires) <= now) throw refused('The sign-in request this answers has expired (they last 10 minutes); start again.', {code: 'saml.request-expired'});
}

/**
 * A refused answer: `request` (given only when the IdP signed the answer) is burned (a failed
 * answer ends it) and, for a terminal, the reason is left where the waiting terminal reads it, in
 * the transaction that audits the refusal (the one refusal helper, `refuse`); `named` is what the
 * answer claims to answer, for the audit's target. Then it is thrown.
 */
async function refuseSignIn(ctx: Context, request: SamlRequest | undefined, who: AuditActor, error: unknown, named: SamlRequest | undefined = request): Promise<never> {
	if (!isOrgError(error)) throw error;
	const db = ctx.store.read();
	const burn =
		request && request.state === 'pending' && error.code !== 'saml.replayed'
			? (d: Database) => {
					const current = d.samlRequests.find(r => r.id === request.id);
					if (current?.state === 'pending') current.state = 'burned';
					if (request.purpose.kind === 'device') {
						const device = d.deviceLogins.find(x => x.id === (request.purpose as {deviceLoginId: string}).deviceLoginId);
						if (device?.state === 'pending') device.reason = error.message.slice(0, 500);
					}
				}
			: undefined;
	const tenantId = named?.purpose.kind === 'invitation' ? (db.invitations.find(i => i.id === (named.purpose as {invitationId: string}).invitationId)?.tenantId ?? null) : null;
	return refuse(ctx, {...who, tenantId}, 'saml.acs', purposeTarget(db, named?.purpose), error, burn);
}

/**
 * The invitation page's "Continue with single sign-on": a request bound to the invitation (by its
 * id, which the IdP signs back as InResponseTo), or why not.
 */
export async function startInvitationSignIn(ctx: Context, invitationId: string): Promise<string> {
	samlConfigIn(ctx, ctx.store.read());
	return ctx.store.transact(db => addSamlRequest(ctx, db, {kind: 'invitation', invitationId}));
}

/** Whether an address signs up through single sign-on: its domain's method is SAML (and the IdP is set). */
export function isSamlSignup(ctx: Context, email: string, tenant?: string): boolean {
	const db = ctx.store.read();
	if (!ssoReady(db)) return false;
	try {
		const address = parseAddress(email).address;
		return db.tenants.some(t => (!tenant || t.name === tenant) && matchSignupDomain(db, t.id, address)?.domain.method === 'saml');
	} catch {
		return false;
	}
}

/**
 * The sign-up page for a SAML domain: the identity provider proves the address instead of a mailed
 * code. Whether the account exists is checked only once it has (at the ACS), so this answer tells a
 * stranger nothing.
 */
export async function startSignupSignIn(ctx: Context, input: {email: string; username: string; tenant?: string}): Promise<string> {
	const address = parseAddress(input.email);
	const username = checkUsername(input.username);
	const who: AuditActor = {label: address.address, tenantId: null};
	try {
		samlConfigIn(ctx, ctx.store.read());
		return await ctx.store.transact(db => {
			const found = db.tenants
				.filter(t => !input.tenant || t.name === input.tenant)
				.map(t => matchSignupDomain(db, t.id, address.address))
				.find(m => m !== undefined);
			if (!found) throw refused(`Self sign-up is not open for ${address.domain}; ask an admin for an invitation.`, {code: 'saml.signup-closed'});
			if (found.domain.method !== 'saml') throw refused(`Accounts at ${found.domain.domain} do not sign in through single sign-on; sign up with the e-mail code instead.`, {code: 'saml.signup-closed'});
			// Counted with the mailed-code sign-ups: at most SIGNUP.maxPending wait, the oldest goes first.
			makeRoomForSignup(db, ctx.now());
			return addSamlRequest(ctx, db, {kind: 'signup', domainId: found.domain.id, email: address.address, username});
		});
	} catch (error) {
		return refuse(ctx, who, 'signup.sso', `${username} <${address.address}>`, error);
	}
}
