import {readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import xtermHeadless from '@xterm/headless';
import pty from 'node-pty';
import {buildContext} from '../../source/app/context.js';
import {createSession, initialize, newUser} from '../../source/core/accounts.js';
import type {Actor, Context} from '../../source/core/context.js';
import type {AuthMethod, Role} from '../../source/core/model.js';
import {Store} from '../../source/store/store.js';
import {KeyFile} from '../../source/store/secrets.js';
import {ORGCTL} from './cli.js';
import {KEYS} from './keys.js';
import {TEST_HASHER} from './hasher.js';

const {Terminal} = xtermHeadless;

/** Bytes a terminal sends for the keys tests press; anything else is sent as typed. */

export type Exit = {readonly exitCode: number; readonly signal: number | undefined};

/** The console running in a pseudo-terminal, with a headless xterm as its screen. */
export type ConsoleTerm = {
	/** The visible screen, one string per row, trailing spaces trimmed. */
	lines(): string[];
	screen(): string;
	/** The last window title set (the ready marker is `orgctl:ready:<screen>`). */
	title(): string;
	/** True while the console is in the alternate screen. */
	alternate(): boolean;
	/** Waits until the screen shows `text` (or the predicate holds), polling until a deadline. */
	waitFor(what: string | RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<void>;
	/** Waits for the ready marker of a screen: `first-run`, `login`, `main:users`, `main:account`... */
	waitReady(name: string, timeoutMs?: number): Promise<void>;
	/** Presses keys one at a time: names from KEYS (`enter`, `tab`, `ctrl-c`...) or literal text. */
	press(...keys: string[]): Promise<void>;
	/** Types text one character per write, as a person does. */
	type(text: string): Promise<void>;
	/**
	 * Opens `:` (the last message and its orgctl command, shown whole), waits until the command
	 * there contains `text` (lines joined, spaces collapsed: a long command wraps), and closes it.
	 */
	expectCommand(text: string, timeoutMs?: number): Promise<void>;
	resize(cols: number, rows: number): void;
	kill(signal?: string): void;
	/** Resolves when the process ends. */
	readonly exited: Promise<Exit>;
	/** Milliseconds from spawn to the first ready marker (for benchmarks). */
	readonly startedAt: number;
	readyAt(name: string): number | undefined;
	/** Every byte the console wrote. */
	output(): string;
	/** CPU milliseconds (user + system) the console process has used so far (Linux). */
	cpuMs(): number;
	/**
	 * CPU nanoseconds its threads have run so far (Linux: the sum of /proc/PID/task/∗/schedstat):
	 * finer than cpuMs()'s 10 ms clock ticks, for the cost of one event; threads that ended are not counted.
	 */
	cpuNs(): number;
	/** Resident memory of the console process now, in MB (Linux VmRSS). */
	rssMb(): number;
	readonly pid: number;
	/** Resolves once the console has written nothing for `quietMs` (benchmarks: let start-up work finish). */
	settle(quietMs: number, timeoutMs?: number): Promise<void>;
	/** Writes raw bytes and resolves when the screen changes next (for key-to-frame timing). */
	writeAndWaitForChange(data: string, timeoutMs?: number): Promise<number>;
};

export type SpawnOptions = {
	/** Folder with the store (orgctl.json) and the session file (session.json). */
	readonly dir: string;
	readonly cols?: number;
	readonly rows?: number;
	readonly args?: readonly string[];
	readonly env?: Record<string, string | undefined>;
	/** Another script to run instead of the console (benchmarks: the bundled Ink "hello" floor). */
	readonly script?: string;
};

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
		await new Promise(resolve => setTimeout(resolve, 10));
	}
}

/**
 * Spawns the built console (`node dist/orgctl.cjs`, so `npm run build` first) at 80×24 in a PTY with
 * the store and session file in `dir`. CI variables are removed from its environment: Ink renders
 * only the last frame when `CI` is set (TUI.md pitfall 8).
 */
export function spawnConsole(options: SpawnOptions): ConsoleTerm {
	const cols = options.cols ?? 80;
	const rows = options.rows ?? 24;
	const env: Record<string, string> = {};
	for (const [key, value] of Object.entries({...process.env, ...options.env})) if (value !== undefined) env[key] = value;
	for (const key of ['CI', 'CONTINUOUS_INTEGRATION', 'NO_COLOR', 'ORGCTL_USER', 'ORGCTL_PASSWORD', 'ORGCTL_TOKEN', 'ORGCTL_TENANT', 'NODE_ENV']) {
		if (!(options.env && key in options.env)) delete env[key];
	}
	Object.assign(env, {
		TERM: 'xterm-256color',
		ORGCTL_STORE: join(options.dir, 'orgctl.json'),
		ORGCTL_SESSION_FILE: join(options.dir, 'session.json'),
		ORGCTL_READY_MARKER: '1',
	});
	const term = new Terminal({cols, rows, allowProposedApi: true});
	const startedAt = performance.now();
	const child = pty.spawn(process.execPath, [options.script ?? ORGCTL, ...(options.args ?? [])], {name: 'xterm-256color', cols, rows, cwd: options.dir, env});
	let output = '';
	let title = '';
	const ready = new Map<string, number>();
	let changeWaiter: (() => void) | undefined;
	term.onTitleChange(value => {
		title = value;
		const match = /^orgctl:ready:(.+)$/.exec(value);
		if (match && !ready.has(match[1]!)) ready.set(match[1]!, performance.now());
	});
	child.onData(data => {
		output += data;
		term.write(data, () => changeWaiter?.());
	});
	// Exited once xterm has also parsed what the process wrote last (leaving the alternate screen,
	// the cursor shown): xterm parses asynchronously, and node-pty may hand over the last bytes just
	// after the exit event, so a test that reads the screen right after the exit saw the frame before.
	const exited = new Promise<Exit>(resolve => {
		child.onExit(({exitCode, signal}) => {
			setImmediate(() => term.write('', () => resolve({exitCode, signal})));
		});
	});
	let done = false;
	void exited.then(() => (done = true));

	const lines = () => {
		const buffer = term.buffer.active;
		const result: string[] = [];
		for (let y = 0; y < term.rows; y++) result.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
		return result;
	};
	const screen = () => lines().join('\n');
	const write = (data: string) => {
		if (!done) child.write(data);
	};
	const tick = () => new Promise(resolve => setTimeout(resolve, 5));

	return {
		lines,
		screen,
		title: () => title,
		alternate: () => term.buffer.active.type === 'alternate',
		async waitFor(what, timeoutMs = 10_000) {
			const check = typeof what === 'string' ? (s: string) => s.includes(what) : what instanceof RegExp ? (s: string) => what.test(s) : what;
			await until(
				() => check(screen()),
				timeoutMs,
				() => `${String(what)} on the screen:\n${screen()}`,
			);
		},
		async waitReady(name, timeoutMs = 10_000) {
			await until(
				() => title === `orgctl:ready:${name}`,
				timeoutMs,
				() => `ready marker ${name} (title is "${title}"); screen:\n${screen()}`,
			);
		},
		async press(...keys) {
			for (const key of keys) {
				write(KEYS[key] ?? key);
				await tick();
			}
		},
		async type(text) {
			for (const ch of text) {
				write(ch);
				await tick();
			}
		},
		async expectCommand(text, timeoutMs = 10_000) {
			const flat = (value: string) => value.replace(/\s+/g, ' ');
			write(':');
			await until(
				() => flat(screen()).includes('y copies it'),
				timeoutMs,
				() => `the last command (:) on the screen:\n${screen()}`,
			);
			await until(
				() => flat(screen()).includes(flat(text)),
				timeoutMs,
				() => `${text} in the last command (:):\n${screen()}`,
			);
			write(KEYS['escape']!);
			await until(
				() => !flat(screen()).includes('y copies it'),
				timeoutMs,
				() => 'the last command view to close',
			);
		},
		resize(newCols, newRows) {
			term.resize(newCols, newRows);
			child.resize(newCols, newRows);
		},
		kill(signal = 'SIGTERM') {
			child.kill(signal);
		},
		exited,
		startedAt,
		readyAt: name => ready.get(name),
		output: () => output,
		async settle(quietMs, timeoutMs = 120_000) {
			let seen = output.length;
			let since = performance.now();
			await until(
				() => {
					if (output.length !== seen) {
						seen = output.length;
						since = performance.now();
					}
					return performance.now() - since >= quietMs;
				},
				timeoutMs,
				() => `${quietMs} ms without output`,
			);
		},
		cpuMs() {
			const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
			return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
		},
		cpuNs() {
			let total = 0;
			for (const task of readdirSync(`/proc/${child.pid}/task`)) {
				try {
					total += Number(readFileSync(`/proc/${child.pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
				} catch {
					// The thread ended between the listing and the read.
				}
			}
			return total;
		},
		rssMb() {
			const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
			return match ? Number(match[1]) / 1024 : Number.NaN;
		},
		pid: child.pid,
		async writeAndWaitForChange(data, timeoutMs = 5_000) {
			// Let xterm finish parsing what already arrived, so `before` is a whole frame.
			await new Promise<void>(resolve => term.write('', resolve));
			const before = screen();
			const from = output.length;
			return new Promise<number>((resolve, reject) => {
				const start = performance.now();
				const timer = setTimeout(() => {
					changeWaiter = undefined;
					reject(new Error(`no frame within ${timeoutMs} ms after ${JSON.stringify(data)}`));
				}, timeoutMs);
				changeWaiter = () => {
					// A frame is complete when its synchronized update ends (Ink wraps frames in ?2026h … ?2026l).
					if (!output.includes('\u001b[?2026l', from) || screen() === before) return;
					clearTimeout(timer);
					changeWaiter = undefined;
					resolve(performance.now() - start);
				};
				write(data);
			});
		},
	};
}

export const ROOT_PASSWORD = 'correct horse battery staple';

/** Opens the store in `dir` (created if missing) for seeding. */
export async function openStore(dir: string): Promise<Context> {
	const store = await Store.open(join(dir, 'orgctl.json'));
	return buildContext(store, KeyFile.load(store.path), {hasher: TEST_HASHER});
}

/** A store whose first user is `root` (admin + superuser of tenant `default`), password ROOT_PASSWORD. */
export async function seedRoot(dir: string): Promise<{ctx: Context; root: Actor}> {
	const ctx = await openStore(dir);
	const root = await initialize(ctx, {username: 'root', email: 'root@example.com', password: ROOT_PASSWORD});
	return {ctx, root};
}

/** Adds users straight into the store (no password), for lists to show. */
export async function seedUsers(ctx: Context, tenantId: string, users: ReadonlyArray<{username: string; email?: string; role?: Role; method?: AuthMethod; disabled?: boolean}>): Promise<void> {
	await ctx.store.transact(db => {
		for (const u of users) {
			const user = newUser(ctx, {tenantId, username: u.username, email: u.email ?? `${u.username}@example.com`, role: u.role ?? 'member', method: u.method ?? 'password', passwordHash: null});
			user.disabled = u.disabled ?? false;
			db.users.push(user);
		}
	});
}

/** Leaves a session for `actor` in `dir/session.json`, as `orgctl login` would, so the console starts signed in. */
export async function signIn(ctx: Context, actor: Actor, dir: string): Promise<void> {
	const session = await createSession(ctx, actor);
	writeFileSync(join(dir, 'session.json'), JSON.stringify({store: ctx.store.path, ...session}), {mode: 0o600});
}
