// Bundles the console and the command line: module loading, not rendering, dominates start-up
// (TUI.md: an Ink "hello" takes 437 ms from node_modules, 96 ms bundled). Code splitting keeps
// Ink, React and nodemailer out of the way of subcommands that do not use them: they are
// loaded with dynamic import() and land in their own chunks.
//
// The subcommands also ship as one CommonJS bundle, dist/orgctl-cli.cjs, and the console as another,
// dist/orgctl-console.cjs, which dist/orgctl.mjs compiles with the V8 code cache made here, beside
// each (source/app/code-cache.ts): a warm run of the built command writes it, bound to that very
// bundle file. The libraries only serve, SAML and mail use are bundled apart, in dist/orgctl-web.cjs,
// with a cache of their own (bundle-options.mjs). The ES module bundle stays for running without them.
import {build} from 'esbuild';
import {spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {clearTimeout, setTimeout} from 'node:timers';
import {isAscii} from 'node:buffer';
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {BIN_OPTIONS, BUNDLE_OPTIONS, CLI_BUNDLE_OPTIONS, CONSOLE_BUNDLE_OPTIONS, WEB_BUNDLE_OPTIONS} from './bundle-options.mjs';

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
await build({
	...CONSOLE_BUNDLE_OPTIONS,
	entryPoints: {'orgctl-console': new URL('../source/app/console-entry.ts', import.meta.url).pathname},
	outdir,
});
await build({...WEB_BUNDLE_OPTIONS, outfile: outdir + 'orgctl-web.cjs'});
await build({...BIN_OPTIONS, entryPoints: [new URL('../source/bin.ts', import.meta.url).pathname], outfile: outdir + 'orgctl.cjs'});
// code-cache.ts decodes them as latin1, a one-byte string; one non-ASCII byte would make it a two-byte string, twice the size, for as long as the process runs.
for (const bundle of ['orgctl-cli.cjs', 'orgctl-console.cjs']) {
	if (!isAscii(readFileSync(outdir + bundle))) throw new Error(`build: dist/${bundle} is not ASCII (esbuild leaves regular expression literals as they are; see scripts/sync-top-level.mjs's asciiRegex).`);
}
chmodSync(outdir + 'orgctl.mjs', 0o755);
chmodSync(outdir + 'orgctl.cjs', 0o755);
writeCodeCache();
await writeConsoleCodeCache();

/**
 * Runs `orgctl users list --json` once on an empty store of its own (it creates the store, then
 * finds no one signed in), so that what a subcommand compiles (commander, the store's reading and
 * checking, the command's own code) is in the cache it writes on exit.
 */
function writeCodeCache() {
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-build-'));
	try {
		const env = {...ownEnv(dir), ORGCTL_WRITE_CODE_CACHE: '1'};
		const run = spawnSync(process.execPath, [outdir + 'orgctl.cjs', 'users', 'list', '--json'], {env, encoding: 'utf8'});
		if (!existsSync(outdir + 'orgctl-cli.cjs.cache') || !existsSync(outdir + 'orgctl-web.cjs.cache')) throw new Error(`build: the code caches were not written: ${run.stderr}`);
		// V8 refuses a cache silently (and the command compiles from source): check that a fresh run takes it.
		const check = spawnSync(process.execPath, [outdir + 'orgctl.cjs', 'users', 'list', '--json'], {env: {...ownEnv(dir), ORGCTL_CODE_CACHE_REPORT: '1'}, encoding: 'utf8'});
		if (!check.stderr.includes('orgctl: code cache used')) throw new Error(`build: the subcommands' code cache is not taken: ${check.stderr}`);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

/** None of the caller's ORGCTL_* settings (a token, a store): only a store of its own in `dir`. */
function ownEnv(dir) {
	const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORGCTL_')));
	return Object.assign(env, {ORGCTL_STORE: join(dir, 'orgctl.json'), ORGCTL_SESSION_FILE: join(dir, 'session.json'), HOME: dir});
}

/**
 * Opens the built console in a pseudo-terminal (node-pty) on a store of its own with one signed-in
 * admin, waits until the Users section is drawn and taking keys, and quits with q: what the
 * console compiled on the way, the same code every start runs, is in the cache it writes on exit.
 * Without node-pty (a build without devDependencies) there is no console cache, and the console
 * compiles from source.
 */
async function writeConsoleCodeCache() {
	let pty;
	try {
		pty = (await import('node-pty')).default;
	} catch {
		process.stderr.write('build: node-pty is not installed, so the console has no code cache (it compiles from source).\n');
		return;
	}
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-build-'));
	try {
		const env = ownEnv(dir);
		const password = randomBytes(18).toString('base64url');
		for (const args of [['init', '--username', 'warmup', '--email', 'warmup@example.invalid'], ['login', '--username', 'warmup']]) {
			const step = spawnSync(process.execPath, [outdir + 'orgctl.cjs', ...args, '--password-stdin'], {env, input: `${password}\n`, encoding: 'utf8'});
			if (step.status !== 0) throw new Error(`build: orgctl ${args[0]} for the console's code cache failed: ${step.stderr}`);
		}
		const warm = await openAndQuit(pty, dir, {...env, ORGCTL_WRITE_CODE_CACHE: '1'});
		if (!warm.ready || !existsSync(outdir + 'orgctl-console.cjs.cache')) throw new Error(`build: the console's code cache was not written: ${warm.output.slice(-2000)}`);
		// V8 refuses a cache silently (and the console compiles from source): check that a fresh console takes it.
		const check = await openAndQuit(pty, dir, {...env, ORGCTL_CODE_CACHE_REPORT: '1'});
		if (!check.output.includes('orgctl: code cache used')) throw new Error(`build: the console's code cache is not taken: ${check.output.slice(0, 2000)}`);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

/** The built console in a pseudo-terminal, quit with q as soon as the Users section is ready for keys. */
async function openAndQuit(pty, dir, env) {
	const term = pty.spawn(process.execPath, [outdir + 'orgctl.cjs'], {
		name: 'xterm-256color',
		cols: 120,
		rows: 40,
		cwd: dir,
		env: {...env, TERM: 'xterm-256color', ORGCTL_READY_MARKER: '1'},
	});
	let output = '';
	let ready = false;
	const exited = new Promise(resolve => term.onExit(resolve));
	term.onData(data => {
		output += data;
		if (!ready && output.includes('\u001b]2;orgctl:ready:main:users\u0007')) {
			ready = true;
			term.write('q');
		}
	});
	const timer = setTimeout(() => term.kill(), 60_000);
	await exited;
	clearTimeout(timer);
	return {ready, output};
}
