#!/usr/bin/env node
import {runCli} from './cli/program.js';

// With no arguments orgctl opens the console; anything else is a subcommand for scripts.
process.exitCode = await runCli(process.argv.slice(2));
