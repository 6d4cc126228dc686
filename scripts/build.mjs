// Bundles the console and the command line: module loading, not rendering, dominates start-up
// (TUI.md: an Ink "hello" takes 437 ms from node_modules, 96 ms bundled). Code splitting keeps
// Ink, React and nodemailer out of the way of subcommands that do not use them: they are
// loaded with dynamic import() and land in their own chunks.
import {build} from 'esbuild';
import {chmodSync, rmSync} from 'node:fs';
import {inkIncrementalFix} from './ink-incremental-fix.mjs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, {recursive: true, force: true});
await build({
	entryPoints: {orgctl: new URL('../source/main.ts', import.meta.url).pathname},
	outdir,
	outExtension: {'.js': '.mjs'},
	chunkNames: 'chunks/[name]-[hash]',
	bundle: true,
	splitting: true,
	platform: 'node',
	target: 'node20',
	format: 'esm',
	jsx: 'automatic',
	sourcemap: 'linked',
	legalComments: 'none',
	minifyWhitespace: true,
	minifySyntax: true,
	define: {'process.env.NODE_ENV': '"production"', 'process.env.DEV': 'undefined'},
	// Native or optional modules stay outside the bundle (fs-native-extensions finds its prebuilt addon beside itself).
	external: ['react-devtools-core', 'node-linux-pam', 'fs-native-extensions'],
	banner: {
		js: "import {createRequire as __orgctlCreateRequire} from 'node:module';const require = __orgctlCreateRequire(import.meta.url);",
	},
	plugins: [inkIncrementalFix],
	logLevel: 'warning',
});
chmodSync(outdir + 'orgctl.mjs', 0o755);
