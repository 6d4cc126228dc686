import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';

/*
 * The console stays open for hours in every admin's SSH session and spends them waiting, so what
 * its heap keeps once it has started is what the machine pays for, many times over. Measured at
 * 100,000 users (bench/console-live.ts, heap statistics of the console at rest): reading the store,
 * where nearly every object survives, made V8 grow the young generation to its largest (two
 * 16 MB semi-spaces, all of it resident), and start-up left 14 MB of dead large arrays (lists
 * copied and sorted, hash tables outgrown) that V8 collects only when the heap nears a limit it
 * never nears while the console idles. Neither comes back by itself until something happens.
 */

/**
 * Keeps the young generation at its starting size (two 1 MB semi-spaces) instead of doubling it
 * whenever much survives: in a console that mostly waits, a big young generation only saves
 * scavenges during start-up. Call before the store is read.
 */
export function keepYoungGenerationSmall(): void {
	setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * One full collection, when start-up is over: it frees what start-up left dead and lets V8
 * hand the pages back (Node has no other way to ask for it than the `gc` of --expose-gc).
 */
export function collectStartupGarbage(): void {
	setFlagsFromString('--expose-gc');
	const gc = runInNewContext('gc') as unknown;
	if (typeof gc === 'function') (gc as () => void)();
}
