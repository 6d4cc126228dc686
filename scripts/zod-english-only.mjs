// zod's classic API re-exports every one of its locales (`z.locales`: 60 languages, about 300 KB of
// the bundle) while configuring only English. orgctl never reads `z.locales`, yet every command
// parsed and compiled them before its first line of work. This esbuild plugin makes the bundled
// locales index export English alone; it fails the build if zod's index no longer looks as it did,
// so a change there is never silently lost.
import {readFile} from 'node:fs/promises';

const EXPORTS_EN = /export \{ default as en \} from "\.\/en\.js";/;

export const zodEnglishOnly = {
	name: 'zod-english-only',
	setup(build) {
		build.onLoad({filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (!EXPORTS_EN.test(source)) throw new Error(`zod-english-only: ${args.path} changed; check how zod exports its locales now, and drop or update this plugin.`);
			return {contents: 'export { default as en } from "./en.js";\n', loader: 'js', resolveDir: args.path.replace(/[\\/][^\\/]+$/, '')};
		});
	},
};
