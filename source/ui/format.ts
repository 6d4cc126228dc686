import stringWidth from 'string-width';
import {inert} from '../core/inert.js';

/**
 * Cuts or pads text to exactly `width` terminal columns (… marks a cut), inert first, so that an
 * escaped control character counts as the columns it takes on screen. Measured as Ink measures
 * (string-width): a wide character (CJK, most emoji) takes two columns, so a row with one lines up
 * with its header.
 */
export function fit(text: string, width: number): string {
	if (width <= 0) return '';
	const shown = inert(text);
	const total = stringWidth(shown);
	if (total <= width) return shown + ' '.repeat(width - total);
	let used = 0;
	let out = '';
	for (const ch of shown) {
		const w = stringWidth(ch);
		if (used + w > width - 1) break;
		out += ch;
		used += w;
	}
	return out + '…' + ' '.repeat(Math.max(0, width - 1 - used));
}

/** A stored time as people read it: `2026-11-27 12:00`, in UTC (the server's logs use UTC too). */
export function shortTime(iso: string | null | undefined): string {
	if (!iso) return 'never';
	return iso.slice(0, 16).replace('T', ' ');
}
