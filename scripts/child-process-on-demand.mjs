// node:child_process is not needed to draw the console's first frame, yet two libraries the console
// loads at start require it at their top level: commander (for executable subcommands, which orgctl
// has none of; the console parses its options with it, source/cli/program.ts's consoleInvocation)
// and terminal-size (Ink's, for tput and resize fallbacks that run only where stdout has no size).
// Loading it is 1.0 to 1.2 ms in a fresh process that has already loaded fs, events, stream and
// crypto; the console's bundle evaluates 0.65 ms sooner without it (median of 60 alternating runs
// of compiling the bundle with its cache and running its top level). This esbuild plugin, for the
// console's CommonJS bundle, makes both require it when they first use it;
// source/adapters/clipboard.ts imports it when it copies. It fails the build if either library
// changes, so the change is never silently lost. The subcommands' bundle uses it too: no subcommand
// spawns a process, and `orgctl users list` loaded child_process, dgram and their helpers for nothing.
import {readFile} from 'node:fs/promises';

const COMMANDER_REQUIRE = "const childProcess = require('node:child_process');";
// Every other mention of it in commander: a call of spawn (the build checks there is no other use).
const COMMANDER_USE = /\bchildProcess\b(\.spawn\()?/g;
const TERMINAL_SIZE_IMPORT = "import {execFileSync} from 'node:child_process';";

export const childProcessOnDemand = {
	name: 'child-process-on-demand',
	setup(build) {
		build.onLoad({filter: /[\\/]commander[\\/]lib[\\/]command\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			const uses = [...source.replace(COMMANDER_REQUIRE, '').matchAll(COMMANDER_USE)];
			if (!source.includes(COMMANDER_REQUIRE) || uses.length === 0 || uses.some(use => use[1] === undefined)) {
				throw new Error(`child-process-on-demand: ${args.path} changed; check how commander uses node:child_process now, and drop or update this plugin.`);
			}
			const onDemand = "const childProcess = {spawn: (...args) => require('node:child_process').spawn(...args)};";
			return {contents: source.replace(COMMANDER_REQUIRE, onDemand), loader: 'js'};
		});
		build.onLoad({filter: /[\\/]terminal-size[\\/]index\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (!source.includes(TERMINAL_SIZE_IMPORT) || /child_process/.test(source.replace(TERMINAL_SIZE_IMPORT, ''))) {
				throw new Error(`child-process-on-demand: ${args.path} changed; check how terminal-size uses node:child_process now, and drop or update this plugin.`);
			}
			// The bundle is CommonJS: require is Node's (source/app/code-cache.ts passes it in).
			const onDemand = "const execFileSync = (...args) => require('node:child_process').execFileSync(...args);";
			return {contents: source.replace(TERMINAL_SIZE_IMPORT, onDemand), loader: 'js'};
		});
	},
};
