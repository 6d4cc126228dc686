// The entry of dist/orgctl-console.cjs, the console's CommonJS bundle that source/app/code-cache.ts
// runs with a V8 code cache (Node 20 caches no ES module). Ink and Yoga's top-level awaits are made
// synchronous for it by the build (scripts/sync-top-level.mjs).
import {main} from './main.js';

/** Opens the console (or, if `argv` turns out to name a subcommand after all, runs that); returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
	return main(argv);
}
