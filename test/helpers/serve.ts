import {spawn, type ChildProcess} from 'node:child_process';
import {join} from 'node:path';
import {storeEnv} from './backend.js';
import {ORGCTL} from './cli.js';

/** A real `orgctl serve` process (the built CLI) on a store folder's store (the file or PostgreSQL: helpers/backend.ts), and what it logged. */
export type ServeProcess = {
	readonly url: string;
	readonly child: ChildProcess;
	/** Everything it wrote to stderr so far. */
	log(): string;
	/** Resolves when a line matching `pattern` has been logged (or rejects after `ms`). */
	waitForLog(pattern: RegExp, ms?: number): Promise<void>;
	stop(): Promise<number | null>;
};

/** Starts `orgctl serve` with these arguments and waits for its "listening on URL" line. */
export async function startServe(dir: string, args: readonly string[] = ['--listen', '127.0.0.1:0'], env: Record<string, string> = {}): Promise<ServeProcess> {
	const child = spawn(process.execPath, [ORGCTL, 'serve', ...args], {
		env: {...process.env, ...(await storeEnv(dir)), ORGCTL_SESSION_FILE: join(dir, 'session.json'), ...env},
		stdio: ['ignore', 'ignore', 'pipe'],
	});
	let stderr = '';
	const waiters = new Set<() => void>();
	child.stderr!.on('data', chunk => {
		stderr += String(chunk);
		for (const wake of waiters) wake();
	});
	const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));
	const waitForLog = (pattern: RegExp, ms = 15_000) =>
		new Promise<void>((resolve, reject) => {
			const check = () => {
				if (!pattern.test(stderr)) return;
				clear();
				resolve();
			};
			const timer = setTimeout(() => {
				clear();
				reject(new Error(`orgctl serve did not log ${pattern} within ${ms} ms; it logged:\n${stderr}`));
			}, ms);
			const clear = () => {
				clearTimeout(timer);
				waiters.delete(check);
			};
			waiters.add(check);
			void exited.then(() => {
				if (!pattern.test(stderr)) {
					clear();
					reject(new Error(`orgctl serve exited; it logged:\n${stderr}`));
				}
			});
			check();
		});
	await waitForLog(/listening on (https?:\/\/\S+)/);
	const url = /listening on (https?:\/\/\S+)/.exec(stderr)![1]!;
	return {
		url,
		child,
		log: () => stderr,
		waitForLog,
		stop: async () => {
			if (child.exitCode === null) child.kill('SIGTERM');
			return exited;
		},
	};
}
