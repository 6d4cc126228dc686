// orgctl's executable, built as dist/orgctl.cjs (the package's bin): a CommonJS file, which Node runs
// without starting its ES module loader. Running dist/orgctl.mjs, the same program as an ES module,
// cost the console's start 12 to 34 ms more of the 300 ms it took at load 8 to 11 here (alternating
// runs under a real-time priority; the loader's own modules and the module graph of one file).
// Like source/main.ts, it runs a subcommand from the CommonJS bundle beside it and the console from
// its own (source/app/code-cache.ts), each with its V8 code cache; when that bundle cannot be read,
// it runs dist/orgctl.mjs, which then goes through source/app/main.ts.
import {mayOpenConsole, runCachedCli} from './app/code-cache.js';

const argv = process.argv.slice(2);
const here = new URL(import.meta.url);
void runCachedCli(new URL(mayOpenConsole(argv) ? 'orgctl-console.cjs' : 'orgctl-cli.cjs', here), argv).then(async code => {
	if (code === undefined) {
		// The ES module build beside this file runs the whole program as it loads: it reads the same argv.
		const esm = new URL('orgctl.mjs', here).href;
		await import(esm);
		return;
	}
	process.exitCode = code;
});
