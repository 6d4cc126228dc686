import {isIP} from 'node:net';

/**
 * Host names and addresses the settings name (the SMTP server, a listener, the IdP), by the rules a
 * resolver applies: labels of 1–63 letters, digits and inner hyphens, 253 characters in all, and a
 * last label that is not all digits (RFC 3696 §2), so 999.999.999.999 or 0 is no host name.
 */
const LABELS = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isHostName(text: string): boolean {
	if (!LABELS.test(text)) return false;
	const last = text.replace(/\.$/, '').split('.').pop() ?? '';
	return !/^[0-9]+$/.test(last);
}

/** An IPv4 or IPv6 address (IPv6 bare or in brackets). */
export function isIpAddress(text: string): boolean {
	return isIP(text.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** A host that is this machine itself: what travels to it never crosses a network. */
export function isLoopback(host: string): boolean {
	const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
	return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/** Control characters (C0, DEL, C1): never part of a name a setting keeps. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
