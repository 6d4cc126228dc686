import {mkdirSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {build} from 'esbuild';
import stringWidth from 'string-width';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {SIMPLE_RANGES} from '../../scripts/string-width-once.mjs';
import {BUNDLE_OPTIONS} from '../../scripts/bundle-options.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'node_modules', '.cache', 'orgctl-test', `string-width-once-${process.pid}`);

type Width = (text: string, options?: {ambiguousIsNarrow?: boolean; countAnsiEscapeCodes?: boolean}) => number;

/** string-width as every bundle of dist/ has it (the plugin among the build's), and wrap-ansi beside it. */
async function patched(): Promise<{width: Width; inputs: string[]}> {
	mkdirSync(OUT, {recursive: true});
	const {splitting: _splitting, chunkNames: _chunkNames, outExtension: _outExtension, ...options} = BUNDLE_OPTIONS;
	const outfile = join(OUT, 'probe.mjs');
	const result = await build({
		...options,
		metafile: true,
		stdin: {contents: "export {default as width} from 'string-width'; export {default as wrap} from 'wrap-ansi';", resolveDir: ROOT, loader: 'js', sourcefile: 'probe.mjs'},
		outfile,
	});
	const module = (await import(pathToFileURL(outfile).href)) as {width: Width};
	return {width: module.width, inputs: Object.keys(result.metafile.inputs)};
}

const simple: number[] = SIMPLE_RANGES.flatMap(([from, to]) => Array.from({length: to - from + 1}, (_, i) => from + i));
const segmenter = new Intl.Segmenter();

/** A deterministic generator (mulberry32), so a failure names a string that fails again. */
function random(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

describe('string-width as bundled (scripts/string-width-once.mjs)', () => {
	let once: Awaited<ReturnType<typeof patched>>;
	beforeAll(async () => {
		once = await patched();
	}, 60_000);
	afterAll(() => {
		rmSync(OUT, {recursive: true, force: true});
	});

	it('is one copy: wrap-ansi measures with the string-width Ink measures with', () => {
		const copies = once.inputs.filter(input => /string-width[\\/]index\.js$/.test(input));
		expect(copies).toHaveLength(1);
		expect(copies[0]).toMatch(/(^|[\\/])node_modules[\\/]string-width[\\/]index\.js$/);
		expect(once.inputs.some(input => /wrap-ansi[\\/]index\.js$/.test(input))).toBe(true);
	});

	it('takes each character of its simple ranges as a grapheme of its own, next to any other', () => {
		const joined: string[] = [];
		for (const code of simple) {
			const c = String.fromCharCode(code);
			// A mark, a joiner or a spacing mark joins what precedes it; a prepended character what follows; Hangul and regional indicators each other.
			for (const text of [`a${c}a`, `${c}${c}`, `\u2500${c}\u00e9`]) if ([...segmenter.segment(text)].length !== 3 - (text === `${c}${c}` ? 1 : 0)) joined.push(`U+${code.toString(16)} in ${JSON.stringify(text)}`);
		}
		expect(joined).toEqual([]);
	});

	it('gives every character of its simple ranges the width string-width itself gives it', () => {
		const differ: string[] = [];
		for (const code of simple) {
			const c = String.fromCharCode(code);
			for (const ambiguousIsNarrow of [true, false]) {
				if (once.width(c, {ambiguousIsNarrow}) !== stringWidth(c, {ambiguousIsNarrow})) differ.push(`U+${code.toString(16)} (ambiguousIsNarrow ${ambiguousIsNarrow})`);
			}
		}
		expect(differ).toEqual([]);
		expect(simple.length).toBeGreaterThan(1500);
		// The lookup stops at the first range above a character: they must be in order and apart.
		for (let i = 1; i < SIMPLE_RANGES.length; i++) expect(SIMPLE_RANGES[i]![0]).toBeGreaterThan(SIMPLE_RANGES[i - 1]![1] + 1);
	});

	it('measures any text as string-width does: simple, mixed with marks, emoji, CJK, Hangul and escapes', () => {
		const others = ['\u0301', '\u200d', '\ufe0f', '\u00ad', '\u200b', '名', '한', '\u1100\u1161', '👍', '👍🏽', '🇫🇷', '❤️', '1\u20e3', '\u001b[31m', '\u001b[39m', '\t', '\u0007', '\ud800', 'ｶ', '\uff9e'];
		const next = random(18);
		const differ: string[] = [];
		for (let n = 0; n < 20_000; n++) {
			let text = '';
			const length = 1 + Math.floor(next() * 12);
			for (let i = 0; i < length; i++) text += next() < 0.15 ? others[Math.floor(next() * others.length)]! : String.fromCharCode(simple[Math.floor(next() * simple.length)]!);
			for (const options of [{}, {ambiguousIsNarrow: false}, {countAnsiEscapeCodes: true}]) {
				if (once.width(text, options) !== stringWidth(text, options)) differ.push(`${JSON.stringify(text)} ${JSON.stringify(options)}`);
			}
		}
		expect(differ.slice(0, 10)).toEqual([]);
		for (const text of ['', 'plain', '─ users · 10 of 10,000 ›', 'José Müller', '✓ ★ ⚠ ✗', '⌚', '名前', 'e\u0301', '👨‍👩‍👧']) expect(once.width(text)).toBe(stringWidth(text));
	});
});
