// Ink builds every frame from scratch: each line of text is split into styled characters
// (tokenize, styledCharsFromTokens), clipped to the root box (sliceAnsi, which tokenizes it again)
// and measured (string-width), and its Output keeps the answers in caches that are thrown away
// with it at the end of the frame. A key that moves the cursor changes two rows of the 24 on the
// screen, yet the next frame redoes all of them: at 100,000 users that string work was most of the
// console's CPU per key (node --cpu-prof of the console while keys arrive, bench/console.ts).
//
// This esbuild plugin makes the bundled copy keep those caches from one frame to the next, in two
// generations: what the frame being drawn uses and what the frame before it used. An entry neither
// used is dropped when the next frame starts, so the caches hold about two screens of lines, not
// every line ever shown. Each cached value is a pure function of its key (a line, or a line and a
// slice's bounds), so a frame is the same string as before. It also caches the clipping slice,
// which Ink computed afresh for every line of every frame. It fails the build if Ink's Output
// changes, so the change is never silently lost.
import {readFile} from 'node:fs/promises';
import {replaceOnce} from './replace-once.mjs';

const REPLACEMENTS = [
	[
		'class OutputCaches {\n    widths = new Map();\n    blockWidths = new Map();\n    styledChars = new Map();\n',
		`/** A map that keeps what this frame and the one before used (orgctl's ink-frame-caches). */
class FrameMap {
    current = new Map();
    previous = new Map();
    rotate() {
        this.previous = this.current;
        this.current = new Map();
    }
    get(key) {
        let value = this.current.get(key);
        if (value === undefined) {
            value = this.previous.get(key);
            if (value !== undefined) this.current.set(key, value);
        }
        return value;
    }
    set(key, value) {
        this.current.set(key, value);
    }
}
class OutputCaches {
    widths = new FrameMap();
    blockWidths = new FrameMap();
    styledChars = new FrameMap();
    slices = new FrameMap();
    /** A new frame starts: what the frame before did not use is let go. */
    rotate() {
        this.widths.rotate();
        this.blockWidths.rotate();
        this.styledChars.rotate();
        this.slices.rotate();
        return this;
    }
    /** Each row's cells and text as the last frame drew them. */
    rows = [];
    /** A row's text; the last frame's when the row holds the very same cells (a cell is a cached, shared object). */
    rowString(y, line) {
        const last = this.rows[y];
        if (last !== undefined && last.cells.length === line.length) {
            let same = true;
            for (let x = 0; x < line.length && same; x++) same = line[x] === last.cells[x];
            if (same) return last.text;
        }
        const text = styledCharsToString(line.filter(item => item !== undefined)).trimEnd();
        this.rows[y] = {cells: line, text};
        return text;
    }
    getSlice(line, from, to) {
        const key = from + ':' + to + ':' + line;
        let cached = this.slices.get(key);
        if (cached === undefined) {
            cached = sliceAnsi(line, from, to);
            this.slices.set(key, cached);
        }
        return cached;
    }
`,
	],
	['    caches = new OutputCaches();\n', '    caches = frameCaches.rotate();\n'],
	['                            return sliceAnsi(line, from, to);\n', '                            return this.caches.getSlice(line, from, to);\n'],
	['export default class Output {\n', "const frameCaches = new OutputCaches();\n/** The empty cell, one object for all (so that an unchanged row holds the same cells as before). */\nconst BLANK = {type: 'char', value: ' ', fullWidth: false, styles: []};\nexport default class Output {\n"],
	["                row.push({\n                    type: 'char',\n                    value: ' ',\n                    fullWidth: false,\n                    styles: [],\n                });\n", '                row.push(BLANK);\n'],
	[
		'            .map(line => {\n            // See https://github.com/vadimdemedes/ink/pull/564#issuecomment-1637022742\n            const lineWithoutEmptyItems = line.filter(item => item !== undefined);\n            return styledCharsToString(lineWithoutEmptyItems).trimEnd();\n        })\n',
		'            .map((line, y) => this.caches.rowString(y, line))\n',
	],
];

/** render-node-to-output.js measured every text's width afresh each frame; the Output's caches know it. */
const WIDEST = ['                const currentWidth = widestLine(text);\n', '                const currentWidth = output.caches.getWidestLine(text);\n'];

export const inkFrameCaches = {
	name: 'ink-frame-caches',
	setup(build) {
		build.onLoad({filter: /[\\/]ink[\\/]build[\\/]output\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			return {contents: replaceOnce(source, REPLACEMENTS, {plugin: 'ink-frame-caches', path: args.path, what: 'whether Ink keeps its Output caches across frames'}), loader: 'js'};
		});
		build.onLoad({filter: /[\\/]ink[\\/]build[\\/]render-node-to-output\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			return {contents: replaceOnce(source, [WIDEST], {plugin: 'ink-frame-caches', path: args.path, what: "how Ink measures a text's width"}), loader: 'js'};
		});
	},
};
