import {createRequire} from 'node:module';
import type {Worker} from 'node:worker_threads';

/** A thread of the store's, running, and the Int32 slots it shares with the main thread. */
export type Running = {readonly worker: Worker; readonly state: Int32Array};

/**
 * A thread of this process that runs `code` (CommonJS, evaluated), started by the first
 * {@link start}, with `slots` Int32 slots shared with it as its workerData (copier.ts, hasher.ts).
 * It never keeps the process alive. Once it failed to start, raised an error or was given up
 * ({@link lose}), there is none for good: the caller does the work on its own thread.
 * node:worker_threads is loaded only then: 0.75 ms of a console start that commits nothing.
 */
export class OwnThread {
	private running: Running | undefined;
	private broken = false;

	constructor(
		private readonly code: string,
		private readonly slots: number,
	) {}

	/** The thread, started if it is not yet; undefined once it failed. */
	start(): Running | undefined {
		if (this.running || this.broken) return this.running;
		try {
			const shared = new SharedArrayBuffer(this.slots * Int32Array.BYTES_PER_ELEMENT);
			const {Worker: Thread} = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
			const worker = new Thread(this.code, {eval: true, workerData: shared});
			worker.unref();
			worker.on('error', () => this.lose());
			this.running = {worker, state: new Int32Array(shared)};
		} catch {
			this.broken = true;
		}
		return this.running;
	}

	/** The thread if it was started and has not failed (nothing is started). */
	get current(): Running | undefined {
		return this.running;
	}

	/** Gives the thread up: from now on there is none. */
	lose(): void {
		this.broken = true;
		this.running = undefined;
	}
}
