/**
 * Foreign text on one line with its control characters shown, not obeyed: an SMTP server's reply
 * or an IdP's metadata reaches the admin's terminal (status line, audit, CLI), where ESC could
 * start a sequence (OSC 52 sets the clipboard) and a bidi override could reorder what is read.
 * Issue 11 brings one inert function for every printer; until then the settings code uses this one.
 */
export function inert(text: string): string {
	// eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
	return text.replace(/\s+/g, ' ').trim().replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ch => (ch === '\u001b' ? '\\e' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Characters a name or identifier may not hold: controls (C0, DEL, C1), spaces, bidi marks and overrides. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
export const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
