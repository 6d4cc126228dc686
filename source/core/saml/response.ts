import {DOMParser, type Element as XmlElement} from '@xmldom/xmldom';
import {refused} from '../errors.js';
import {inert} from '../inert.js';

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

/** Clocks of the IdP and ours may differ this much, either way. */
export const CLOCK_SKEW_MS = 60_000;
/** An assertion issued longer ago than this is refused, whatever its NotOnOrAfter says. */
export const MAX_ASSERTION_AGE_MS = 10 * 60_000;
/** The largest SAMLResponse form field accepted (base64); real ones are a few kilobytes. */
export const MAX_RESPONSE_BYTES = 256 * 1024;

const malformed = (message: string) => refused(message, {code: 'saml.malformed'});

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
	const root = parseXml(xml, 'SAML response');
	if (root.namespaceURI !== NS.p || root.localName !== 'Response') throw malformed('The SAML message is not a Response.');
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

export type Expected = {readonly acsUrl: string; readonly idpEntityId: string; readonly now: Date};

/** Our own checks of a response the library has verified. Each refusal has its own code and sentence. */
export function checkVerifiedResponse(envelope: ResponseEnvelope, assertionXml: string, expected: Expected): CheckedAssertion {
	const {root, inResponseTo} = envelope;
	const now = expected.now.getTime();
	const destination = root.getAttribute('Destination') || null;
	if (destination !== expected.acsUrl) throw refused(`The SAML response is addressed to ${quoted(destination)}, not to ${expected.acsUrl}.`, {code: 'saml.wrong-destination'});
	const responseIssuer = textOf(firstChild(root, NS.a, 'Issuer'));
	if (responseIssuer !== null && responseIssuer !== expected.idpEntityId) throw refused(`The SAML response was issued by ${quoted(responseIssuer)}, not by the identity provider ${expected.idpEntityId}.`, {code: 'saml.wrong-issuer'});

	const assertion = parseXml(assertionXml, 'SAML assertion');
	if (assertion.namespaceURI !== NS.a || assertion.localName !== 'Assertion') throw malformed('The SAML response holds no verified assertion.');
	const assertionId = assertion.getAttribute('ID');
	if (!assertionId) throw malformed('The SAML assertion has no ID.');
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
