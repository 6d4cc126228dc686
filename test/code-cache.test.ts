import {spawnSync} from 'node:child_process';
import {chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {mayOpenConsole} from '../source/app/code-cache.js';
import {ORGCTL} from './helpers/cli.js';
import {seedRoot, seedUsers, signIn, spawnConsole} from './helpers/term.js';

const DIST = join(ORGCTL, '..');
// Under node_modules, as dist/ is beside it: the bundle's native modules resolve from there.
const COPIES = join(import.meta.dirname, '..', 'node_modules', '.cache', 'orgctl-test', `code-cache-${process.pid}`);
let copies = 0;

/** A copy of the built dist/ (new files: the build's cache is not bound to them). */
function copyOfDist(): string {
	const dist = join(COPIES, String(copies++), 'dist');
	mkdirSync(join(dist, '..'), {recursive: true});
	cpSync(DIST, dist, {recursive: true});
	return dist;
}

let store: string;

function run(dist: string, args: readonly string[], env: Record<string, string> = {}, entry = 'orgctl.cjs'): {code: number; stdout: string; stderr: string} {
	const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ORGCTL_')));
	const result = spawnSync(process.execPath, [join(dist, entry), ...args], {
		env: {...base, ORGCTL_STORE: join(store, 'orgctl.json'), ORGCTL_SESSION_FILE: join(store, 'session.json'), ORGCTL_CODE_CACHE_REPORT: '1', ...env},
		encoding: 'utf8',
	});
	return {code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr};
}

/** `users list --json` from `dist`: what it printed, and how it took the code cache. */
function listUsers(dist: string): {usernames: string[]; cache: string} {
	const result = run(dist, ['users', 'list', '--json']);
	expect(result.code, result.stderr).toBe(0);
	return {usernames: (JSON.parse(result.stdout) as Array<{username: string}>).map(user => user.username).sort(), cache: /code cache (.*)/.exec(result.stderr)?.[1] ?? 'not reported'};
}

/** Makes `dist`'s own cache, as the build does (a warm run told to write it). */
function writeCache(dist: string): void {
	expect(run(dist, ['--version'], {ORGCTL_WRITE_CODE_CACHE: '1'}).code).toBe(0);
}

const CACHE = 'orgctl-cli.cjs.cache';
const WEB = 'orgctl-web.cjs';
let notMetadata: string;

beforeAll(async () => {
	// Kept for the whole file (helpers/store.ts's tempDir is removed after each test).
	store = mkdtempSync(join(tmpdir(), 'orgctl-test-'));
	const {ctx, root} = await seedRoot(store);
	await seedUsers(ctx, root.tenant.id, [{username: 'ada'}, {username: 'grace'}]);
	await signIn(ctx, root, store);
	notMetadata = join(store, 'not-metadata.xml');
	writeFileSync(notMetadata, '<x/>');
});

afterAll(() => {
	rmSync(COPIES, {recursive: true, force: true});
	rmSync(store, {recursive: true, force: true});
});

describe('the subcommands start from the V8 code cache the build wrote beside the bundle', () => {
	const everyone = ['ada', 'grace', 'root'];

	it('the built orgctl runs a subcommand with the cache its build wrote', () => {
		expect(listUsers(DIST)).toEqual({usernames: everyone, cache: 'used'});
	});

	it('the package’s executable is dist/orgctl.cjs, which starts no ES module loader; dist/orgctl.mjs, the same program as an ES module, runs as well', () => {
		const pkg = JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')) as {bin: Record<string, string>};
		expect(pkg.bin['orgctl']).toBe('dist/orgctl.cjs');
		expect(join(DIST, '..', pkg.bin['orgctl']!)).toBe(ORGCTL);
		// Node's modules of the ES module loader that a module graph needs, listed as the process ends.
		const loads = (entry: string): string[] => {
			const probe = join(store, 'esm-probe.cjs');
			writeFileSync(probe, "process.on('exit', () => process.stderr.write('modules: ' + process.moduleLoadList.join(',') + '\\n'));\n");
			const result = run(DIST, ['users', 'list', '--json'], {NODE_OPTIONS: `--require ${probe}`}, entry);
			expect(result.code, result.stderr).toBe(0);
			expect(JSON.parse(result.stdout)).toHaveLength(everyone.length);
			return (/modules: (.*)/.exec(result.stderr)?.[1] ?? '').split(',');
		};
		expect(loads('orgctl.cjs')).not.toContain('NativeModule internal/modules/esm/module_job');
		expect(loads('orgctl.mjs')).toContain('NativeModule internal/modules/esm/module_job');
		expect(/code cache (.*)/.exec(run(DIST, ['users', 'list', '--json'], {}, 'orgctl.mjs').stderr)?.[1]).toBe('used');
	});

	it('`users list` loads none of Node’s modules for child processes or prompts: the bundle requires them when a command uses them', () => {
		const probe = join(store, 'builtins-probe.cjs');
		writeFileSync(probe, "process.on('exit', () => process.stderr.write('modules: ' + process.moduleLoadList.join(',') + '\\n'));\n");
		const result = run(DIST, ['users', 'list', '--json'], {NODE_OPTIONS: `--require ${probe}`});
		expect(result.code, result.stderr).toBe(0);
		expect(JSON.parse(result.stdout)).toHaveLength(everyone.length);
		const modules = (/modules: (.*)/.exec(result.stderr)?.[1] ?? '').split(',');
		expect(modules).toContain('NativeModule crypto');
		for (const name of ['child_process', 'dgram', 'readline/promises', 'internal/readline/interface']) expect(modules).not.toContain(`NativeModule ${name}`);
	});

	it('without the subcommands’ bundle, dist/orgctl.cjs runs the ES module build, which runs them from source', () => {
		const dist = copyOfDist();
		rmSync(join(dist, 'orgctl-cli.cjs'));
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'not reported'});
	});

	it('without its cache the bundle still runs, compiled from source', () => {
		const dist = copyOfDist();
		rmSync(join(dist, CACHE));
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'absent'});
	});

	it('a cache copied along with the bundle is not the copy’s: it is ignored, and the copy’s own is used once written', () => {
		const dist = copyOfDist();
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'not of this bundle'});
		writeCache(dist);
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'used'});
	});

	it('a corrupt cache bound to the bundle is rejected by V8, and the command still works', () => {
		const dist = copyOfDist();
		writeCache(dist);
		const cache = readFileSync(join(dist, CACHE));
		const header = cache.subarray(0, cache.indexOf(10) + 1);
		writeFileSync(join(dist, CACHE), Buffer.concat([header, Buffer.alloc(cache.length - header.length, 0x5a)]));
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'rejected by V8'});
		// Cut short, too.
		writeFileSync(join(dist, CACHE), cache.subarray(0, header.length + 100));
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'rejected by V8'});
	});

	it('an edited bundle of the same length runs its own code, not the compiled code its old cache holds (V8 checks only the length)', () => {
		const dist = copyOfDist();
		writeCache(dist);
		expect(run(dist, ['--version']).stdout).toBe('0.1.0\n');
		const bundle = join(dist, 'orgctl-cli.cjs');
		const source = readFileSync(bundle, 'utf8');
		expect(source.match(/"0\.1\.0"/g)).toHaveLength(1);
		writeFileSync(bundle, source.replace('"0.1.0"', '"9.9.9"'));
		expect(statSync(bundle).size).toBe(Buffer.byteLength(source));
		const edited = run(dist, ['--version']);
		expect(edited.stdout).toBe('9.9.9\n');
		expect(edited.stderr).toContain('code cache not of this bundle');
	});

	it('a bundle that is not ASCII runs as written (decoded as UTF-8, not latin1)', () => {
		const dist = copyOfDist();
		const bundle = join(dist, 'orgctl-cli.cjs');
		writeFileSync(bundle, readFileSync(bundle, 'utf8').replace('"0.1.0"', '"0.1.0-ü"'));
		const result = run(dist, ['--version']);
		expect(result.stdout).toBe('0.1.0-ü\n');
		expect(result.stderr).toContain('code cache not of this bundle');
	});

	it('a cache that group or others may write is not read: whoever can write it chooses the code that runs', () => {
		const dist = copyOfDist();
		writeCache(dist);
		for (const mode of [0o664, 0o646]) {
			chmodSync(join(dist, CACHE), mode);
			expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'not owned like the bundle'});
		}
		chmodSync(join(dist, CACHE), 0o644);
		expect(listUsers(dist).cache).toBe('used');
	});

	it.runIf(process.getuid?.() === 0)('a cache owned by another user than the bundle’s owner is not read', () => {
		const dist = copyOfDist();
		writeCache(dist);
		chownSync(join(dist, CACHE), 65534, 65534);
		expect(listUsers(dist)).toEqual({usernames: everyone, cache: 'not owned like the bundle'});
	});

	/** A command that needs the web libraries (xmldom reads the file, and refuses it): its refusal, and how each cache was taken. */
	function readMetadata(dist: string): {stderr: string; caches: string[]} {
		const result = run(dist, ['settings', 'sso', 'set', '--idp-metadata', notMetadata]);
		expect(result.code, result.stderr).toBe(1);
		return {stderr: result.stderr.split('\n').filter(line => !line.includes('code cache')).join('\n'), caches: [...result.stderr.matchAll(/orgctl: (.*code cache .*)/g)].map(match => match[1]!)};
	}
	const refusal = expect.stringContaining('is not SAML 2.0 metadata: its root element is <x>, not <md:EntityDescriptor>.');

	it('a subcommand that needs none of the web libraries (serve, SAML, mail) neither reads nor compiles their bundle', () => {
		const dist = copyOfDist();
		writeCache(dist);
		rmSync(join(dist, WEB));
		rmSync(join(dist, `${WEB}.cache`));
		const result = run(dist, ['users', 'list', '--json']);
		expect(result.code, result.stderr).toBe(0);
		expect((JSON.parse(result.stdout) as Array<{username: string}>).map(user => user.username).sort()).toEqual(everyone);
		expect(result.stderr).toBe('orgctl: code cache used\n');
		// One that needs them says in one sentence what is wrong and what to do.
		expect(readMetadata(dist)).toEqual({stderr: `orgctl: The web part of orgctl, ${join(realpathSync(dist), WEB)}, cannot be read: reinstall orgctl (npm ci) or rebuild it (npm run build).\n`, caches: ['code cache used']});
	});

	it('the web libraries run from their own bundle with the cache the build wrote, bound to that bundle and refused when loosely owned', () => {
		expect(readMetadata(DIST)).toEqual({stderr: refusal, caches: ['code cache used', 'web code cache used']});
		const dist = copyOfDist();
		expect(readMetadata(dist)).toEqual({stderr: refusal, caches: ['code cache not of this bundle', 'web code cache not of this bundle']});
		writeCache(dist);
		expect(readMetadata(dist)).toEqual({stderr: refusal, caches: ['code cache used', 'web code cache used']});
		chmodSync(join(dist, `${WEB}.cache`), 0o666);
		expect(readMetadata(dist)).toEqual({stderr: refusal, caches: ['code cache used', 'web code cache not owned like the bundle']});
		rmSync(join(dist, `${WEB}.cache`));
		expect(readMetadata(dist)).toEqual({stderr: refusal, caches: ['code cache used', 'web code cache absent']});
	});

	it('the console and its options go to the console’s bundle; anything else to the subcommands’', () => {
		for (const argv of [[], ['--store', 'a.json'], ['--store=a.json', '--tenant', 'acme'], ['--key-file', 'k', '--store', 'postgres://u@h/d']]) expect(mayOpenConsole(argv), argv.join(' ')).toBe(true);
		for (const argv of [['users', 'list'], ['--store', 'a.json', 'users'], ['--help'], ['--version'], ['--storex']]) expect(mayOpenConsole(argv), argv.join(' ')).toBe(false);
	});
});

const CONSOLE_CACHE = 'orgctl-console.cjs.cache';

/** Opens the console of `dist` in a pseudo-terminal: whether it drew the Users section with the store's users, and how it took its code cache. */
async function openConsole(dist: string, env: Record<string, string> = {}): Promise<{users: boolean; cache: string}> {
	const t = spawnConsole({dir: store, script: join(dist, 'orgctl.cjs'), cols: 100, rows: 30, env: {ORGCTL_CODE_CACHE_REPORT: '1', ...env}});
	try {
		await t.waitReady('main:users', 30_000);
		await t.waitFor(screen => ['ada', 'grace', 'root'].every(name => screen.includes(name)), 10_000);
		const users = true;
		await t.press('q');
		expect((await t.exited).exitCode).toBe(0);
		return {users, cache: /code cache ([^\r\n]*)/.exec(t.output())?.[1] ?? 'not reported'};
	} finally {
		t.kill('SIGKILL');
	}
}

/** Makes `dist`'s own console cache, as the build does: a console told to write it, opened and quit. */
async function writeConsoleCache(dist: string): Promise<void> {
	rmSync(join(dist, CONSOLE_CACHE), {force: true});
	await openConsole(dist, {ORGCTL_WRITE_CODE_CACHE: '1'});
	expect(statSync(join(dist, CONSOLE_CACHE)).size).toBeGreaterThan(100_000);
}

describe('the console starts from its own code cache, and without one just as well', () => {
	it('the built console opens the Users section with the cache its build wrote', async () => {
		expect(await openConsole(DIST)).toEqual({users: true, cache: 'used'});
	});

	it('without its cache, or without its bundle, the console still opens, compiled from source', async () => {
		const dist = copyOfDist();
		rmSync(join(dist, CONSOLE_CACHE));
		expect(await openConsole(dist)).toEqual({users: true, cache: 'absent'});
		// No CommonJS bundle at all: the ES module bundle's console.
		rmSync(join(dist, 'orgctl-console.cjs'));
		expect(await openConsole(dist)).toEqual({users: true, cache: 'not reported'});
	});

	it('a copied cache is ignored; the copy’s own, written by a warm console, is taken (made before the console changes V8’s heap flags)', async () => {
		const dist = copyOfDist();
		expect(await openConsole(dist)).toEqual({users: true, cache: 'not of this bundle'});
		await writeConsoleCache(dist);
		expect(await openConsole(dist)).toEqual({users: true, cache: 'used'});
	});

	it('a corrupt or cut-short console cache is rejected by V8, and the console still works', async () => {
		const dist = copyOfDist();
		await writeConsoleCache(dist);
		const cache = readFileSync(join(dist, CONSOLE_CACHE));
		const header = cache.subarray(0, cache.indexOf(10) + 1);
		writeFileSync(join(dist, CONSOLE_CACHE), Buffer.concat([header, Buffer.alloc(cache.length - header.length, 0x5a)]));
		expect(await openConsole(dist)).toEqual({users: true, cache: 'rejected by V8'});
		writeFileSync(join(dist, CONSOLE_CACHE), cache.subarray(0, header.length + 100));
		expect(await openConsole(dist)).toEqual({users: true, cache: 'rejected by V8'});
	});

	it('a console cache that group or others may write is not read', async () => {
		const dist = copyOfDist();
		await writeConsoleCache(dist);
		chmodSync(join(dist, CONSOLE_CACHE), 0o666);
		expect(await openConsole(dist)).toEqual({users: true, cache: 'not owned like the bundle'});
	});

	it('the console takes the web libraries (mail, SSO) from orgctl-web.cjs, which its start neither reads nor compiles', async () => {
		const source = readFileSync(join(DIST, 'orgctl-console.cjs'), 'latin1');
		for (const name of ['nodemailer', 'node-forge', '@node-saml/node-saml', '@xmldom/xmldom', 'xml-crypto']) expect(source.includes(`__orgctlWeb(${JSON.stringify(name)})`), name).toBe(true);
		const dist = copyOfDist();
		rmSync(join(dist, WEB));
		rmSync(join(dist, `${WEB}.cache`));
		expect(await openConsole(dist)).toEqual({users: true, cache: 'not of this bundle'});
	});

	it('the console’s and the web libraries’ bundles import() nothing from outside themselves (a vm.Script has no dynamic import callback)', () => {
		// esbuild turns an import() of a bundled module into a function call, but leaves one of a module
		// outside the bundle (node:child_process, say) as import(), which fails in the bundle's vm.Script.
		for (const bundle of ['orgctl-console.cjs', WEB]) {
			const source = readFileSync(join(DIST, bundle), 'latin1');
			const imports = [...source.matchAll(/(?<![.\w$])import\(\s*[^)]{0,60}/g)].map(match => match[0]);
			expect(imports, bundle).toEqual([]);
		}
	});

	it('the subcommands’ cache is not the console’s: put in its place it is not of this bundle', async () => {
		const dist = copyOfDist();
		cpSync(join(dist, CACHE), join(dist, CONSOLE_CACHE));
		expect(await openConsole(dist)).toEqual({users: true, cache: 'not of this bundle'});
	});
});
