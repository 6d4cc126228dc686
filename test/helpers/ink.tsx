import type {ReactNode} from 'react';
import {render} from 'ink-testing-library';
import {InputRouter} from '../../source/ui/input-router.js';
import {KEYS} from './keys.js';


/** React 19 commits after the write returns: wait a macrotask, then a timer (TUI.md pitfall 12). */
export async function tick(): Promise<void> {
	await new Promise(resolve => setImmediate(resolve));
	await new Promise(resolve => setTimeout(resolve, 0));
}

export type InkHarness = {
	/** The last frame Ink wrote. */
	frame(): string;
	/** Presses keys one at a time (names as in KEYS, or literal text), awaiting a tick after each. */
	press(...keys: string[]): Promise<void>;
	/** Writes raw input without waiting for a frame (for keys that arrive faster than redraws). */
	write(data: string): void;
	/** Waits (polling, with a deadline) until the frame satisfies `check`. */
	waitFor(check: string | ((frame: string) => boolean), timeoutMs?: number): Promise<void>;
	unmount(): void;
};

/**
 * The one way component tests render: ink-testing-library inside the console's input router, with
 * the terminal size injected (its stdout is 100 columns and has no rows otherwise) and a tick awaited.
 */
export async function renderInk(node: ReactNode, size: {columns?: number; rows?: number} = {}): Promise<InkHarness> {
	const result = render(<InputRouter>{node}</InputRouter>);
	Object.defineProperty(result.stdout, 'columns', {value: size.columns ?? 80, configurable: true});
	Object.defineProperty(result.stdout, 'rows', {value: size.rows ?? 24, configurable: true});
	result.stdout.emit('resize');
	await tick();
	const frame = () => result.lastFrame() ?? '';
	return {
		frame,
		async press(...keys) {
			for (const key of keys) {
				result.stdin.write(KEYS[key] ?? key);
				await tick();
			}
		},
		async waitFor(check, timeoutMs = 5000) {
			const test = typeof check === 'string' ? (f: string) => f.includes(check) : check;
			const deadline = Date.now() + timeoutMs;
			while (!test(frame())) {
				if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(check)} in:\n${frame()}`);
				await new Promise(resolve => setTimeout(resolve, 10));
			}
		},
		write: data => {
			result.stdin.write(data);
		},
		unmount: () => result.unmount(),
	};
}
