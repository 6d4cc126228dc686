import type {Element as XmlElement} from '@xmldom/xmldom';
import {isLoopback} from './hosts.js';
import {CONTROL_OR_SPACE, inert} from './inert.js';
import {parseCertificate} from './certificates.js';
import {invalid} from './errors.js';
import type {SamlIdp} from './model.js';

/**
 * SAML 2.0 metadata (OASIS saml-metadata-2.0-os): reading an identity provider's, writing ours.
 * Metadata is foreign text from another system, so it is read with a real XML parser
 * (@xmldom/xmldom, the one node-saml uses), by namespace, and a document with a DOCTYPE is refused
 * outright: SAML metadata never needs one, and a DOCTYPE is where entity expansion (XXE, billion
 * laughs) starts. xmldom expands no entities anyway; refusing says so in one sentence.
 */

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const BINDING_URNS: Readonly<Record<SamlIdp['binding'], string>> = {
	redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
	post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
};
export const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
export const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

/** Larger than any real IdP's metadata (simplesamlphp's is 4 KB; aggregates are refused anyway). */
export const METADATA_MAX_BYTES = 1_000_000;

/** What an IdP's metadata says, before it is judged against the clock. */
export type IdpMetadata = {
	readonly entityId: string;
	readonly ssoUrl: string;
	readonly binding: SamlIdp['binding'];
	/** Signing certificates, PEM, each once. */
	readonly certificates: readonly string[];
	/** `validUntil` of the metadata, when it has one. */
	readonly validUntil: string | undefined;
};

const DOCUMENT_TYPE_NODE = 10;

function children(parent: XmlElement, namespace: string, name: string): XmlElement[] {
	const found: XmlElement[] = [];
	for (let node = parent.firstChild; node; node = node.nextSibling) {
		if (node.nodeType === 1 && (node as XmlElement).namespaceURI === namespace && (node as XmlElement).localName === name) found.push(node as XmlElement);
	}
	return found;
}

function descendants(parent: XmlElement, namespace: string, name: string): XmlElement[] {
	return Array.from(parent.getElementsByTagNameNS(namespace, name));
}

/** A URL a browser is sent to: http(s), no credentials. */
export function checkHttpUrl(text: string, what: string): string {
	let url: URL;
	try {
		url = new URL(text.trim());
	} catch {
		throw invalid(`The ${what} "${inert(text)}" is not a URL.`);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`The ${what} must be an https:// or http:// URL, not ${url.protocol}.`);
	if (url.username || url.password) throw invalid(`The ${what} must not carry credentials.`);
	// Plain HTTP would let anyone on the path read or change a sign-in; only an IdP on this machine may use it.
	if (url.protocol === 'http:' && !isLoopback(url.hostname)) throw invalid(`The ${what} must use https:// (plain http:// is allowed only for an identity provider on this machine).`);
	return url.toString();
}

/** An entity ID: a URI of up to 1024 characters (SAML core §8.3.6), no control characters or spaces. */
export function checkEntityId(text: string, what: string): string {
	const value = text.trim();
	if (value === '') throw invalid(`The ${what} is empty.`);
	if (value.length > 1024) throw invalid(`The ${what} is longer than 1024 characters.`);
	if (CONTROL_OR_SPACE.test(value)) throw invalid(`The ${what} holds spaces or control characters.`);
	return value;
}

/**
 * Reads an identity provider's metadata. `source` names the file in the sentences. Refuses (one
 * sentence each): what is not XML, a DOCTYPE, what is not SAML metadata or not an IdP's, an
 * aggregate of several IdPs, no SAML 2.0 support, no single sign-on URL with a browser binding,
 * and no readable signing certificate.
 */
export async function parseIdpMetadata(xml: string, source: string): Promise<IdpMetadata> {
	// xmldom is CommonJS: bundled, its exports arrive as `default`; under Node's own loader, as named exports too.
	const xmldom = (await import('@xmldom/xmldom')) as typeof import('@xmldom/xmldom') & {default?: typeof import('@xmldom/xmldom')};
	const {DOMParser} = xmldom.default ?? xmldom;
	const problems: string[] = [];
	let doc;
	try {
		doc = new DOMParser({
			onError: (level, message) => {
				if (level !== 'warning') problems.push(message);
			},
		}).parseFromString(xml, 'text/xml');
	} catch (error) {
		// xmldom throws a ParseError for what is not XML; anything else is ours and must not read as bad input.
		if (!(error instanceof Error) || error.name !== 'ParseError') throw error;
		throw invalid(`${source} is not XML (${inert(firstLine(error))}).`);
	}
	if (doc.doctype || Array.from(doc.childNodes).some(n => n.nodeType === DOCUMENT_TYPE_NODE)) {
		throw invalid(`${source} holds a DOCTYPE declaration; SAML metadata never needs one, and orgctl refuses it because entity expansion attacks start there.`);
	}
	if (problems.length > 0) throw invalid(`${source} is not well-formed XML (${inert(firstLine(problems[0]))}).`);
	const root = doc.documentElement;
	if (!root) throw invalid(`${source} is not XML (it has no root element).`);
	if (root.namespaceURI !== MD || (root.localName !== 'EntityDescriptor' && root.localName !== 'EntitiesDescriptor')) {
		throw invalid(`${source} is not SAML 2.0 metadata: its root element is <${inert(root.tagName)}>, not <md:EntityDescriptor>.`);
	}
	let entity = root;
	if (root.localName === 'EntitiesDescriptor') {
		const idps = descendants(root, MD, 'EntityDescriptor').filter(e => children(e, MD, 'IDPSSODescriptor').length > 0);
		if (idps.length !== 1) throw invalid(`${source} describes ${idps.length} identity providers; export the metadata of the one to use.`);
		entity = idps[0]!;
	}
	const idp = children(entity, MD, 'IDPSSODescriptor')[0];
	if (!idp) throw invalid(`${source} describes no identity provider (no IDPSSODescriptor); is it a service provider's metadata?`);
	if (!(idp.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL)) {
		throw invalid(`The identity provider in ${source} does not list SAML 2.0 in its protocolSupportEnumeration.`);
	}
	const entityId = checkEntityId(entity.getAttribute('entityID') ?? '', `IdP entity ID in ${source}`);

	const services = children(idp, MD, 'SingleSignOnService');
	const service = (['redirect', 'post'] as const).map(binding => ({binding, element: services.find(s => s.getAttribute('Binding') === BINDING_URNS[binding])})).find(s => s.element);
	if (!service?.element) {
		throw invalid(`${source} names no single sign-on URL (a SingleSignOnService with the HTTP-Redirect or HTTP-POST binding).`);
	}
	const ssoUrl = checkHttpUrl(service.element.getAttribute('Location') ?? '', `single sign-on URL in ${source}`);

	const certificates: string[] = [];
	const seen = new Set<string>();
	for (const key of children(idp, MD, 'KeyDescriptor')) {
		const use = key.getAttribute('use');
		// No `use` means the key serves both signing and encryption.
		if (use && use !== 'signing') continue;
		for (const element of descendants(key, DS, 'X509Certificate')) {
			const base64 = (element.textContent ?? '').replace(/\s+/g, '');
			const cert = /^[A-Za-z0-9+/]+={0,2}$/.test(base64) ? parseCertificate(Buffer.from(base64, 'base64')) : undefined;
			if (!cert) throw invalid(`A signing certificate in ${source} is not an X.509 certificate orgctl can read.`);
			if (seen.has(cert.fingerprint256)) continue;
			seen.add(cert.fingerprint256);
			certificates.push(cert.toString());
		}
	}
	if (certificates.length === 0) throw invalid(`${source} holds no signing certificate (a KeyDescriptor for signing with an X509Certificate), so no assertion could be checked.`);
	if (certificates.length > 10) throw invalid(`${source} lists ${certificates.length} signing certificates; orgctl keeps at most 10.`);
	const validUntil = entity.getAttribute('validUntil') ?? root.getAttribute('validUntil') ?? undefined;
	return {entityId, ssoUrl, binding: service.binding, certificates, validUntil: validUntil ?? undefined};
}

function firstLine(error: unknown): string {
	const text = error instanceof Error ? error.message : String(error);
	return text.split('\n')[0]!.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** Escapes text for an XML attribute or element. */
function xml(text: string): string {
	return text.replace(/[&<>"']/g, ch => `&#${ch.charCodeAt(0)};`);
}

/** The base64 body of a PEM certificate, as metadata carries it. */
function pemBody(pem: string): string {
	const cert = parseCertificate(pem);
	if (!cert) throw invalid('The SP certificate is not a PEM certificate.');
	return cert.raw.toString('base64');
}

/**
 * Our metadata, to hand to the IdP: the SP entity ID, the ACS URL (HTTP-POST), our signing
 * certificate, and the NameID format we ask for (e-mail when users are matched by NameID).
 */
export function serviceProviderMetadata(sp: {readonly entityId: string; readonly acsUrl: string; readonly certificatePem: string; readonly nameIdFormat: string}): string {
	return [
		'<?xml version="1.0" encoding="UTF-8"?>',
		`<md:EntityDescriptor xmlns:md="${MD}" entityID="${xml(sp.entityId)}">`,
		`  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="${SAML2_PROTOCOL}">`,
		'    <md:KeyDescriptor use="signing">',
		`      <ds:KeyInfo xmlns:ds="${DS}">`,
		'        <ds:X509Data>',
		`          <ds:X509Certificate>${pemBody(sp.certificatePem)}</ds:X509Certificate>`,
		'        </ds:X509Data>',
		'      </ds:KeyInfo>',
		'    </md:KeyDescriptor>',
		`    <md:NameIDFormat>${xml(sp.nameIdFormat)}</md:NameIDFormat>`,
		`    <md:AssertionConsumerService Binding="${BINDING_URNS.post}" Location="${xml(sp.acsUrl)}" index="1" isDefault="true"/>`,
		'  </md:SPSSODescriptor>',
		'</md:EntityDescriptor>',
		'',
	].join('\n');
}
