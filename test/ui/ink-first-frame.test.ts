import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {tokenize} from '@alcalzone/ansi-tokenize';
import sliceAnsi from 'slice-ansi';
import stringWidth from 'string-width';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {SIMPLE} from '../../scripts/ink-first-frame.mjs';
import {withAndWithout} from '../helpers/bundle.js';
import {seedRoot, seedUsers, signIn, spawnConsole} from '../helpers/term.js';

type Run = {frames: string[]; slices: string[]; tokens: string[]; strings: string[]};

function run(script: string, count: number, seed: number): Run {
	return JSON.parse(execFileSync(process.execPath, [script, String(count), String(seed)], {encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024})) as Run;
}

/** Every character of SIMPLE, one by one. */
function simpleCharacters(): string[] {
	const pattern = new RegExp(`^[${SIMPLE}]$`, 'u');
	const characters = [];
	for (let code = 0; code <= 0xff_ff; code++) {
		const character = String.fromCodePoint(code);
		if (pattern.test(character)) characters.push(character);
	}
	return characters;
}

describe("Ink's first-frame short ways (scripts/ink-first-frame.mjs, in every bundle)", () => {
	let patched: string;
	let plain: string;
	let remove = (): void => undefined;
	afterAll(() => remove());
	beforeAll(async () => {
		({patched, plain, remove} = await withAndWithout('ink-output-frames.ts', 'ink-first-frame'));
	});

	it('is in the bundle dist/ is built with', () => {
		expect(readFileSync(patched, 'utf8')).toContain('sameStyles');
		expect(readFileSync(plain, 'utf8')).not.toContain('sameStyles');
	});

	it.each([18, 7, 2026])('draws every generated frame, and answers every slice and tokenize, exactly as the libraries do (seed %i)', seed => {
		const expected = run(plain, 200, seed);
		const actual = run(patched, 200, seed);
		// The run is what it says: many different frames, in colour, with wide characters, and some text in nearly every frame.
		expect(new Set(expected.frames).size).toBeGreaterThan(150);
		expect(expected.frames.filter(frame => frame.trim() !== '').length).toBeGreaterThan(180);
		expect(expected.frames.join('')).toContain('\u001B[');
		expect(expected.frames.join('')).toContain('名前');
		expect(expected.frames.join('')).toContain('›');
		expect(actual.frames).toEqual(expected.frames);
		expect(actual.slices).toEqual(expected.slices);
		expect(actual.tokens).toEqual(expected.tokens);
		expect(actual.strings).toEqual(expected.strings);
	});

	it('takes as SIMPLE only characters that are one column and their own grapheme for string-width, slice-ansi and ansi-tokenize', () => {
		const characters = simpleCharacters();
		expect(characters.length).toBeGreaterThan(500);
		const segmenter = new Intl.Segmenter(undefined, {granularity: 'grapheme'});
		const wrong = characters.filter(character => {
			const around = `a${character}${character}\u001B[1mb`;
			const tokens = tokenize(around).filter(token => token.type === 'char');
			return (
				stringWidth(character) !== 1 ||
				[...segmenter.segment(`a${character}${character}b`)].length !== 4 ||
				tokens.length !== 4 ||
				tokens.some(token => token.fullWidth) ||
				tokens[1]?.value !== character ||
				sliceAnsi(`a${character}${character}b`, 1, 3) !== character + character ||
				sliceAnsi(`a${character}b`, 0, 3) !== `a${character}b`
			);
		});
		expect(wrong).toEqual([]);
	});
});

describe('the console draws its first frames without a grapheme segmenter (scripts/ink-first-frame.mjs)', () => {
	it('creates no Intl.Segmenter from start to the Users section and the frames of a few moves, though its lines are styled', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'orgctl-test-'));
		try {
			const {ctx, root} = await seedRoot(dir);
			await seedUsers(ctx, root.tenant.id, [{username: 'ada'}, {username: 'grace'}]);
			await signIn(ctx, root, dir);
			const log = join(dir, 'segmenters.log');
			// Preloaded into the console: a line in the log for each Intl.Segmenter the process creates, naming where.
			const preload = join(dir, 'count-segmenters.cjs');
			writeFileSync(
				preload,
				`const {appendFileSync} = require('node:fs');
const Real = Intl.Segmenter;
Intl.Segmenter = class extends Real {
	constructor(...args) {
		super(...args);
		appendFileSync(${JSON.stringify(log)}, new Error().stack.split('\\n').slice(2, 5).join(' | ') + '\\n');
	}
};
`,
			);
			const t = spawnConsole({dir, env: {FORCE_COLOR: '3', NODE_OPTIONS: `--require ${preload}`}});
			try {
				await t.waitReady('main:users', 30_000);
				await t.waitFor('grace');
				// Moves draw new frames of the same lines (a section with a warning sign, ⚠, would need the segmenter).
				await t.press('j', 'j', 'k');
				await t.settle(300, 10_000);
				// Its lines are styled (SGR codes), which slice-ansi tokenized with a segmenter.
				expect(t.output()).toContain('\u001B[');
				await t.press('q');
				expect((await t.exited).exitCode).toBe(0);
			} finally {
				t.kill('SIGKILL');
			}
			expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
			// The preload counts: a segmenter made on purpose is logged (an empty log is not a preload that did nothing).
			execFileSync(process.execPath, ['--require', preload, '-e', 'new Intl.Segmenter()']);
			expect(readFileSync(log, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
});
