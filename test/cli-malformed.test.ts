import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Command} from 'commander';
import {describe, expect, it} from 'vitest';
import {CliContext} from '../source/cli/context.js';
import {buildProgram} from '../source/cli/program.js';
import {orgctl, type CliResult} from './helpers/cli.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';

/** Every command that runs something: its words, arguments and options, read from the program itself. */
type Runnable = {readonly words: readonly string[]; readonly args: ReadonlyArray<{readonly required: boolean}>; readonly options: ReadonlyArray<{readonly long: string; readonly takesValue: boolean}>};

function runnables(): Runnable[] {
	const program = buildProgram(new CliContext({resolveStorePath: () => 'unused', open: () => Promise.reject(new Error('not opened')), check: () => {
		throw new Error('not checked');
	}, migrate: () => Promise.reject(new Error('not migrated')), copyStore: () => Promise.reject(new Error('not copied'))}));
	const found: Runnable[] = [];
	const walk = (command: Command, words: string[]) => {
		// A command runs something when it has no subcommands, or takes arguments of its own (`signup EMAIL USERNAME`).
		if (command.commands.length === 0 || command.registeredArguments.length > 0) {
			found.push({
				words,
				args: command.registeredArguments.map(a => ({required: a.required})),
				options: command.options.filter(o => o.long && o.long !== '--help').map(o => ({long: o.long!, takesValue: o.required || o.optional})),
			});
		}
		for (const sub of command.commands) walk(sub, [...words, sub.name()]);
	};
	walk(program, []);
	return found;
}

/** What a user may type by mistake, or on purpose. */
const GARBAGE = ['', "\u0001-x'\"$(id)`;|&>%s%n", 'x'.repeat(5000), '\uD800/../../etc/passwd'];

function invocations(command: Runnable, files: {missing: string; folder: string; binary: string; separators: string}): string[][] {
	const base = [...command.words];
	const cases: string[][] = [[...base, '--no-such-option']];
	if (command.args.some(a => a.required)) cases.push(base);
	for (const junk of GARBAGE) {
		const values = command.options.filter(o => o.takesValue).flatMap(o => [o.long, /file|cert|key|metadata|ca-file/.test(o.long) ? files.binary : junk]);
		cases.push([...base, ...command.args.map(() => junk), ...values]);
	}
	for (const path of [files.missing, files.folder, files.binary, files.separators]) {
		const fileOptions = command.options.filter(o => o.takesValue && /file|cert|key|metadata/.test(o.long));
		if (fileOptions.length > 0) cases.push([...base, ...command.args.filter(a => a.required).map(() => 'x'), ...fileOptions.flatMap(o => [o.long, path])]);
	}
	return cases;
}

/** Runs `jobs` at most `width` at a time. */
async function pool<T, R>(items: readonly T[], width: number, job: (item: T) => Promise<R>): Promise<R[]> {
	const results: R[] = new Array(items.length);
	let next = 0;
	await Promise.all(
		Array.from({length: width}, async () => {
			while (next < items.length) {
				const index = next++;
				results[index] = await job(items[index]!);
			}
		}),
	);
	return results;
}

describe('malformed input on the command line', () => {
	it('every subcommand answers malformed arguments, values and files with one sentence and exit 1 or 2, never a stack trace', async () => {
		const {ctx} = await initializedContext();
		const folder = join(ctx.dir, 'a-folder');
		mkdirSync(folder);
		const binary = join(ctx.dir, 'binary.bin');
		writeFileSync(binary, Buffer.from([0, 255, 254, 1, 2, 3, 0x1b, 0x5b, 0x32, 0x4a, 10, 0, 13]));
		// A list of nothing but separators crashed `invites create --file` with a TypeError.
		const separators = join(ctx.dir, 'separators.csv');
		writeFileSync(separators, ',,,\n;\n\t\n');
		const files = {missing: join(ctx.dir, 'no-such-file.csv'), folder, binary, separators};
		const commands = runnables();
		expect(commands.length).toBeGreaterThan(40);
		const cases = commands.flatMap(command => invocations(command, files));
		const env = {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD};
		const results = await pool(cases, 4, async args => ({args, result: await orgctl(ctx.dir, args, {env, input: '\u0000garbage\u0007'})}));
		const wrong = results.filter(({result}) => !answeredPlainly(result));
		expect(wrong.map(({args, result}) => `${JSON.stringify(args.map(a => (a.length > 40 ? `${a.slice(0, 40)}…` : a)))} → ${result.code}: ${result.stderr.slice(0, 300)}`)).toEqual([]);
		// The store is still sound after all of that.
		expect((await orgctl(ctx.dir, ['users', 'list'], {env})).code).toBe(0);
	}, 480_000);
});

/**
 * Refused or a usage error, said in words: exit 1 or 2 (0 only where the garbage was a fair value),
 * something on stderr, no "unexpected error", no stack frame, and no more than the sentence and
 * commander's hint to run --help.
 */
function answeredPlainly(result: CliResult): boolean {
	if (result.code === 0) return !/unexpected error|\n\s+at /.test(result.stderr);
	if (result.code !== 1 && result.code !== 2) return false;
	const lines = result.stderr.trimEnd().split('\n');
	return lines[0] !== '' && lines.length <= 2 && !/unexpected error/i.test(result.stderr) && !/^\s+at /m.test(result.stderr);
}
