// Start-up (issue 18): Node 20 has no compile cache for ES modules, so the subcommands and the
// console also ship as CommonJS bundles (dist/orgctl-cli.cjs, dist/orgctl-console.cjs) that this
// file compiles with node:vm, handing V8 the code cache the build made beside each
// (dist/orgctl-cli.cjs.cache, dist/orgctl-console.cjs.cache): V8 then deserialises the compiled
// functions instead of parsing and compiling them again. The libraries only `orgctl serve`, SAML
// and mail use are a third bundle (dist/orgctl-web.cjs, with its own cache under the same rules),
// compiled the first time a subcommand requires one of them: the others neither read nor
// deserialise them.
//
// A code cache is code: whoever can write it chooses what runs. So it is used only from beside the
// bundle, written there by the build (`npm run build`, `npm ci`'s prepare) and owned by whoever owns
// the bundle, never from a shared or temporary folder; a cache writable by group or others, or owned
// by someone else, is not read. V8 itself refuses a cache of another V8 version or other flags
// (cachedDataRejected) and compiles from source; but it checks only the source's length, so a cache
// is also bound to the bundle file it was made from (device, inode, size, mtime and ctime, which no
// copy or edit keeps): a rebuilt or edited bundle never runs another build's compiled code.
import {closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeFileSync, type BigIntStats} from 'node:fs';
import {isAscii} from 'node:buffer';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {setFlagsFromString} from 'node:v8';
import {Script} from 'node:vm';

/** What a CommonJS bundle exports (source/app/cli-entry.ts, source/app/console-entry.ts). */
type CliBundle = {readonly run: (argv: readonly string[]) => Promise<number | undefined>};

/** How a cache was taken, for the tests (ORGCTL_CODE_CACHE_REPORT=1 prints it on stderr). */
export type CacheUse = 'used' | 'absent' | 'rejected by V8' | 'not of this bundle' | 'not owned like the bundle' | 'unreadable';

const MAGIC = 'orgctl-code-cache 1';

/** The bundle file a cache is bound to. */
function stampOf(stat: BigIntStats): string {
	return [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(':');
}

function readCache(path: string, bundle: BigIntStats): {data: Buffer} | {refused: CacheUse} {
	let fd: number;
	try {
		fd = openSync(path, 'r');
	} catch (error) {
		return {refused: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'unreadable'};
	}
	try {
		const stat = fstatSync(fd, {bigint: true});
		if (!stat.isFile() || stat.uid !== bundle.uid || (stat.mode & 0o022n) !== 0n) return {refused: 'not owned like the bundle'};
		const bytes = Buffer.allocUnsafe(Number(stat.size));
		let read = 0;
		while (read < bytes.length) {
			const n = readSync(fd, bytes, read, bytes.length - read, read);
			if (n === 0) break;
			read += n;
		}
		const end = bytes.indexOf(10);
		if (end < 0 || bytes.toString('latin1', 0, end) !== `${MAGIC} ${stampOf(bundle)}`) return {refused: 'not of this bundle'};
		return {data: bytes.subarray(end + 1, read)};
	} catch {
		return {refused: 'unreadable'};
	} finally {
		closeSync(fd);
	}
}

const CONSOLE_OPTIONS = ['--store', '--key-file', '--tenant'];

/**
 * Whether `argv` may open the console: nothing but its options (--store, --key-file, --tenant).
 * Those go to the console's bundle, whose source/app/main.ts tells for sure, rather than loading
 * the subcommands' bundle first (the console's start has its own budget).
 */
export function mayOpenConsole(argv: readonly string[]): boolean {
	return argv.every((arg, i) => CONSOLE_OPTIONS.some(option => arg === option || arg.startsWith(`${option}=`)) || (i > 0 && CONSOLE_OPTIONS.includes(argv[i - 1]!)));
}

/**
 * Runs `argv` from the CommonJS bundle at `bundleUrl` (the subcommands' or the console's), with its
 * code cache when one fits. Undefined when there is no such bundle (running from source) or the
 * bundle leaves `argv` to the ES module bundle: the caller then runs source/app/main.ts.
 */
export async function runCachedCli(bundleUrl: URL, argv: readonly string[]): Promise<number | undefined> {
	// Compiled in a function of its own: the console runs for hours inside the await below, and
	// nothing of the bundle's bytes, its source or its cache should stay reachable from this frame.
	const run = loadBundle(bundleUrl);
	if (run === undefined) return undefined;
	const code = await run(argv);
	// The subcommands' bundle left argv to the ES module build (the console): it runs under V8's defaults, as from source.
	if (code === undefined && growing) {
		growing = false;
		setFlagsFromString(DEFAULT_GROWTH);
	}
	return code;
}

/**
 * More than the largest block glibc's malloc adapts its mmap threshold to (32 MiB on 64-bit
 * systems, DEFAULT_MMAP_THRESHOLD_MAX): see {@link readSource}.
 */
const BEYOND_ADAPTED_MMAP_BYTES = 32 * 1024 * 1024 + 4096;

/**
 * The bundle's source: esbuild writes ASCII (build.mjs checks it), taken as latin1, one string that
 * Node keeps outside V8's heap; a bundle that is not ASCII is decoded as UTF-8.
 *
 * The buffer it is read into is freed right after, and glibc, when it frees a mapped block of up
 * to 32 MiB, raises its mmap threshold to that block's size for the rest of the process. With a
 * buffer the bundle's size (3.8 MB when this was measured; 2.1 MB since the web libraries left
 * it), every later block up to that size (the store's reads, the JSON of each external change)
 * came from malloc's arenas, which keep what is given back: at 100,000
 * users after 20 external changes (bench/console-live.ts's run) the console was at 142 MB
 * resident, 130 MB with the threshold pinned (MALLOC_MMAP_THRESHOLD_), and main's ES module
 * console at 125 to 126 MB. So the buffer is bigger than 32 MiB, a block glibc maps and unmaps
 * without adapting; only the pages the file is read into are touched, so only those are resident.
 * Reading in 64 KiB pieces (no big block at all) kept memory as low but cost about 60 ms of CPU
 * at start: the joined source became a 3.8 MB string in V8's heap, and the pieces garbage.
 */
function readSource(fd: number, size: number): string {
	const buffer = Buffer.allocUnsafeSlow(Math.max(size, BEYOND_ADAPTED_MMAP_BYTES));
	let read = 0;
	while (read < size) {
		const n = readSync(fd, buffer, read, size - read, read);
		if (n === 0) break;
		read += n;
	}
	const bytes = buffer.subarray(0, read);
	return bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
}

/** A CommonJS bundle of dist/ compiled with its code cache when one fits. */
type Compiled = {readonly path: string; readonly bundle: BigIntStats; readonly script: Script; readonly use: CacheUse};

/** Compiles the bundle at `path`; undefined when it cannot be read. */
function compile(path: string): Compiled | undefined {
	let source: string;
	let bundle: BigIntStats;
	try {
		const fd = openSync(path, 'r');
		try {
			bundle = fstatSync(fd, {bigint: true});
			source = readSource(fd, Number(bundle.size));
		} finally {
			closeSync(fd);
		}
	} catch {
		return undefined;
	}
	const cache = readCache(`${path}.cache`, bundle);
	// The bundle is its own wrapper, the function Node's CommonJS loader would make of it (the build
	// writes it so: a wrapper added here would copy the whole source); import.meta.url is defined to __orgctlUrl.
	const script = new Script(source, {
		filename: path,
		...('data' in cache ? {cachedData: cache.data} : {}),
	});
	const use: CacheUse = 'data' in cache ? (script.cachedDataRejected === true ? 'rejected by V8' : 'used') : cache.refused;
	if (process.env['ORGCTL_CODE_CACHE_REPORT'] === '1') process.stderr.write(`orgctl: ${path.endsWith(WEB_BUNDLE) ? 'web ' : ''}code cache ${use}\n`);
	return {path, bundle, script, use};
}

/**
 * How fast the young generation grows in a subcommand: by 8 at each scavenge that finds much alive
 * (V8's default is 2), from 1 MB semi-spaces to their 16 MB cap in two steps instead of four. A
 * subcommand reads the whole store at once and nearly all of it stays alive until it exits: each
 * scavenge of a small young generation copied the records parsed so far, and every record that
 * survived two was copied twice. `orgctl users list --json` at 10,000 users spent 55 ms median in
 * scavenges (--trace-gc, the main thread's pauses), 29 ms with a factor of 8 (36 with 16, whose
 * one big scavenge copies everything at once); 21 alternating runs each. The console sets its own
 * (source/app/console-heap.ts); a subcommand that stays up (`orgctl serve`) reaches the same cap
 * V8 would have grown to, only sooner.
 */
const SUBCOMMAND_GROWTH = '--semi-space-growth-factor=8';
const DEFAULT_GROWTH = '--semi-space-growth-factor=2';
let growing = false;

/**
 * Runs `compileOrWrite` under V8's default flags: V8 stamps a code cache with the flags in force
 * when it is made and refuses it under others (cachedDataRejected), so a cache is compiled and
 * written only under the flags every process starts with (the build's warm run included).
 */
function withDefaultFlags<T>(compileOrWrite: () => T): T {
	if (!growing) return compileOrWrite();
	setFlagsFromString(DEFAULT_GROWTH);
	try {
		return compileOrWrite();
	} finally {
		setFlagsFromString(SUBCOMMAND_GROWTH);
	}
}

/** dist/orgctl-web.cjs: the libraries only serve, SAML and mail use (scripts/bundle-options.mjs's WEB_PACKAGES). */
const WEB_BUNDLE = 'orgctl-web.cjs';

type WebBundle = Readonly<Record<string, () => unknown>>;

/** Compiles and runs dist/orgctl-web.cjs beside `cli`; it throws when that file cannot be read. */
function loadWebBundle(cli: string): {compiled: Compiled; packages: WebBundle} {
	const path = join(dirname(cli), WEB_BUNDLE);
	const compiled = withDefaultFlags(() => compile(path));
	if (compiled === undefined) throw new Error(`The web part of orgctl, ${path}, cannot be read: reinstall orgctl (npm ci) or rebuild it (npm run build).`);
	const module = {exports: {} as WebBundle};
	(compiled.script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(path), module, path, dirname(path), pathToFileURL(path).href);
	return {compiled, packages: module.exports};
}

/**
 * Compiles and runs the bundle at `bundleUrl`: its `run`. The web libraries (dist/orgctl-web.cjs)
 * are compiled, with their own cache, only when the subcommand requires one of them.
 */
function loadBundle(bundleUrl: URL): CliBundle['run'] | undefined {
	const path = fileURLToPath(bundleUrl);
	const compiled = compile(path);
	if (compiled === undefined) return undefined;
	let web: ReturnType<typeof loadWebBundle> | undefined;
	const webPackage = (name: string): unknown => {
		web ??= loadWebBundle(path);
		const load = web.packages[name];
		if (load === undefined) throw new Error(`The web part of orgctl, ${WEB_BUNDLE}, has no ${name}: rebuild orgctl (npm run build).`);
		return load();
	};
	if (process.env['ORGCTL_WRITE_CODE_CACHE'] === '1') {
		process.once('exit', () => {
			growing = false;
			setFlagsFromString(DEFAULT_GROWTH);
			writeCache(compiled);
			// The subcommands' warm run also writes the web bundle's cache, of what loading each of its libraries compiles.
			if (path.endsWith('orgctl-cli.cjs')) {
				web ??= loadWebBundle(path);
				for (const load of Object.values(web.packages)) load();
				writeCache(web.compiled);
			}
		});
	}
	// Compiled with its cache: from here on the flags may differ (see SUBCOMMAND_GROWTH).
	if (path.endsWith('orgctl-cli.cjs')) {
		setFlagsFromString(SUBCOMMAND_GROWTH);
		growing = true;
	}
	const module = {exports: {} as CliBundle};
	(compiled.script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(path), module, path, dirname(path), bundleUrl.href, webPackage);
	return module.exports.run;
}

/** After a warm run (the build's), the cache of every function compiled so far, beside the bundle, bound to it. */
function writeCache({path, bundle, script}: Compiled): void {
	const cachePath = `${path}.cache`;
	const temp = `${cachePath}.tmp-${process.pid}`;
	try {
		writeFileSync(temp, Buffer.concat([Buffer.from(`${MAGIC} ${stampOf(bundle)}\n`, 'latin1'), script.createCachedData()]), {mode: 0o644, flag: 'wx'});
		renameSync(temp, cachePath);
	} catch (error) {
		rmSync(temp, {force: true});
		process.stderr.write(`orgctl: the code cache could not be written to ${cachePath} (${(error as Error).message}).\n`);
		process.exitCode = 1;
	}
}
