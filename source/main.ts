#!/usr/bin/env node
// orgctl as an ES module (dist/orgctl.mjs); the package's executable is dist/orgctl.cjs
// (source/bin.ts), the same program without Node's ES module loader. A subcommand runs from the
// CommonJS bundle beside this file, the console from its own (source/app/code-cache.ts), each with
// its V8 code cache; anything run from source goes through source/app/main.ts, loaded only then.
import {mayOpenConsole, runCachedCli} from './app/code-cache.js';

const argv = process.argv.slice(2);
const code = await runCachedCli(new URL(mayOpenConsole(argv) ? 'orgctl-console.cjs' : 'orgctl-cli.cjs', import.meta.url), argv);
process.exitCode = code ?? (await (await import('./app/main.js')).main(argv));
