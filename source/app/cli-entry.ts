// The entry of dist/orgctl-cli.cjs, the subcommands' CommonJS bundle that source/app/code-cache.ts
// runs with a V8 code cache. The console is not in it: it runs from the ES module bundle.
import {consoleInvocation} from '../cli/program.js';
import {main} from './main.js';

/** Runs the subcommand `argv` names and returns its exit code; undefined when `argv` opens the console. */
export async function run(argv: readonly string[]): Promise<number | undefined> {
	if (consoleInvocation(argv)) return undefined;
	return main(argv);
}
