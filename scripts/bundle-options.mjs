// How orgctl is bundled (scripts/build.mjs), shared with the benchmarks so that their floors (an Ink
// "hello", bench/ink-hello.tsx) and their measuring children are bundled exactly as dist/ is.
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {inkBoundedCaches} from './ink-bounded-caches.mjs';
import {inkFrameCaches} from './ink-frame-caches.mjs';
import {inkFramePacing} from './ink-frame-pacing.mjs';
import {inkIncrementalFix} from './ink-incremental-fix.mjs';
import {yogaNoFetch} from './yoga-no-fetch.mjs';
import {zodEnglishOnly} from './zod-english-only.mjs';

const root = new URL('..', import.meta.url).pathname;

/**
 * The validation rules of this build: a hash of the code that decides what a valid store is (the
 * model, the invariants, the store's reading and checking, all of source/core and source/store) and
 * of the zod it runs on. A store file's validated digest (source/store/validated.ts) is bound to
 * it, so a build with other rules checks the file again.
 */
function validatorId() {
	const hash = createHash('sha256');
	for (const folder of ['source/core', 'source/store']) {
		const files = readdirSync(join(root, folder), {recursive: true, withFileTypes: true})
			.filter(entry => entry.isFile())
			.map(entry => join(entry.parentPath, entry.name))
			.sort();
		for (const file of files) hash.update(`${file.slice(root.length)}\0`).update(readFileSync(file)).update('\0');
	}
	hash.update(readFileSync(join(root, 'node_modules', 'zod', 'package.json')));
	return hash.digest('hex');
}

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
	define: {'process.env.NODE_ENV': '"production"', 'process.env.DEV': 'undefined', __ORGCTL_VALIDATOR_ID__: JSON.stringify(validatorId())},
	// Native or optional modules stay outside the bundle (fs-native-extensions finds its prebuilt addon beside itself).
	external: ['react-devtools-core', 'node-linux-pam', 'fs-native-extensions'],
	banner: {
		js: "import {createRequire as __orgctlCreateRequire} from 'node:module';const require = __orgctlCreateRequire(import.meta.url);",
	},
	plugins: [inkIncrementalFix, inkFrameCaches, inkBoundedCaches, inkFramePacing, yogaNoFetch, zodEnglishOnly],
	logLevel: 'warning',
};

/**
 * esbuild options of dist/orgctl-cli.cjs, the subcommands as one CommonJS file that
 * source/app/code-cache.ts compiles with a V8 code cache (Node 20 caches no ES module). The console
 * is left out (it runs from the ES module bundle); import.meta.url becomes the file's URL, which
 * code-cache.ts passes in as __orgctlUrl.
 */
export const CLI_BUNDLE_OPTIONS = {
	...Object.fromEntries(Object.entries(BUNDLE_OPTIONS).filter(([key]) => !['outExtension', 'chunkNames', 'splitting', 'banner'].includes(key))),
	format: 'cjs',
	outExtension: {'.js': '.cjs'},
	define: {...BUNDLE_OPTIONS.define, 'import.meta.url': '__orgctlUrl'},
	external: [...BUNDLE_OPTIONS.external, './console.js'],
};
