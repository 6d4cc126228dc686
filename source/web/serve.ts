import type {FastifyInstance} from 'fastify';
import type {AddressInfo} from 'node:net';
import type {Server as TlsServer} from 'node:tls';
import type {Context} from '../core/context.js';
import {unavailable} from '../core/errors.js';
import {listenerWarning, REQUESTS_LISTENER, unreachableLinks} from '../core/server-settings.js';
import {buildApp, type AppOptions} from './app.js';
import {planListen, type ListenOverride, type ListenPlan} from './listener.js';

export type ServeOptions = {
	readonly listen?: ListenOverride | undefined;
	/** Lines for the operator (stderr in `orgctl serve`). */
	readonly log: (line: string) => void;
	readonly limits?: AppOptions['limits'];
	readonly auditFlushMs?: AppOptions['auditFlushMs'];
};

/** A running server: where it listens, and how to reload or stop it. */
export type RunningServer = {
	readonly url: string;
	/** The cap on open connections (LIMITS.maxConnections unless changed): kept below the descriptor limit. */
	readonly maxConnections: number;
	/** Re-reads the listener and SSL settings: new certificate files in place, or a new address, port or SSL setting by restarting the listener. */
	reload(): Promise<void>;
	close(): Promise<void>;
};

function urlOf(plan: ListenPlan, app: FastifyInstance): string {
	const {address, port} = app.server.address() as AddressInfo;
	const host = address.includes(':') ? `[${address}]` : address;
	return `${plan.tls ? 'https' : 'http'}://${host}:${port}`;
}

/** Connections still open this long after a stop are cut: browsers keep idle and pre-opened ones that would hold the stop forever. */
const STOP_GRACE_MS = 2_000;

async function stop(app: FastifyInstance): Promise<void> {
	const cut = setTimeout(() => app.server.closeAllConnections(), STOP_GRACE_MS);
	cut.unref();
	try {
		await app.close();
	} finally {
		clearTimeout(cut);
	}
}

const LISTEN_ERRORS: Readonly<Record<string, string>> = {
	EADDRINUSE: 'another program listens there',
	EACCES: 'ports below 1024 need root or CAP_NET_BIND_SERVICE',
	EADDRNOTAVAIL: 'this machine has no such address',
	ENOTFOUND: 'the host name does not resolve',
};

/** One sentence for a listener that cannot be opened. */
function cannotListen(plan: ListenPlan, error: unknown): Error {
	const code = (error as NodeJS.ErrnoException).code ?? '';
	const why = LISTEN_ERRORS[code] ?? (error as Error).message;
	return unavailable(`Cannot listen on ${plan.address}:${plan.port}: ${why}${code ? ` (${code})` : ''}; change the listener with orgctl settings listeners set requests --port N [--address A], or use --listen.`);
}

function sameListener(a: ListenPlan, b: ListenPlan): boolean {
	return a.address === b.address && a.port === b.port && (a.tls === undefined) === (b.tls === undefined);
}

/**
 * `orgctl serve`: the invitation and sign-up pages on the user-requests listener (or `--listen`),
 * until closed. The Context comes from the composition root; every request gets its own with the
 * client's address.
 */
export async function serve(ctx: Context, options: ServeOptions): Promise<RunningServer> {
	const log = options.log;
	const start = async (plan: ListenPlan) => {
		const app = await buildApp(ctx, {tls: plan.tls, log, limits: options.limits, auditFlushMs: options.auditFlushMs});
		try {
			await app.listen({host: plan.address, port: plan.port});
		} catch (error) {
			await app.close();
			throw cannotListen(plan, error);
		}
		return app;
	};
	// A PostgreSQL store shared by several hosts keeps its copy current while anyone listens
	// (LISTEN/NOTIFY): an invitation made, a throttle raised or a link used on another host is seen
	// here. (Each request reads the store anyway, and a store that cannot be read answers then.)
	const unsubscribe = ctx.store.subscribe({changed: () => undefined, failed: () => undefined});
	let plan = planListen(ctx.store.read().settings, ctx.readFile, options.listen);
	let app: Awaited<ReturnType<typeof start>>;
	try {
		app = await start(plan);
	} catch (error) {
		unsubscribe();
		throw error;
	}
	// With --listen PORT 0 a reload keeps the port the system chose.
	const override = options.listen && options.listen.port === 0 ? {...options.listen, port: (app.server.address() as AddressInfo).port} : options.listen;
	const announce = () => {
		log(`orgctl serve: listening on ${urlOf(plan, app)} (${plan.origin}${plan.tls ? `, TLS with ${plan.tls.certPath}` : ''}); SIGHUP reloads the listener and certificate, SIGTERM stops.`);
		const warning = unreachableLinks(ctx.store.read().settings.publicUrl);
		if (warning) log(`orgctl serve: warning: ${warning}`);
		const plain = !options.listen && !plan.tls ? listenerWarning({name: REQUESTS_LISTENER, address: plan.address, ssl: false}) : undefined;
		if (plain) log(`orgctl serve: warning: ${plain}`);
	};
	announce();
	return {
		get url() {
			return urlOf(plan, app);
		},
		get maxConnections() {
			return app.server.maxConnections;
		},
		async reload() {
			await ctx.store.refresh();
			const next = planListen(ctx.store.read().settings, ctx.readFile, override);
			if (sameListener(plan, next)) {
				if (next.tls) (app.server as unknown as TlsServer).setSecureContext({cert: next.tls.cert, key: next.tls.key});
				plan = next;
				log(`orgctl serve: reloaded${next.tls ? ` the certificate ${next.tls.certPath}` : ''}; still on ${urlOf(plan, app)}.`);
				return;
			}
			// A new address, port or SSL setting: a new listener. The old one stops first (it may hold the port).
			await stop(app);
			try {
				app = await start(next);
				plan = next;
			} catch (error) {
				app = await start(plan);
				throw error;
			}
			announce();
		},
		close: () => {
			unsubscribe();
			return stop(app);
		},
	};
}
