import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildContext} from '../source/app/context.js';
import {createSession, resolveActor} from '../source/core/accounts.js';
import {createProject} from '../source/core/projects.js';
import {createToken} from '../source/core/tokens.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {writeSessionFile} from '../source/adapters/session-file.js';
import {generateStore} from './generate.js';
import {BUDGETS} from './budgets.js';
import {nodeFloor} from './floors.js';
import {samplesFor, summarize, type Benchmark, type Figure} from './types.js';

const RUNS = samplesFor(15, 5);
const ORGCTL = join(import.meta.dirname, '..', 'dist', 'orgctl.cjs');

/** Wall time of whole `orgctl users list --json` processes (start, open the store, authenticate, print); bench/postgres.ts times its store with it too. */
export function timeRuns(env: NodeJS.ProcessEnv, runs = RUNS): {median: number; p95: number; users: number} {
	const samples: number[] = [];
	let users = 0;
	for (let i = 0; i < runs + 1; i++) {
		const start = performance.now();
		const result = spawnSync(process.execPath, [ORGCTL, 'users', 'list', '--json'], {env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024});
		const ms = performance.now() - start;
		if (result.status !== 0) throw new Error(`orgctl users list failed: ${result.stderr}`);
		users = (JSON.parse(result.stdout) as unknown[]).length;
		if (i > 0) samples.push(ms); // the first run warms the page cache
	}
	return {...summarize(samples), users};
}

export const cliUsersList: Benchmark = {
	name: 'cli users list --json',
	async run(): Promise<Figure[]> {
		const dir = mkdtempSync(join(tmpdir(), 'orgctl-bench-cli-'));
		try {
			const path = join(dir, 'orgctl.json');
			generateStore(path, {users: 10_000, invitations: 2_000});
			const store = await Store.open(path);
			const ctx = buildContext(store, KeyFile.load(path));
			const admin = resolveActor(store.read(), store.read().users[0]!.id);
			const session = await createSession(ctx, admin);
			const sessionFile = join(dir, 'session.json');
			const base: NodeJS.ProcessEnv = {...process.env, ORGCTL_STORE: path, ORGCTL_SESSION_FILE: sessionFile};
			delete base['ORGCTL_USER'];
			delete base['ORGCTL_PASSWORD'];
			delete base['ORGCTL_TOKEN'];
			process.env['ORGCTL_SESSION_FILE'] = sessionFile;
			writeSessionFile({store: path, ...session});
			const floor = nodeFloor(RUNS);
			const bySession = timeRuns(base);
			const project = await createProject(ctx, admin, {name: 'bench'});
			const created = await createToken(ctx, admin, {name: 'bench', project: project.name, capabilities: ['cli']});
			const byToken = timeRuns({...base, ORGCTL_SESSION_FILE: join(dir, 'none.json'), ORGCTL_TOKEN: created.secret});
			return [
				{name: `users list --json, 10,000 users, session`, unit: 'ms', median: bySession.median, p95: bySession.p95, samples: RUNS, budget: BUDGETS.usersList, floor: floor.median, floorOf: 'node -e 0', note: `${bySession.users} users printed`},
				{name: `users list --json, 10,000 users, API token`, unit: 'ms', median: byToken.median, p95: byToken.p95, samples: RUNS, budget: BUDGETS.usersList, floor: floor.median, floorOf: 'node -e 0'},
			];
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	},
};
