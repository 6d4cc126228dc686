import {consoleInvocation, reportError, runCli} from '../cli/program.js';
import {checkStore} from '../store/check.js';
import {openContext, resolveStorePath} from './context.js';
import {isPostgresAddress} from '../store/postgres/address.js';
import {checkPostgres, copyStore, migrateStore} from './store-admin.js';

/**
 * orgctl's entry: with no arguments (or only --store and --tenant) the full-screen console, anything
 * else a subcommand for scripts. Both get their Context from this composition root.
 */
export async function main(argv: readonly string[]): Promise<number> {
	const globals = consoleInvocation(argv);
	if (!globals) {
		endQuietlyWhenTheReaderLeaves(process.stdout);
		return runCli(argv, {
			resolveStorePath,
			open: (storePath, options) => openContext(storePath, {keyFile: options?.keyFile, ...(options?.oneShot === true ? {store: {oneShot: true}} : {})}),
			check: (storePath, options) => (isPostgresAddress(storePath) ? checkPostgres(storePath, options?.keyFile) : checkStore(storePath)),
			migrate: migrateStore,
			copyStore,
		});
	}
	const dumb = process.env['TERM'] === 'dumb';
	if (!process.stdin.isTTY || !process.stdout.isTTY || dumb) {
		process.stderr.write(
			`orgctl: the console needs a terminal${dumb ? ' that is not TERM=dumb' : ' on stdin and stdout'}; for scripts use the subcommands (orgctl --help), e.g. orgctl users list --json.\n`,
		);
		return 2;
	}
	try {
		// Ink and React load only for the console.
		const {startConsole} = await import('./console.js');
		return await startConsole({storePath: resolveStorePath(globals.store), keyFile: globals.keyFile, tenant: globals.tenant ?? process.env['ORGCTL_TENANT'] ?? undefined});
	} catch (error) {
		return reportError(error);
	}
}

/**
 * `orgctl users list --json | head -1`: once the reader has gone, what is still to print has no
 * one to read it. The command ends as it would have (its change, if any, is already committed),
 * quietly, with its own status (0 for a list), instead of dying of an unhandled EPIPE with a
 * stack trace (clig.dev). Any other write error is still thrown.
 */
export function endQuietlyWhenTheReaderLeaves(stream: NodeJS.WriteStream): void {
	let gone = false;
	stream.on('error', (error: NodeJS.ErrnoException) => {
		if (gone) return;
		if (error.code !== 'EPIPE') throw error;
		gone = true;
		// Later writes go nowhere rather than fail again.
		stream.write = () => true;
	});
}
