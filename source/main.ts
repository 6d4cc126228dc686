#!/usr/bin/env node
// orgctl's executable. A subcommand runs from the CommonJS bundle beside this file with its V8
// code cache (source/app/code-cache.ts); the console, or anything run from source, through
// source/app/main.ts, loaded only then.
import {mayOpenConsole, runCachedCli} from './app/code-cache.js';

const argv = process.argv.slice(2);
const code = mayOpenConsole(argv) ? undefined : await runCachedCli(new URL('orgctl-cli.cjs', import.meta.url), argv);
process.exitCode = code ?? (await (await import('./app/main.js')).main(argv));
