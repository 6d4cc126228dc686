import {inert} from '../core/inert.js';

/**
 * Cuts or pads text to exactly `width` columns (… marks a cut), inert first, so that an escaped
 * control character counts as the columns it takes on screen. Wide characters are rare in this
 * data: counted as one.
 */
export function fit(text: string, width: number): string {
	if (width <= 0) return '';
	const chars = [...inert(text)];
	if (chars.length > width) return chars.slice(0, Math.max(0, width - 1)).join('') + '…';
	return chars.join('') + ' '.repeat(width - chars.length);
}

/** A stored time as people read it: `2026-11-27 12:00`, in UTC (the server's logs use UTC too). */
export function shortTime(iso: string | null | undefined): string {
	if (!iso) return 'never';
	return iso.slice(0, 16).replace('T', ' ');
}
