// Bundles the console and the command line: module loading, not rendering, dominates start-up
// (TUI.md: an Ink "hello" takes 437 ms from node_modules, 96 ms bundled). Code splitting keeps
// Ink, React and nodemailer out of the way of subcommands that do not use them: they are
// loaded with dynamic import() and land in their own chunks.
import {build} from 'esbuild';
import {chmodSync, rmSync} from 'node:fs';
import {BUNDLE_OPTIONS} from './bundle-options.mjs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, {recursive: true, force: true});
await build({
	...BUNDLE_OPTIONS,
	entryPoints: {orgctl: new URL('../source/main.ts', import.meta.url).pathname},
	outdir,
});
chmodSync(outdir + 'orgctl.mjs', 0o755);
