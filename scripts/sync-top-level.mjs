// The console runs from a CommonJS bundle (dist/orgctl-console.cjs) so that it starts from a V8 code
// cache (source/app/code-cache.ts; Node 20 caches no ES module). CommonJS cannot hold a top-level
// await, and two of the console's modules have one:
//
// - Yoga (Ink's layout engine) awaits its wasm: `wrapAssembly(await loadYoga())`. The bytes are
//   inlined (base64), and in Node `new WebAssembly.Module(bytes)` and `new WebAssembly.Instance`
//   are synchronous with no size limit, so yogaSync makes emscripten instantiate it that way, through
//   its own `instantiateWasm` hook, and the module then initialises before loadYoga returns: the
//   module object is ready without awaiting its promise.
// - Ink awaits its React devtools and its package.json only when DEV=true, which the bundle
//   defines away (bundle-options.mjs): inkNoDevtools removes the two dead awaits.
//
// Both plugins fail the build if the code they change no longer looks as it did, so a change there
// is never silently lost.
import {readFile} from 'node:fs/promises';
import {withoutFetch} from './yoga-no-fetch.mjs';

const YOGA_INDEX_AWAIT = 'const Yoga = wrapAssembly(await loadYoga());';
const YOGA_SYNC_INDEX = [
	'const yogaModule = {instantiateWasm: instantiateYogaSynchronously};',
	'loadYoga(yogaModule);',
	"if (yogaModule.calledRun !== true) throw new Error('Yoga did not initialise synchronously.');",
	'const Yoga = wrapAssembly(yogaModule);',
].join('\n');
// emscripten's hook: `instantiateWasm(imports, receiveInstance)`, which returns the exports.
const YOGA_HOOK_CALL = /if\(h\.instantiateWasm\)try\{return h\.instantiateWasm\(d,\s*a\)\}/;
// The inlined bytes: a data URL, kept by name in the emscripten output (its own decoder, wa(), reads H).
const YOGA_DATA_URL_PREFIX = 'data:application/octet-stream;base64,';
const YOGA_DATA_URL = `;H="${YOGA_DATA_URL_PREFIX}`;

export const yogaSync = {
	name: 'yoga-sync',
	setup(build) {
		build.onLoad({filter: /[\\/]yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (!source.includes(YOGA_INDEX_AWAIT)) throw new Error(`yoga-sync: ${args.path} changed; check how Yoga loads now, and drop or update this plugin.`);
			return {contents: source.replace(YOGA_INDEX_AWAIT, YOGA_SYNC_INDEX).replace("import loadYoga from '../binaries/yoga-wasm-base64-esm.js';", "import loadYoga, {instantiateYogaSynchronously} from '../binaries/yoga-wasm-base64-esm.js';"), loader: 'js'};
		});
		build.onLoad({filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/}, async args => {
			let source = withoutFetch(await readFile(args.path, 'utf8'), args.path);
			for (const [what, found] of [['the instantiateWasm hook', YOGA_HOOK_CALL.test(source)], ['the inlined wasm', source.includes(YOGA_DATA_URL)], ['the default export', /\nexport default loadYoga;?\s*$/.test(source)]]) {
				if (!found) throw new Error(`yoga-sync: ${args.path} changed (${what} not found); check how Yoga loads its wasm now, and drop or update this plugin.`);
			}
			// The hook is called inside the module's closure, where the data URL is: pass it there.
			source = source.replace(YOGA_HOOK_CALL, 'if(h.instantiateWasm)try{return h.instantiateWasm(d,a,H)}');
			// Decoded by Buffer, not by emscripten's wa() (atob, then a charCodeAt loop over the 96 KB
			// of base64): 0.1 ms instead of 2 ms of every console start (node, 72 KB of wasm).
			source += [
				'',
				'/** emscripten instantiateWasm hook: the inlined wasm compiled and instantiated synchronously (Node has no size limit on these). */',
				'export function instantiateYogaSynchronously(imports, receiveInstance, dataUrl) {',
				`  if (!dataUrl.startsWith(${JSON.stringify(YOGA_DATA_URL_PREFIX)})) throw new Error('Yoga\\'s wasm is not inlined as base64.');`,
				`  const bytes = Buffer.from(dataUrl.slice(${YOGA_DATA_URL_PREFIX.length}), 'base64');`,
				'  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);',
				'  receiveInstance(instance);',
				'  return instance.exports;',
				'}',
				'',
			].join('\n');
			return {contents: source, loader: 'js'};
		});
	},
};

const INK_DEVTOOLS = "await import('./devtools.js');";
const INK_PACKAGE_JSON = /\? await loadPackageJson\(\)/;

export const inkNoDevtools = {
	name: 'ink-no-devtools',
	setup(build) {
		build.onLoad({filter: /[\\/]ink[\\/]build[\\/]reconciler\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (!source.includes(INK_DEVTOOLS) || !INK_PACKAGE_JSON.test(source)) {
				throw new Error(`ink-no-devtools: ${args.path} changed; check how Ink loads its devtools now, and drop or update this plugin.`);
			}
			const contents = source
				.replace(INK_DEVTOOLS, "throw new Error('orgctl is built without React devtools (DEV=true).');")
				.replace(INK_PACKAGE_JSON, '? {name: undefined, version: undefined}');
			return {contents, loader: 'js'};
		});
	},
};

// code-cache.ts decodes the CommonJS bundles as latin1, which keeps their source a one-byte string;
// a single non-ASCII byte makes it a two-byte string instead, twice the size (11 MB of the
// console's heap at rest, by a heap snapshot). esbuild escapes non-ASCII characters everywhere but
// in regular expression literals, and powershell-utils (clipboardy's) has one with the typographic
// quotes PowerShell also takes as string delimiters: asciiRegex writes them as \u escapes, which
// match the same characters. The build checks that the bundles are ASCII (scripts/build.mjs).
const POWERSHELL_QUOTES = "/['\u2018\u2019\u201A\u201B]/g";

export const asciiRegex = {
	name: 'ascii-regex',
	setup(build) {
		build.onLoad({filter: /[\\/]powershell-utils[\\/]index\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (!source.includes(POWERSHELL_QUOTES)) throw new Error(`ascii-regex: ${args.path} changed; check its regular expressions for non-ASCII characters, and drop or update this plugin.`);
			return {contents: source.replace(POWERSHELL_QUOTES, "/['\\u2018\\u2019\\u201A\\u201B]/g"), loader: 'js'};
		});
	},
};

// The console's bundle holds only what a console can run. `orgctl serve` (the web side: Fastify,
// React's server renderer, about 1.4 MB of the bundle) is a subcommand, which never runs from it:
// source/main.ts sends to the console's bundle only an argv of console options. Those two imports
// resolve there to a module that says so, should that ever change.
const WEB_SIDE = /^\.\.\/\.\.\/web\/(serve|listener)\.js$/;

export const consoleWithoutWebSide = {
	name: 'console-without-web-side',
	setup(build) {
		build.onResolve({filter: WEB_SIDE}, args => (/[\\/]source[\\/]cli[\\/]commands[\\/]serve\.ts$/.test(args.importer) ? {path: args.path, namespace: 'console-without-web-side'} : undefined));
		build.onLoad({filter: /.*/, namespace: 'console-without-web-side'}, () => ({
			contents: "throw new Error('orgctl serve does not run from the console\\'s bundle (dist/orgctl-console.cjs); run it as orgctl serve.');",
			loader: 'js',
		}));
	},
};
