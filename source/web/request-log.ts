import {inert} from '../core/inert.js';

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

export type RequestFacts = {readonly time: Date; readonly address: string; readonly method: string; readonly url: string; readonly status: number; readonly ms: number};

export function requestLine(facts: RequestFacts): string {
	return `${facts.time.toISOString()} ${inert(facts.address)} ${inert(facts.method)} ${redactPath(facts.url)} ${facts.status} ${facts.ms.toFixed(1)}ms`;
}
