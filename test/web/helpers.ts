import {request as httpRequest, type IncomingHttpHeaders} from 'node:http';
import {request as httpsRequest} from 'node:https';
import {afterEach} from 'vitest';
import {setListener, setSsl} from '../../source/core/server-settings.js';
import {serve, type RunningServer, type ServeOptions} from '../../source/web/serve.js';
import {makeCertificate} from '../helpers/smtp.js';
import {initializedContext, type Clock} from '../helpers/store.js';

type Response = {status: number; headers: IncomingHttpHeaders; body: string};

/** One HTTP request from a chosen loopback source address (127.0.0.1 and 127.0.0.2 are two clients). */
export function send(url: string, options: {method?: string; body?: string; headers?: Record<string, string>; from?: string; ca?: string} = {}): Promise<Response> {
	const target = new URL(url);
	const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
	return new Promise((resolve, reject) => {
		const req = request(
			target,
			{method: options.method ?? 'GET', headers: options.headers, localAddress: options.from ?? '127.0.0.1', ...(options.ca ? {ca: options.ca} : {}), agent: false},
			res => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', chunk => (body += chunk));
				res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}));
			},
		);
		req.on('error', reject);
		req.end(options.body);
	});
}

export const form = (fields: Record<string, string>) => ({
	method: 'POST',
	body: new URLSearchParams(fields).toString(),
	headers: {'content-type': 'application/x-www-form-urlencoded'},
});

/** The CSRF cookie and token of a form page, as a browser would keep them. */
export async function formToken(url: string): Promise<{cookie: string; token: string}> {
	const page = await send(url);
	const cookie = (page.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
	const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
	if (!cookie || !token) throw new Error(`no CSRF token on ${url}`);
	return {cookie, token};
}

export const servers: RunningServer[] = [];
afterEach(async () => {
	for (const server of servers.splice(0)) await server.close();
});

export async function served(options: {tls?: boolean; clock?: Clock; serve?: Partial<ServeOptions>} = {}) {
	// The certificate first: the test clock stands still from the context's making, and a
	// certificate made after it (a second later on a loaded machine) would not be valid yet.
	const certificate = options.tls ? makeCertificate() : undefined;
	const {ctx, root} = await initializedContext(options.clock ?? undefined);
	const log: string[] = [];
	if (certificate) {
		await setSsl(ctx, root, {cert: certificate.certFile, key: `${certificate.dir}/key.pem`});
		await setListener(ctx, root, {name: 'requests', port: 1, address: '127.0.0.1', ssl: true});
	}
	const server = await serve(ctx, {listen: {address: '127.0.0.1', port: 0}, log: line => log.push(line), auditFlushMs: 50, ...options.serve});
	servers.push(server);
	return {ctx, root, server, log, certificate, url: server.url};
}

