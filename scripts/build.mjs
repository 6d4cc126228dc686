// Bundles the console and the command line: module loading, not rendering, dominates start-up
// (TUI.md: an Ink "hello" takes 437 ms from node_modules, 96 ms bundled). Code splitting keeps
// Ink, React and nodemailer out of the way of subcommands that do not use them: they are
// loaded with dynamic import() and land in their own chunks.
//
// The subcommands also ship as one CommonJS bundle, dist/orgctl-cli.cjs, which dist/orgctl.mjs
// compiles with the V8 code cache made here, beside it (source/app/code-cache.ts): a warm run of
// the built command writes it, bound to that very bundle file. The libraries only serve, SAML and
// mail use are bundled apart, in dist/orgctl-web.cjs, with a cache of their own (bundle-options.mjs).
import {build} from 'esbuild';
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {BUNDLE_OPTIONS, CLI_BUNDLE_OPTIONS, WEB_BUNDLE_OPTIONS} from './bundle-options.mjs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, {recursive: true, force: true});
await build({
	...BUNDLE_OPTIONS,
	entryPoints: {orgctl: new URL('../source/main.ts', import.meta.url).pathname},
	outdir,
});
await build({
	...CLI_BUNDLE_OPTIONS,
	entryPoints: {'orgctl-cli': new URL('../source/app/cli-entry.ts', import.meta.url).pathname},
	outdir,
});
await build({...WEB_BUNDLE_OPTIONS, outfile: outdir + 'orgctl-web.cjs'});
chmodSync(outdir + 'orgctl.mjs', 0o755);
writeCodeCache();

/**
 * Runs `orgctl users list --json` once on an empty store of its own (it creates the store, then
 * finds no one signed in), so that what a subcommand compiles (commander, the store's reading and
 * checking, the command's own code) is in the cache it writes on exit; it then loads each of the
 * web libraries and writes their bundle's cache too.
 */
function writeCodeCache() {
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-build-'));
	try {
		// None of the caller's ORGCTL_* settings (a token, a store): only this empty store, and the order to write the cache.
		const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORGCTL_')));
		Object.assign(env, {ORGCTL_WRITE_CODE_CACHE: '1', ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json'), HOME: dir});
		const run = spawnSync(process.execPath, [outdir + 'orgctl.mjs', 'users', 'list', '--json'], {env, encoding: 'utf8'});
		if (!existsSync(outdir + 'orgctl-cli.cjs.cache') || !existsSync(outdir + 'orgctl-web.cjs.cache')) throw new Error(`build: the code caches were not written: ${run.stderr}`);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}
