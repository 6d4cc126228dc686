import {randomBytes} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {inflateRawSync} from 'node:zlib';
import {SignedXml} from 'xml-crypto';
import {makeKeyPair} from '../../source/adapters/key-pair.js';
import type {KeyPair, KeyPairMaker} from '../../source/core/context.js';
import {setPublicUrl} from '../../source/core/server-settings.js';
import {setIdpByHand, spEndpoints} from '../../source/core/sso-settings.js';
import type {Actor, Context} from '../../source/core/context.js';
import {newUser} from '../../source/core/accounts.js';
import type {Role, User} from '../../source/core/model.js';

/**
 * Crafted SAML responses for tests: every field chosen, signed with xml-crypto (node-saml's own
 * signing library) the way simplesamlphp signs (assertion, then response; exc-c14n, rsa-sha256,
 * the Signature after the Issuer). The "IdP" is whoever holds the key the settings trust.
 */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const samlId = () => `_${randomBytes(21).toString('hex')}`;
const attr = (name: string, value: string | null | undefined) => (value === undefined || value === null ? '' : ` ${name}="${esc(value)}"`);

export type ResponseFields = {
	now: number;
	idpEntityId: string;
	acsUrl: string;
	audience: string;
	inResponseTo: string | null;
	issuer?: string;
	responseIssuer?: string;
	destination?: string | null;
	recipient?: string | null;
	scdInResponseTo?: string | null;
	nameId?: string;
	/** Raw XML inside NameID (for comment tricks); replaces nameId. */
	nameIdXml?: string;
	nameIdFormat?: string;
	attributes?: Record<string, string[]>;
	issueInstant?: number;
	notBefore?: number | null;
	notOnOrAfter?: number | null;
	scdNotOnOrAfter?: number | null;
	statusCode?: string;
	assertionId?: string;
	/** Raw text put before the root element (a DOCTYPE). */
	prolog?: string;
	/** Raw XML inside samlp:Extensions (before the Status). */
	extensionsXml?: string;
	/** The Response's Version (2.0), and the assertion's. */
	version?: string;
	assertionVersion?: string;
	/** A second-level StatusCode inside the top one. */
	subStatusCode?: string;
	/** The AuthnStatement's AuthnInstant (issueInstant), its SessionNotOnOrAfter (none), or no AuthnStatement at all (null). */
	authnInstant?: number | null;
	sessionNotOnOrAfter?: number;
};

export function buildResponse(f: ResponseFields): string {
	const issuer = f.issuer ?? f.idpEntityId;
	const notOnOrAfter = f.notOnOrAfter === undefined ? f.now + 5 * 60_000 : f.notOnOrAfter;
	const scdNotOnOrAfter = f.scdNotOnOrAfter === undefined ? notOnOrAfter : f.scdNotOnOrAfter;
	const notBefore = f.notBefore === undefined ? f.now - 30_000 : f.notBefore;
	const issued = f.issueInstant ?? f.now;
	const t = (ms: number | null) => (ms === null ? null : iso(ms));
	const attributes = Object.entries(f.attributes ?? {email: ['alice@example.test'], uid: ['alice']})
		.map(([k, vs]) => `<saml:Attribute Name="${esc(k)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">${vs.map(v => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
		.join('');
	const status = f.statusCode ?? 'urn:oasis:names:tc:SAML:2.0:status:Success';
	const authn =
		f.authnInstant === null
			? ''
			: `<saml:AuthnStatement AuthnInstant="${t(f.authnInstant ?? issued)}"${attr('SessionNotOnOrAfter', f.sessionNotOnOrAfter === undefined ? null : t(f.sessionNotOnOrAfter))} SessionIndex="${samlId()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`;
	const assertion = status.endsWith(':Success')
		? `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${f.assertionId ?? samlId()}" Version="${esc(f.assertionVersion ?? '2.0')}" IssueInstant="${t(issued)}">` +
			`<saml:Issuer>${esc(issuer)}</saml:Issuer>` +
			`<saml:Subject><saml:NameID SPNameQualifier="${esc(f.audience)}" Format="${esc(f.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress')}">${f.nameIdXml ?? esc(f.nameId ?? 'alice@example.test')}</saml:NameID>` +
			`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData${attr('NotOnOrAfter', t(scdNotOnOrAfter))}${attr('Recipient', f.recipient === undefined ? f.acsUrl : f.recipient)}${attr('InResponseTo', f.scdInResponseTo === undefined ? f.inResponseTo : f.scdInResponseTo)}/></saml:SubjectConfirmation></saml:Subject>` +
			`<saml:Conditions${attr('NotBefore', t(notBefore))}${attr('NotOnOrAfter', t(notOnOrAfter))}><saml:AudienceRestriction><saml:Audience>${esc(f.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
			authn +
			`<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
			`</saml:Assertion>`
		: '';
	return (
		(f.prolog ?? '') +
		`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${samlId()}" Version="${esc(f.version ?? '2.0')}" IssueInstant="${t(issued)}"${attr('Destination', f.destination === undefined ? f.acsUrl : f.destination)}${attr('InResponseTo', f.inResponseTo)}>` +
		`<saml:Issuer>${esc(f.responseIssuer ?? issuer)}</saml:Issuer>` +
		(f.extensionsXml === undefined ? '' : `<samlp:Extensions>${f.extensionsXml}</samlp:Extensions>`) +
		`<samlp:Status><samlp:StatusCode Value="${esc(status)}">${f.subStatusCode ? `<samlp:StatusCode Value="${esc(f.subStatusCode)}"/>` : ''}</samlp:StatusCode></samlp:Status>` +
		assertion +
		`</samlp:Response>`
	);
}

const C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

/** Signature and digest algorithms: simplesamlphp's (rsa-sha256, sha256) unless a test asks for others. */
export type Algorithms = {signature?: string; digest?: string};
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';

function signAt(xml: string, key: {privateKeyPem: string; certificatePem: string}, xpath: string, algorithms: Algorithms = {}): string {
	const signature = new SignedXml({privateKey: key.privateKeyPem, publicCert: key.certificatePem, signatureAlgorithm: algorithms.signature ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: C14N});
	signature.addReference({xpath, transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', C14N], digestAlgorithm: algorithms.digest ?? 'http://www.w3.org/2001/04/xmlenc#sha256'});
	signature.computeSignature(xml, {prefix: 'ds', location: {reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after'}});
	return signature.getSignedXml();
}

/** Signs the assertion, then the response; the XML, not yet base64. */
export function signXml(xml: string, key: {privateKeyPem: string; certificatePem: string}, which: {assertion?: boolean; response?: boolean; algorithms?: Algorithms} = {}): string {
	let signed = xml;
	if ((which.assertion ?? true) && signed.includes('<saml:Assertion')) signed = signAt(signed, key, "/*[local-name(.)='Response']/*[local-name(.)='Assertion']", which.algorithms);
	if (which.response ?? true) signed = signAt(signed, key, "/*[local-name(.)='Response']", which.algorithms);
	return signed;
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

/** The AuthnRequest inside a Redirect-binding URL (what the browser carries to the IdP). */
export function authnRequestOf(location: string): {id: string; xml: string; forceAuthn: boolean} {
	const url = new URL(location);
	const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
	return {id: /\bID="([^"]+)"/.exec(xml)![1]!, xml, forceAuthn: /ForceAuthn="true"/.test(xml)};
}

let spKeys: Promise<KeyPair> | undefined;
/** Our SP key pair, made once per test process (RSA-2048 takes a moment). */
export const cachedKeyPair: KeyPairMaker = request => (spKeys ??= makeKeyPair(request));

/** Single sign-on set up against an IdP (entity ID, SSO URL, certificate PEM), with the public URL where our server answers. */
export async function configureSso(ctx: Context & {dir: string}, root: Actor, options: {publicUrl: string; idp: {entityId: string; ssoUrl: string; certificatePem: string}; matchAttribute?: 'nameid' | 'email'}): Promise<{entityId: string; acsUrl: string; certificatePem: string}> {
	await setPublicUrl(ctx, root, options.publicUrl);
	const file = join(ctx.dir, `idp-${randomBytes(4).toString('hex')}.crt`);
	writeFileSync(file, options.idp.certificatePem);
	await setIdpByHand(ctx, root, {entityId: options.idp.entityId, ssoUrl: options.idp.ssoUrl, certificateFile: file, ...(options.matchAttribute ? {matchAttribute: options.matchAttribute} : {})});
	const sp = ctx.store.read().settings.sso.sp!;
	return {...spEndpoints(options.publicUrl), certificatePem: sp.certificate};
}

/** A SAML user straight into the store (test set-up): who the IdP's assertions name. */
export async function addSamlUser(ctx: Context, tenantId: string, username: string, email: string, role: Role = 'member'): Promise<User> {
	return ctx.store.transact(db => {
		const user = newUser(ctx, {tenantId, username, email, role, method: 'saml', passwordHash: null});
		db.users.push(user);
		return user;
	});
}
