import type {FastifyReply, FastifyRequest} from 'fastify';
import type {ReactElement} from 'react';
import type {Context} from '../core/context.js';
import type {Database} from '../core/model.js';
import type {ErrorKind} from '../core/errors.js';
import type {RefusalTally} from '../core/refusal-tally.js';
import {Budget, clientGroup} from './budgets.js';
import {renderDocument} from './render.js';

export type Limits = {
	readonly postsPerMinute: number;
	readonly pagesPerMinute: number;
	readonly allPostsPerMinute: number;
	readonly connectionsPerAddress: number;
	readonly maxConnections: number;
	readonly bodyBytes: number;
};

/**
 * The budgets of one client address (an IPv6 /64 counts as one: budgets.ts), each across every
 * route: POSTs (every form together) and page views (every page together, 404s included); and the
 * server's own bounds: POSTs of all clients together, open connections.
 */
export const LIMITS: Limits = {
	postsPerMinute: 20,
	pagesPerMinute: 300,
	/** Every form of every client together: what anonymous visitors can make the store write, whatever the number of addresses. */
	allPostsPerMinute: 600,
	/** Open connections from one address group (a browser opens about six). */
	connectionsPerAddress: 32,
	/** Open connections in all, kept well below the descriptor limit (LimitNOFILE in the README's unit): the store's lock and temp file and SMTP need descriptors too. */
	maxConnections: 2_000,
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
	/**
	 * A page whose form leads (through our redirects) to the identity provider: the CSP's form-action
	 * allows the IdP's origin too, since browsers check form-action on every redirect of a form's navigation.
	 */
	formsTo(reply: FastifyReply, db: Database): void;
	/** Route options for a POST: the address's POST budget (shared by every form), the server's, the latest data, and the CSRF check (after the body is parsed). */
	readonly post: object;
	/** Route options for a POST another site's page makes (the IdP's answer to our ACS): the same POST budgets, no CSRF check of ours. */
	readonly foreignPost: object;
	/** Route options for a page: the address's page budget (shared by every page). */
	readonly page: object;
};

/** A request over a budget: the error handler renders it as a 429 page. */
function tooMany(ms: number, whose: 'address' | 'server'): Error {
	const seconds = Math.ceil(ms / 1000);
	const text = whose === 'address' ? `Too many requests from your address; try again in ${seconds} seconds.` : `This server has had too many requests in the last minute; try again in ${seconds} seconds.`;
	return Object.assign(new Error(text), {statusCode: 429});
}

export function makeSite(ctx: Context, limits: Limits, csrfCheck: (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void, tally: RefusalTally): Site {
	const clock = () => Date.now();
	const posts = new Budget(limits.postsPerMinute, 60_000, clock);
	const pages = new Budget(limits.pagesPerMinute, 60_000, clock);
	const allPosts = new Budget(limits.allPostsPerMinute, 60_000, clock, 1);
	const limitPost = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
		const mine = posts.take(clientGroup(request.ip));
		if (mine) {
			done(tooMany(mine, 'address'));
			return;
		}
		const everyone = allPosts.take('*');
		done(everyone ? tooMany(everyone, 'server') : undefined);
	};
	const limitPage = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
		const mine = pages.take(clientGroup(request.ip));
		done(mine ? tooMany(mine, 'address') : undefined);
	};
	// What other hosts committed a moment ago counts for this request (PostgreSQL: the version is asked,
	// changed rows read; the file: a stat), so a sign-in request, a link or an account just made on
	// another host behind the same load balancer is never refused here as unknown.
	const latest = async () => {
		await ctx.store.refresh();
	};
	return {
		contextFor: request => {
			const clientAddress = request.ip;
			const group = clientGroup(clientAddress);
			return {...ctx, clientAddress, deferRefusal: refusal => {
					tally.take({...refusal, clientAddress, group});
				},
			};
		},
		render: (reply, status, page) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderDocument(page)),
		csrf: reply => reply.generateCsrf(),
		formsTo: (reply, db) => {
			const idp = db.settings.sso.idp;
			const policy = reply.getHeader('content-security-policy');
			if (!idp || typeof policy !== 'string') return;
			reply.header('content-security-policy', policy.replace("form-action 'self'", `form-action 'self' ${new URL(idp.ssoUrl).origin}`));
		},
		post: {onRequest: [limitPost, latest], preHandler: csrfCheck},
		foreignPost: {onRequest: [limitPost, latest]},
		page: {onRequest: [limitPage, latest]},
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
