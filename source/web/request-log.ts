/**
 * One line per request on stderr, and nothing that grants anything: the `{id}.{secret}` of an
 * invitation path is cut, query strings are dropped (forms post their fields), and whatever the
 * client sent is shown with control characters escaped.
 */
export function redactPath(url: string): string {
	const path = url.split('?', 1)[0]!;
	const shown = path.replace(/^\/invite\/.*$/s, '/invite/…');
	return inert(shown) + (path.length < url.length ? '?…' : '');
}

/** Control characters, DEL, C1 and bidirectional overrides as escapes, so a log line stays one line of plain text. */
export function inert(text: string): string {
	let out = '';
	for (const ch of text) {
		const code = ch.codePointAt(0)!;
		const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
		if (!control) out += ch;
		else if (code === 0x1b) out += '\\e';
		else out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
	}
	return out;
}

export type RequestFacts = {readonly time: Date; readonly address: string; readonly method: string; readonly url: string; readonly status: number; readonly ms: number};

export function requestLine(facts: RequestFacts): string {
	return `${facts.time.toISOString()} ${inert(facts.address)} ${inert(facts.method)} ${redactPath(facts.url)} ${facts.status} ${facts.ms.toFixed(1)}ms`;
}
