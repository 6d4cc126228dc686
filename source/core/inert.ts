/**
 * Text from elsewhere is inert (DESIGN §4a). A username typed at a login prompt, a token name, a
 * line of a CSV file or an SMTP server's reply reaches an admin's terminal; written raw, its
 * control characters are instructions to that terminal (OSC 52 sets the clipboard, OSC 0 the
 * window title, CSI moves the cursor and repaints, BEL rings) and its bidirectional overrides make
 * one text read as another. Every printer of stored or foreign text passes it through `inert`,
 * which shows those characters as visible escapes instead: `\e`, `\x07`, `\u009b`, `\u202e`.
 *
 * Printable text, backslashes included, passes unchanged, so `inert` is idempotent and costs a
 * regular-expression test on the usual, clean, string.
 */

/**
 * C0 controls (U+0000–U+001F), DEL and the C1 controls (U+007F–U+009F: UTF-8 terminals take U+009B
 * as CSI and U+009D as OSC), the bidirectional marks, embeddings, overrides and isolates (U+061C,
 * U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), and the line and paragraph separators
 * (U+2028, U+2029), which break a line where none should be.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
// eslint-disable-next-line no-control-regex -- as above, but a line break is kept
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = {'\u001b': '\\e', '\n': '\\n', '\r': '\\r', '\t': '\\t'};

function escape(ch: string): string {
	const named = NAMED[ch];
	if (named !== undefined) return named;
	const code = ch.charCodeAt(0);
	// A C0 control or DEL is one byte, as `printf '\x07'` writes it; the rest are code points.
	return code <= 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** True when `text` holds a character `inert` would escape. */
export function hasUnsafeCharacters(text: string): boolean {
	return UNSAFE.test(text);
}

/** `text` for one line of a terminal: every control character, line break and bidirectional mark shown escaped. */
export function inert(text: string): string {
	return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escape) : text;
}

/**
 * Text of several lines that our own code laid out (a table, a help text): as `inert`, but line
 * breaks stay. Values inside such text should have been made `inert` where they were placed; this
 * is the last guard at the point of output.
 */
export function inertLines(text: string): string {
	return UNSAFE.test(text) ? text.replace(UNSAFE_BUT_NEWLINE, escape) : text;
}

/**
 * Keeps at most `max` characters of a stored text, and says how much was cut: `abc…[+1234]`.
 * A surrogate pair is never split.
 */
export function capText(text: string, max: number): string {
	if (text.length <= max) return text;
	let end = max;
	const last = text.charCodeAt(end - 1);
	if (last >= 0xd800 && last <= 0xdbff) end -= 1;
	return `${text.slice(0, end)}…[+${text.length - end}]`;
}

/** How much of a rejected value a message quotes back: enough to recognise it, never a whole paste. */
export const ECHO_MAX = 64;

/** A value quoted back in a message (a rejected name, an unknown identifier), cut to ECHO_MAX. */
export function echo(text: string): string {
	return capText(text, ECHO_MAX);
}

/** Characters a name or identifier may not hold: controls (C0, DEL, C1), spaces, bidi marks and overrides. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
export const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
