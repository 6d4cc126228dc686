// Ink's Output draws a frame cell by cell (node_modules/ink/build/output.js): each line is clipped
// with slice-ansi, split into styled characters with @alcalzone/ansi-tokenize, and every row is
// joined back into a string, comparing each cell's styles with the one before. ink-frame-caches
// keeps those answers from one frame to the next, but the console's first frame has nothing
// cached, and in a fresh process all of that code runs cold. Of the console's first frame at 80×24
// with 10,000 users, styledCharsToString took ~21 ms of the 49 ms under Ink's onRender (node
// --cpu-prof of the console's start): diffAnsiCodes for each of the 1,840 cells, three Sets and an
// undo list each, to find that a cell has the same styles as the one before, as nearly all have.
//
// This esbuild plugin gives it a short way, answering exactly what the long way answers
// (test/ui/ink-first-frame.test.ts compares both on generated frames and strings, byte for byte):
// a cell whose styles are the ones before it (the same codes, in order) adds nothing, as
// diffAnsiCodes of equal lists is empty; consecutive characters of a line share one styles list,
// so that is usually found by identity. It fails the build if the library's code changes, so the
// change is never silently lost.
import {readFile} from 'node:fs/promises';

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

const FILES = [
	{file: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/, replacements: STYLED_CHARS, what: 'how ansi-tokenize joins styled characters'},
];

export const inkFirstFrame = {
	name: 'ink-first-frame',
	setup(build) {
		for (const {file, replacements, what} of FILES) {
			build.onLoad({filter: file}, async args => {
				let source = await readFile(args.path, 'utf8');
				for (const [from, to] of replacements) {
					if (source.split(from).length !== 2) throw new Error(`ink-first-frame: ${args.path} changed; check ${what} now, and drop or update this plugin.`);
					source = source.replace(from, () => to);
				}
				return {contents: source, loader: 'js'};
			});
		}
	},
};
