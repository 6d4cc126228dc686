// What a hostile SAMLResponse costs `orgctl serve` (red team of issue 16, finding 1): about 24,000
// nested elements in samlp:Extensions (180 KB, 242 KB in base64, under the ACS's 256 KiB), answering a
// pending request and signed by a stranger's key. Before the pre-scan it took 4-8 s and blocked
// every other request, /healthz included; the pre-scan refuses it before any XML parser runs.
// Measured as a client sees it, against a real `orgctl serve` process: the ACS answer, and a
// /healthz sent from another address just after each attack POST.
// Run alone: node --import tsx bench/saml-acs.ts
import {request} from 'node:http';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildContext} from '../source/app/context.js';
import {resolveActor} from '../source/core/accounts.js';
import {createInvitation} from '../source/core/invitations.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {generateStore} from './generate.js';
import {startInvitationSignIn} from '../source/core/saml.js';
import {testKeyPair} from '../test/helpers/idp.js';
import {b64, buildResponse, configureSso, signXml} from '../test/helpers/saml.js';
import {startServe} from '../test/helpers/serve.js';
import {summarize, type Benchmark, type Figure} from './types.js';

const RUNS = 9;
const DEPTH = 24_000;

function post(url: string, path: string, body: string | null, from: string): Promise<{ms: number; status: number}> {
	const start = performance.now();
	return new Promise((resolve, reject) => {
		const req = request(`${url}${path}`, {method: body === null ? 'GET' : 'POST', headers: body === null ? {} : {'content-type': 'application/x-www-form-urlencoded'}, localAddress: from, agent: false}, response => {
			response.resume();
			response.on('end', () => resolve({ms: performance.now() - start, status: response.statusCode ?? 0}));
		});
		req.on('error', reject);
		req.end(body ?? undefined);
	});
}

export const samlAcsBench: Benchmark = {
	name: 'saml-acs',
	async run(): Promise<readonly Figure[]> {
		const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-saml-'));
		const stranger = testKeyPair(dir, 'stranger');
		const idp = testKeyPair(dir, 'idp');
		const path = join(dir, 'store', 'orgctl.json');
		generateStore(path, {users: 10, invitations: 0});
		const store = await Store.open(path);
		const ctx = {...buildContext(store, KeyFile.load(path)), dir};
		const root = resolveActor(store.read(), store.read().users[0]!.id);
		const server = await startServe(join(dir, 'store'));
		try {
			const sp = await configureSso(ctx, root, {publicUrl: server.url, idp: {entityId: 'http://127.0.0.1:9/idp', ssoUrl: 'http://127.0.0.1:9/sso', certificatePem: idp.certificatePem}});
			const acs: number[] = [];
			const health: number[] = [];
			for (let i = 0; i < RUNS; i++) {
				const {invitation} = await createInvitation(ctx, root, {username: `deep${i}`, email: `deep${i}@example.test`, method: 'saml'}, {sendEmail: false});
				const requestId = await startInvitationSignIn(ctx, invitation.id);
				const good = signXml(buildResponse({now: Date.now(), idpEntityId: 'http://127.0.0.1:9/idp', acsUrl: sp.acsUrl, audience: sp.entityId, inResponseTo: requestId}), stranger);
				const hostile = good.replace('<samlp:Status>', `<samlp:Extensions>${'<a>'.repeat(DEPTH)}${'</a>'.repeat(DEPTH)}</samlp:Extensions><samlp:Status>`);
				const body = new URLSearchParams({SAMLResponse: b64(hostile)}).toString();
				const attack = post(server.url, '/saml/acs', body, `127.0.1.${i + 1}`);
				await new Promise(resolve => setTimeout(resolve, 5));
				const probe = post(server.url, '/healthz', null, `127.0.2.${i + 1}`);
				const [a, h] = await Promise.all([attack, probe]);
				if (a.status !== 403) throw new Error(`the hostile response got ${a.status}, not 403`);
				acs.push(a.ms);
				health.push(h.ms);
			}
			return [
				{name: 'ACS refuses 24,000 nested elements (242 KB)', unit: 'ms', ...summarize(acs), samples: RUNS, budget: {of: 'median', limit: 50}, note: 'was 4,000-8,000 ms'},
				{name: '/healthz during that attack', unit: 'ms', ...summarize(health), samples: RUNS, budget: {of: 'median', limit: 50}, note: 'was 3,500-4,200 ms'},
			];
		} finally {
			await server.stop();
			rmSync(dir, {recursive: true, force: true});
		}
	},
};

if (import.meta.url === `file://${process.argv[1]}`) {
	for (const figure of await samlAcsBench.run()) process.stdout.write(`${figure.name}: median ${figure.median?.toFixed(1)} ms, p95 ${figure.p95?.toFixed(1)} ms (${figure.samples} runs)\n`);
}
