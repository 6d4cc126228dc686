// Ink measures every text it lays out with string-width, and at start-up that library cost the
// console more than its own work: loading it creates an Intl.Segmenter (8 ms: ICU's break
// iterators) and a /^\p{RGI_Emoji}$/v regular expression (12 ms: V8 builds the set of every emoji
// sequence when it parses the pattern), and wrap-ansi brings a second copy (string-width 7) that
// makes its own segmenter and segments every string, ASCII or not. The first frame of the console
// needs none of it: its texts are ASCII, box drawing, arrows and a few other symbols, each one
// column wide and each its own grapheme.
//
// This esbuild plugin
// - makes wrap-ansi use the one string-width Ink and orgctl use (8.x: same call, same options; it
//   also counts ASCII without segmenting), so Ink wraps with the widths it measures with;
// - creates string-width's segmenter and regular expressions the first time a text needs them;
// - and answers a text made only of the characters of SIMPLE_RANGES without them: each of those
//   is a grapheme of its own (no mark, joiner, selector, format or Hangul character, which are what
//   join code points into one grapheme), so the text's width is the sum of its characters' East
//   Asian widths. test/string-width-once.test.ts checks that, for every character of the ranges
//   alone and next to every other, string-width itself gives the same width.
// It fails the build if string-width's code changes, so the change is never silently lost.
import {readFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {replaceOnce} from './replace-once.mjs';

/**
 * Inclusive ranges of code points, in order, whose width is their East Asian width and that never
 * join another into one grapheme: printable Latin-1 (not the soft hyphen, a format character), the
 * Latin extensions, general punctuation without its format characters and separators, and symbols
 * (those shown as emoji by default are two columns wide, as their East Asian width says).
 */
export const SIMPLE_RANGES = [
	[0x20, 0x7e],
	[0xa0, 0xac],
	[0xae, 0x24f],
	[0x2010, 0x2027],
	[0x2030, 0x205e],
	// Arrows, mathematical operators.
	[0x2190, 0x22ff],
	// Box drawing, block elements, geometric shapes, miscellaneous symbols, dingbats.
	[0x2500, 0x27bf],
];

const require = createRequire(new URL('../package.json', import.meta.url));

const REPLACEMENTS = [
	['const segmenter = new Intl.Segmenter();\n', 'let segmenter;\n'],
	['for (const {segment} of segmenter.segment(string)) {', 'for (const {segment} of (segmenter ??= new Intl.Segmenter()).segment(string)) {'],
	...['visibleCharacterRegex', 'spacingMarkRegex', 'rgiEmojiRegex'].map(name => [`const ${name} = /`, `const ${name} = lazyRegex(() => /`]),
	[']/v;\nconst spacingMarkRegex', ']/v);\nconst spacingMarkRegex'],
	['/\\p{Spacing_Mark}/v;\n', '/\\p{Spacing_Mark}/v);\n'],
	['/^\\p{RGI_Emoji}$/v;\n', '/^\\p{RGI_Emoji}$/v);\n'],
	[
		'\tlet width = 0;\n\tconst eastAsianWidthOptions = {ambiguousAsWide: !ambiguousIsNarrow};\n',
		'\tconst eastAsianWidthOptions = {ambiguousAsWide: !ambiguousIsNarrow};\n\tconst simple = simpleWidth(string, eastAsianWidthOptions);\n\tif (simple >= 0) {\n\t\treturn simple;\n\t}\n\n\tlet width = 0;\n',
	],
];

const HELPERS = `
// orgctl's string-width-once (scripts/string-width-once.mjs).
function lazyRegex(make) {
	let regex;
	return {
		test: string => (regex ??= make()).test(string),
		[Symbol.search]: string => string.search(regex ??= make()),
	};
}

const SIMPLE_RANGES = ${JSON.stringify(SIMPLE_RANGES.flat())};

/** The width of a text of SIMPLE_RANGES' characters only, each a grapheme of its own; -1 for any other text. */
function simpleWidth(string, eastAsianWidthOptions) {
	let width = 0;
	for (let i = 0; i < string.length; i++) {
		const code = string.charCodeAt(i);
		let simple = false;
		for (let r = 0; r < SIMPLE_RANGES.length; r += 2) {
			if (code < SIMPLE_RANGES[r]) break;
			if (code <= SIMPLE_RANGES[r + 1]) {
				simple = true;
				break;
			}
		}
		if (!simple) {
			return -1;
		}
		width += code <= 0x7E ? 1 : eastAsianWidth(code, eastAsianWidthOptions);
	}
	return width;
}
`;

/** string-width's source with the changes above; throws if it no longer looks as they expect. */
export function patchStringWidth(source, path) {
	return replaceOnce(source, REPLACEMENTS, {plugin: 'string-width-once', path, what: 'how string-width starts and measures'}) + HELPERS;
}

export const stringWidthOnce = {
	name: 'string-width-once',
	setup(build) {
		const main = require.resolve('string-width');
		if (JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')).version.split('.')[0] !== '8') throw new Error('string-width-once: string-width is no longer 8.x; check the plugin against it.');
		build.onResolve({filter: /^string-width$/}, args => (/[\\/]node_modules[\\/]wrap-ansi[\\/]/.test(args.importer) ? {path: main} : undefined));
		build.onLoad({filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/}, async args => {
			if (args.path !== main) return undefined;
			return {contents: patchStringWidth(await readFile(args.path, 'utf8'), args.path), loader: 'js'};
		});
	},
};
