import type {FastifyReply, FastifyRequest} from 'fastify';
import type {ReactElement} from 'react';
import type {Context} from '../core/context.js';
import type {ErrorKind} from '../core/errors.js';
import {renderDocument} from './render.js';

export type Limits = {readonly postsPerMinute: number; readonly pagesPerMinute: number; readonly bodyBytes: number};

/** Per-address limits: POSTs (every form) and the GETs of pages that look up a secret. */
export const LIMITS: Limits = {
	postsPerMinute: 20,
	pagesPerMinute: 300,
	/** The largest form body accepted (a password may be 1024 characters; nothing we ask for is near this). */
	bodyBytes: 16 * 1024,
};

/** What every route module gets: the Context of the composition root, and the few helpers all pages share. */
export type Site = {
	/** The Context for one request: the server's, with the client's address for the audit. */
	contextFor(request: FastifyRequest): Context;
	/** Sends a page; every page is HTML and never cached (most hold a secret: a link, a code). */
	render(reply: FastifyReply, status: number, page: ReactElement): FastifyReply;
	/** A fresh CSRF token for a form on this reply (its secret goes in a signed cookie). */
	csrf(reply: FastifyReply): string;
	/** Route options for a POST: its rate limit and the CSRF check (after the body is parsed). */
	readonly post: object;
	/** Route options for a GET of a page that looks up a secret: its (looser) rate limit. */
	readonly page: object;
};

export function makeSite(ctx: Context, limits: Limits, csrfCheck: (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void): Site {
	return {
		contextFor: request => ({...ctx, clientAddress: request.ip}),
		render: (reply, status, page) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderDocument(page)),
		csrf: reply => reply.generateCsrf(),
		post: {config: {rateLimit: {max: limits.postsPerMinute, timeWindow: 60_000}}, preHandler: csrfCheck},
		page: {config: {rateLimit: {max: limits.pagesPerMinute, timeWindow: 60_000}}},
	};
}

/** A form field as a string: forms may send a field twice or not at all. */
export function field(body: unknown, name: string): string | undefined {
	const value = (body as Record<string, unknown> | undefined)?.[name];
	if (typeof value === 'string') return value;
	return undefined;
}

/** The HTTP status for a refusal of the core, by its kind. */
export function statusOf(kind: ErrorKind): number {
	switch (kind) {
		case 'invalid':
			return 400;
		case 'auth':
			return 401;
		case 'refused':
			return 403;
		case 'not-found':
			return 404;
		case 'conflict':
			return 409;
		case 'unavailable':
			return 503;
		case 'store':
			return 500;
	}
}
