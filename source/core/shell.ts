/** Quotes an argument for a POSIX shell only when it needs it, so a shown command can be pasted as it is. */
export function shellQuote(arg: string): string {
	return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An `orgctl` command line as a user would type it (DESIGN §7: what was done by hand can be scripted next time). */
export function orgctlCommand(...args: readonly string[]): string {
	return ['orgctl', ...args.map(shellQuote)].join(' ');
}
