import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import Fastify, {type FastifyError, type FastifyInstance, type FastifyServerOptions} from 'fastify';
import type {Context} from '../core/context.js';
import {writeTallied} from '../core/audit.js';
import {isOrgError} from '../core/errors.js';
import {newId} from '../core/ids.js';
import {RefusalTally} from '../core/refusal-tally.js';
import {clientGroup} from './budgets.js';
import {MessagePage, Page, STYLESHEET_PATH} from './pages/layout.js';
import {STYLESHEET} from './pages/style.js';
import {requestLine} from './request-log.js';
import {inviteRoutes} from './routes/invite.js';
import {samlRoutes} from './routes/saml.js';
import {signupRoutes} from './routes/signup.js';
import {LIMITS, makeSite, statusOf, type Limits, type Site} from './site.js';

export type AppOptions = {
	/** TLS certificate and key (PEM): served over HTTPS, with HSTS. */
	readonly tls?: {readonly cert: Buffer; readonly key: Buffer} | undefined;
	/** Where the request lines and error details go (stderr in `orgctl serve`). */
	readonly log: (line: string) => void;
	/** The per-address limits (LIMITS unless a benchmark lifts one to measure what is behind it). */
	readonly limits?: Partial<Limits> | undefined;
	/** How often counted anonymous refusals are written to the audit (one transaction each time; also when the server stops). */
	readonly auditFlushMs?: number | undefined;
};

/** What helmet sets on every page (as configured below), for a reply that never reached its hooks. */
const SECURITY_HEADERS = {
	'content-security-policy': "default-src 'none';style-src 'self';frame-ancestors 'none';form-action 'self'",
	'cross-origin-opener-policy': 'same-origin',
	'cross-origin-resource-policy': 'same-origin',
	'origin-agent-cluster': '?1',
	'referrer-policy': 'no-referrer',
	'x-content-type-options': 'nosniff',
	'x-dns-prefetch-control': 'off',
	'x-download-options': 'noopen',
	'x-frame-options': 'DENY',
	'x-permitted-cross-domain-policies': 'none',
	'x-xss-protection': '0',
} as const;

/** Anonymous refusals are written at most this often: a flood costs the store one write per interval, not one per request. */
export const AUDIT_FLUSH_MS = 2_000;

/** The route modules, in one list, with the same Site helpers and page layout. */
const ROUTES: ReadonlyArray<(app: FastifyInstance, site: Site) => void> = [inviteRoutes, signupRoutes, samlRoutes];

/**
 * The web side of account management as one Fastify instance: the security headers, CSRF, rate and
 * size limits that every page shares, then the routes. Nothing here decides anything: the routes
 * call the core's operations with the Context they are given.
 */
export async function buildApp(ctx: Context, options: AppOptions): Promise<FastifyInstance> {
	const tls = options.tls;
	const limits: Limits = {...LIMITS, ...options.limits};
	const serverOptions: FastifyServerOptions = {
		logger: false,
		bodyLimit: limits.bodyBytes,
		// Our own stderr line per request; the client address is the socket's (no proxy is trusted unless configured in front).
		trustProxy: false,
		requestTimeout: 30_000,
		connectionTimeout: 60_000,
		keepAliveTimeout: 5_000,
		return503OnClosing: true,
		// A URL that does not decode: the generic page with every header, and a log line (not Fastify's JSON echoing the path).
		frameworkErrors: (error, request, reply) => {
			const status = error.statusCode ?? 400;
			options.log(requestLine({time: ctx.now(), address: request.ip, method: request.method, url: request.url, status, ms: 0}));
			// Helmet's hooks never ran for it: the same headers, set here.
			reply.headers({...SECURITY_HEADERS, ...(tls ? {'strict-transport-security': 'max-age=31536000'} : {})});
			site.render(reply, status, <MessagePage title="Bad request" message="The server could not make sense of that request." />);
		},
	};
	// One type for both: the routes do not care whether TLS is on.
	const app = (tls ? Fastify({...serverOptions, https: {cert: tls.cert, key: tls.key}} as FastifyServerOptions) : Fastify(serverOptions)) as FastifyInstance;

	// Connections: at most maxConnections in all (below the descriptor limit, room kept for the store and SMTP) and connectionsPerAddress per address group.
	app.server.maxConnections = limits.maxConnections;
	const open = new Map<string, number>();
	app.server.on('connection', (socket: import('node:net').Socket) => {
		const group = clientGroup(socket.remoteAddress ?? '?');
		const count = (open.get(group) ?? 0) + 1;
		if (count > limits.connectionsPerAddress) {
			socket.destroy();
			return;
		}
		open.set(group, count);
		socket.once('close', () => {
			const left = (open.get(group) ?? 1) - 1;
			if (left > 0) open.set(group, left);
			else open.delete(group);
		});
	});

	// Anonymous refusals (dead links, refused sign-ups) are counted per address and minute and written in batches.
	const tally = new RefusalTally(ctx.now, newId);
	const flush = async () => {
		const batch = tally.drain();
		try {
			await writeTallied(ctx, batch);
		} catch (error) {
			const count = batch.reduce((n, r) => n + r.count, 0);
			options.log(`${ctx.now().toISOString()} error: ${count} anonymous refusals could not be audited: ${(error as Error).message}`.replace(/\n/g, '\\n'));
		}
	};
	const flusher = setInterval(() => void flush(), options.auditFlushMs ?? AUDIT_FLUSH_MS);
	flusher.unref();
	app.addHook('onClose', async () => {
		clearInterval(flusher);
		await flush();
	});

	const started = new WeakMap<object, bigint>();
	app.addHook('onRequest', (request, _reply, done) => {
		started.set(request, process.hrtime.bigint());
		done();
	});
	app.addHook('onResponse', async (request, reply) => {
		const begin = started.get(request) ?? process.hrtime.bigint();
		options.log(requestLine({time: ctx.now(), address: request.ip, method: request.method, url: request.url, status: reply.statusCode, ms: Number(process.hrtime.bigint() - begin) / 1e6}));
	});

	await app.register(fastifyHelmet, {
		contentSecurityPolicy: {useDefaults: false, directives: {defaultSrc: ["'none'"], styleSrc: ["'self'"], frameAncestors: ["'none'"], formAction: ["'self'"]}},
		referrerPolicy: {policy: 'no-referrer'},
		frameguard: {action: 'deny'},
		hsts: tls ? {maxAge: 31_536_000, includeSubDomains: false} : false,
		crossOriginEmbedderPolicy: false,
	});
	// Rate limits are ours (site.ts, budgets.ts), not @fastify/rate-limit's: its per-route stores give each form and page a budget of its own, where one per address across all of them is the promise.
	// Forms only: a JSON or text body is 415, not a second way in.
	app.removeAllContentTypeParsers();
	await app.register(fastifyFormbody);
	// The cookie key is derived from the store's key file: forms stay valid across restarts and between servers of one store.
	await app.register(fastifyCookie, {secret: ctx.secrets.mac('orgctl serve: CSRF cookie signing key')});
	await app.register(fastifyCsrf, {
		cookieKey: tls ? '__Host-orgctl-csrf' : 'orgctl-csrf',
		cookieOpts: {path: '/', httpOnly: true, sameSite: 'strict', secure: tls !== undefined, signed: true},
		getToken: request => (request.body as Record<string, unknown> | undefined)?.['_csrf'] as string | undefined,
		csrfOpts: {validity: 8 * 3600 * 1000},
	});

	const site = makeSite(
		ctx,
		limits,
		(request, reply, done) => {
			app.csrfProtection(request, reply, done);
		},
		tally,
	);

	app.setErrorHandler((error: FastifyError, request, reply) => {
		// A store that cannot be used is the operator's business (its message names paths): the generic page below.
		if (isOrgError(error) && error.kind !== 'store') return site.render(reply, statusOf(error.kind), <MessagePage title="That did not work" message={error.message} />);
		const status = error.statusCode ?? 500;
		if (status === 429) return site.render(reply, 429, <MessagePage title="Too many requests" message={error.message} />);
		if (error.code === 'FST_CSRF_MISSING_SECRET' || error.code === 'FST_CSRF_INVALID_TOKEN') {
			return site.render(reply, 403, <MessagePage title="This form has expired" message="The form was not sent from this site, or is too old: go back, reload the page and send it again." />);
		}
		if (status === 413) {
			// A route with its own limit (the ACS) names it in its config.
			const accepts = (request.routeOptions.config as {accepts?: number} | undefined)?.accepts ?? limits.bodyBytes;
			return site.render(reply, 413, <MessagePage title="Too large" message={`What was sent is larger than this server accepts (${accepts / 1024} KiB).`} />);
		}
		if (status >= 400 && status < 500) return site.render(reply, status, <MessagePage title="Bad request" message="The server could not make sense of that request." />);
		// The detail goes to the server's log, never to the client.
		options.log(`${ctx.now().toISOString()} error in ${request.method} ${request.routeOptions.url ?? '?'}: ${error.stack ?? String(error)}`);
		return site.render(reply, 500, <MessagePage title="Something went wrong" message="The server could not finish this request; it has been logged. Try again later, or tell the person who invited you." />);
	});
	app.setNotFoundHandler(site.page, (_request, reply) => site.render(reply, 404, <MessagePage title="Not found" message="There is no page at this address." />));

	// Health: the store is readable (re-read when another process changed it) and writable (probed at most once a second).
	let probed = {at: 0, why: undefined as string | undefined};
	app.get('/healthz', async (_request, reply) => {
		ctx.store.read();
		if (Date.now() - probed.at >= 1000) probed = {at: Date.now(), why: ctx.store.writable?.()};
		const text = probed.why === undefined ? 'ok\n' : 'not ok: the store cannot be written\n';
		if (probed.why !== undefined) options.log(`${ctx.now().toISOString()} healthz: the store cannot be written (${probed.why})`);
		return reply
			.code(probed.why === undefined ? 200 : 503)
			.type('text/plain; charset=utf-8')
			.header('cache-control', 'no-store')
			.send(text);
	});
	app.get(STYLESHEET_PATH, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET));
	app.get('/', site.page, async (_request, reply) =>
		site.render(
			reply,
			200,
			<Page title="Account pages">
				<p>This server opens the invitation links mailed to new users, and lets people with an e-mail address at a listed domain sign up.</p>
				<p>
					<a href="/signup">Sign up</a>
				</p>
			</Page>,
		),
	);
	for (const routes of ROUTES) routes(app, site);
	return app;
}
