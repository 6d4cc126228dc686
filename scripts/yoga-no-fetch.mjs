// Yoga (Ink's layout engine) is emscripten output with its wasm inlined as a base64 data: URL. To get
// the bytes it calls fetch() on that URL whenever a global fetch exists, which in Node 20 loads
// undici (Node's fetch) first: about 100 ms of CPU before the console's first frame (node
// --cpu-prof of the console start). Its own fallback, used when there is no fetch, decodes the same
// base64 synchronously. This esbuild plugin makes the bundled copy take that fallback; it fails the
// build if Yoga changes, so the change is never silently lost.
import {readFile} from 'node:fs/promises';

const FETCHING = /(\nfunction \w+\(\)\{return \w+\|\|)"function"!=typeof fetch\?/;

/** Yoga's emscripten output with the fetch() path taken out (scripts/sync-top-level.mjs applies it too). */
export function withoutFetch(source, path) {
	if (!FETCHING.test(source)) throw new Error(`yoga-no-fetch: ${path} changed; check how Yoga loads its wasm now, and drop or update this plugin.`);
	return source.replace(FETCHING, '$1true?');
}

export const yogaNoFetch = {
	name: 'yoga-no-fetch',
	setup(build) {
		build.onLoad({filter: /[\\/]yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/}, async args => {
			return {contents: withoutFetch(await readFile(args.path, 'utf8'), args.path), loader: 'js'};
		});
	},
};
