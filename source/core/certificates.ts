import {X509Certificate} from 'node:crypto';

/** A certificate is flagged this many days before it expires (SSL, the IdP's and our own SAML certificates). */
export const EXPIRY_WARNING_DAYS = 30;

/** What a person checks about a certificate before trusting or serving it. */
export type CertificateFacts = {
	readonly subject: string;
	readonly issuer: string;
	/** Subject alternative names as the certificate lists them (`DNS:host`, `IP Address:…`); empty when none. */
	readonly subjectAltNames: readonly string[];
	readonly validFrom: string;
	readonly validTo: string;
	/** SHA-256 of the DER, colon-separated hex, as `openssl x509 -fingerprint -sha256` prints it. */
	readonly fingerprint256: string;
	/** Whole days until it expires (negative once it has). */
	readonly daysLeft: number;
	/**
	 * What needs attention, to follow the certificate's name ("expired on 2026-12-01", "is not valid
	 * before …", "expires in 9 days, on …; renew it"): see certificateWarning. Undefined when fine.
	 */
	readonly warning: string | undefined;
};

const day = (iso: string) => iso.slice(0, 10);

/** The facts of a parsed certificate, judged on the core's clock. */
export function certificateFacts(cert: X509Certificate, now: Date): CertificateFacts {
	const validFrom = new Date(cert.validFrom).toISOString();
	const validTo = new Date(cert.validTo).toISOString();
	const daysLeft = Math.floor((new Date(validTo).getTime() - now.getTime()) / 86_400_000);
	let warning: string | undefined;
	if (new Date(validTo) <= now) warning = `expired on ${day(validTo)}`;
	else if (new Date(validFrom) > now) warning = `is not valid before ${day(validFrom)}`;
	else if (daysLeft < EXPIRY_WARNING_DAYS) warning = `expires in ${daysLeft === 0 ? 'less than a day' : daysLeft === 1 ? '1 day' : `${daysLeft} days`}, on ${day(validTo)}; renew it`;
	return {
		subject: cert.subject.replace(/\n/g, ', '),
		issuer: cert.issuer.replace(/\n/g, ', '),
		subjectAltNames: cert.subjectAltName ? cert.subjectAltName.split(/,\s*/) : [],
		validFrom,
		validTo,
		fingerprint256: cert.fingerprint256,
		daysLeft,
		warning,
	};
}

/** "The SSL certificate expires in 9 days, on 2026-12-10; renew it.": `what` names it; undefined when it is fine. */
export function certificateWarning(what: string, facts: CertificateFacts): string | undefined {
	return facts.warning === undefined ? undefined : `${what} ${facts.warning}.`;
}

/** Whether the certificate can be used now: not expired and already valid. */
export function isCurrent(cert: X509Certificate, now: Date): boolean {
	return new Date(cert.validFrom) <= now && now < new Date(cert.validTo);
}

/** Parses one PEM (or DER) certificate; undefined when it is not one. */
export function parseCertificate(bytes: string | Buffer): X509Certificate | undefined {
	try {
		return new X509Certificate(bytes);
	} catch {
		return undefined;
	}
}

/** A certificate's DER as PEM, 64 characters a line. */
export function pemFromDer(der: Buffer): string {
	const body = der.toString('base64').replace(/.{1,64}/g, line => `${line}\n`);
	return `-----BEGIN CERTIFICATE-----\n${body}-----END CERTIFICATE-----\n`;
}
