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
 * scavenges during start-up. And lets V8's memory reducer (the collections V8 schedules by itself
 * once a process has gone quiet) run one collection, not up to three: after
 * {@link collectStartupGarbage} the heap holds little but what the console uses, and the two
 * more full collections the reducer went on to run 8 to 30 s later cost 19 and 103 ms of the main
 * thread (plus helper threads), 0.62 % of the 30 s idle window, to give back 10 MB more (116 MB
 * resident at rest with them, 127 MB without; 130 MB after 20 external changes either way,
 * measured at 100,000 users). The one it still runs, about 29 s after start-up, marks the heap
 * once: 13 to 16 ms of the main thread, about 0.3 % of a 30 s window it falls in (0.02 % in the
 * runs where it fell outside).
 *
 * (The old generation's growth is set once start-up is over: see {@link collectStartupGarbage}.)
 *
 * Call before the store is read.
 */
export function keepYoungGenerationSmall(): void {
	setFlagsFromString('--semi-space-growth-factor=1');
	setFlagsFromString('--memory-reducer-single-gc');
	// The build's warm run writes the console's code cache on exit (source/app/code-cache.ts), and V8
	// stamps a cache with the flags in force then: one made under these flags is refused by every
	// console, which compiles before setting them. So that run puts the defaults back first.
	if (process.env['ORGCTL_WRITE_CODE_CACHE'] === '1') process.prependListener('exit', restoreDefaultFlags);
}

/** V8's defaults of the flags this file sets. */
function restoreDefaultFlags(): void {
	setFlagsFromString('--semi-space-growth-factor=2');
	setFlagsFromString('--no-memory-reducer-single-gc');
	setFlagsFromString('--heap-growing-percent=0');
	setFlagsFromString('--no-expose-gc');
}

/**
 * One full collection, when start-up is over: it frees what start-up left dead and lets V8
 * hand the pages back (Node has no other way to ask for it than the `gc` of --expose-gc).
 *
 * Still needed once the console holds less (no search texts, no copies of lists): a first open
 * of a store this build has not vouched for checks every record and every rule across records,
 * and that check's indexes (about 28 MB of sets and maps at 100,000 users, by a sampling heap
 * profile) and the first sort of the users (about 10 MB) are garbage V8 has no reason to collect
 * while the console waits. Without this collection the console sat at 163 to 166 MB resident in
 * 3 of 4 runs at 100,000 users (over the 150 MB budget), and at 127 MB in the one run where V8's
 * memory reducer happened to collect inside the idle window, at 1 % CPU of it; with it, 116 to
 * 127 MB. It costs about 70 ms of one core, once, before the console is left alone.
 *
 * From then on the old generation grows by 20 % over what survived the last full collection, not by
 * a factor V8 picks from how fast the main thread allocates: at 100,000 users each commit allocates
 * tens of MB that die with it, and once the copy of the file moved off the main thread
 * (store/copier.ts) V8 judged the thread busier and let the heap grow to 272 MB between full
 * collections, for 95 MB live (bench/store-commit-child.ts's 120 commits: peak 343 MB resident,
 * 245 MB with 20 %, 270 with 50 %, 302 with 100 %; commit medians 62-68 ms with any of them).
 * Not during start-up: set before the store was read, it made V8 run a second full collection
 * before the first frame at 10,000 users (the heap 18 MB; --trace-gc), where the one V8 runs
 * anyway had left 9.6 MB live and 20 % over that was soon reached. Console start, 15 alternating
 * runs each under a real-time priority at load 13: 309 -> 298 and 329 -> 310 ms median wall (both
 * orders); resident at rest at 100,000 users 126 -> 128 MB (bench console-live).
 */
export function collectStartupGarbage(): void {
	setFlagsFromString('--heap-growing-percent=20');
	setFlagsFromString('--expose-gc');
	const gc = runInNewContext('gc') as unknown;
	if (typeof gc === 'function') (gc as () => void)();
}
