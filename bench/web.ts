import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {request} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import autocannon from 'autocannon';
import {buildContext} from '../source/app/context.js';
import {resolveActor} from '../source/core/accounts.js';
import {createInvitation} from '../source/core/invitations.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {LIMITS} from '../source/web/site.js';
import {startServe} from '../test/helpers/serve.js';
import {generateStore} from './generate.js';
import {samplesFor, type Benchmark, type Figure} from './types.js';

const CONNECTIONS = 50;
const SECONDS = samplesFor(10, 4);

/** 50 clients hammering one URL for 10 s: requests per second and the p99 latency. */
async function load(url: string): Promise<{rps: number; p99: number; non2xx: number; total: number}> {
	const result = await autocannon({url, connections: CONNECTIONS, duration: SECONDS});
	return {rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, total: result.requests.total};
}

/** The floor for HTTP figures: node:http answering a fixed page, in a process of its own like the server. */
async function bareHttpFloor(): Promise<{rps: number; p99: number}> {
	const child = spawn(process.execPath, ['-e', "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], {stdio: ['ignore', 'pipe', 'inherit']});
	try {
		const port = await firstLine(child);
		const {rps, p99} = await load(`http://127.0.0.1:${port}/`);
		return {rps, p99};
	} finally {
		child.kill();
	}
}

function firstLine(child: ChildProcess): Promise<string> {
	return new Promise((resolve, reject) => {
		let out = '';
		child.stdout!.on('data', chunk => {
			out += String(chunk);
			if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
		});
		child.once('exit', code => reject(new Error(`server exited (${code}) before listening`)));
	});
}

function post(url: string, from: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const req = request(url, {method: 'POST', localAddress: from, headers: {'content-type': 'application/x-www-form-urlencoded'}, agent: false}, res => {
			res.resume();
			res.on('end', () => resolve(res.statusCode ?? 0));
		});
		req.on('error', reject);
		req.end('email=x%40corp.com&username=x');
	});
}

export const webBench: Benchmark = {
	name: 'web serve',
	async run(): Promise<Figure[]> {
		const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-web-'));
		const path = join(dir, 'orgctl.json');
		let server: ChildProcess | undefined;
		try {
			generateStore(path, {users: 10_000, invitations: 2_000});
			const store = await Store.open(path);
			const ctx = buildContext(store, KeyFile.load(path));
			const admin = resolveActor(store.read(), store.read().users[0]!.id);
			const {link} = await createInvitation(ctx, admin, {username: 'bench-invitee', email: 'bench-invitee@example.com'}, {sendEmail: false});
			const bare = await bareHttpFloor();

			// NODE_ENV=production as in the bundle (React's development build is several times slower).
			server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'serve-unlimited.ts'), path], {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, NODE_ENV: 'production'}});
			const base = await firstLine(server);
			const invite = await load(`${base}${new URL(link).pathname}`);
			if (invite.non2xx > 0) throw new Error(`GET /invite/… answered ${invite.non2xx} non-2xx responses`);
			server.kill('SIGTERM');

			// The flood, against the real built orgctl serve with its shipped limits.
			const real = await startServe(dir);
			try {
				const flood = await autocannon({url: `${real.url}/signup`, method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'email=x%40corp.com&username=x', connections: 10, amount: 500});
				const cut = flood.statusCodeStats?.['429']?.count ?? 0;
				const other = await post(`${real.url}/signup`, '127.0.0.2');
				return [
					{name: `GET /invite/… (valid link, 10,000 users), ${CONNECTIONS} clients, ${SECONDS} s`, unit: 'req/s', value: invite.rps, floor: bare.rps, floorOf: 'bare node:http', note: `${invite.total} requests`},
					{name: `GET /invite/… p99 latency, ${CONNECTIONS} clients`, unit: 'ms', value: invite.p99, floor: bare.p99, floorOf: 'bare node:http'},
					{
						name: 'POST flood from 127.0.0.1, 500 requests',
						unit: 'requests',
						value: cut,
						note: `cut off by the rate limit (429) after ${LIMITS.postsPerMinute}/min; 127.0.0.2 meanwhile got ${other}${other === 429 ? ' (CUT OFF TOO)' : ' (served: no CSRF token, so refused on its merits, not cut off)'}`,
					},
				];
			} finally {
				await real.stop();
			}
		} finally {
			server?.kill('SIGTERM');
			rmSync(dir, {recursive: true, force: true});
		}
	},
};
