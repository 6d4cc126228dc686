import {readSessionFile} from '../adapters/session-file.js';
import {authenticateSession, signInToAct} from '../core/accounts.js';
import type {Actor, Context} from '../core/context.js';
import {authFailed} from '../core/errors.js';
import {inert, inertLines} from '../core/inert.js';
import {authenticateToken} from '../core/tokens.js';

export type GlobalOptions = {store?: string | undefined; tenant?: string | undefined; keyFile?: string | undefined; json?: boolean | undefined};

/** A mistake in how orgctl was called: exit 2. */
export class UsageError extends Error {}

/** One thing `orgctl admin check` looked at, what it found and (when it is wrong) the fix. */
export type StoreFinding = {readonly subject: string; readonly ok: boolean; readonly detail: string; readonly fix?: string};

/** What `orgctl admin check` found: healthy when nothing needs a person's hand. */
export type StoreReport = {readonly path: string; readonly realPath: string; readonly healthy: boolean; readonly findings: readonly StoreFinding[]};

/** What `orgctl admin copy-store` did (source/app/store-admin.ts). */
export type CopyStoreReport = {
	readonly from: string;
	readonly to: string;
	readonly counts: Readonly<Record<string, number>>;
	readonly records: number;
	readonly keyFile: {readonly from: string; readonly to: string; readonly copied: boolean};
};

/** How the command line gets its store: the composition root (source/app) hands this in. */
export type ContextSource = {
	/** The store `--store` (or the environment, or the default) names: a file's path or a postgres:// address. */
	resolveStorePath(option: string | undefined): string;
	/**
	 * Opens the store; `keyFile` is --key-file (a PostgreSQL store's key file); `oneShot`: for a
	 * command that only reads, then ends (a file store's StoreOptions.oneShot).
	 */
	open(storePath: string, options?: {keyFile?: string | undefined; oneShot?: boolean}): Promise<Context>;
	/** Applies pending schema migrations (`orgctl admin migrate`): the names applied. */
	migrate(storePath: string): Promise<{readonly store: string; readonly applied: readonly string[]; readonly backend: 'file' | 'postgres'}>;
	/** Copies a store into an empty one and reads every record back (`orgctl admin copy-store`). */
	copyStore(from: string, to: string, options: {keyFile?: string | undefined}): Promise<CopyStoreReport>;
	/** Looks at the store without opening it for use, changing nothing (`orgctl admin check`). */
	check(storePath: string, options?: {keyFile?: string | undefined}): StoreReport | Promise<StoreReport>;
};

/** What a command needs: the global options, the store, who is acting, and output that respects --json. */
export class CliContext {
	exitCode = 0;
	private globals: GlobalOptions = {};
	private context: Promise<Context> | undefined;
	private acting: Promise<Actor> | undefined;

	constructor(private readonly source: ContextSource) {}

	setGlobals(options: GlobalOptions): void {
		this.globals = options;
	}

	get storePath(): string {
		return this.source.resolveStorePath(this.globals.store);
	}

	get keyFile(): string | undefined {
		return this.globals.keyFile;
	}

	/** A store named on the command line (admin copy-store FROM TO): a path made absolute, or a postgres:// address. */
	resolveStore(given: string): string {
		return this.source.resolveStorePath(given);
	}

	/** `orgctl admin migrate` on the store --store names. */
	migrateStore(): ReturnType<ContextSource['migrate']> {
		return this.source.migrate(this.storePath);
	}

	/** `orgctl admin copy-store FROM TO`. */
	copyStore(from: string, to: string): Promise<CopyStoreReport> {
		return this.source.copyStore(this.resolveStore(from), this.resolveStore(to), {keyFile: this.globals.keyFile});
	}

	get tenant(): string | undefined {
		return this.globals.tenant ?? process.env['ORGCTL_TENANT'] ?? undefined;
	}

	get json(): boolean {
		return this.globals.json === true;
	}

	/** What is wrong with the store and how to recover it; works on a store that cannot be opened. */
	checkStore(): Promise<StoreReport> {
		return Promise.resolve(this.source.check(this.storePath, {keyFile: this.globals.keyFile}));
	}

	ctx(): Promise<Context> {
		this.context ??= this.source.open(this.storePath, {keyFile: this.globals.keyFile});
		return this.context;
	}

	/**
	 * The context of a command that only reads (a list, a show): its store is opened for one read
	 * (StoreOptions.oneShot). Should it commit after all (a token's last use, a refusal audited),
	 * it does so as any command does.
	 */
	readingCtx(): Promise<Context> {
		this.context ??= this.source.open(this.storePath, {keyFile: this.globals.keyFile, oneShot: true});
		return this.context;
	}

	/**
	 * Who is acting: an API token in ORGCTL_TOKEN, ORGCTL_USER + ORGCTL_PASSWORD (scripts, CI), or the
	 * session left by `orgctl login`, in that order. Each is checked by the core, which audits a
	 * credential it refuses and a tenant a user may not act in. Asked once per command.
	 */
	actor(): Promise<Actor> {
		this.acting ??= this.authenticate();
		return this.acting;
	}

	private async authenticate(): Promise<Actor> {
		const ctx = await this.ctx();
		const token = process.env['ORGCTL_TOKEN'];
		if (token) return authenticateToken(ctx, token, this.tenant);
		const user = process.env['ORGCTL_USER'];
		const password = process.env['ORGCTL_PASSWORD'];
		if (user && password !== undefined) {
			return signInToAct(ctx, {identifier: user, password}, this.tenant);
		}
		// Keyed by the store's real path, as `orgctl login` wrote it: a link and its target share sessions.
		const session = readSessionFile(ctx.store.path);
		if (!session) throw authFailed('You are not signed in: run `orgctl login --username U --password-stdin`, or set ORGCTL_USER and ORGCTL_PASSWORD, or ORGCTL_TOKEN.');
		return authenticateSession(ctx, session, this.tenant);
	}

	/**
	 * Prints data: JSON on stdout with --json (exact: JSON.stringify escapes every control
	 * character), otherwise a table or the given text, inert (DESIGN §4a): what the text quotes from
	 * the store or from outside cannot act on the terminal.
	 */
	print(data: unknown, human: () => string): void {
		process.stdout.write(this.json ? `${JSON.stringify(data, null, 2)}\n` : inertLines(human()));
	}

	/** Lines of data for people on stdout, inert, even with --json (a link printed before the JSON is ready). */
	out(text: string): void {
		process.stdout.write(`${inert(text)}\n`);
	}

	/** A message for people (stderr, so stdout stays data): one line, inert. */
	say(message: string): void {
		process.stderr.write(`${inert(message)}\n`);
	}

	/** Lets go of the store (a PostgreSQL store's connection; a file store holds nothing between commands). */
	async close(): Promise<void> {
		const opened = this.context;
		this.context = undefined;
		const ctx = await opened?.catch(() => undefined);
		await ctx?.store.close?.();
	}
}

/** How a column of a CLI table may be cut. */
export type ColumnOptions = {
	/** Never cut (a link to copy): the line may then be wider than the terminal. */
	readonly whole?: boolean;
	/** Widest it gets (default COLUMN_MAX). */
	readonly max?: number;
	/** Who gives way on a narrow terminal: the lowest priority is cut first (default 5). */
	readonly priority?: number;
};

export type TableColumn = readonly [key: string, title: string, options?: ColumnOptions];

/** No column is wider than this unless it says so: one long value must not push the rest off the line. */
export const COLUMN_MAX = 48;
/** A column gives way to fit a terminal down to this (or its title, or its widest cell, if less). */
const COLUMN_MIN = 8;
const GAP = '  ';

/** The terminal's width when stdout is one, else undefined (a pipe or a file gets every line whole up to the column caps). */
export function terminalColumns(): number | undefined {
	return process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined;
}

const length = (text: string) => [...text].length;

/** `text` in at most `width` columns, `…` marking a cut. */
function cut(text: string, width: number): string {
	const chars = [...text];
	return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

/**
 * Aligned columns for people; `--json` output is the stable interface for scripts. Every cell is
 * inert (its control characters shown escaped), no column is wider than its cap (COLUMN_MAX unless
 * it says otherwise; a cut ends in `…`), and when stdout is a terminal columns give way, lowest
 * priority first, until each line fits its width.
 */
export function table(rows: ReadonlyArray<Record<string, string | number | boolean | null | undefined>>, columns: readonly TableColumn[], options: {width?: number | undefined} = {width: terminalColumns()}): string {
	if (rows.length === 0) return '(none)\n';
	const titles = columns.map(([, title]) => title.toUpperCase());
	const cells = rows.map(row => columns.map(([key]) => inert(format(row[key]))));
	const natural = columns.map((_, i) => Math.max(titles[i]!.length, ...cells.map(c => length(c[i]!))));
	const widths = columns.map(([, , o], i) => (o?.whole ? natural[i]! : Math.min(natural[i]!, Math.max(titles[i]!.length, o?.max ?? COLUMN_MAX))));
	if (options.width !== undefined) {
		const floors = columns.map(([, , o], i) => (o?.whole ? widths[i]! : Math.min(widths[i]!, Math.max(titles[i]!.length, COLUMN_MIN))));
		let over = widths.reduce((sum, w) => sum + w, 0) + GAP.length * (columns.length - 1) - options.width;
		// Lowest priority first, and among equals the widest, each gives what it can down to its floor.
		const order = columns.map((_, i) => i).sort((a, b) => (columns[a]![2]?.priority ?? 5) - (columns[b]![2]?.priority ?? 5) || widths[b]! - widths[a]!);
		for (const i of order) {
			if (over <= 0) break;
			const give = Math.min(over, widths[i]! - floors[i]!);
			widths[i]! -= give;
			over -= give;
		}
	}
	const line = (values: readonly string[]) =>
		values
			.map((v, i) => {
				const fitted = columns[i]![2]?.whole ? v : cut(v, widths[i]!);
				return i === values.length - 1 ? fitted : fitted + ' '.repeat(Math.max(0, widths[i]! - length(fitted)));
			})
			.join(GAP)
			.trimEnd();
	return [line(titles), ...cells.map(line)].join('\n') + '\n';
}

function format(value: string | number | boolean | null | undefined): string {
	if (value === null || value === undefined) return '-';
	if (typeof value === 'boolean') return value ? 'yes' : 'no';
	return String(value);
}

/** Reads a secret from stdin for `--password-stdin` (one trailing newline removed). */
export async function readStdinSecret(): Promise<string> {
	if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from a pipe, e.g. `printf %s "$PW" | orgctl ...`.');
	const chunks: Buffer[] = [];
	for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
	const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
	if (text === '') throw new UsageError('--password-stdin got an empty password.');
	return text;
}

/** The password for a command: from stdin with --password-stdin, else asked for on the terminal without echo. */
export async function obtainPassword(options: {passwordStdin?: boolean}, prompt = 'Password: '): Promise<string> {
	if (options.passwordStdin) return readStdinSecret();
	if (!process.stdin.isTTY) throw new UsageError('no terminal to ask for the password: pass it with --password-stdin.');
	return askHidden(prompt);
}

async function askHidden(prompt: string): Promise<string> {
	const {stdin, stderr} = process;
	stderr.write(inert(prompt));
	stdin.setRawMode(true);
	stdin.resume();
	return new Promise((resolvePromise, reject) => {
		let value = '';
		const onData = (data: Buffer) => {
			for (const ch of data.toString('utf8')) {
				if (ch === '\r' || ch === '\n') {
					done();
					resolvePromise(value);
					return;
				}
				if (ch === '\u0003') {
					done();
					reject(new UsageError('cancelled.'));
					return;
				}
				if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
				else value += ch;
			}
		};
		const done = () => {
			stdin.off('data', onData);
			stdin.setRawMode(false);
			stdin.pause();
			stderr.write('\n');
		};
		stdin.on('data', onData);
	});
}
