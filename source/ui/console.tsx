/** Options the command line passes to the console. */
export type ConsoleOptions = {readonly storePath: string; readonly tenant: string | undefined};

/** Opens the full-screen console; resolves with the process exit code. */
export async function startConsole(_options: ConsoleOptions): Promise<number> {
	process.stderr.write('orgctl: the full-screen console is being built (issue 3); use the subcommands meanwhile (orgctl --help).\n');
	return 1;
}
