import {X509Certificate} from 'node:crypto';
import {SAML, SamlStatusError, ValidateInResponseTo, type CacheProvider, type SamlConfig as NodeSamlConfig} from '@node-saml/node-saml';
import {DOMParser, XMLSerializer, type Element as XmlElement} from '@xmldom/xmldom';
import {SignedXml} from 'xml-crypto';
import type {SamlConfig, SamlPort, SamlVerified} from '../core/context.js';
import {refused} from '../core/errors.js';
import {inert} from '../core/inert.js';
import {shortened} from '../core/words.js';

/**
 * The SAML service provider's library side, behind the core's SamlPort: @node-saml/node-saml
 * (>= 5.1.0, CVE-2025-54419) builds our signed AuthnRequests and verifies the IdP's signatures and
 * audience. What node-saml does not do (Destination, Recipient, issuer, every time check on the
 * core's clock, single use of requests and assertions) is the core's (core/saml/).
 *
 * The options that matter, and why (node-saml's defaults are in brackets):
 * - validateInResponseTo 'always' ['never', which accepts unsolicited and foreign responses];
 * - acceptedClockSkewMs -1 [0]: node-saml reads `new Date()`, the core checks times on its one clock;
 * - signatureAlgorithm sha256 [sha1] for our AuthnRequests;
 * - wantAuthnResponseSigned and wantAssertionsSigned true: the Destination check relies on a signed Response;
 * - audience our entity ID, checked by node-saml (AudienceRestriction required);
 * - the request-id cache answers from the store through `isPending` (node-saml's own is per process).
 */

const NS = {p: 'urn:oasis:names:tc:SAML:2.0:protocol', ds: 'http://www.w3.org/2000/09/xmldsig#'} as const;

const certBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');

function baseOptions(config: SamlConfig, cacheProvider: CacheProvider, extra: Partial<NodeSamlConfig> = {}): NodeSamlConfig {
	return {
		callbackUrl: config.acsUrl,
		entryPoint: config.idp.ssoUrl,
		issuer: config.spEntityId,
		audience: config.spEntityId,
		idpCert: config.idp.certificates.map(certBody),
		identifierFormat: config.nameIdFormat,
		wantAssertionsSigned: true,
		wantAuthnResponseSigned: true,
		validateInResponseTo: ValidateInResponseTo.always,
		requestIdExpirationPeriodMs: 10 * 60_000,
		cacheProvider,
		acceptedClockSkewMs: -1,
		maxAssertionAgeMs: 0,
		disableRequestedAuthnContext: true,
		privateKey: config.spPrivateKeyPem,
		publicCert: config.spCertificatePem,
		signatureAlgorithm: 'sha256',
		...extra,
	};
}

const quietParser = (errors: string[] = []) =>
	new DOMParser({
		onError: (level: string, message: string) => {
			if (level !== 'warning') errors.push(message);
		},
	});

function childElements(parent: XmlElement, ns: string, local: string): XmlElement[] {
	const found: XmlElement[] = [];
	for (let node = parent.firstChild; node; node = node.nextSibling) {
		if (node.nodeType === 1 && (node as XmlElement).namespaceURI === ns && (node as XmlElement).localName === local) found.push(node as XmlElement);
	}
	return found;
}

/** The IdP's status codes (`Responder/AuthnFailed`) of a Response whose signature node-saml checked, for the message only. */
function idpStatus(xml: string): string | null {
	const root = quietParser().parseFromString(xml, 'text/xml').documentElement;
	if (!root) return null;
	const status = childElements(root, NS.p, 'Status')[0];
	if (!status) return null;
	const codes: string[] = [];
	let code = childElements(status, NS.p, 'StatusCode')[0];
	while (code && codes.length < 3) {
		codes.push(code.getAttribute('Value') ?? '');
		code = childElements(code, NS.p, 'StatusCode')[0];
	}
	return codes.join('/').replace(/urn:oasis:names:tc:SAML:2\.0:status:/g, '');
}

/**
 * Why signatures failed, for the audit (node-saml says only "Invalid signature"): xml-crypto is run
 * again with our certificates only, never the one in KeyInfo. The decision stays node-saml's.
 */
function signatureRefusal(xml: string, trusted: readonly string[]): Error {
	const root = quietParser().parseFromString(xml, 'text/xml').documentElement;
	const signatures = root ? Array.from(root.getElementsByTagNameNS(NS.ds, 'Signature')) : [];
	if (!root || signatures.length === 0) return refused('The SAML response carries no signature.', {code: 'saml.unsigned'});
	if (childElements(root, NS.ds, 'Signature').length === 0) return refused('The SAML response itself is not signed (only its assertion is).', {code: 'saml.unsigned'});
	for (const signature of signatures) {
		let verdict: 'valid' | 'wrong-key' | 'digest' = 'digest';
		for (const pem of trusted) {
			const checker = new SignedXml({publicCert: pem, getCertFromKeyInfo: () => null});
			checker.loadSignature(new XMLSerializer().serializeToString(signature));
			try {
				if (checker.checkSignature(xml)) {
					verdict = 'valid';
					break;
				}
			} catch (error) {
				if (/signature value .* is incorrect/i.test((error as Error).message)) verdict = 'wrong-key';
			}
		}
		if (verdict === 'valid') continue;
		if (verdict === 'wrong-key') {
			const named = signature.getElementsByTagNameNS(NS.ds, 'X509Certificate')[0]?.textContent;
			let who = '';
			try {
				if (named) who = ` (it names the certificate with SHA-256 fingerprint ${new X509Certificate(Buffer.from(named.replace(/\s+/g, ''), 'base64')).fingerprint256})`;
			} catch {
				// Not a certificate: the fingerprint is left out.
			}
			return refused(`The SAML response is signed by a key that is not the identity provider's${who}.`, {code: 'saml.unknown-signer'});
		}
		return refused('The SAML response was altered after the identity provider signed it.', {code: 'saml.tampered'});
	}
	return refused('The SAML response signature does not cover what it must (signature wrapping or an extra assertion).', {code: 'saml.bad-signature'});
}

/** node-saml's error, as one of our refusals with its own reason. */
function refusalOf(error: unknown, xml: string, trusted: readonly string[]): Error {
	const message = error instanceof Error ? error.message : String(error);
	if (message === 'InResponseTo is missing from response') return refused('The SAML response answers no sign-in request of ours (it has no InResponseTo).', {code: 'saml.unsolicited'});
	if (message === 'InResponseTo is not valid' || message === 'SubjectInResponseTo is not valid') return refused('The SAML response answers no pending sign-in request of ours.', {code: 'saml.unknown-request'});
	if (message === 'InResponseTo does not match subjectInResponseTo') return refused('The SAML assertion answers a different sign-in request than its response.', {code: 'saml.unsolicited'});
	// node-saml reads the status only once the Response's signature holds (wantAuthnResponseSigned): only then are they the IdP's words.
	if (error instanceof SamlStatusError) {
		const status = idpStatus(xml);
		return refused(`The identity provider did not sign you in${status ? ` (${inert(shortened(status, 120))})` : ''}.`, {code: 'saml.idp-error'});
	}
	const status = idpStatus(xml);
	if (status && !/^Success$/.test(status) && /signature/i.test(message)) return refused('The SAML response says the sign-in failed, but the identity provider did not sign it, so it was ignored.', {code: 'saml.unsigned'});
	if (/signature|Too many signatures|ID cannot refer|Referenced node|signed references|transforms|Cannot obtain assertion/i.test(message)) return signatureRefusal(xml, trusted);
	if (/audience mismatch|AudienceRestriction/i.test(message)) return refused(`The SAML assertion is not meant for us (${inert(shortened(message.replace(/^SAML assertion /, ''), 200))}).`, {code: 'saml.wrong-audience'});
	if (/multiple (assertions|conditions)/i.test(message)) return refused(`The SAML response is ambiguous: ${inert(shortened(message, 200))}.`, {code: 'saml.bad-signature'});
	if (message === 'Missing SAML assertion') return refused('The SAML response holds no assertion.', {code: 'saml.malformed'});
	return refused(`The SAML response was refused: ${inert(shortened(message, 200))}.`, {code: 'saml.invalid'});
}

/** node-saml wants a request-id cache; ours is the store, read through `isPending`, and written only by the core. */
function storeCache(isPending: (id: string) => boolean): CacheProvider {
	return {
		saveAsync: (_key, value) => Promise.resolve({value, createdAt: Date.now()}),
		// node-saml adds requestIdExpirationPeriodMs to this and compares with its own Date.now(); the core's expiry has counted already.
		getAsync: key => Promise.resolve(key && isPending(key) ? new Date().toISOString() : null),
		removeAsync: key => Promise.resolve(key),
	};
}

export const nodeSamlPort: SamlPort = {
	async authorizeUrl(config, request) {
		const saml = new SAML(baseOptions(config, storeCache(() => false), {generateUniqueId: () => request.id, forceAuthn: request.forceAuthn}));
		return saml.getAuthorizeUrlAsync(request.relayState, undefined, {});
	},

	async verify(config, samlResponse, isPending): Promise<SamlVerified> {
		const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
		const saml = new SAML(baseOptions(config, storeCache(isPending)));
		let profile;
		try {
			({profile} = await saml.validatePostResponseAsync({SAMLResponse: samlResponse}));
		} catch (error) {
			throw refusalOf(error, xml, config.idp.certificates);
		}
		if (!profile) throw refused('The SAML response holds no sign-in.', {code: 'saml.malformed'});
		return {assertionXml: profile.getAssertionXml?.() ?? '', responseXml: xml};
	},
};

