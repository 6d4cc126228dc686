import {createRequire} from 'node:module';

/** Where a copy went: any of `tmux`, `osc52`, `system`; empty when nothing could take it. */
export type CopyResult = {readonly via: readonly ('tmux' | 'osc52' | 'system')[]};

export type ClipboardEnvironment = {
	readonly env?: NodeJS.ProcessEnv;
	/** The terminal the console draws on; OSC 52 is written here. */
	readonly output?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
};

/** OSC 52: asks the admin's own terminal, through SSH, to set its clipboard. */
export function osc52(text: string): string {
	return `\u001B]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

/** Node's require, for node:child_process: see {@link tmuxLoadBuffer}. */
const load = createRequire(import.meta.url);

function tmuxLoadBuffer(text: string, env: NodeJS.ProcessEnv): Promise<boolean> {
	// Loaded on a copy, not when the console loads: node:child_process is 1 ms of a start that does not
	// use it. Required, not import()ed: the console's bundle runs in a vm.Script (source/app/code-cache.ts),
	// where a dynamic import of a module outside the bundle fails ("A dynamic import callback was not specified").
	const {spawn} = load('node:child_process') as typeof import('node:child_process');
	return new Promise(resolve => {
		// -w also hands the buffer to the outer terminal (tmux 3.2+), where OSC 52 from inside is dropped.
		const child = spawn('tmux', ['load-buffer', '-w', '-'], {env, stdio: ['pipe', 'ignore', 'ignore'], timeout: 2000});
		child.on('error', () => resolve(false));
		child.on('close', code => resolve(code === 0));
		child.stdin.on('error', () => undefined);
		child.stdin.end(text);
	});
}

async function systemClipboard(text: string): Promise<boolean> {
	try {
		const {default: clipboard} = await import('clipboardy');
		await clipboard.write(text);
		return true;
	} catch {
		return false;
	}
}

/**
 * Copies text to the clipboard the admin can reach (TUI.md "Clipboard"): through tmux when inside
 * it, else OSC 52 on a terminal, and the system clipboard (clipboardy) where a display exists. No
 * terminal confirms an OSC 52 copy, so callers always show the value on screen as well.
 */
export async function copyToClipboard(text: string, where: ClipboardEnvironment = {}): Promise<CopyResult> {
	const env = where.env ?? process.env;
	const output = where.output ?? process.stdout;
	const via: Array<CopyResult['via'][number]> = [];
	if (env['TMUX'] && (await tmuxLoadBuffer(text, env))) via.push('tmux');
	else if (output.isTTY) {
		output.write(osc52(text));
		via.push('osc52');
	}
	if ((env['DISPLAY'] || env['WAYLAND_DISPLAY']) && (await systemClipboard(text))) via.push('system');
	return {via};
}

/** "copied to the clipboard (tmux, system)" or why not, for the status line. */
export function describeCopy(result: CopyResult): string {
	if (result.via.length === 0) return 'no clipboard reachable here (no tmux, terminal or display); copy it from the screen';
	const names = result.via.map(v => (v === 'osc52' ? 'terminal, OSC 52' : v));
	return `copied to the clipboard (${names.join('; ')})`;
}
