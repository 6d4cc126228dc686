import {inert} from '../core/inert.js';

/**
 * An invitation token anywhere in a URL: a 32-hex id, a dot, and what follows up to the next
 * separator; the same with any character percent-encoded (`%2E` for the dot, `%69` in the id):
 * whatever the route, a 404 and an absolute-form request line included.
 */
const TOKEN = /(?:[0-9a-f]|%[0-9a-f]{2}){32}(?:\.|%2e)[^/?#\s]*/gi;

/**
 * One line per request on stderr, and nothing that grants anything: any `{id}.{secret}` is cut
 * to `{id}.…` wherever it stands (redactPath), query strings are dropped (forms post their fields),
 * and whatever the client sent is shown with control characters escaped.
 */
export function redactPath(url: string): string {
	const path = url.split('?', 1)[0]!;
	const shown = path.replace(/^\/invite\/.*$/s, '/invite/…').replace(TOKEN, '…');
	return inert(shown) + (path.length < url.length ? '?…' : '');
}

export type RequestFacts = {readonly time: Date; readonly address: string; readonly method: string; readonly url: string; readonly status: number; readonly ms: number};

export function requestLine(facts: RequestFacts): string {
	return `${facts.time.toISOString()} ${inert(facts.address)} ${inert(facts.method)} ${redactPath(facts.url)} ${facts.status} ${facts.ms.toFixed(1)}ms`;
}
