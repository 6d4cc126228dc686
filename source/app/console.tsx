import {render, type Instance} from 'ink';
import {App} from '../ui/app.js';
import {startScreen} from '../ui/boot.js';
import {signalExitCode, TerminalGuard} from '../ui/terminal.js';
import {collectStartupGarbage, keepYoungGenerationSmall} from './console-heap.js';
import {openContext} from './context.js';

/** Start-up is over this long after the store check that follows the first frame (see console-heap.ts). */
const STARTUP_SETTLES_MS = 2000;

/** Options the command line passes to the console. */
export type ConsoleOptions = {readonly storePath: string; readonly keyFile?: string | undefined; readonly tenant: string | undefined};

/** Opens the full-screen console; resolves with the process exit code. */
export async function startConsole(options: ConsoleOptions): Promise<number> {
	// A store that cannot be used is reported before the screen changes (the caller prints it).
	// Opening checks the whole file against the schema: at 10,000 users that is half the start-up
	// time, so it runs right after the first frame; a file that fails then ends the console with the reason.
	keepYoungGenerationSmall();
	const ctx = await openContext(options.storePath, {store: {deferValidation: true}, keyFile: options.keyFile});
	const start = await startScreen(ctx, ctx.store.path, options.tenant);
	const terminal = new TerminalGuard(process.stdout, process.stdin);
	let instance: Instance | undefined;
	let failure: Error | undefined;
	const validateSoon = () => {
		setTimeout(() => {
			try {
				ctx.store.validate();
			} catch (error) {
				failure = error instanceof Error ? error : new Error(String(error));
				instance?.unmount();
				return;
			}
			setTimeout(collectStartupGarbage, STARTUP_SETTLES_MS).unref();
		}, 0);
	};
	terminal.enter(signal => {
		try {
			instance?.unmount();
		} catch {
			// Unmounting writes to a terminal that may be gone.
		}
		terminal.restore();
		process.exit(signalExitCode(signal));
	});
	try {
		instance = render(<App ctx={ctx} start={start} tenant={options.tenant} readyMarker={Boolean(process.env['ORGCTL_READY_MARKER'])} onFirstFrame={validateSoon} />, {
			exitOnCtrlC: false,
			incrementalRendering: true,
			// A key is drawn within a frame of 4 ms rather than Ink's default 33 ms: bench/console.ts's keys, each sent when the
			// frame before is drawn, waited out half of a 120 fps window on average (move p95 17.6 -> 11.2 ms at 240). Frames come
			// only from changes, so the cap costs nothing at rest; what changes often (bulk progress) is drawn at its own pace.
			maxFps: 240,
		});
		await instance.waitUntilExit();
		if (failure) throw failure;
		return 0;
	} finally {
		terminal.dispose();
		await ctx.store.close();
	}
}
