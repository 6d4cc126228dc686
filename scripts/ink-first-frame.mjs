// Ink's Output draws a frame cell by cell (node_modules/ink/build/output.js): each line is clipped
// with slice-ansi, split into styled characters with @alcalzone/ansi-tokenize, and every row is
// joined back into a string, comparing each cell's styles with the one before. ink-frame-caches
// keeps those answers from one frame to the next, but the console's first frame has nothing
// cached, and in a fresh process all of that code runs cold. Of the console's first frame at 80×24
// with 10,000 users (node --cpu-prof of the console's start, the tree under Ink's onRender):
//   - styledCharsToString took ~21 ms of 49: diffAnsiCodes for each of the 1,840 cells, three Sets
//     and an undo list each, to find that a cell has the same styles as the one before;
//   - tokenize ~7 ms of 40: each line's styled characters found grapheme by grapheme
//     (Intl.Segmenter, a width test each), for lines that are plain text and a few SGR codes;
//   - sliceAnsi 3-19 ms: every line is clipped to the root box, and nearly every one lies wholly
//     inside it, yet each is walked grapheme by grapheme again to be cut where it already ends.
//
// This esbuild plugin gives those functions a short way for the common case, each answering exactly
// what the long way answers (test/ui/ink-first-frame.test.ts compares both on generated frames and
// strings, byte for byte):
//   - a cell whose styles are the ones before it (the same codes, in order) adds nothing: diffAnsiCodes
//     of equal lists is empty; consecutive characters of a line share one styles list, so that is
//     usually found by identity;
//   - a line of SIMPLE characters (printable ASCII and the few symbols the console draws, each its
//     own grapheme, one column wide by string-width, slice-ansi and ansi-tokenize alike) with, at
//     most, SGR codes is tokenized one UTF-16 unit at a time, no segmenter;
//   - such a line without escape codes is sliced with String#slice.
// Anything else (wide or combining characters, links, other escapes) takes the library's own way.
// It fails the build if either library's code changes, so the change is never silently lost.
import {readFile} from 'node:fs/promises';
import {replaceOnce} from './replace-once.mjs';

/**
 * Characters that are each a grapheme of their own next to any other of them and one column wide
 * for string-width, slice-ansi and ansi-tokenize: printable ASCII, Latin-1 (not the soft hyphen),
 * Latin Extended-A, general punctuation up to the reference mark (not ‼, an emoji), the four plain
 * arrows, ≤ ≥, box drawing and block elements, ● ★ ✓ ✗. None extends, joins or prepends a grapheme,
 * none is an emoji by presentation or a wide East Asian character; the test checks each of them.
 */
export const SIMPLE = String.raw`\x20-\x7e\xa0-\xac\xae-\u017f\u2010-\u2027\u2030-\u203b\u2190-\u2193\u2264\u2265\u2500-\u259f\u25cf\u2605\u2713\u2717`;

const STYLED_CHARS = [
	[
		'export function styledCharsFromTokens(tokens) {\n    let codes = [];\n    const ret = [];\n    for (const token of tokens) {\n        if (token.type === "ansi") {\n            codes = reduceAnsiCodesIncremental(codes, [token]);\n        }\n        else if (token.type === "char") {\n            ret.push({\n                ...token,\n                styles: [...codes],\n            });\n        }\n    }\n    return ret;\n}\n',
		`export function styledCharsFromTokens(tokens) {
    let codes = [];
    // One copy of the codes for the characters between two of them (orgctl's ink-first-frame): nothing changes a styles list.
    let styles;
    const ret = [];
    for (const token of tokens) {
        if (token.type === "ansi") {
            codes = reduceAnsiCodesIncremental(codes, [token]);
            styles = undefined;
        }
        else if (token.type === "char") {
            ret.push({
                ...token,
                styles: (styles ??= [...codes]),
            });
        }
    }
    return ret;
}
/** Whether two reduced style lists are the same codes in the same order: then diffAnsiCodes(from, to) is empty. */
function sameStyles(from, to) {
    if (from === to)
        return true;
    if (from.length !== to.length)
        return false;
    for (let i = 0; i < from.length; i++) {
        if (from[i].code !== to[i].code || from[i].endCode !== to[i].endCode)
            return false;
    }
    return true;
}
`,
	],
	[
		'        if (i === 0) {\n            ret += ansiCodesToString(char.styles);\n        }\n        else {\n            ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));\n        }\n        ret += char.value;\n        // reset active styles at the end of the string\n        if (i === chars.length - 1) {\n            ret += ansiCodesToString(diffAnsiCodes(char.styles, []));\n        }\n',
		'        if (i === 0) {\n            if (char.styles.length > 0)\n                ret += ansiCodesToString(char.styles);\n        }\n        else if (!sameStyles(chars[i - 1].styles, char.styles)) {\n            ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));\n        }\n        ret += char.value;\n        // reset active styles at the end of the string\n        if (i === chars.length - 1 && char.styles.length > 0) {\n            ret += ansiCodesToString(diffAnsiCodes(char.styles, []));\n        }\n',
	],
];

/**
 * Each of ansi-tokenize and slice-ansi creates an Intl.Segmenter as it loads, and the first one
 * created in a process costs 5-8 ms here (ICU loads its break rules), before the console has drawn
 * anything; its first frame, lines of SIMPLE characters, needs none. Each is created the first
 * time a text needs it; the calls are the same.
 */
const segmenterOnDemand = (declaration, name) => [
	declaration,
	`let ${name}Made;\nconst ${name} = {segment: text => (${name}Made ??= new Intl.Segmenter(undefined, {granularity: 'grapheme'})).segment(text)};\n`,
];

const TOKENIZE = [
	segmenterOnDemand('const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });\n', 'segmenter'),
	[
		'export function tokenize(str, endChar = Number.POSITIVE_INFINITY) {\n    const ret = [];\n',
		`const SIMPLE_RUN = /[${SIMPLE}]+/y;
/**
 * tokenize of a string of SIMPLE characters and SGR codes, one UTF-16 unit a character (orgctl's
 * ink-first-frame); undefined for any other string. Each such character is its own grapheme, and
 * the segmenter breaks before and after an escape, so the tokens are the ones tokenize finds.
 */
function tokenizeSimple(str, endChar) {
    const ret = [];
    let visible = 0;
    let index = 0;
    while (index < str.length) {
        if (str.charCodeAt(index) === 27) {
            if (str.charCodeAt(index + 1) !== CSI)
                return undefined;
            const code = parseSGRSequence(str, index);
            if (!code)
                return undefined;
            for (const individualCode of splitCompoundSGRSequences(code)) {
                ret.push({
                    type: "ansi",
                    code: individualCode,
                    endCode: getEndCode(individualCode),
                });
            }
            index += code.length;
            continue;
        }
        SIMPLE_RUN.lastIndex = index;
        if (!SIMPLE_RUN.test(str))
            return undefined;
        const end = SIMPLE_RUN.lastIndex;
        for (; index < end; index++) {
            ret.push({
                type: "char",
                value: str[index],
                fullWidth: false,
            });
            visible++;
            // tokenize stops here too, unless what follows joins this character's grapheme (e and a combining accent).
            if (visible >= endChar)
                return index + 1 === end && end < str.length && str.charCodeAt(end) !== 27 ? undefined : ret;
        }
    }
    return ret;
}
export function tokenize(str, endChar = Number.POSITIVE_INFINITY) {
    const simple = tokenizeSimple(str, endChar);
    if (simple !== undefined)
        return simple;
    const ret = [];
`,
	],
];

/**
 * slice-ansi tokenizes every line it slices, segmenting the whole of it, escape codes included. A
 * string of SIMPLE characters and escapes is one grapheme per UTF-16 unit (an escape is a control
 * character, which a grapheme never spans, and the characters of a code are ASCII), so its
 * segments are its units, and two SIMPLE characters are never one grapheme: the tokens are the
 * same, found without the segmenter. The console's first frame, lines of such characters styled
 * with SGR codes, then creates none.
 */
const SLICE_TOKENIZE = [
	segmenterOnDemand("const GRAPHEME_SEGMENTER = new Intl.Segmenter(undefined, {granularity: 'grapheme'});\n", 'GRAPHEME_SEGMENTER'),
	[
		'function areValuesInSameGrapheme(leftValue, rightValue) {\n\tconst pair = `${leftValue}${rightValue}`;\n',
		`const SIMPLE_OR_ESCAPE = /^[\\u001B${SIMPLE}]*$/;
/** The grapheme segments of a string: for SIMPLE characters and escapes alone, one a UTF-16 unit, without a segmenter (orgctl's ink-first-frame). */
function segmentsOf(string) {
\tif (!SIMPLE_OR_ESCAPE.test(string)) {
\t\treturn GRAPHEME_SEGMENTER.segment(string);
\t}

\treturn {containing: index => (index >= 0 && index < string.length ? {segment: string[index], index, input: string} : undefined)};
}

function areValuesInSameGrapheme(leftValue, rightValue) {
\tconst pair = \`\${leftValue}\${rightValue}\`;
\tif (SIMPLE_OR_ESCAPE.test(pair)) {
\t\treturn false;
\t}
`,
	],
	['\tconst graphemeSegments = GRAPHEME_SEGMENTER.segment(string);\n', '\tconst graphemeSegments = segmentsOf(string);\n'],
];

const SLICE = [
	[
		'export default function sliceAnsi(string, start, end) {\n',
		`const SIMPLE_LINE = /^[${SIMPLE}]*$/;
export default function sliceAnsi(string, start, end) {
	// A string of SIMPLE characters (no escapes) is one column per UTF-16 unit: the characters from start to end (orgctl's ink-first-frame).
	if (Number.isInteger(start) && start >= 0 && (end === undefined || Number.isInteger(end)) && SIMPLE_LINE.test(string)) {
		return end === undefined ? string.slice(start) : end > start ? string.slice(start, end) : '';
	}
`,
	],
];

const FILES = [
	{file: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/, replacements: STYLED_CHARS, what: 'how ansi-tokenize joins styled characters'},
	{file: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/, replacements: TOKENIZE, what: 'how ansi-tokenize splits a string'},
	{file: /[\\/]slice-ansi[\\/]index\.js$/, replacements: SLICE, what: 'how slice-ansi slices a string'},
	{file: /[\\/]slice-ansi[\\/]tokenize-ansi\.js$/, replacements: SLICE_TOKENIZE, what: "how slice-ansi's tokenizer segments a string"},
];

export const inkFirstFrame = {
	name: 'ink-first-frame',
	setup(build) {
		for (const {file, replacements, what} of FILES) {
			build.onLoad({filter: file}, async args => {
				const source = await readFile(args.path, 'utf8');
				return {contents: replaceOnce(source, replacements, {plugin: 'ink-first-frame', path: args.path, what}), loader: 'js'};
			});
		}
	},
};
