import {mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {build} from 'esbuild';
import {buildContext} from '../source/app/context.js';
import {resolveActor} from '../source/core/accounts.js';
import {createProject} from '../source/core/projects.js';
import {setRole} from '../source/core/user-admin.js';
import {listUsersIn} from '../source/core/users.js';
import {KeyFile} from '../source/store/secrets.js';
import {Store} from '../source/store/store.js';
import {spawnConsole, type ConsoleTerm} from '../test/helpers/term.js';
import {signedInStore} from './console.js';
import {summarize, type Benchmark, type Figure} from './types.js';

/** How long an open console is watched doing nothing. */
const IDLE_MS = 30_000;
/** External changes made while it is open: every other one shows on its screen. */
const CHANGES = 20;
/**
 * A change's CPU is what the console used from the commit until this long after it, less its idle
 * rate: long enough for a console that only looks every 2 s to have looked, read and drawn.
 */
const WINDOW_MS = 3_000;
const SIZES = [10_000, 100_000] as const;
const INVITATIONS = 2_000;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function count(n: number): string {
	return n.toLocaleString('en-US');
}

/** CPU of `t` over `ms` of doing nothing, as a percentage of one core. */
async function idlePercent(t: ConsoleTerm, ms: number): Promise<{percent: number; ticksPercent: number}> {
	const ns = t.cpuNs();
	const ticks = t.cpuMs();
	await sleep(ms);
	return {percent: ((t.cpuNs() - ns) / 1e6 / ms) * 100, ticksPercent: ((t.cpuMs() - ticks) / ms) * 100};
}

/** The bundled Ink "hello": its CPU at rest, its memory, and the CPU of one frame after a key. */
async function floor(): Promise<{idle: number; rssMb: number; frameMs: number}> {
	const dir = join(import.meta.dirname, '..', 'node_modules', '.cache', 'orgctl-bench');
	mkdirSync(dir, {recursive: true});
	const script = join(dir, 'ink-hello.mjs');
	await build({
		entryPoints: {'ink-hello': join(import.meta.dirname, 'ink-hello.tsx')},
		outdir: dir,
		outExtension: {'.js': '.mjs'},
		// As the console is built (scripts/build.mjs): Ink's devtools stay in a chunk loaded only with DEV set.
		splitting: true,
		chunkNames: 'chunks/[name]-[hash]',
		bundle: true,
		platform: 'node',
		target: 'node20',
		format: 'esm',
		jsx: 'automatic',
		minifyWhitespace: true,
		minifySyntax: true,
		define: {'process.env.NODE_ENV': '"production"', 'process.env.DEV': 'undefined'},
		external: ['react-devtools-core'],
		banner: {js: "import {createRequire as __helloRequire} from 'node:module';const require = __helloRequire(import.meta.url);"},
		logLevel: 'warning',
	});
	const t = spawnConsole({dir, script});
	try {
		await t.waitReady('hello', 30_000);
		await t.settle(1000);
		const {percent} = await idlePercent(t, IDLE_MS);
		const frames: number[] = [];
		for (let i = 0; i < 20; i++) {
			const before = t.cpuNs();
			await t.writeAndWaitForChange('x');
			await sleep(100);
			frames.push((t.cpuNs() - before) / 1e6);
		}
		return {idle: percent, rssMb: t.rssMb(), frameMs: summarize(frames).median};
	} finally {
		t.kill('SIGKILL');
		await t.exited;
	}
}

type Live = {
	idle: {percent: number; ticksPercent: number};
	hidden: {cpu: number[]};
	shown: {cpu: number[]; wall: number[]};
	writerCpu: number[];
	rssBefore: number;
	rssAfter: number;
};

/**
 * A console signed in on Users at `users` users, watched at rest, then while another process
 * commits CHANGES changes through the core: a project created (nothing on the Users screen shows
 * it) and, every other time, the role of a user on the screen toggled (the frame must show it).
 */
async function live(users: number): Promise<Live> {
	const dir = await signedInStore(users, INVITATIONS);
	const store = await Store.open(join(dir, 'orgctl.json'));
	const ctx = buildContext(store, KeyFile.load(store.path));
	const admin = resolveActor(store.read(), store.read().users[0]!.id);
	// A user in the first rows of the list (username order), whose role can go back and forth.
	const shown = listUsersIn(store.read(), admin)
		.slice(0, 10)
		.find(u => !u.superuser && u.role !== 'admin');
	if (!shown) throw new Error('no member or guest among the first rows');
	let role = shown.role;
	const t = spawnConsole({dir});
	try {
		await t.waitReady('main:users', 120_000);
		await t.waitFor(`of ${users}`, 120_000);
		// What start-up defers (the full store check, the collection after it) is not idleness: let it finish.
		await t.settle(2000);
		await sleep(3000);
		const idle = await idlePercent(t, IDLE_MS);
		const idleNsPerMs = (idle.percent / 100) * 1e6;
		const rssBefore = t.rssMb();
		const result: Live = {idle, hidden: {cpu: []}, shown: {cpu: [], wall: []}, writerCpu: [], rssBefore, rssAfter: 0};
		const rowOf = (screen: string) => screen.split('\n').find(line => line.includes(shown.username.slice(0, 12)));
		if (!rowOf(t.screen())) throw new Error(`${shown.username} is not on the screen:\n${t.screen()}`);
		for (let i = 0; i < CHANGES; i++) {
			const visible = i % 2 === 1;
			const before = t.cpuNs();
			const writer = process.cpuUsage();
			if (visible) {
				role = role === 'member' ? 'guest' : 'member';
				await setRole(ctx, admin, shown.username, role);
			} else {
				await createProject(ctx, admin, {name: `bench-${i}`, owner: admin.user.username});
			}
			const landed = performance.now();
			const used = process.cpuUsage(writer);
			result.writerCpu.push((used.user + used.system) / 1000);
			if (visible) {
				const want = role;
				await t.waitFor(screen => rowOf(screen)?.includes(` ${want} `) ?? false, 30_000);
				result.shown.wall.push(performance.now() - landed);
			}
			await sleep(Math.max(0, landed + WINDOW_MS - performance.now()));
			const cpu = (t.cpuNs() - before - idleNsPerMs * (performance.now() - landed)) / 1e6;
			(visible ? result.shown : result.hidden).cpu.push(Math.max(0, cpu));
		}
		result.rssAfter = t.rssMb();
		return result;
	} finally {
		t.kill('SIGKILL');
		await t.exited;
		rmSync(dir, {recursive: true, force: true});
	}
}

/** Issue 21: what an open console costs at rest, and for each change another process makes. */
export const consoleLiveBench: Benchmark = {
	name: 'console-live',
	async run(): Promise<Figure[]> {
		const base = await floor();
		const figures: Figure[] = [];
		for (const users of SIZES) {
			const r = await live(users);
			const size = `${count(users)} users + ${count(INVITATIONS)} invitations`;
			const large = users === 100_000;
			const shown = summarize(r.shown.cpu);
			const wall = summarize(r.shown.wall);
			const hidden = summarize(r.hidden.cpu);
			const writer = summarize(r.writerCpu).median;
			figures.push(
				{
					name: `console at rest, CPU over ${IDLE_MS / 1000} s (${size})`,
					unit: '%',
					value: r.idle.percent,
					budget: {of: 'value', limit: 0.5},
					floor: base.idle,
					note: `clock ticks say ${r.idle.ticksPercent.toFixed(2)} %`,
				},
				{
					name: `external change not on screen (project created): console CPU (${count(users)} users)`,
					unit: 'ms',
					...hidden,
					samples: r.hidden.cpu.length,
					...(large ? {budget: {of: 'median', limit: 100}} : {}),
					note: `the writer's own commit: CPU median ${writer.toFixed(0)} ms`,
				},
				{
					name: `external change on screen (role of a visible user): console CPU (${count(users)} users)`,
					unit: 'ms',
					...shown,
					samples: r.shown.cpu.length,
					...(large ? {budget: {of: 'median', limit: 100}} : {}),
					floor: base.frameMs,
				},
				{
					name: `external change on screen: commit to frame drawn, wall (${count(users)} users)`,
					unit: 'ms',
					...wall,
					samples: r.shown.wall.length,
					...(large ? {budget: {of: 'median', limit: 100}} : {}),
				},
				{name: `console resident memory at rest (${count(users)} users)`, unit: 'MB', value: r.rssBefore, budget: {of: 'value', limit: 150}, floor: base.rssMb},
				{
					name: `console resident memory after ${CHANGES} external changes (${count(users)} users)`,
					unit: 'MB',
					value: r.rssAfter,
					budget: {of: 'value', limit: 150},
					floor: base.rssMb,
					note: `${r.rssAfter >= r.rssBefore ? '+' : ''}${(r.rssAfter - r.rssBefore).toFixed(1)} MB over the ${CHANGES} changes`,
				},
			);
		}
		return figures;
	},
};
