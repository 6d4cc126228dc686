import {expect} from 'vitest';

/**
 * What orgctl itself writes to a terminal, and nothing else may be there: Ink's CSI sequences
 * (colours and attributes `m`, cursor moves `A`–`H`, erasing `J K`, the private modes
 * `?25` cursor, `?1049` alternate screen, `?2026` synchronized update) and the console's ready
 * marker, an OSC 2 window title ending in BEL. An OSC 52 clipboard write, another title, a BEL of
 * its own, a C1 control or a bidirectional override can only have come from the data.
 */
// eslint-disable-next-line no-control-regex -- orgctl's own escape sequences, to take them out
const OURS = /\u001b\[[0-9;]*[mABCDEFGHJK]|\u001b\[\?(?:25|1049|2026)[hl]|\u001b\]2;orgctl:ready:[\w:.-]*\u0007/g;

/** Every control byte and bidirectional character left once orgctl's own sequences are taken out, with where it was. */
export function foreignControls(raw: string): string[] {
	const rest = raw.replace(OURS, '');
	const found: string[] = [];
	// eslint-disable-next-line no-control-regex -- looking for control characters is the point
	const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
	for (const match of rest.matchAll(control)) {
		found.push(JSON.stringify(rest.slice(Math.max(0, match.index - 20), match.index + 20)));
		if (found.length >= 5) break;
	}
	return found;
}

/**
 * Asserts that the bytes a terminal received hold nothing from the data that acts on it, and
 * none of the hostile payloads' own byte strings (`]52;`, `]0;TOK`, the BEL after them). `copied`:
 * texts the test had the console copy, whose OSC 52 is orgctl's own.
 */
export function expectInert(raw: string, payloads: readonly string[] = [], options: {copied?: readonly string[]} = {}): void {
	// A copy (y) is an OSC 52 orgctl means to write: exactly the copied text, base64, nothing else.
	for (const text of options.copied ?? []) raw = raw.split(`\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`).join('');
	expect(foreignControls(raw), 'control characters that orgctl did not mean to write').toEqual([]);
	for (const payload of payloads) expect(raw.includes(payload), `raw ${JSON.stringify(payload)} in the output`).toBe(false);
	expect(raw.includes('\u001b]52;'), 'an OSC 52 clipboard write').toBe(false);
	expect(raw.includes('\u001b]0;'), 'an OSC 0 window title').toBe(false);
}
