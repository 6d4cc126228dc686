import {mkdirSync, rmSync} from 'node:fs';
import {basename, join} from 'node:path';
import {build} from 'esbuild';

const ROOT = join(import.meta.dirname, '..', '..');
const built = new Map<string, Promise<string>>();

/**
 * A test fixture bundled into one file, so a test can start hundreds of real processes: each
 * starts in about 0.1 s, against 0.5 s or more through the tsx loader. Written under
 * node_modules/.cache so the native modules left outside the bundle resolve from there.
 */
export function bundledFixture(name: string): Promise<string> {
	let done = built.get(name);
	if (!done) {
		const dir = join(ROOT, 'node_modules', '.cache', 'orgctl-test');
		mkdirSync(dir, {recursive: true});
		const outfile = join(dir, `${basename(name, '.ts')}-${process.pid}.mjs`);
		done = build({
			entryPoints: [join(ROOT, 'test', 'fixtures', name)],
			outfile,
			bundle: true,
			platform: 'node',
			target: 'node20',
			format: 'esm',
			external: ['fs-native-extensions', 'node-linux-pam', 'react-devtools-core'],
			banner: {js: "import {createRequire as __fixtureRequire} from 'node:module';const require = __fixtureRequire(import.meta.url);"},
			logLevel: 'warning',
		}).then(() => outfile);
		built.set(name, done);
	}
	return done;
}

/** A fixture of test/fixtures bundled exactly as dist/ is, once with the build's plugins and once without `plugin`. */
export type WithAndWithout = {readonly patched: string; readonly plain: string; readonly remove: () => void};

/**
 * test/fixtures/`fixture` bundled with scripts/bundle-options.mjs's options twice: with every plugin
 * of the build (`patched`) and with all but the one named `plugin` (`plain`), so a test can show the
 * plugin changes nothing a user sees. `remove` deletes both.
 */
export async function withAndWithout(fixture: string, plugin: string): Promise<WithAndWithout> {
	const {BUNDLE_OPTIONS} = await import('../../scripts/bundle-options.mjs');
	const plugins = BUNDLE_OPTIONS.plugins ?? [];
	if (!plugins.some(each => each.name === plugin)) throw new Error(`withAndWithout: the build has no plugin ${plugin}.`);
	const out = join(ROOT, 'node_modules', '.cache', 'orgctl-test', `${plugin}-${process.pid}`);
	const name = basename(fixture).replace(/\.tsx?$/, '');
	const bundled = async (kind: string, used: typeof plugins): Promise<string> => {
		const outdir = join(out, kind);
		mkdirSync(outdir, {recursive: true});
		await build({...BUNDLE_OPTIONS, plugins: [...used], entryPoints: {[name]: join(ROOT, 'test', 'fixtures', fixture)}, outdir});
		return join(outdir, `${name}.mjs`);
	};
	return {
		patched: await bundled('patched', plugins),
		plain: await bundled('plain', plugins.filter(each => each.name !== plugin)),
		remove: () => rmSync(out, {recursive: true, force: true}),
	};
}
