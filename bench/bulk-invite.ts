// Bulk invitation of 1,000 addresses mailed through a loopback SMTP server (DESIGN §8: ≤ 5 s, with
// progress shown). Measured as a user runs it: `orgctl invites create --file invites.csv`, a whole
// process, signed in by a session, against a real smtp-server in this process.
// Run alone: node --import tsx bench/bulk-invite.ts
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {TestSmtpServer} from '../test/helpers/smtp.js';
import {BUDGETS} from './budgets.js';
import {nodeFloor} from './floors.js';
import {samplesFor, summarize, type Benchmark, type Figure} from './types.js';

const ORGCTL = fileURLToPath(new URL('../dist/orgctl.cjs', import.meta.url));
const ADDRESSES = 1000;
const RUNS = samplesFor(3, 1);
const PASSWORD = 'correct horse battery staple';

type Run = {ms: number; stderr: string; code: number};

function orgctl(dir: string, args: readonly string[], input = ''): Promise<Run> {
	const inherited = Object.entries(process.env).filter(([key]) => !['ORGCTL_USER', 'ORGCTL_PASSWORD', 'ORGCTL_TOKEN', 'ORGCTL_TENANT'].includes(key));
	const env: NodeJS.ProcessEnv = {...Object.fromEntries(inherited), ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json')};
	const start = performance.now();
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [ORGCTL, ...args], {env, stdio: ['pipe', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		child.on('error', reject);
		child.on('close', code => resolve({ms: performance.now() - start, stderr, code: code ?? -1}));
		child.stdin.end(input);
	});
}

async function must(run: Promise<Run>, what: string): Promise<Run> {
	const result = await run;
	if (result.code !== 0) throw new Error(`${what} failed (${result.code}): ${result.stderr}`);
	return result;
}

/** One bulk invitation of ADDRESSES people into a fresh store; returns the whole-process time. */
async function once(server: TestSmtpServer): Promise<number> {
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-invite-'));
	try {
		await must(orgctl(dir, ['init', '--username', 'root', '--email', 'root@example.com', '--password-stdin'], PASSWORD), 'init');
		await must(orgctl(dir, ['login', '--username', 'root', '--password-stdin'], PASSWORD), 'login');
		await must(orgctl(dir, ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(server.port), '--security', 'none', '--from', 'orgctl@example.com']), 'smtp set');
		const file = join(dir, 'invites.csv');
		writeFileSync(file, ['username,email', ...Array.from({length: ADDRESSES}, (_, i) => `person${i},person${i}@example.com`)].join('\n'));
		const before = server.received;
		const run = await must(orgctl(dir, ['invites', 'create', '--file', file, '--json']), 'invites create --file');
		if (server.received - before !== ADDRESSES) throw new Error(`expected ${ADDRESSES} messages, the server got ${server.received - before}`);
		if (!run.stderr.includes(`Mailing ${ADDRESSES}/${ADDRESSES}`)) throw new Error('no progress was shown');
		return run.ms;
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

export const bulkInvite: Benchmark = {
	name: 'bulk-invite',
	async run(): Promise<Figure[]> {
		const server = await new TestSmtpServer({parse: false}).start();
		try {
			const floor = nodeFloor(samplesFor(10, 5));
			const samples: number[] = [];
			for (let i = 0; i < RUNS; i++) samples.push(await once(server));
			const {median, p95} = summarize(samples);
			return [
				{
					name: `bulk invitation of ${ADDRESSES.toLocaleString('en')} addresses, loopback SMTP (orgctl invites create --file)`,
					unit: 's',
					median: median / 1000,
					p95: p95 / 1000,
					samples: samples.length,
					budget: BUDGETS.bulkInvite,
					floor: floor.median / 1000,
					floorOf: 'node -e 0',
					note: `runs: ${samples.map(s => (s / 1000).toFixed(2)).join(', ')} s`,
				},
			];
		} finally {
			await server.stop();
		}
	},
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	for (const figure of await bulkInvite.run()) {
		process.stdout.write(`${figure.name}: median ${figure.median?.toFixed(2)} ${figure.unit} (budget ≤ ${figure.budget?.limit} ${figure.unit}; ${figure.note})\n`);
	}
}
