// How orgctl is bundled (scripts/build.mjs), shared with the benchmarks so that their floors (an Ink
// "hello", bench/ink-hello.tsx) and their measuring children are bundled exactly as dist/ is.
import {createHash} from 'node:crypto';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {inkBoundedCaches} from './ink-bounded-caches.mjs';
import {inkFirstFrame} from './ink-first-frame.mjs';
import {inkFrameCaches} from './ink-frame-caches.mjs';
import {inkFramePacing} from './ink-frame-pacing.mjs';
import {inkIncrementalFix} from './ink-incremental-fix.mjs';
import {assertOnDemand} from './assert-on-demand.mjs';
import {childProcessOnDemand} from './child-process-on-demand.mjs';
import {asciiRegex, consoleWithoutWebSide, inkNoDevtools, yogaSync} from './sync-top-level.mjs';
import {stringWidthOnce} from './string-width-once.mjs';
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
	plugins: [inkIncrementalFix, inkFrameCaches, inkFirstFrame, inkBoundedCaches, inkFramePacing, stringWidthOnce, yogaNoFetch, zodEnglishOnly],
	logLevel: 'warning',
};

/**
 * dist/orgctl.cjs, the executable (source/bin.ts): a CommonJS file Node loads itself, so no ES
 * module loader starts; import.meta.url is its own file's URL.
 */
export const BIN_OPTIONS = {
	bundle: true,
	platform: 'node',
	target: 'node20',
	format: 'cjs',
	sourcemap: 'linked',
	legalComments: 'none',
	minifyWhitespace: true,
	minifySyntax: true,
	define: {'import.meta.url': '__orgctlBinUrl'},
	banner: {js: "#!/usr/bin/env node\nconst __orgctlBinUrl = require('node:url').pathToFileURL(__filename).href;"},
	logLevel: 'warning',
};

/**
 * What dist/'s three CommonJS bundles share (orgctl-cli.cjs, orgctl-console.cjs, orgctl-web.cjs),
 * each compiled by source/app/code-cache.ts with its own V8 code cache (Node 20 caches no ES
 * module): import.meta.url becomes the file's URL, which code-cache.ts passes in as __orgctlUrl.
 */
const CJS_OPTIONS = {
	...Object.fromEntries(Object.entries(BUNDLE_OPTIONS).filter(([key]) => !['outExtension', 'chunkNames', 'splitting', 'banner'].includes(key))),
	format: 'cjs',
	outExtension: {'.js': '.cjs'},
	define: {...BUNDLE_OPTIONS.define, 'import.meta.url': '__orgctlUrl'},
	// The file is the function Node's CommonJS loader would wrap it in, so code-cache.ts compiles it
	// as read: wrapping it there made a second copy of the whole source (+10 MB of large objects in
	// the console at rest, by v8.getHeapSpaceStatistics). __orgctlWeb: see webPackagesApart.
	banner: {js: '(function (exports, require, module, __filename, __dirname, __orgctlUrl, __orgctlWeb) {'},
	footer: {js: '\n})'},
};

/**
 * The libraries only `orgctl serve`, SAML and mail use (about half of the subcommands' code). They
 * are left out of dist/orgctl-cli.cjs and bundled apart in dist/orgctl-web.cjs, which
 * source/app/code-cache.ts compiles, with its own code cache, the first time one of them is
 * required: every other subcommand neither reads nor compiles them.
 */
export const WEB_PACKAGES = ['fastify', '@fastify/cookie', '@fastify/csrf-protection', '@fastify/formbody', '@fastify/helmet', 'react', 'react/jsx-runtime', 'react-dom/server', '@node-saml/node-saml', '@xmldom/xmldom', 'xml-crypto', 'nodemailer', 'node-forge'];

/** In a bundle of the CommonJS ones, each of `packages` (some of WEB_PACKAGES) is a module that asks code-cache.ts for it (__orgctlWeb). */
const webPackagesApart = packages => ({
	name: 'web-packages-apart',
	setup(build) {
		const names = new Set(packages);
		build.onResolve({filter: /^[@a-z]/}, args => (names.has(args.path) ? {path: args.path, namespace: 'orgctl-web'} : undefined));
		// A web bundle that cannot be read is the command's one-sentence error (an OrgError of this bundle's own source/core/errors.ts).
		const errors = JSON.stringify(join(root, 'source', 'core', 'errors.ts'));
		build.onLoad({filter: /.*/, namespace: 'orgctl-web'}, args => ({
			contents: `try { module.exports = __orgctlWeb(${JSON.stringify(args.path)}); } catch (error) { const {OrgError} = require(${errors}); throw new OrgError('unavailable', error.message); }`,
			loader: 'js',
			resolveDir: root,
		}));
	},
});

/**
 * esbuild options of dist/orgctl-cli.cjs, the subcommands as one CommonJS file that
 * source/app/code-cache.ts compiles with a V8 code cache (Node 20 caches no ES module). The console
 * is left out (it has its own bundle); import.meta.url becomes the file's URL, which
 * code-cache.ts passes in as __orgctlUrl.
 */
export const CLI_BUNDLE_OPTIONS = {
	...CJS_OPTIONS,
	external: [...BUNDLE_OPTIONS.external, './console.js'],
	plugins: [...BUNDLE_OPTIONS.plugins, webPackagesApart(WEB_PACKAGES), childProcessOnDemand],
};

/** esbuild options of dist/orgctl-web.cjs (written to `outfile`): WEB_PACKAGES, each required only when asked for. */
export const WEB_BUNDLE_OPTIONS = {
	...CJS_OPTIONS,
	stdin: {
		contents: `module.exports = {${WEB_PACKAGES.map(name => `${JSON.stringify(name)}: () => require(${JSON.stringify(name)})`).join(', ')}};`,
		resolveDir: root,
		sourcefile: 'orgctl-web.js',
		loader: 'js',
	},
};

/**
 * The web libraries the console can use (mail, SSO's key pair and metadata), each imported only
 * when a screen does that (source/app/context.ts, source/core/saml-metadata.ts): the console takes
 * them from dist/orgctl-web.cjs as the subcommands do. They were 1.7 MB of the console's 3.8 MB
 * bundle, read and deserialised at every start though none runs there: without them the console's
 * bundle is 2.1 MB, and its start, spawn to Ink imported, about 5 ms shorter (135.5 -> 130.8 ms at
 * 10,000 users, the commit says how measured).
 * React stays (Ink renders with it); React's server renderer and Fastify are not in the console at
 * all (consoleWithoutWebSide).
 */
const CONSOLE_WEB_PACKAGES = WEB_PACKAGES.filter(name => name !== 'react' && name !== 'react/jsx-runtime');

/**
 * esbuild options of dist/orgctl-console.cjs, the console as one CommonJS file that
 * source/app/code-cache.ts compiles with its own V8 code cache. CommonJS holds no top-level await,
 * so Yoga's wasm is instantiated synchronously and Ink's DEV-only awaits are removed
 * (scripts/sync-top-level.mjs), `orgctl serve`'s web side is left out (a subcommand, never run
 * from it), and the web libraries come from dist/orgctl-web.cjs (CONSOLE_WEB_PACKAGES); the rest
 * is bundled as dist/orgctl-cli.cjs is.
 */
export const CONSOLE_BUNDLE_OPTIONS = {
	...CJS_OPTIONS,
	external: BUNDLE_OPTIONS.external,
	// The ES module bundle's plugins (Ink's frame caches and pacing among them), Yoga's synchronous load in yogaNoFetch's place.
	plugins: [...BUNDLE_OPTIONS.plugins.filter(plugin => plugin !== yogaNoFetch), yogaSync, inkNoDevtools, asciiRegex, consoleWithoutWebSide, webPackagesApart(CONSOLE_WEB_PACKAGES), childProcessOnDemand, assertOnDemand],
};
