import {DOMParser, type Element as XmlElement} from '@xmldom/xmldom';
import {refused} from '../errors.js';
import {inert} from '../inert.js';
import {CLOCK_SKEW_MS} from './limits.js';

/**
 * The checks of a SAML response that the library does not make (DESIGN §5a), on the core's one
 * clock: Destination and Recipient equal to our ACS URL, the IdP as issuer of response and
 * assertion, InResponseTo on both, every validity time with a bounded skew. Response-level values
 * come from the raw document's root (the library verified the Response signature, whose single
 * reference is that root); assertion values only from the verified assertion.
 */

export const NS = {p: 'urn:oasis:names:tc:SAML:2.0:protocol', a: 'urn:oasis:names:tc:SAML:2.0:assertion'} as const;
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const DOCUMENT_TYPE_NODE = 10;
const COMMENT_NODE = 8;

export {CLOCK_SKEW_MS, MAX_RESPONSE_BYTES} from './limits.js';
/** An assertion issued longer ago than this is refused, whatever its NotOnOrAfter says. */
export const MAX_ASSERTION_AGE_MS = 10 * 60_000;

const malformed = (message: string) => refused(message, {code: 'saml.malformed'});

/**
 * What a SAML response ever needs, by far (a real one from simplesamlphp: depth 8, about 40
 * elements, a 2 KB certificate as its longest text). The pre-scan refuses anything beyond before
 * an XML parser or a signature check sees it: 24,000 nested elements cost xml-crypto seconds.
 */
export const XML_LIMITS = {depth: 32, elements: 2_000, attributesPerElement: 32, textChars: 32 * 1024} as const;

/** The longest assertion ID we accept (and remember in the replay cache, whole). */
export const MAX_ASSERTION_ID = 256;

/**
 * A linear scan of the raw text, cheap for any input: nesting depth, element count, attributes per
 * element and the length of any text or attribute value, within XML_LIMITS. Not a parser: what it
 * lets through is parsed strictly afterwards; it only makes sure that parse is small.
 */
export function preScanXml(xml: string, what: string): void {
	const over = (why: string) => malformed(`The ${what} is larger than any sign-in needs (${why}); it was refused unread.`);
	let depth = 0;
	let elements = 0;
	let i = 0;
	const n = xml.length;
	while (i < n) {
		const lt = xml.indexOf('<', i);
		const textEnd = lt < 0 ? n : lt;
		if (textEnd - i > XML_LIMITS.textChars) throw over(`a text of more than ${XML_LIMITS.textChars} characters`);
		if (lt < 0) break;
		if (xml.startsWith('<!--', lt)) {
			const end = xml.indexOf('-->', lt + 4);
			i = end < 0 ? n : end + 3;
		} else if (xml.startsWith('<![CDATA[', lt)) {
			const end = xml.indexOf(']]>', lt + 9);
			if ((end < 0 ? n : end) - lt > XML_LIMITS.textChars) throw over(`a text of more than ${XML_LIMITS.textChars} characters`);
			i = end < 0 ? n : end + 3;
		} else if (xml.startsWith('<?', lt)) {
			const end = xml.indexOf('?>', lt + 2);
			i = end < 0 ? n : end + 2;
		} else if (xml.startsWith('<!', lt)) {
			throw malformed(`The ${what} carries a DOCTYPE, which SAML never needs; it was refused unread.`);
		} else if (xml.startsWith('</', lt)) {
			depth -= 1;
			const end = xml.indexOf('>', lt);
			i = end < 0 ? n : end + 1;
		} else {
			// A start tag: up to its closing '>' outside quotes, counting attributes by their '='.
			let j = lt + 1;
			let attributes = 0;
			let quote = '';
			let valueStart = 0;
			for (; j < n; j++) {
				const c = xml.charCodeAt(j);
				if (quote) {
					if (xml[j] === quote) {
						if (j - valueStart > XML_LIMITS.textChars) throw over(`an attribute value of more than ${XML_LIMITS.textChars} characters`);
						quote = '';
					}
				} else if (c === 0x22 || c === 0x27) {
					quote = xml[j]!;
					valueStart = j;
				} else if (c === 0x3d) {
					if (++attributes > XML_LIMITS.attributesPerElement) throw over(`an element with more than ${XML_LIMITS.attributesPerElement} attributes`);
				} else if (c === 0x3e) break;
			}
			if (++elements > XML_LIMITS.elements) throw over(`more than ${XML_LIMITS.elements} elements`);
			if (xml[j - 1] !== '/' && ++depth > XML_LIMITS.depth) throw over(`elements nested more than ${XML_LIMITS.depth} deep`);
			i = j + 1;
		}
	}
}

/** Signature and digest algorithms we accept from the IdP: SHA-256 or stronger (no SHA-1). */
export const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
	'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
	'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
export const DIGEST_ALGORITHMS: ReadonlySet<string> = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']);
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const KNOWN_WEAK: Readonly<Record<string, string>> = {
	'http://www.w3.org/2000/09/xmldsig#rsa-sha1': 'RSA-SHA1',
	'http://www.w3.org/2000/09/xmldsig#hmac-sha1': 'HMAC-SHA1',
	'http://www.w3.org/2000/09/xmldsig#dsa-sha1': 'DSA-SHA1',
	'http://www.w3.org/2000/09/xmldsig#sha1': 'SHA-1',
};

/** Parses foreign XML: a DOCTYPE (where entity tricks start) or any parse error is refused. */
export function parseXml(xml: string, what: string): XmlElement {
	const errors: string[] = [];
	let doc: ReturnType<DOMParser['parseFromString']>;
	try {
		doc = new DOMParser({
			onError: (level: string, message: string) => {
				if (level !== 'warning') errors.push(message);
			},
		}).parseFromString(xml, 'text/xml');
	} catch {
		// xmldom throws on a fatal error (not XML at all).
		throw malformed(`The ${what} is not well-formed XML.`);
	}
	for (let node = doc.firstChild; node; node = node.nextSibling) {
		if (node.nodeType === DOCUMENT_TYPE_NODE) throw malformed(`The ${what} carries a DOCTYPE, which SAML never needs; it was refused unread.`);
	}
	if (errors.length > 0 || !doc.documentElement) throw malformed(`The ${what} is not well-formed XML.`);
	return doc.documentElement;
}

export function childElements(parent: XmlElement, ns: string, local: string): XmlElement[] {
	const found: XmlElement[] = [];
	for (let node = parent.firstChild; node; node = node.nextSibling) {
		if (node.nodeType === 1 && (node as XmlElement).namespaceURI === ns && (node as XmlElement).localName === local) found.push(node as XmlElement);
	}
	return found;
}

const firstChild = (parent: XmlElement | undefined, ns: string, local: string) => (parent ? childElements(parent, ns, local)[0] : undefined);

/** The text of an element: all its text, never cut at a comment (`alice@corp<!---->.evil` is `alice@corp.evil`). */
function textOf(element: XmlElement | undefined): string | null {
	if (!element) return null;
	let text = '';
	const walk = (node: XmlElement) => {
		for (let child = node.firstChild; child; child = child.nextSibling) {
			if (child.nodeType === 1) walk(child as XmlElement);
			else if (child.nodeType !== COMMENT_NODE) text += child.nodeValue ?? '';
		}
	};
	walk(element);
	return text.trim();
}

const quoted = (value: string | null) => (value ? `"${inert(value).slice(0, 200)}"` : '(none)');

function time(value: string | null, what: string): number | null {
	if (value === null || value === '') return null;
	const ms = Date.parse(value);
	if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) || Number.isNaN(ms)) throw malformed(`The SAML ${what} time ${quoted(value)} is not a UTC time.`);
	return ms;
}

/** What a response says before it is verified: whom it answers. */
export type ResponseEnvelope = {readonly root: XmlElement; readonly inResponseTo: string | null};

export function readEnvelope(xml: string): ResponseEnvelope {
	preScanXml(xml, 'SAML response');
	const root = parseXml(xml, 'SAML response');
	if (root.namespaceURI !== NS.p || root.localName !== 'Response') throw malformed('The SAML message is not a Response.');
	// Every signature in it, verified or not, by SHA-256 or stronger: a SHA-1 one is refused before any check.
	// Unverified text: an algorithm is named only if it is one we know, never echoed.
	for (const method of Array.from(root.getElementsByTagNameNS(DS, 'SignatureMethod'))) {
		const algorithm = method.getAttribute('Algorithm') ?? '';
		if (!SIGNATURE_ALGORITHMS.has(algorithm)) throw refused(`The SAML response is signed with ${KNOWN_WEAK[algorithm] ?? 'an algorithm we do not know'}; we accept RSA with SHA-256 or SHA-512 only.`, {code: 'saml.weak-signature'});
	}
	for (const method of Array.from(root.getElementsByTagNameNS(DS, 'DigestMethod'))) {
		const algorithm = method.getAttribute('Algorithm') ?? '';
		if (!DIGEST_ALGORITHMS.has(algorithm)) throw refused(`The SAML response's signature digests with ${KNOWN_WEAK[algorithm] ?? 'an algorithm we do not know'}; we accept SHA-256 or SHA-512 only.`, {code: 'saml.weak-signature'});
	}
	return {root, inResponseTo: root.getAttribute('InResponseTo') || null};
}

/** Who the verified assertion names, and how long its ID must be remembered. */
export type CheckedAssertion = {
	readonly assertionId: string;
	readonly nameId: string | null;
	readonly nameIdFormat: string | null;
	/** Attribute values by name, text only. */
	readonly attributes: Readonly<Record<string, readonly string[]>>;
	/** Until when the assertion could be valid: its ID stays in the replay cache till then. */
	readonly keepUntil: Date;
};

export type Expected = {
	readonly acsUrl: string;
	readonly idpEntityId: string;
	readonly now: Date;
	/** When a request sent with ForceAuthn was made: the IdP must have asked for the password since. */
	readonly authnSince?: Date | undefined;
};

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/** Our own checks of a response the library has verified. Each refusal has its own code and sentence. */
export function checkVerifiedResponse(envelope: ResponseEnvelope, assertionXml: string, expected: Expected): CheckedAssertion {
	const {root, inResponseTo} = envelope;
	const now = expected.now.getTime();
	const destination = root.getAttribute('Destination') || null;
	if (destination !== expected.acsUrl) throw refused(`The SAML response is addressed to ${quoted(destination)}, not to ${expected.acsUrl}.`, {code: 'saml.wrong-destination'});
	if (root.getAttribute('Version') !== '2.0') throw malformed(`The SAML response has version ${quoted(root.getAttribute('Version'))}; we speak SAML 2.0 only.`);
	const topStatus = firstChild(firstChild(root, NS.p, 'Status'), NS.p, 'StatusCode');
	if (topStatus?.getAttribute('Value') !== SUCCESS) throw refused('The identity provider did not sign you in.', {code: 'saml.idp-error'});
	if (firstChild(topStatus, NS.p, 'StatusCode')) throw refused(`The identity provider answered Success with a second-level status ${quoted(firstChild(topStatus, NS.p, 'StatusCode')!.getAttribute('Value'))}, which a sign-in never has.`, {code: 'saml.idp-error'});
	const responseIssuer = textOf(firstChild(root, NS.a, 'Issuer'));
	if (responseIssuer !== null && responseIssuer !== expected.idpEntityId) throw refused(`The SAML response was issued by ${quoted(responseIssuer)}, not by the identity provider ${expected.idpEntityId}.`, {code: 'saml.wrong-issuer'});

	const assertion = parseXml(assertionXml, 'SAML assertion');
	if (assertion.namespaceURI !== NS.a || assertion.localName !== 'Assertion') throw malformed('The SAML response holds no verified assertion.');
	const assertionId = assertion.getAttribute('ID');
	if (!assertionId) throw malformed('The SAML assertion has no ID.');
	if (assertionId.length > MAX_ASSERTION_ID) throw malformed(`The SAML assertion's ID is longer than ${MAX_ASSERTION_ID} characters.`);
	if (assertion.getAttribute('Version') !== '2.0') throw malformed(`The SAML assertion has version ${quoted(assertion.getAttribute('Version'))}; we speak SAML 2.0 only.`);
	const issuer = textOf(firstChild(assertion, NS.a, 'Issuer'));
	if (issuer !== expected.idpEntityId) throw refused(`The SAML assertion was issued by ${quoted(issuer)}, not by the identity provider ${expected.idpEntityId}.`, {code: 'saml.wrong-issuer'});

	const subject = firstChild(assertion, NS.a, 'Subject');
	const confirmations = (subject ? childElements(subject, NS.a, 'SubjectConfirmation') : [])
		.filter(c => c.getAttribute('Method') === BEARER)
		.map(c => firstChild(c, NS.a, 'SubjectConfirmationData'))
		.filter(d => d !== undefined);
	if (confirmations.length === 0) throw malformed('The SAML assertion has no bearer subject confirmation.');
	// One bearer confirmation must pass every check; otherwise the most telling reason of the first.
	const problems: Error[] = [];
	let confirmedUntil: number | null = null;
	for (const data of confirmations) {
		const recipient = data.getAttribute('Recipient') || null;
		const notBefore = time(data.getAttribute('NotBefore'), 'SubjectConfirmationData NotBefore');
		const notOnOrAfter = time(data.getAttribute('NotOnOrAfter'), 'SubjectConfirmationData NotOnOrAfter');
		if (recipient !== expected.acsUrl) problems.push(refused(`The SAML assertion is meant for ${quoted(recipient)}, not for ${expected.acsUrl}.`, {code: 'saml.wrong-recipient'}));
		else if ((data.getAttribute('InResponseTo') || null) !== inResponseTo) problems.push(refused('The SAML assertion answers a different sign-in request than its response.', {code: 'saml.unsolicited'}));
		else if (notOnOrAfter === null) problems.push(malformed('The SAML subject confirmation has no NotOnOrAfter.'));
		else if (now - CLOCK_SKEW_MS >= notOnOrAfter) problems.push(refused(`The SAML assertion expired at ${data.getAttribute('NotOnOrAfter')}.`, {code: 'saml.expired'}));
		else if (notBefore !== null && now + CLOCK_SKEW_MS < notBefore) problems.push(refused(`The SAML assertion is not valid before ${data.getAttribute('NotBefore')}.`, {code: 'saml.not-yet-valid'}));
		else {
			confirmedUntil = notOnOrAfter;
			break;
		}
	}
	if (confirmedUntil === null) throw problems[0]!;

	const conditions = firstChild(assertion, NS.a, 'Conditions');
	if (!conditions) throw malformed('The SAML assertion has no Conditions.');
	const notBefore = time(conditions.getAttribute('NotBefore'), 'Conditions NotBefore');
	const notOnOrAfter = time(conditions.getAttribute('NotOnOrAfter'), 'Conditions NotOnOrAfter');
	if (notOnOrAfter === null) throw malformed('The SAML assertion has no NotOnOrAfter condition.');
	if (notBefore !== null && now + CLOCK_SKEW_MS < notBefore) throw refused(`The SAML assertion is not valid before ${conditions.getAttribute('NotBefore')}.`, {code: 'saml.not-yet-valid'});
	if (now - CLOCK_SKEW_MS >= notOnOrAfter) throw refused(`The SAML assertion expired at ${conditions.getAttribute('NotOnOrAfter')}.`, {code: 'saml.expired'});
	const issued = time(assertion.getAttribute('IssueInstant'), 'IssueInstant');
	if (issued === null || issued > now + CLOCK_SKEW_MS) throw refused(`The SAML assertion claims to be issued in the future (${quoted(assertion.getAttribute('IssueInstant'))}).`, {code: 'saml.not-yet-valid'});
	if (now - issued > MAX_ASSERTION_AGE_MS + CLOCK_SKEW_MS) throw refused(`The SAML assertion was issued too long ago (${assertion.getAttribute('IssueInstant')}).`, {code: 'saml.expired'});

	// The Web SSO profile (§4.1.4.2) requires an AuthnStatement: the IdP says when and how it checked the user.
	const authn = firstChild(assertion, NS.a, 'AuthnStatement');
	if (!authn) throw malformed('The SAML assertion has no AuthnStatement: it does not say that the identity provider signed anyone in.');
	const authnInstant = time(authn.getAttribute('AuthnInstant'), 'AuthnInstant');
	if (authnInstant === null) throw malformed('The SAML AuthnStatement has no AuthnInstant.');
	if (expected.authnSince && authnInstant < expected.authnSince.getTime() - CLOCK_SKEW_MS) throw refused(`The identity provider did not ask for the password again: it signed you in at ${authn.getAttribute('AuthnInstant')}, before this sign-in started.`, {code: 'saml.stale-authn'});
	const sessionEnd = time(authn.getAttribute('SessionNotOnOrAfter'), 'SessionNotOnOrAfter');
	if (sessionEnd !== null && now - CLOCK_SKEW_MS >= sessionEnd) throw refused(`The identity provider's session ended at ${authn.getAttribute('SessionNotOnOrAfter')}.`, {code: 'saml.expired'});

	const nameIdElement = firstChild(subject, NS.a, 'NameID');
	const attributes: Record<string, string[]> = {};
	for (const statement of childElements(assertion, NS.a, 'AttributeStatement')) {
		for (const attribute of childElements(statement, NS.a, 'Attribute')) {
			const name = attribute.getAttribute('Name');
			if (!name) continue;
			(attributes[name] ??= []).push(...childElements(attribute, NS.a, 'AttributeValue').map(v => textOf(v) ?? ''));
		}
	}
	return {
		assertionId,
		nameId: textOf(nameIdElement),
		nameIdFormat: nameIdElement?.getAttribute('Format') || null,
		attributes,
		keepUntil: new Date(Math.max(confirmedUntil, notOnOrAfter) + CLOCK_SKEW_MS),
	};
}
