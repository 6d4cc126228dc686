// The command line's start-up (issue 18): Node 20 has no compile cache for ES modules, so the
// subcommands also ship as one CommonJS bundle (dist/orgctl-cli.cjs) that this file compiles with
// node:vm, handing V8 the code cache the build made beside it (dist/orgctl-cli.cjs.cache): V8
// then deserialises the compiled functions instead of parsing and compiling them again. The
// libraries only `orgctl serve`, SAML and mail use are a second bundle (dist/orgctl-web.cjs, with
// its own cache under the same rules), compiled the first time one of them is required: the other
// subcommands neither read nor deserialise them.
//
// A code cache is code: whoever can write it chooses what runs. So it is used only from beside the
// bundle, written there by the build (`npm run build`, `npm ci`'s prepare) and owned by whoever owns
// the bundle, never from a shared or temporary folder; a cache writable by group or others, or owned
// by someone else, is not read. V8 itself refuses a cache of another V8 version or other flags
// (cachedDataRejected) and compiles from source; but it checks only the source's length, so a cache
// is also bound to the bundle file it was made from (device, inode, size, mtime and ctime, which no
// copy or edit keeps): a rebuilt or edited bundle never runs another build's compiled code.
import {closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, type BigIntStats} from 'node:fs';
import {isAscii} from 'node:buffer';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {Script} from 'node:vm';

/** What the CommonJS bundle exports (source/app/cli-entry.ts). */
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
 * Those go straight to source/app/main.ts, which tells for sure, rather than loading the
 * subcommands' bundle first (the console's start has its own budget).
 */
export function mayOpenConsole(argv: readonly string[]): boolean {
	return argv.every((arg, i) => CONSOLE_OPTIONS.some(option => arg === option || arg.startsWith(`${option}=`)) || (i > 0 && CONSOLE_OPTIONS.includes(argv[i - 1]!)));
}

/** A CommonJS bundle of dist/ compiled with its code cache when one fits. */
type Compiled = {readonly path: string; readonly bundle: BigIntStats; readonly script: Script; readonly use: CacheUse};

/** Compiles the bundle at `path` in the wrapper Node's CommonJS loader gives a module; undefined when it cannot be read. */
function compile(path: string, wrapperArgs: string): Compiled | undefined {
	let source: string;
	let bundle: BigIntStats;
	try {
		const fd = openSync(path, 'r');
		try {
			bundle = fstatSync(fd, {bigint: true});
			// esbuild writes ASCII (non-ASCII characters escaped): a one-byte string is a copy, UTF-8 decoding of 4 MB is not.
			const bytes = readFileSync(fd);
			source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
		} finally {
			closeSync(fd);
		}
	} catch {
		return undefined;
	}
	const cache = readCache(`${path}.cache`, bundle);
	const script = new Script(`(function (${wrapperArgs}) {${source}\n})`, {
		filename: path,
		...('data' in cache ? {cachedData: cache.data} : {}),
	});
	const use: CacheUse = 'data' in cache ? (script.cachedDataRejected === true ? 'rejected by V8' : 'used') : cache.refused;
	if (process.env['ORGCTL_CODE_CACHE_REPORT'] === '1') process.stderr.write(`orgctl: ${path.endsWith(WEB_BUNDLE) ? 'web ' : ''}code cache ${use}\n`);
	return {path, bundle, script, use};
}

/** dist/orgctl-web.cjs: the libraries only serve, SAML and mail use (scripts/bundle-options.mjs's WEB_PACKAGES). */
const WEB_BUNDLE = 'orgctl-web.cjs';

type WebBundle = Readonly<Record<string, () => unknown>>;

/** Compiles and runs dist/orgctl-web.cjs beside `cli`; it throws when that file cannot be read. */
function loadWebBundle(cli: string): {compiled: Compiled; packages: WebBundle} {
	const path = join(dirname(cli), WEB_BUNDLE);
	const compiled = compile(path, 'exports, require, module, __filename, __dirname, __orgctlUrl');
	if (compiled === undefined) throw new Error(`The web part of orgctl, ${path}, cannot be read: reinstall orgctl (npm ci) or rebuild it (npm run build).`);
	const module = {exports: {} as WebBundle};
	(compiled.script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(path), module, path, dirname(path), pathToFileURL(path).href);
	return {compiled, packages: module.exports};
}

/**
 * Runs the subcommand in `argv` from the CommonJS bundle at `bundleUrl`, with its code cache when
 * one fits. Undefined when there is no such bundle (running from source) or `argv` opens the
 * console, which runs from the ES module bundle: the caller then runs source/app/main.ts.
 * The web libraries (dist/orgctl-web.cjs) are compiled, with their own cache, only when the
 * subcommand requires one of them.
 */
export async function runCachedCli(bundleUrl: URL, argv: readonly string[]): Promise<number | undefined> {
	const path = fileURLToPath(bundleUrl);
	// The bundle's own wrapper, as Node's CommonJS loader makes it; import.meta.url is defined to __orgctlUrl by the build.
	const cli = compile(path, 'exports, require, module, __filename, __dirname, __orgctlUrl, __orgctlWeb');
	if (cli === undefined) return undefined;
	let web: ReturnType<typeof loadWebBundle> | undefined;
	const webPackage = (name: string): unknown => {
		web ??= loadWebBundle(path);
		const load = web.packages[name];
		if (load === undefined) throw new Error(`The web part of orgctl, ${WEB_BUNDLE}, has no ${name}: rebuild orgctl (npm run build).`);
		return load();
	};
	if (process.env['ORGCTL_WRITE_CODE_CACHE'] === '1') {
		process.once('exit', () => {
			writeCache(cli);
			// The web bundle's cache holds what loading each of its libraries compiles.
			web ??= loadWebBundle(path);
			for (const load of Object.values(web.packages)) load();
			writeCache(web.compiled);
		});
	}
	const module = {exports: {} as CliBundle};
	(cli.script.runInThisContext() as (...args: unknown[]) => void)(module.exports, createRequire(path), module, path, dirname(path), bundleUrl.href, webPackage);
	return module.exports.run(argv);
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
