import {createContext, useContext} from 'react';
import type {Actor, Context} from '../core/context.js';
import {isOrgError} from '../core/errors.js';
import type {Database} from '../core/model.js';
import type {FormError} from './form-state.js';

/** What the status line shows after something happened. */
export type StatusMessage = {
	readonly kind: 'info' | 'success' | 'error';
	readonly text: string;
	/** The equivalent `orgctl` command, so what was done by hand can be scripted next time. */
	readonly command?: string | undefined;
};

/** One action a section runs through `run()`. */
export type ConsoleAction<T> = {
	/** The core operation; throw an OrgError (as the core does) to refuse with its sentence. */
	readonly task: () => Promise<T> | T;
	/** The equivalent `orgctl` command line, shown after success (and after a refusal, so it can be retried from a shell). */
	readonly command?: string;
	/** Shown while the task runs, e.g. "Sending the invitation…". */
	readonly busy?: string;
	/** Shown after success. */
	readonly done?: string | ((result: T) => string);
	/** Also told the refusal (its sentence and the input at fault), to show it inside the form the user will retry. */
	readonly failed?: (error: FormError) => void;
};

/**
 * A value shown whole across the screen (a token's secret, the last command), with `y` to copy it:
 * at 80 columns a 76-character secret fits on one line, which the section pane could not give it.
 */
export type Revealed = {
	readonly title: string;
	readonly value: string;
	/** What it is, said when copied: "The secret", "The command". */
	readonly what: string;
	/** Lines shown above the value (a warning that it is shown only once, the message it belongs to). */
	readonly lead?: readonly string[];
	/** Shown under it (how to use it). */
	readonly note?: string;
	/** Emphasise the lead lines as a warning. */
	readonly warning?: boolean;
};

/**
 * What every section gets from the console (through `useConsole()`): the core context and the
 * signed-in actor, the data as last read, and the few things a section does to the screen.
 */
export type ConsoleApi = {
	readonly ctx: Context;
	/** Who is signed in; re-resolved from the store on every refresh (a role change or a disable shows at once). */
	readonly actor: Actor;
	/** The data as last read; sections derive their rows from it (with useMemo on `db`). Do not mutate. */
	readonly db: Database;
	/** Picks up what other processes committed now (R). Changes reach the console without it: the store tells of each (StorePort.subscribe). */
	readonly refresh: () => void;
	/** Runs a core operation (after checking the session is still live): shows `busy`, then `done` and the command, or the refusal's sentence. Resolves undefined when it failed. */
	readonly run: <T>(action: ConsoleAction<T>) => Promise<T | undefined>;
	/** Puts a message (and optionally the equivalent command) on the status line. */
	readonly notify: (message: StatusMessage) => void;
	/** Asks a `[y/N]` question (No is the default); for destructive actions. */
	readonly confirm: (question: string) => Promise<boolean>;
	/** Makes the user type `name` to go ahead; for severe actions (tenant delete, last-owner migration). */
	readonly confirmTyped: (question: string, name: string) => Promise<boolean>;
	/** Opens a fresh session for the actor and acts under it (after changing one's own password, which ends them all). */
	readonly renewSession: () => Promise<void>;
	/** Superusers: act in another tenant (asks first when a form has unsaved input); the header shows where. */
	readonly switchTenant: (name: string) => Promise<void>;
	/** Tells the console a form has unsaved input, so Ctrl-C asks before quitting. */
	readonly setDirty: (id: string, dirty: boolean) => void;
	/** Shows a value whole, full width, with `y` to copy it; Esc closes. */
	readonly reveal: (value: Revealed) => void;
};

export const ConsoleContext = createContext<ConsoleApi | undefined>(undefined);

/** The console's API, for sections and their components. */
export function useConsole(): ConsoleApi {
	const api = useContext(ConsoleContext);
	if (!api) throw new Error('useConsole() is for components inside the signed-in console.');
	return api;
}

/**
 * What forms need from the shell on every screen (also before sign-in): to report unsaved input,
 * so Ctrl-C asks first, and to ask `[y/N]` (Esc on a form with typed input).
 */
export type FormHost = {
	readonly setDirty: (id: string, dirty: boolean) => void;
	readonly confirm: (question: string) => Promise<boolean>;
};

export const FormHostContext = createContext<FormHost>({setDirty: () => undefined, confirm: () => Promise.resolve(true)});

/** An error as a form shows it: an OrgError's sentence and the input it names. */
export function formError(error: unknown): FormError {
	if (isOrgError(error)) return {message: error.message, field: error.field};
	return {message: `Unexpected error: ${error instanceof Error ? error.message : String(error)}`};
}
