import type {Actor} from '../../core/context.js';
import {copyDatabase, type Database} from '../../core/model.js';
import type {DialogRequest} from '../components/dialogs.js';
import type {Revealed, StatusMessage} from '../console-context.js';
import type {SessionKey} from '../session.js';

/** Where the console is: the first-run form, sign-in, or signed in under a session. */
export type Screen = {readonly kind: 'first-run'} | {readonly kind: 'login'; readonly notice?: string | undefined} | {readonly kind: 'main'; readonly actor: Actor; readonly session: SessionKey};

/** The console shell's navigation, as one value a pure reducer changes (gemini-cli: "prefer a reducer"). */
export type ShellState = {
	readonly screen: Screen;
	/** Bumped to remount the sign-in form when the console stays on it with a new notice. */
	readonly loginKey: number;
	/** The open section; undefined opens the first one the actor may see. */
	readonly sectionId: string | undefined;
	readonly help: boolean;
	/** The tenant switcher (T, superusers) covers the body. */
	readonly picker: boolean;
	readonly dialog: DialogRequest | undefined;
	readonly status: StatusMessage | undefined;
	/** A value shown whole across the screen (a token's secret, the last command), over the section. */
	readonly revealed: Revealed | undefined;
	/**
	 * The data as last read, as a copy: the store changes its data object in place when this process
	 * commits, so the version (bumped on every commit) is what tells a new state from the old one.
	 */
	readonly db: Database;
	/** Actions under way: a periodic refresh does not judge the session while one may be renewing it. */
	readonly running: number;
	/** Forms with unsaved input (their ids): Ctrl-C asks before quitting. */
	readonly dirty: readonly string[];
};

export type ShellAction =
	/** The store was read again. */
	| {readonly type: 'data'; readonly db: Database}
	/** Signed in (first run, sign-in, an accepted invitation, a sign-up) under a new session. */
	| {readonly type: 'signed-in'; readonly actor: Actor; readonly session: SessionKey; readonly db: Database; readonly status: StatusMessage}
	/**
	 * Back to sign-in, saying why; `remount` clears the sign-in form. The status line of whoever was
	 * signed in goes with them (the next person at the keyboard is not shown it), unless `status`
	 * says what the sign-out did.
	 */
	| {readonly type: 'signed-out'; readonly notice: string; readonly remount?: boolean; readonly status?: StatusMessage}
	/** The signed-in actor as the store now has them (a role change shows at once), or a renewed session. */
	| {readonly type: 'session'; readonly actor?: Actor; readonly session?: SessionKey}
	/** Open a section by id, or step through `ids` (the sections the actor sees) from the open one. */
	| {readonly type: 'section'; readonly id: string}
	| {readonly type: 'section.step'; readonly ids: readonly string[]; readonly step: 1 | -1}
	| {readonly type: 'help'; readonly open: boolean}
	| {readonly type: 'picker'; readonly open: boolean}
	| {readonly type: 'dialog'; readonly dialog: DialogRequest | undefined}
	| {readonly type: 'status'; readonly status: StatusMessage | undefined}
	| {readonly type: 'reveal'; readonly revealed: Revealed | undefined}
	| {readonly type: 'running'; readonly delta: 1 | -1}
	| {readonly type: 'dirty'; readonly id: string; readonly dirty: boolean};

export function initialShell(screen: Screen, db: Database): ShellState {
	return {screen, loginKey: 0, sectionId: undefined, help: false, picker: false, dialog: undefined, status: undefined, revealed: undefined, db: copyDatabase(db), running: 0, dirty: []};
}

export function shellReducer(state: ShellState, action: ShellAction): ShellState {
	switch (action.type) {
		case 'data':
			return state.db.version === action.db.version ? state : {...state, db: copyDatabase(action.db)};
		case 'signed-in':
			// The actor acts under the console's session: every change asks the store whether it is still live (core/standing.ts).
			return {...state, screen: {kind: 'main', actor: {...action.actor, sessionId: action.session.id}, session: action.session}, sectionId: undefined, db: copyDatabase(action.db), status: action.status};
		case 'signed-out':
			return {
				...state,
				screen: {kind: 'login', notice: action.notice},
				loginKey: action.remount ? state.loginKey + 1 : state.loginKey,
				status: action.status,
				revealed: undefined,
				help: false,
				picker: false,
				sectionId: undefined,
			};
		case 'session': {
			if (state.screen.kind !== 'main') return state;
			const session = action.session ?? state.screen.session;
			const screen = {...state.screen, actor: {...(action.actor ?? state.screen.actor), sessionId: session.id}, session};
			return {...state, screen};
		}
		case 'section':
			return {...state, sectionId: action.id};
		case 'section.step': {
			if (action.ids.length === 0) return state;
			const at = Math.max(0, action.ids.indexOf(state.sectionId ?? action.ids[0]!));
			return {...state, sectionId: action.ids[(at + action.step + action.ids.length) % action.ids.length]!};
		}
		case 'help':
			return state.help === action.open ? state : {...state, help: action.open};
		case 'picker':
			return state.picker === action.open ? state : {...state, picker: action.open};
		case 'dialog':
			return {...state, dialog: action.dialog};
		case 'status':
			return {...state, status: action.status};
		case 'reveal':
			return {...state, revealed: action.revealed};
		case 'running':
			return {...state, running: state.running + action.delta};
		case 'dirty': {
			const was = state.dirty.includes(action.id);
			if (was === action.dirty) return state;
			return {...state, dirty: action.dirty ? [...state.dirty, action.id] : state.dirty.filter(id => id !== action.id)};
		}
	}
}

/**
 * What Ctrl-C does now: `exit` at once, or `ask` first because a form holds unsaved input. A
 * question on screen is answered No before either (the caller does that); only the quit question
 * itself lets a second Ctrl-C mean "yes, quit" — any other question, a delete's `[y/N]` say, must
 * not let Ctrl-C skip the unsaved-input question.
 */
export function interruptOutcome(state: Pick<ShellState, 'dialog' | 'dirty'>): 'exit' | 'ask' {
	if (isQuitQuestion(state.dialog)) return 'exit';
	return state.dirty.length > 0 ? 'ask' : 'exit';
}

export function isQuitQuestion(dialog: DialogRequest | undefined): boolean {
	return dialog?.kind === 'confirm' && dialog.purpose === 'quit';
}
