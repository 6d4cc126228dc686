import {mkdtempSync, rmSync} from 'node:fs';
import {request as httpRequest} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi} from 'vitest';
import type {User} from '../../source/core/model.js';
import {createInvitation, revokeInvitation} from '../../source/core/invitations.js';
import {confirmDeviceCode, isSamlSignup, pollDeviceLogin, startDeviceLogin, startInvitationSignIn, startSignupSignIn} from '../../source/core/saml.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {createTenant} from '../../source/core/tenants.js';
import {disableUser} from '../../source/core/user-admin.js';
import {serve, type RunningServer} from '../../source/web/serve.js';
import {testKeyPair} from '../helpers/idp.js';
import {addSamlUser, authnRequestOf, b64, buildResponse, cachedKeyPair, configureSso, samlId, signXml, type ResponseFields} from '../helpers/saml.js';
import {startServe} from '../helpers/serve.js';
import {Clock, initializedContext} from '../helpers/store.js';

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
		['with an IdP error status', 'saml.idp-error', (x, id) => buildResponse(fields(x, id, {statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Responder'})), /did not sign you in \(Responder\)/],
	];
	for (const [what, reason, make, sentence] of cases) {
		it(`a response ${what} is refused: ${reason}`, async () => {
			const {requestId} = await invitationRequest(s, {username: `u${samlId().slice(1, 9)}`, email: 'case@example.test'});
			await expectRefused(s, make(s, requestId), reason, sentence);
		});
	}

	it('a response that is not XML, or not a Response, is refused as malformed', async () => {
		expect((await acs(s, 'not base64 xml at all', true)).reason).toBe('saml.malformed');
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
		await expectRefused(s, signed(s, requestId, {nameId: 'mal@example.test'}), 'saml.wrong-user', /signed you in as mal, but the terminal asked to sign in vic/);
		expect(await pollDeviceLogin(s.ctx, started)).toMatchObject({state: 'waiting', lastRefusal: expect.stringContaining('signed you in as mal')});
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
		await expectRefused(s, signed(s, requestId, {nameId: 'bet@example.test'}), 'saml.no-user', /No user of tenant default has the e-mail bet@example\.test/);
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
