import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {refreshOpened, storeEnv} from './backend.js';

export const ORGCTL = join(import.meta.dirname, '..', '..', 'dist', 'orgctl.cjs');

export type CliResult = {code: number; stdout: string; stderr: string};

/**
 * Runs the built orgctl (npm test builds first) with the store of `dir` (helpers/backend.ts) and a session file in it, no terminal,
 * optional stdin, and returns its exit code and output.
 */
export async function orgctl(dir: string, args: readonly string[], options: {input?: string; env?: Record<string, string | undefined>; cwd?: string} = {}): Promise<CliResult> {
	const env: Record<string, string | undefined> = {...process.env, ...(await storeEnv(dir)), ORGCTL_SESSION_FILE: join(dir, 'session.json'), ...options.env};
	for (const key of ['ORGCTL_USER', 'ORGCTL_PASSWORD', 'ORGCTL_TOKEN', 'ORGCTL_TENANT']) if (!(options.env && key in options.env)) delete env[key];
	const result = await run(args, env, options.input, options.cwd);
	// What the process committed reaches the test's own open stores, as a notification would bring it to a console.
	await refreshOpened();
	return result;
}

function run(args: readonly string[], env: Record<string, string | undefined>, input: string | undefined, cwd: string | undefined): Promise<CliResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [ORGCTL, ...args], {env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? {cwd} : {})});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', d => (stdout += d));
		child.stderr.on('data', d => (stderr += d));
		child.on('error', reject);
		child.on('close', code => resolve({code: code ?? -1, stdout, stderr}));
		child.stdin.end(input ?? '');
	});
}
