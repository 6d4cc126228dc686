import {getEventListeners} from 'node:events';
import {createElement} from 'react';
import {mkdtempSync, rmSync} from 'node:fs';
import {request as httpRequest} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import type {User} from '../../source/core/model.js';
import {newUser} from '../../source/core/accounts.js';
import {DeviceConfirmPage} from '../../source/web/pages/saml.js';
import {renderDocument} from '../../source/web/render.js';
import {createInvitation, revokeInvitation} from '../../source/core/invitations.js';
import {awaitDeviceLogin, confirmDeviceCode, isSamlSignup, pollDeviceLogin, startDeviceLogin, startInvitationSignIn, startSignupSignIn} from '../../source/core/saml.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {createTenant} from '../../source/core/tenants.js';
import {disableUser} from '../../source/core/user-admin.js';
import {serve, type RunningServer} from '../../source/web/serve.js';
import {testKeyPair} from '../helpers/idp.js';
import {addSamlUser, authnRequestOf, b64, buildResponse, cachedKeyPair, configureSso, RSA_SHA1, SHA1, samlId, signXml, type ResponseFields} from '../helpers/saml.js';
import {startServe} from '../helpers/serve.js';
import {Clock, initializedContext} from '../helpers/store.js';
import {preScanXml} from '../../source/core/saml/response.js';

/**
 * The ACS against crafted responses: each way a response can be wrong is refused with its own
 * reason (the page's data-reason and the audited sentence), by a real `orgctl serve` on loopback.
 * The "IdP" is a key pair the settings trust; another key pair plays the stranger.
 */

const IDP_ENTITY = 'http://127.0.0.1:9/simplesaml/saml2/idp/metadata.php';
const IDP_SSO = 'http://127.0.0.1:9/simplesaml/saml2/idp/SSOService.php';

let keysDir: string;
let idpKey: {privateKeyPem: string; certificatePem: string};
let strangerKey: {privateKeyPem: string; certificatePem: string};
beforeAll(() => {
	keysDir = mkdtempSync(join(tmpdir(), 'orgctl-saml-keys-'));
	idpKey = testKeyPair(keysDir, 'idp');
	strangerKey = testKeyPair(keysDir, 'stranger');
});
afterAll(() => rmSync(keysDir, {recursive: true, force: true}));

type Setup = Awaited<ReturnType<typeof setup>>;

async function setup(options: {matchAttribute?: 'nameid' | 'email'} = {}) {
	const clock = new Clock();
	const {ctx, root} = await initializedContext(clock, {makeKeyPair: cachedKeyPair});
	const log: string[] = [];
	const server: RunningServer = await serve(ctx, {listen: {address: '127.0.0.1', port: 0}, log: line => log.push(line), auditFlushMs: 50});
	// Our side answers as localhost, the IdP as 127.0.0.1: two sites, as in production.
	const publicUrl = server.url.replace('127.0.0.1', 'localhost');
	const sp = await configureSso(ctx, root, {publicUrl, idp: {entityId: IDP_ENTITY, ssoUrl: IDP_SSO, certificatePem: idpKey.certificatePem}, ...options});
	return {ctx, root, clock, server, sp, publicUrl, log};
}

/** A SAML invitation and a pending request for it, made the way the invitation page makes it. */
async function invitationRequest(s: Setup, who = {username: 'alice', email: 'alice@example.test'}): Promise<{requestId: string; invitationId: string}> {
	const {invitation} = await createInvitation(s.ctx, s.root, {...who, method: 'saml'}, {sendEmail: false});
	return {requestId: await startInvitationSignIn(s.ctx, invitation.id), invitationId: invitation.id};
}

function fields(s: Setup, requestId: string | null, extra: Partial<ResponseFields> = {}): ResponseFields {
	return {now: s.clock.now().getTime(), idpEntityId: IDP_ENTITY, acsUrl: s.sp.acsUrl, audience: s.sp.entityId, inResponseTo: requestId, ...extra};
}

/** A response built from fields and signed by the IdP's key (or `key`). */
function signed(s: Setup, requestId: string | null, extra: Partial<ResponseFields> = {}, key = idpKey): string {
	return signXml(buildResponse(fields(s, requestId, extra)), key);
}

type Answer = {status: number; body: string; reason: string | undefined};

/** Posts a SAMLResponse to the ACS from the loopback address `from` (127.0.0.1 and 127.0.0.2 are two clients). */
async function postAcs(url: string, xml: string, raw = false, from = '127.0.0.1'): Promise<Answer> {
	const body = new URLSearchParams({SAMLResponse: raw ? xml : b64(xml)}).toString();
	return new Promise((resolve, reject) => {
		const request = httpRequest(`${url}/saml/acs`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, localAddress: from, agent: false}, response => {
			let text = '';
			response.setEncoding('utf8');
			response.on('data', chunk => (text += chunk));
			response.on('end', () => resolve({status: response.statusCode ?? 0, body: text, reason: /data-reason="([^"]+)"/.exec(text)?.[1]}));
		});
		request.on('error', reject);
		request.end(body);
	});
}

const acs = (s: Setup, xml: string, raw = false, from?: string) => postAcs(s.server.url, xml, raw, from);

/**
 * A client address of its own for each expected refusal: an anonymous refusal that changes nothing
 * is counted per address and minute (one audit event with the first one's reason), so a second
 * refusal from the same address in the same minute would show the first one's sentence.
 */
let nextClient = 2;
const freshClient = () => `127.0.0.${(nextClient++ % 250) + 2}`;

const acsEvents = (s: Setup) => s.ctx.store.read().audit.filter(e => e.action === 'saml.acs');

function lastRefusal(s: Setup) {
	return acsEvents(s).at(-1);
}

/** Posts the response, expects the refusal `reason`, and that it was audited with the page's sentence. */
async function expectRefused(s: Setup, xml: string, reason: string, sentence?: RegExp): Promise<void> {
	const before = s.ctx.store.read().users.length;
	const audited = acsEvents(s).length;
	const from = freshClient();
	const answer = await acs(s, xml, false, from);
	expect(answer.reason).toBe(reason);
	expect(answer.status).toBe(403);
	// A refusal that changes nothing is counted per address and minute and written within the flush interval (50 ms here).
	// Waited for by its address: an earlier refusal's flush (another address) may land first, on a slower store.
	await vi.waitFor(() => expect(acsEvents(s).slice(audited).some(e => e.clientAddress === from)).toBe(true));
	const event = acsEvents(s).slice(audited).filter(e => e.clientAddress === from).at(-1);
	expect(event).toMatchObject({result: 'refused', clientAddress: from});
	const shown = /id="reason">([^<]+)</.exec(answer.body)?.[1];
	if (sentence) expect(event?.reason).toMatch(sentence);
	expect(shown && event?.reason?.startsWith(shown.replace(/&quot;/g, '"').replace(/&#x27;/g, "'").slice(0, 30))).toBe(true);
	expect(s.ctx.store.read().users.length).toBe(before);
}

// A fresh store and server per test (the store's temp folder goes after each test).
let s: Setup;
beforeEach(async () => {
	s = await setup();
});
afterEach(async () => {
	await s.server.close();
});

describe('the ACS under load', () => {
	it('shares the POST budget of an address with every form (no CSRF token of ours, but no unlimited door either)', async () => {
		const server = await serve(s.ctx, {listen: {address: '127.0.0.1', port: 0}, log: () => undefined, auditFlushMs: 50, limits: {postsPerMinute: 3}});
		try {
			const statuses: number[] = [];
			for (let i = 0; i < 4; i++) statuses.push((await postAcs(server.url, '<html/>', false, '127.0.0.9')).status);
			expect(statuses).toEqual([403, 403, 403, 429]);
			// Another address has its own budget.
			expect((await postAcs(server.url, '<html/>', false, '127.0.0.10')).status).toBe(403);
		} finally {
			await server.close();
		}
	});
});

describe('the service provider', () => {
	it('publishes its metadata: our entity ID, the ACS URL and our signing certificate', async () => {
		const answer = await fetch(`${s.server.url}/saml/metadata`);
		expect(answer.status).toBe(200);
		expect(answer.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
		const xml = await answer.text();
		expect(xml).toContain(`entityID="${s.sp.entityId}"`);
		expect(xml).toContain(`Location="${s.sp.acsUrl}"`);
		expect(xml).toContain(s.sp.certificatePem.replace(/-----[A-Z ]+-----|\s+/g, '').slice(0, 60));
	});

	it('sends the browser to the IdP with a signed AuthnRequest whose ID is the stored request, once per request', async () => {
		const {requestId} = await invitationRequest(s, {username: 'ida', email: 'ida@example.test'});
		const answer = await fetch(`${s.server.url}/saml/login?request=${requestId}`, {redirect: 'manual'});
		expect(answer.status).toBe(302);
		const location = answer.headers.get('location')!;
		expect(location.startsWith(`${IDP_SSO}?SAMLRequest=`)).toBe(true);
		expect(new URL(location).searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
		expect(new URL(location).searchParams.get('Signature')).toBeTruthy();
		const request = authnRequestOf(location);
		expect(request.id).toBe(requestId);
		expect(request.xml).toContain(`AssertionConsumerServiceURL="${s.sp.acsUrl}"`);
		expect(request.forceAuthn).toBe(false);
		const unknown = await fetch(`${s.server.url}/saml/login?request=_${'0'.repeat(40)}`, {redirect: 'manual'});
		expect(unknown.status).toBe(403);
	});

	it('accepts a valid response once: the invitation becomes a user, and the same response again is refused as replayed', async () => {
		const {requestId} = await invitationRequest(s, {username: 'val', email: 'Val.Id@Example.Test'});
		// The IdP writes the address in another case: matched case-insensitively.
		const xml = signed(s, requestId, {nameId: 'val.id@example.test'});
		const first = await acs(s, xml);
		expect(first.status).toBe(200);
		expect(first.body).toContain('Welcome, val: your account in default is ready (member)');
		expect(s.ctx.store.read().users.find(u => u.username === 'val')).toMatchObject({method: 'saml', email: expect.stringMatching(/^val\.id@example\.test$/i), passwordHash: null});
		expect(s.ctx.store.read().invitations.find(i => i.username === 'val')).toBeUndefined();
		expect(s.ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'ok', actor: 'val'});
		await expectRefused(s, xml, 'saml.replayed', /already used to sign in/);
	});

	it('two posts of one response at once: exactly one goes through', async () => {
		const {requestId} = await invitationRequest(s, {username: 'twin', email: 'twin@example.test'});
		const xml = signed(s, requestId, {nameId: 'twin@example.test'});
		const answers = await Promise.all([acs(s, xml), acs(s, xml)]);
		expect(answers.map(a => a.status).sort()).toEqual([200, 403]);
		expect(answers.find(a => a.status === 403)?.reason).toBe('saml.replayed');
		expect(s.ctx.store.read().users.filter(u => u.username === 'twin')).toHaveLength(1);
	});

	it('an assertion ID seen before is refused in a new, validly signed response', async () => {
		const one = await invitationRequest(s, {username: 'ann1', email: 'ann1@example.test'});
		const two = await invitationRequest(s, {username: 'ann2', email: 'ann2@example.test'});
		const assertionId = samlId();
		expect((await acs(s, signed(s, one.requestId, {nameId: 'ann1@example.test', assertionId}))).status).toBe(200);
		await expectRefused(s, signed(s, two.requestId, {nameId: 'ann2@example.test', assertionId}), 'saml.replayed', /assertion was already used/);
	});

	const cases: ReadonlyArray<[string, string, (s: Setup, requestId: string) => string, RegExp]> = [
		['tampered (the NameID changed after signing)', 'saml.tampered', (x, id) => signed(x, id, {nameId: 'case@example.test'}).replace('case@example.test</saml:NameID>', 'root@example.com</saml:NameID>'), /altered after the identity provider signed it/],
		['unsolicited (no InResponseTo: IdP-initiated)', 'saml.unsolicited', x => signed(x, null, {scdInResponseTo: null}), /has no InResponseTo/],
		['answering another request in its assertion than in its response', 'saml.unsolicited', (x, id) => signed(x, id, {scdInResponseTo: samlId()}), /different sign-in request/],
		['answering a request we never made', 'saml.unknown-request', x => signed(x, samlId()), /never made/],
		['for another Destination', 'saml.wrong-destination', (x, id) => signed(x, id, {destination: 'https://evil.example/saml/acs'}), /addressed to "https:\/\/evil\.example\/saml\/acs"/],
		['with no Destination', 'saml.wrong-destination', (x, id) => signed(x, id, {destination: null}), /addressed to \(none\)/],
		['for another Recipient', 'saml.wrong-recipient', (x, id) => signed(x, id, {recipient: 'https://evil.example/saml/acs'}), /meant for "https:\/\/evil\.example/],
		['for another audience', 'saml.wrong-audience', (x, id) => signed(x, id, {audience: 'https://other-sp.example/metadata'}), /not meant for us/],
		['from another issuer', 'saml.wrong-issuer', (x, id) => signed(x, id, {issuer: 'https://evil-idp.example'}), /issued by "https:\/\/evil-idp\.example"/],
		['expired', 'saml.expired', (x, id) => signed(x, id, {now: x.clock.now().getTime() - 20 * 60_000, issueInstant: x.clock.now().getTime() - 4 * 60_000}), /expired at/],
		['not yet valid', 'saml.not-yet-valid', (x, id) => signed(x, id, {notBefore: x.clock.now().getTime() + 10 * 60_000}), /not valid before/],
		['signed by another key', 'saml.unknown-signer', (x, id) => signed(x, id, {}, strangerKey), /signed by a key that is not the identity provider's \(it names the certificate with SHA-256 fingerprint/],
		['not signed at all', 'saml.unsigned', (x, id) => buildResponse(fields(x, id)), /carries no signature/],
		['with only its assertion signed', 'saml.unsigned', (x, id) => signXml(buildResponse(fields(x, id)), idpKey, {response: false}), /only its assertion/],
		['with a DOCTYPE (entities: XXE, billion laughs)', 'saml.malformed', (x, id) => signed(x, id, {prolog: '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'}), /carries a DOCTYPE/],
		['with an IdP error status it signed', 'saml.idp-error', (x, id) => signXml(buildResponse(fields(x, id, {statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder'})), idpKey), /did not sign you in \(Responder\)/],
		['with an error status nobody signed (not shown as the IdP’s words)', 'saml.unsigned', (x, id) => buildResponse(fields(x, id, {statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder'})), /^The SAML response says the sign-in failed, but the identity provider did not sign it, so it was ignored\.$/],
		['of SAML version 1.1', 'saml.malformed', (x, id) => signed(x, id, {version: '1.1'}), /version "1\.1"; we speak SAML 2\.0 only/],
		['whose assertion is of SAML version 1.1', 'saml.malformed', (x, id) => signed(x, id, {assertionVersion: '1.1'}), /assertion has version "1\.1"/],
		['of status Success with a second-level RequestDenied', 'saml.idp-error', (x, id) => signed(x, id, {subStatusCode: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied'}), /second-level status .*RequestDenied/],
		['whose assertion ID is longer than 256 characters', 'saml.malformed', (x, id) => signed(x, id, {assertionId: `_${'a'.repeat(299)}`}), /ID is longer than 256 characters/],
		['with no AuthnStatement (the Web SSO profile requires one)', 'saml.malformed', (x, id) => signed(x, id, {authnInstant: null}), /has no AuthnStatement/],
		['whose IdP session has ended (SessionNotOnOrAfter passed)', 'saml.expired', (x, id) => signed(x, id, {sessionNotOnOrAfter: x.clock.now().getTime() - 2 * 60_000}), /session ended at/],
		['signed with RSA-SHA1', 'saml.weak-signature', (x, id) => signXml(buildResponse(fields(x, id)), idpKey, {algorithms: {signature: RSA_SHA1}}), /signed with RSA-SHA1; we accept RSA with SHA-256 or SHA-512 only/],
		['whose signature digests with SHA-1', 'saml.weak-signature', (x, id) => signXml(buildResponse(fields(x, id)), idpKey, {algorithms: {digest: SHA1}}), /digests with SHA-1; we accept SHA-256 or SHA-512 only/],
	];
	for (const [what, reason, make, sentence] of cases) {
		it(`a response ${what} is refused: ${reason}`, async () => {
			const {requestId} = await invitationRequest(s, {username: `u${samlId().slice(1, 9)}`, email: 'case@example.test'});
			await expectRefused(s, make(s, requestId), reason, sentence);
		});
	}

	it('a response that is not XML, or not a Response, is refused as malformed', async () => {
		expect((await acs(s, 'not base64 xml at all', true)).reason).toBe('saml.malformed');
		// Its tally event first (a flush between this refusal and the next would otherwise pass for the next one's).
		await vi.waitFor(() => expect(acsEvents(s).some(e => e.clientAddress === '127.0.0.1')).toBe(true));
		await expectRefused(s, '<html/>', 'saml.malformed', /not a Response/);
		const answer = await fetch(`${s.server.url}/saml/acs`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'RelayState=x'});
		expect(answer.status).toBe(403);
	});

	it('signature wrapping: an evil assertion beside the signed one is refused', async () => {
		const {requestId} = await invitationRequest(s, {username: 'wrap', email: 'wrap@example.test'});
		const good = signed(s, requestId, {nameId: 'wrap@example.test'});
		const evil = buildResponse(fields(s, requestId, {nameId: 'root@example.com'}));
		const evilAssertion = /<saml:Assertion[\s\S]*<\/saml:Assertion>/.exec(evil)![0];
		const wrapped = good.replace('</samlp:Response>', `${evilAssertion}</samlp:Response>`);
		const answer = await acs(s, wrapped);
		expect(answer.status).toBe(403);
		expect(['saml.tampered', 'saml.bad-signature']).toContain(answer.reason);
		expect(s.ctx.store.read().users.map(u => u.username)).not.toContain('wrap');
	});

	it('a comment inside the NameID does not cut the address: alice@example.test<!---->.evil.test is not alice', async () => {
		const {requestId} = await invitationRequest(s, {username: 'cmt', email: 'alice@example.test'});
		// Signed over the text without the comment (exc-c14n drops comments), so the signature stays valid.
		const xml = signXml(buildResponse(fields(s, requestId, {nameIdXml: 'alice@example.test.evil.test'})), idpKey).replace('alice@example.test.evil.test', 'alice@example.test<!---->.evil.test');
		await expectRefused(s, xml, 'saml.wrong-user', /signed you in as alice@example\.test\.evil\.test/);
		expect(s.ctx.store.read().invitations.find(i => i.username === 'cmt')).toBeDefined();
	});

	it('a request already answered (refused) cannot be answered again, and a request older than 10 minutes has expired', async () => {
		const one = await invitationRequest(s, {username: 'used', email: 'used@example.test'});
		await expectRefused(s, signed(s, one.requestId, {destination: 'https://evil.example/acs', nameId: 'used@example.test'}), 'saml.wrong-destination');
		await expectRefused(s, signed(s, one.requestId, {nameId: 'used@example.test'}), 'saml.request-used', /already had an answer/);
		const two = await invitationRequest(s, {username: 'late', email: 'late@example.test'});
		s.clock.advance(11 * 60);
		try {
			await expectRefused(s, signed(s, two.requestId, {nameId: 'late@example.test'}), 'saml.request-expired', /has expired/);
		} finally {
			s.clock.advance(-11 * 60);
		}
	});

	it('a NotBefore 30 s ahead (inside the one-minute skew) is accepted', async () => {
		const {requestId} = await invitationRequest(s, {username: 'skew', email: 'skew@example.test'});
		expect((await acs(s, signed(s, requestId, {nameId: 'skew@example.test', notBefore: s.clock.now().getTime() + 30_000}))).status).toBe(200);
	});

	it('the IdP vouching for another address than the invitation is refused, with the address made inert', async () => {
		const {requestId} = await invitationRequest(s, {username: 'mis', email: 'mis@example.test'});
		await expectRefused(s, signed(s, requestId, {nameId: 'other@example.test'}), 'saml.wrong-user', /signed you in as other@example\.test .*but the invitation is for mis@example\.test/);
	});

	it('an invitation revoked while the invitee is at the IdP is not accepted when the IdP answers', async () => {
		const {requestId, invitationId} = await invitationRequest(s, {username: 'rev', email: 'rev@example.test'});
		await revokeInvitation(s.ctx, s.root, invitationId);
		await expectRefused(s, signed(s, requestId, {nameId: 'rev@example.test'}), 'saml.invitation-gone', /revoked on .* by root while you were signing in/);
		expect(s.ctx.store.read().users.map(u => u.username)).not.toContain('rev');
	});

	it('a NameID that is not an e-mail format is refused with a sentence naming the match attribute', async () => {
		const {requestId} = await invitationRequest(s, {username: 'fmt', email: 'fmt@example.test'});
		await expectRefused(s, signed(s, requestId, {nameId: '_3f9f0a', nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient'}), 'saml.no-email', /matched by NameID \(e-mail format\), but the identity provider sent a NameID of format "urn:oasis:names:tc:SAML:2\.0:nameid-format:transient"/);
	});

	it('control characters the IdP sends are shown escaped, never raw, in the page and the audit', async () => {
		const {requestId} = await invitationRequest(s, {username: 'esc', email: 'esc@example.test'});
		const xml = signed(s, requestId, {nameId: '_x', nameIdFormat: 'urn:x:\u001b]52;c;ZXZpbA==\u0007'});
		const answer = await acs(s, xml);
		expect(answer.reason).toBe('saml.no-email');
		expect(lastRefusal(s)?.reason).toContain('urn:x:\\e]52;c;ZXZpbA==\\x07');
		expect(lastRefusal(s)?.reason).not.toContain('\u001b');
	});
});

describe('matching by the email attribute', () => {
	it('uses the email attribute, not the NameID, and names the attribute when it is missing', async () => {
		await s.server.close();
		const e = await setup({matchAttribute: 'email'});
		s = e;
		const one = await invitationRequest(e, {username: 'attr', email: 'attr@example.test'});
		expect((await acs(e, signed(e, one.requestId, {nameId: 'ignored', nameIdFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent', attributes: {email: ['ATTR@example.test']}}))).status).toBe(200);
		const two = await invitationRequest(e, {username: 'none', email: 'none@example.test'});
		await expectRefused(e, signed(e, two.requestId, {attributes: {uid: ['none']}}), 'saml.no-email', /matched by the email attribute, but the identity provider sent none/);
	});
});

describe('self sign-up at a SAML domain', () => {
	it('the identity provider proves the address instead of a mailed code; the account gets the domain role', async () => {
		await addSignupDomain(s.ctx, s.root, {domain: 'example.test', role: 'guest', method: 'saml'});
		expect(isSamlSignup(s.ctx, 'sue@EXAMPLE.test')).toBe(true);
		expect(isSamlSignup(s.ctx, 'sue@elsewhere.test')).toBe(false);
		const requestId = await startSignupSignIn(s.ctx, {email: 'sue@example.test', username: 'sue'});
		const answer = await acs(s, signed(s, requestId, {nameId: 'Sue@Example.test'}));
		expect(answer.status).toBe(200);
		expect(answer.body).toContain('Welcome, sue: your account in default is ready (guest)');
		expect(s.ctx.store.read().users.find(u => u.username === 'sue')).toMatchObject({method: 'saml', role: 'guest'});
		expect(s.ctx.store.read().outbox).toHaveLength(0);
	});

	it('an IdP that vouches for another address does not make the account', async () => {
		await addSignupDomain(s.ctx, s.root, {domain: 'example.test', method: 'saml'});
		const requestId = await startSignupSignIn(s.ctx, {email: 'sam@example.test', username: 'sam'});
		await expectRefused(s, signed(s, requestId, {nameId: 'alice@example.test'}), 'saml.wrong-user', /but you signed up as sam@example\.test/);
	});
});

describe("a terminal's sign-in through the ACS", () => {
	async function deviceRequest(x: Setup, username: string, tenant?: string) {
		const started = await startDeviceLogin(x.ctx, {username, ...(tenant ? {tenant} : {}), origin: {host: 'build-01', clientAddress: '198.51.100.4'}});
		return {started, requestId: await confirmDeviceCode(x.ctx, started.code)};
	}
	let victim: User;
	beforeEach(async () => {
		victim = await addSamlUser(s.ctx, s.root.tenant.id, 'vic', 'vic@example.test');
		await addSamlUser(s.ctx, s.root.tenant.id, 'mal', 'mal@example.test');
	});

	it('completes the sign-in the terminal waits for, and its code works once', async () => {
		const {started, requestId} = await deviceRequest(s, 'vic');
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'waiting', lastRefusal: null});
		const answer = await acs(s, signed(s, requestId, {nameId: 'vic@example.test'}));
		expect(answer.status).toBe(200);
		expect(answer.body).toContain('The terminal on build-01 is now signed in as vic');
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'signed-in', actor: {user: {id: victim.id}}});
		await expect(pollDeviceLogin(s.ctx, started)).rejects.toThrow('finished already');
		await expect(confirmDeviceCode(s.ctx, started.code)).rejects.toThrow('used already');
	});

	it('login CSRF: an attacker who got the code signs in as themselves, which the terminal waiting for vic refuses', async () => {
		const {started, requestId} = await deviceRequest(s, 'vic');
		await expectRefused(s, signed(s, requestId, {nameId: 'mal@example.test'}), 'saml.wrong-user', /signed you in as mal@example\.test \(NameID \(e-mail format\)\), but the terminal asked to sign in vic/);
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'waiting', lastRefusal: expect.stringContaining('signed you in as mal@example.test')});
	});

	it('a disabled user is refused', async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'dis', 'dis@example.test');
		const {requestId} = await deviceRequest(s, 'dis');
		await disableUser(s.ctx, s.root, 'dis');
		await expectRefused(s, signed(s, requestId, {nameId: 'dis@example.test'}), 'saml.disabled', /The account dis is disabled/);
	});

	it('an assertion for a user of another tenant does not sign in the tenant the terminal named', async () => {
		const beta = await createTenant(s.ctx, s.root, 'beta');
		await addSamlUser(s.ctx, beta.id, 'bet', 'bet@example.test', 'admin');
		const {requestId} = await deviceRequest(s, 'vic', 'default');
		await expectRefused(s, signed(s, requestId, {nameId: 'bet@example.test'}), 'saml.wrong-user', /signed you in as bet@example\.test .*but the terminal asked to sign in vic/);
	});

	it('a code expires after 10 minutes', async () => {
		const started = await startDeviceLogin(s.ctx, {username: 'vic', origin: {host: 'h', clientAddress: 'a'}});
		s.clock.advance(10 * 60 + 1);
		try {
			await expect(confirmDeviceCode(s.ctx, started.code)).rejects.toThrow('This code expired');
			await expect(pollDeviceLogin(s.ctx, started)).rejects.toThrow('expired');
		} finally {
			s.clock.advance(-(10 * 60 + 1));
		}
	});
});

describe('two orgctl serve processes on one store', () => {
	it('one response posted to both at once signs in exactly once', async () => {
		const procs = await Promise.all([startServe(s.ctx.dir), startServe(s.ctx.dir)]);
		try {
			const {requestId} = await invitationRequest(s, {username: 'duo', email: 'duo@example.test'});
			const xml = signed(s, requestId, {nameId: 'duo@example.test'});
			const answers = await Promise.all(procs.map(p => postAcs(p.url, xml)));
			expect(answers.map(a => a.status).sort()).toEqual([200, 403]);
			expect(answers.find(a => a.status === 403)?.reason).toBe('saml.replayed');
			// What the two processes committed (on PostgreSQL this process's copy catches up by version).
			await s.ctx.store.refresh();
			expect(s.ctx.store.read().users.filter(u => u.username === 'duo')).toHaveLength(1);
		} finally {
			await Promise.all(procs.map(p => p.stop()));
		}
	});
});

describe('hostile XML is cheap to refuse', () => {
	/** The red team's document: a pending request's id, 24,000 nested elements in samlp:Extensions (about 180 KB), "signed" by any key. */
	function nested(x: Setup, requestId: string, depth = 24_000): string {
		const good = signed(x, requestId, {}, strangerKey);
		return good.replace('<samlp:Status>', `<samlp:Extensions>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</samlp:Extensions><samlp:Status>`);
	}

	it('24,000 nested elements are refused by the pre-scan, unparsed: the request stays pending and the refusals are counted, not written one by one', async () => {
		const {requestId} = await invitationRequest(s, {username: 'deep', email: 'deep@example.test'});
		const xml = nested(s, requestId);
		expect(b64(xml).length).toBeLessThan(256 * 1024);
		const audited = acsEvents(s).length;
		const from = freshClient();
		const answers = [];
		for (let i = 0; i < 3; i++) answers.push(await acs(s, xml, false, from));
		expect(answers.map(a => a.reason)).toEqual(['saml.malformed', 'saml.malformed', 'saml.malformed']);
		expect(answers[0]!.body).toContain('elements nested more than 32 deep');
		// An answer anyone could post burned nothing: the invitee can still sign in with this request.
		expect(s.ctx.store.read().samlRequests.find(r => r.id === requestId)?.state).toBe('pending');
		// Three refusals from one address in one minute: one audit event (the tally), not a store write each.
		await vi.waitFor(() => expect(acsEvents(s).length).toBe(audited + 1));
		await new Promise(resolve => setTimeout(resolve, 200));
		expect(acsEvents(s).length).toBe(audited + 1);
		expect(lastRefusal(s)).toMatchObject({result: 'refused', clientAddress: from, reason: expect.stringContaining('nested more than 32 deep')});
		expect((await acs(s, signed(s, requestId, {nameId: 'deep@example.test'}))).status).toBe(200);
	});

	it('the pre-scan bounds depth, element count, attributes per element and the size of any text, and lets a real response through', () => {
		const ok = signed(s, samlId());
		expect(() => preScanXml(ok, 'SAML response')).not.toThrow();
		const refusal = (xml: string) => {
			try {
				preScanXml(xml, 'SAML response');
				return 'accepted';
			} catch (error) {
				return (error as Error).message;
			}
		};
		expect(refusal(`<r>${'<a>'.repeat(33)}${'</a>'.repeat(33)}</r>`)).toMatch(/nested more than 32 deep/);
		expect(refusal(`<r>${'<a>'.repeat(31)}${'</a>'.repeat(31)}</r>`)).toBe('accepted');
		expect(refusal(`<r>${'<a/>'.repeat(2_001)}</r>`)).toMatch(/more than 2000 elements/);
		expect(refusal(`<r ${Array.from({length: 33}, (_, i) => `a${i}="x"`).join(' ')}/>`)).toMatch(/more than 32 attributes/);
		expect(refusal(`<r>${'x'.repeat(33 * 1024)}</r>`)).toMatch(/a text of more than 32768 characters/);
		expect(refusal(`<r a="${'x'.repeat(33 * 1024)}"/>`)).toMatch(/an attribute value of more than 32768/);
		expect(refusal(`<r><![CDATA[${'x'.repeat(33 * 1024)}]]></r>`)).toMatch(/a text of more than/);
		// A '>' or '=' inside an attribute value is text, not markup.
		expect(refusal(`<r a="x>y=z" b='<c>'/>`)).toBe('accepted');
		expect(refusal('<!DOCTYPE r><r/>')).toMatch(/carries a DOCTYPE/);
	});
});

describe('an answer nobody signed is not the identity provider', () => {
	it("an unsigned error status with a message reaches neither the waiting terminal nor the audit as the IdP's words, and does not burn the request", async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'tina', 'tina@example.test');
		const started = await startDeviceLogin(s.ctx, {username: 'tina', origin: {host: 'build-01', clientAddress: '198.51.100.4'}});
		const requestId = await confirmDeviceCode(s.ctx, started.code);
		const lure = 'urn:oasis:names:tc:SAML:2.0:status:Responder/ Your IdP session expired. Finish at http://evil.example/fix';
		await expectRefused(s, buildResponse(fields(s, requestId, {statusCode: lure})), 'saml.unsigned', /did not sign it, so it was ignored/);
		expect(JSON.stringify(s.ctx.store.read().audit.slice(-3))).not.toContain('evil.example');
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'waiting', lastRefusal: null});
		// Signed by a stranger's key: not the IdP's either.
		await expectRefused(s, signXml(buildResponse(fields(s, requestId, {statusCode: lure})), strangerKey), 'saml.unsigned');
		expect(s.ctx.store.read().samlRequests.find(r => r.id === requestId)?.state).toBe('pending');
		// The real answer still signs the terminal in.
		expect((await acs(s, signed(s, requestId, {nameId: 'tina@example.test'}))).status).toBe(200);
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'signed-in'});
	});

	it('an error status the IdP signed ends the request and is shown, quoted, to the waiting terminal', async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'tom', 'tom@example.test');
		const started = await startDeviceLogin(s.ctx, {username: 'tom', origin: {host: 'build-01', clientAddress: '198.51.100.4'}});
		const requestId = await confirmDeviceCode(s.ctx, started.code);
		await expectRefused(s, signXml(buildResponse(fields(s, requestId, {statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder'})), idpKey), 'saml.idp-error', /did not sign you in \(Responder\)/);
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'waiting', lastRefusal: expect.stringContaining('did not sign you in (Responder)')});
		expect(s.ctx.store.read().samlRequests.find(r => r.id === requestId)?.state).toBe('burned');
	});
});

describe('the replay cache holds every assertion ID whole', () => {
	it('a 300-character assertion ID is refused, so no two answers can share one the cache cut', async () => {
		const one = await invitationRequest(s, {username: 'long1', email: 'long1@example.test'});
		const two = await invitationRequest(s, {username: 'long2', email: 'long2@example.test'});
		const assertionId = `_${'a'.repeat(299)}`;
		await expectRefused(s, signed(s, one.requestId, {nameId: 'long1@example.test', assertionId}), 'saml.malformed', /longer than 256/);
		await expectRefused(s, signed(s, two.requestId, {nameId: 'long2@example.test', assertionId}), 'saml.malformed', /longer than 256/);
		// 256 characters are kept whole and refused the second time.
		const edge = `_${'b'.repeat(255)}`;
		const three = await invitationRequest(s, {username: 'long3', email: 'long3@example.test'});
		const four = await invitationRequest(s, {username: 'long4', email: 'long4@example.test'});
		expect((await acs(s, signed(s, three.requestId, {nameId: 'long3@example.test', assertionId: edge}))).status).toBe(200);
		await expectRefused(s, signed(s, four.requestId, {nameId: 'long4@example.test', assertionId: edge}), 'saml.replayed', /assertion was already used/);
	});
});

describe('the Kelvin sign is not a k', () => {
	it('an IdP address with a character that folds to ASCII (U+212A) is refused, and so is a sign-up or sign-up domain with one', async () => {
		const {requestId} = await invitationRequest(s, {username: 'kiwi', email: 'kiwi@kiwi.test'});
		await expectRefused(s, signed(s, requestId, {nameId: 'kiwi@\u212Aiwi.test'}), 'saml.no-email', /which is not an e-mail address/);
		expect(s.ctx.store.read().users.map(u => u.username)).not.toContain('kiwi');
		await addSignupDomain(s.ctx, s.root, {domain: 'kiwi.test', method: 'saml'});
		expect(isSamlSignup(s.ctx, 'kim@\u212Aiwi.test')).toBe(false);
		await expect(startSignupSignIn(s.ctx, {email: 'kim@\u212Aiwi.test', username: 'kim'})).rejects.toThrow(/is not a valid domain name/);
		await expect(addSignupDomain(s.ctx, s.root, {domain: '\u212Aelvin.test', method: 'saml'})).rejects.toThrow();
		// Other letters outside ASCII are still IDNs: münchen.test is xn--mnchen-3ya.test.
		expect(isSamlSignup(s.ctx, 'kim@kiwi.test')).toBe(true);
	});
});

describe('the ACS names its own size limit', () => {
	it('a body over the ACS limit gets a 413 page that says 256 KiB, not the forms limit', async () => {
		const answer = await fetch(`${s.server.url}/saml/acs`, {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: `SAMLResponse=${'A'.repeat(300 * 1024)}`});
		expect(answer.status).toBe(413);
		expect(await answer.text()).toContain('larger than this server accepts (256 KiB)');
	});
});

describe('SAML sign-up tells no more than the mailed-code sign-up', () => {
	it('a taken username and a taken address get the same sentence, naming nobody', async () => {
		await addSignupDomain(s.ctx, s.root, {domain: 'corp.test', method: 'saml'});
		await addSamlUser(s.ctx, s.root.tenant.id, 'carol', 'carol@corp.test');
		const byName = await startSignupSignIn(s.ctx, {email: 'erin@corp.test', username: 'carol'});
		const byMail = await startSignupSignIn(s.ctx, {email: 'carol@corp.test', username: 'carla'});
		const sentence = (username: string, email: string) => `No account was made: the username ${username} or the address ${email} is taken in default. If the account is yours, sign in (an admin can reset it); otherwise sign up again with another username.`;
		const one = await acs(s, signed(s, byName, {nameId: 'erin@corp.test'}), false, freshClient());
		const two = await acs(s, signed(s, byMail, {nameId: 'carol@corp.test'}), false, freshClient());
		expect([one.reason, two.reason]).toEqual(['saml.taken', 'saml.taken']);
		expect(one.body).toContain(sentence('carol', 'erin@corp.test'));
		expect(two.body).toContain(sentence('carla', 'carol@corp.test'));
		expect(one.body + two.body).not.toMatch(/already (exists|belongs)/);
	});

	it('SAML sign-ups waiting at the IdP count toward the 1,000 waiting sign-ups: the oldest goes first', async () => {
		const domain = await addSignupDomain(s.ctx, s.root, {domain: 'corp.test', method: 'saml'});
		const start = s.clock.now().getTime();
		await s.ctx.store.transact(db => {
			for (let i = 0; i < 1_000; i++) {
				db.samlRequests.push({id: `_${i.toString(16).padStart(40, '0')}`, created: new Date(start - 60_000 + i).toISOString(), expires: new Date(start + 5 * 60_000).toISOString(), purpose: {kind: 'signup', domainId: domain.id, email: `w${i}@corp.test`, username: `w${i}`}, state: 'pending'});
			}
		});
		const requestId = await startSignupSignIn(s.ctx, {email: 'new@corp.test', username: 'newbie'});
		const waiting = s.ctx.store.read().samlRequests.filter(r => r.purpose.kind === 'signup' && r.state === 'pending');
		expect(waiting).toHaveLength(1_000);
		expect(waiting.map(r => r.id)).toContain(requestId);
		expect(s.ctx.store.read().samlRequests.find(r => r.id === `_${'0'.repeat(40)}`)?.state).toBe('burned');
	});
});

describe("a terminal's sign-in is for the user it started for", () => {
	const origin = {host: 'build-01', clientAddress: '198.51.100.4'};

	it("nothing another tenant's admin creates changes it: a user in acme with vic's address does not stop vic, nor an invitee or a sign-up of default", async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'vic', 'vic@example.test');
		const acme = await createTenant(s.ctx, s.root, 'acme');
		// What acme's admin can make: accounts and invitations in acme carrying the addresses of default's people.
		await s.ctx.store.transact(db => {
			db.users.push(newUser(s.ctx, {tenantId: acme.id, username: 'acmeadmin', email: 'admin@acme.test', role: 'admin', method: 'password', passwordHash: null}));
			db.users.push(newUser(s.ctx, {tenantId: acme.id, username: 'sneaky', email: 'vic@example.test', role: 'member', method: 'password', passwordHash: null}));
			db.users.push(newUser(s.ctx, {tenantId: acme.id, username: 'sneaky2', email: 'ivy@example.test', role: 'member', method: 'saml', passwordHash: null}));
			db.users.push(newUser(s.ctx, {tenantId: acme.id, username: 'sneaky3', email: 'sig@example.test', role: 'member', method: 'saml', passwordHash: null}));
		});
		const started = await startDeviceLogin(s.ctx, {username: 'vic', origin});
		const requestId = await confirmDeviceCode(s.ctx, started.code);
		expect((await acs(s, signed(s, requestId, {nameId: 'vic@example.test'}))).status).toBe(200);
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'signed-in', actor: {user: {username: 'vic'}, tenant: {name: 'default'}}});

		const invited = await invitationRequest(s, {username: 'ivy', email: 'ivy@example.test'});
		expect((await acs(s, signed(s, invited.requestId, {nameId: 'ivy@example.test'}))).status).toBe(200);
		await addSignupDomain(s.ctx, s.root, {domain: 'example.test', method: 'saml'});
		const signup = await startSignupSignIn(s.ctx, {email: 'sig@example.test', username: 'sig', tenant: 'default'});
		expect((await acs(s, signed(s, signup, {nameId: 'sig@example.test'}))).status).toBe(200);
		expect(s.ctx.store.read().users.filter(u => u.tenantId === s.root.tenant.id).map(u => u.username)).toEqual(expect.arrayContaining(['vic', 'ivy', 'sig']));
	});

	it('the user is fixed when the terminal starts: renamed to another address meanwhile, the old address no longer signs in', async () => {
		const user = await addSamlUser(s.ctx, s.root.tenant.id, 'ren', 'ren@example.test');
		const started = await startDeviceLogin(s.ctx, {username: 'ren', origin});
		expect(s.ctx.store.read().deviceLogins.find(d => d.id === started.id)?.userId).toBe(user.id);
		await s.ctx.store.transact(db => {
			db.users.find(u => u.id === user.id)!.email = 'ren.new@example.test';
		});
		const requestId = await confirmDeviceCode(s.ctx, started.code);
		await expectRefused(s, signed(s, requestId, {nameId: 'ren@example.test'}), 'saml.wrong-user', /terminal asked to sign in ren/);
	});

	it('the IdP must have asked for the password since the sign-in started (ForceAuthn): an older AuthnInstant is refused', async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'old', 'old@example.test');
		const started = await startDeviceLogin(s.ctx, {username: 'old', origin});
		const requestId = await confirmDeviceCode(s.ctx, started.code);
		const answer = await fetch(`${s.server.url}/saml/login?request=${requestId}`, {redirect: 'manual'});
		expect(authnRequestOf(answer.headers.get('location')!).forceAuthn).toBe(true);
		await expectRefused(s, signed(s, requestId, {nameId: 'old@example.test', authnInstant: s.clock.now().getTime() - 11 * 24 * 3600_000}), 'saml.stale-authn', /did not ask for the password again/);
		// Within the skew of the request's start: accepted.
		const again = await startDeviceLogin(s.ctx, {username: 'old', origin});
		const second = await confirmDeviceCode(s.ctx, again.code);
		expect((await acs(s, signed(s, second, {nameId: 'old@example.test', authnInstant: s.clock.now().getTime() - 30_000}))).status).toBe(200);
	});

	it('the client address is kept only as an IP address the terminal claims; anything else is "unknown"', async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'ada', 'ada@example.test');
		const stored = async (clientAddress: string) => {
			const started = await startDeviceLogin(s.ctx, {username: 'ada', origin: {host: 'h', clientAddress}});
			return s.ctx.store.read().deviceLogins.find(d => d.id === started.id)?.clientAddress;
		};
		expect(await stored('203.0.113.7\u001b]52;c;ZXZpbA==\u0007\u001b[2J')).toBe('unknown');
		expect(await stored('office.example.test')).toBe('unknown');
		expect(await stored('fe80::1%eth0')).toBe('unknown');
		expect(await stored('999.1.1.1')).toBe('unknown');
		expect(await stored('203.0.113.7')).toBe('203.0.113.7');
		expect(await stored('2001:db8::7')).toBe('2001:db8::7');
		expect(await stored('::ffff:203.0.113.7')).toBe('::ffff:203.0.113.7');
		const page = renderDocument(createElement(DeviceConfirmPage, {csrf: 't', code: 'ABCD-EFGH', now: s.clock.now(), view: {username: 'ada', tenant: null, host: 'h', clientAddress: 'unknown', created: s.clock.now().toISOString(), expires: s.clock.now().toISOString()}}));
		expect(page).toContain('From address, as the terminal claims it');
		expect(page).toContain('unknown (not over SSH)');
	});

	it('a long wait adds one abort listener at a time: no MaxListenersExceededWarning over 600 polls of the test clock', async () => {
		await addSamlUser(s.ctx, s.root.tenant.id, 'wes', 'wes@example.test');
		const started = await startDeviceLogin(s.ctx, {username: 'wes', origin});
		const warnings: string[] = [];
		const onWarning = (warning: Error) => warnings.push(warning.name);
		process.on('warning', onWarning);
		const abort = new AbortController();
		vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout']});
		try {
			const waiting = awaitDeviceLogin(s.ctx, started, {intervalMs: 1000, signal: abort.signal});
			const outcome = waiting.then(() => 'signed in', (error: Error) => error.message);
			for (let i = 0; i < 600; i++) {
				await vi.advanceTimersByTimeAsync(1000);
				s.clock.advance(1);
			}
			expect(getEventListeners(abort.signal, 'abort').length).toBeLessThanOrEqual(1);
			abort.abort();
			await vi.advanceTimersByTimeAsync(1000);
			expect(await outcome).toMatch(/cancelled/);
		} finally {
			vi.useRealTimers();
			s.clock.advance(-600);
			await new Promise(resolve => setTimeout(resolve, 20));
			process.off('warning', onWarning);
		}
		expect(warnings).not.toContain('MaxListenersExceededWarning');
	});
});
