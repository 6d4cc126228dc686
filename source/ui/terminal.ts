import {constants} from 'node:os';

const ALTERNATE_SCREEN_ON = '\u001b[?1049h';
/** Show the cursor, leave the alternate screen. */
const RESTORE = '\u001b[?25h\u001b[?1049l';

/**
 * The terminal state the console changes, and the one idempotent way back. Ink 6 has no alternate
 * screen (TUI.md pitfall 2), and code after `waitUntilExit()` never runs on a signal (pitfall 3),
 * so `restore()` is called after exit, from `process.on('exit')` and from the signal handlers.
 */
export class TerminalGuard {
	private entered = false;
	private readonly cleanups: Array<() => void> = [];

	constructor(
		private readonly stdout: NodeJS.WriteStream,
		private readonly stdin: NodeJS.ReadStream,
	) {}

	/** Switches to the alternate screen (only on a TTY) and arranges for the way back on every exit path. */
	enter(onSignal: (signal: NodeJS.Signals) => void): void {
		if (this.stdout.isTTY) {
			this.stdout.write(ALTERNATE_SCREEN_ON);
			this.entered = true;
		}
		// An SSH drop closes the terminal under us: a failed write must not crash before restoring.
		const ignore = () => undefined;
		this.stdout.on('error', ignore);
		this.cleanups.push(() => this.stdout.off('error', ignore));
		const onExit = () => this.restore();
		process.on('exit', onExit);
		this.cleanups.push(() => process.off('exit', onExit));
		for (const signal of ['SIGHUP', 'SIGTERM', 'SIGINT'] as const) {
			const handler = () => onSignal(signal);
			process.on(signal, handler);
			this.cleanups.push(() => process.off(signal, handler));
		}
	}

	/** Leaves the alternate screen, shows the cursor and ends raw mode; safe to call more than once. */
	restore(): void {
		if (this.entered) {
			this.entered = false;
			try {
				this.stdout.write(RESTORE);
			} catch {
				// The terminal is gone (SIGHUP): nothing left to restore.
			}
		}
		try {
			if (this.stdin.isTTY && this.stdin.isRaw) this.stdin.setRawMode(false);
		} catch {
			// As above.
		}
	}

	/** Restores and removes the handlers (normal exit). */
	dispose(): void {
		this.restore();
		for (const cleanup of this.cleanups.splice(0)) cleanup();
	}
}

/** The conventional exit code for a signal: 128 + its number (SIGHUP 129, SIGINT 130, SIGTERM 143). */
export function signalExitCode(signal: NodeJS.Signals): number {
	return 128 + constants.signals[signal];
}
