import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {build, type Plugin} from 'esbuild';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {LIMIT} from '../../scripts/ink-bounded-caches.mjs';
import {BUNDLE_OPTIONS} from '../../scripts/bundle-options.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'orgctl-test', `ink-bounded-${process.pid}`);
const INK = join(ROOT, 'node_modules', 'ink', 'build');

/**
 * Measures and wraps texts with Ink's own measure-text.js and wrap-text.js (by path: Ink exports
 * neither) and prints what the caches kept: measure-text hands back its cached object, so the same
 * object again means the text was still cached.
 */
const PROBE = `
import measureText from ${JSON.stringify(join(INK, 'measure-text.js'))};
import wrapText from ${JSON.stringify(join(INK, 'wrap-text.js'))};
const texts = Number(process.argv[2]);
const old = measureText('a text shown once, long ago');
const kept = measureText('a text on every screen');
for (let i = 0; i < texts; i++) {
	measureText('row ' + i);
	if (i % 1000 === 0) measureText('a text on every screen');
}
const wrapped = [];
for (let i = 0; i < texts; i++) wrapText('row ' + i + ' of a list wider than its column', 12, i % 2 ? 'wrap' : 'truncate-end');
for (const [text, width, mode] of [['名前 and a long name', 8, 'truncate-end'], ['one two three four five', 7, 'wrap'], ['\\u001b[31mred text here\\u001b[39m', 5, 'truncate-middle'], ['row 7 of a list wider than its column', 12, 'wrap']])
	wrapped.push(wrapText(text, width, mode), wrapText(text, width, mode));
console.log(JSON.stringify({
	oldKept: measureText('a text shown once, long ago') === old,
	recentKept: measureText('a text on every screen') === kept,
	size: measureText('row 1\\nrow two'),
	wrapped,
}));
`;

/** The probe bundled as dist/ is, with or without the bounded caches. */
async function bundled(name: string, plugins: readonly Plugin[]): Promise<string> {
	const outdir = join(OUT, name);
	mkdirSync(outdir, {recursive: true});
	const {splitting: _splitting, chunkNames: _chunkNames, outExtension: _outExtension, ...options} = BUNDLE_OPTIONS;
	await build({...options, plugins: [...plugins], stdin: {contents: PROBE, resolveDir: ROOT, loader: 'js', sourcefile: 'probe.mjs'}, outfile: join(outdir, 'probe.mjs')});
	return join(outdir, 'probe.mjs');
}

type Probe = {oldKept: boolean; recentKept: boolean; size: {width: number; height: number}; wrapped: string[]};

function probe(script: string, texts: number): Probe {
	return JSON.parse(execFileSync(process.execPath, [script, String(texts)], {encoding: 'utf8', timeout: 60_000})) as Probe;
}

describe("Ink's text caches (scripts/ink-bounded-caches.mjs, in every bundle)", () => {
	let bounded: string;
	let plain: string;
	afterAll(() => {
		rmSync(OUT, {recursive: true, force: true});
	});
	beforeAll(async () => {
		const plugins = BUNDLE_OPTIONS.plugins ?? [];
		bounded = await bundled('bounded', plugins);
		plain = await bundled('plain', plugins.filter(plugin => plugin.name !== 'ink-bounded-caches'));
	});

	it('is in the bundle dist/ is built with', () => {
		expect(readFileSync(bounded, 'utf8')).toContain('BoundedMap');
		expect(readFileSync(plain, 'utf8')).not.toContain('BoundedMap');
	});

	it('let go of a text not laid out again while many others were, and keep one laid out on every screen', () => {
		const texts = 3 * LIMIT;
		// Plain Ink keeps every text it ever laid out.
		expect(probe(plain, texts)).toMatchObject({oldKept: true, recentKept: true});
		expect(probe(bounded, texts)).toMatchObject({oldKept: false, recentKept: true});
		// Fewer texts than one generation holds: nothing is let go.
		expect(probe(bounded, LIMIT / 2)).toMatchObject({oldKept: true, recentKept: true});
	});

	it('measure and wrap exactly as Ink without them does, whether the answer was cached or not', () => {
		const expected = probe(plain, 3 * LIMIT);
		const actual = probe(bounded, 3 * LIMIT);
		expect(actual.size).toEqual({width: 7, height: 2});
		expect(actual.wrapped).toEqual(expected.wrapped);
		expect(expected.wrapped.join('|')).toContain('…');
	});
});
