// How orgctl is bundled (scripts/build.mjs), shared with the benchmarks so that their floors (an Ink
// "hello", bench/ink-hello.tsx) and their measuring children are bundled exactly as dist/ is.
import {inkIncrementalFix} from './ink-incremental-fix.mjs';

/** esbuild options of dist/ apart from entry points and output folder. */
export const BUNDLE_OPTIONS = {
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
};
