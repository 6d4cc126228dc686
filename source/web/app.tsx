import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, {type FastifyError, type FastifyInstance, type FastifyServerOptions} from 'fastify';
import type {Context} from '../core/context.js';
import {isOrgError} from '../core/errors.js';
import {MessagePage, Page, STYLESHEET_PATH} from './pages/layout.js';
import {STYLESHEET} from './pages/style.js';
import {requestLine} from './request-log.js';
import {inviteRoutes} from './routes/invite.js';
import {signupRoutes} from './routes/signup.js';
import {LIMITS, makeSite, statusOf, type Limits, type Site} from './site.js';

export type AppOptions = {
	/** TLS certificate and key (PEM): served over HTTPS, with HSTS. */
	readonly tls?: {readonly cert: Buffer; readonly key: Buffer} | undefined;
	/** Where the request lines and error details go (stderr in `orgctl serve`). */
	readonly log: (line: string) => void;
	/** The per-address limits (LIMITS unless a benchmark lifts one to measure what is behind it). */
	readonly limits?: Partial<Limits> | undefined;
};

/**
 * The route modules, in one list: a later one (SAML: /saml/metadata, /saml/login, /saml/acs,
 * /login/device) is one more line here, with the same Site helpers and page layout.
 */
const ROUTES: ReadonlyArray<(app: FastifyInstance, site: Site) => void> = [inviteRoutes, signupRoutes];

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
	};
	// One type for both: the routes do not care whether TLS is on.
	const app = (tls ? Fastify({...serverOptions, https: {cert: tls.cert, key: tls.key}} as FastifyServerOptions) : Fastify(serverOptions)) as FastifyInstance;

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
	await app.register(fastifyRateLimit, {
		global: false,
		// A refusal is a page like any other: the error handler renders it.
		errorResponseBuilder: (_request, context) => Object.assign(new Error(`Too many requests from your address; try again in ${Math.ceil(context.ttl / 1000)} seconds.`), {statusCode: 429}),
	});
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

	const site = makeSite(ctx, limits, (request, reply, done) => {
		app.csrfProtection(request, reply, done);
	});

	app.setErrorHandler((error: FastifyError, request, reply) => {
		// A store that cannot be used is the operator's business (its message names paths): the generic page below.
		if (isOrgError(error) && error.kind !== 'store') return site.render(reply, statusOf(error.kind), <MessagePage title="That did not work" message={error.message} />);
		const status = error.statusCode ?? 500;
		if (status === 429) return site.render(reply, 429, <MessagePage title="Too many requests" message={error.message} />);
		if (error.code === 'FST_CSRF_MISSING_SECRET' || error.code === 'FST_CSRF_INVALID_TOKEN') {
			return site.render(reply, 403, <MessagePage title="This form has expired" message="The form was not sent from this site, or is too old: go back, reload the page and send it again." />);
		}
		if (status === 413) return site.render(reply, 413, <MessagePage title="Too large" message={`What was sent is larger than this server accepts (${limits.bodyBytes / 1024} KiB).`} />);
		if (status >= 400 && status < 500) return site.render(reply, status, <MessagePage title="Bad request" message="The server could not make sense of that request." />);
		// The detail goes to the server's log, never to the client.
		options.log(`${ctx.now().toISOString()} error in ${request.method} ${request.routeOptions.url ?? '?'}: ${error.stack ?? String(error)}`);
		return site.render(reply, 500, <MessagePage title="Something went wrong" message="The server could not finish this request; it has been logged. Try again later, or tell the person who invited you." />);
	});
	app.setNotFoundHandler(site.page, (_request, reply) => site.render(reply, 404, <MessagePage title="Not found" message="There is no page at this address." />));

	app.get('/healthz', async (_request, reply) => {
		// The store is readable (re-read when another process changed it): the server can answer.
		ctx.store.read();
		return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('ok\n');
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
