import {useCallback, useEffect, useMemo, useRef, useState} from 'react';
import {Box, Text, useApp, useStdout} from 'ink';
import {resolveSession} from '../core/accounts.js';
import {actorFacts, type Actor, type Context} from '../core/context.js';
import {isOrgError} from '../core/errors.js';
import type {Database} from '../core/model.js';
import {mayView} from '../core/policy.js';
import {Dialog, type DialogRequest} from './components/dialogs.js';
import {Help} from './components/help.js';
import {StatusBar} from './components/status-bar.js';
import {ConsoleContext, DirtyContext, type ConsoleAction, type ConsoleApi, type StatusMessage} from './console-context.js';
import {InputRouter, PRIORITY, useKeys} from './input-router.js';
import {FirstRun} from './screens/first-run.js';
import {Login} from './screens/login.js';
import {SECTIONS} from './sections/index.js';
import type {Section} from './sections/section.js';
import {keepSession, sessionNotice, type SessionKey} from './session.js';
import {theme} from './theme.js';

/** Where the console starts: decided before the first frame (see boot.ts). */
export type Screen = {readonly kind: 'first-run'} | {readonly kind: 'login'; readonly notice?: string | undefined} | {readonly kind: 'main'; readonly actor: Actor; readonly session: SessionKey};

export type AppProps = {
	readonly ctx: Context;
	readonly start: Screen;
	readonly tenant: string | undefined;
	/** Emits an OSC title when a screen is ready for keys (for tests and benchmarks). */
	readonly readyMarker?: boolean;
	/** Called once, after the first screen is drawn and takes keys (deferred start-up work goes here). */
	readonly onFirstFrame?: () => void;
};

/** Rows used around the body: header, rule, rule, message line, keys line. */
const CHROME_ROWS = 5;
const PANE_WIDTH = 25;

function useTerminalSize(): {columns: number; rows: number} {
	const {stdout} = useStdout();
	const read = () => ({columns: stdout.columns || 80, rows: stdout.rows || 24});
	const [size, setSize] = useState(read);
	useEffect(() => {
		const onResize = () => setSize(read());
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [stdout]);
	return size;
}

/** The whole console: screens, the shell around them, dialogs, help and the keys that work everywhere. */
export function App(props: AppProps) {
	return (
		<InputRouter>
			<Shell {...props} />
		</InputRouter>
	);
}

function Shell({ctx, start, tenant, readyMarker = false, onFirstFrame}: AppProps) {
	const {exit} = useApp();
	const {stdout} = useStdout();
	const {columns, rows} = useTerminalSize();
	const [screen, setScreen] = useState<Screen>(start);
	// The screen as last set, not as last drawn: the session checks in refresh() and run() must see a
	// session renewed (or ended) a moment ago, before React has rendered it.
	const screenRef = useRef<Screen>(start);
	const changeScreen = useCallback((next: Screen) => {
		screenRef.current = next;
		setScreen(next);
	}, []);
	// Remounts the sign-in form when the console stays on it with a new notice.
	const [loginKey, setLoginKey] = useState(0);
	// Actions under way: a periodic refresh does not judge the session while one may be renewing it.
	const running = useRef(0);
	// A copy: the store changes its data object in place when this process commits, so the version
	// (bumped on every commit) is what tells a new state from the old one.
	const [db, setDb] = useState<Database>(() => ({...ctx.store.read()}));
	const [sectionId, setSectionId] = useState<string | undefined>(undefined);
	const [help, setHelp] = useState(false);
	const [dialog, setDialog] = useState<DialogRequest | undefined>(undefined);
	const [status, setStatus] = useState<StatusMessage | undefined>(undefined);
	const dirty = useRef(new Set<string>());
	const firstFrame = useRef(false);

	const actor = screen.kind === 'main' ? screen.actor : undefined;
	const sections = useMemo(() => (actor ? SECTIONS.filter(s => mayView(actorFacts(actor), s.visibleWith)) : []), [actor]);
	const section: Section | undefined = sections.find(s => s.id === sectionId) ?? sections[0];

	/**
	 * Checks the console's session against the store (it still exists, its secret matches, it has not
	 * expired, its user may sign in) and picks up changes to who is signed in (role, superuser).
	 * False, with the sign-in screen and the reason shown, when it has ended (`orgctl logout`, expiry,
	 * a password reset or change elsewhere). A store error is thrown: the console cannot go on.
	 */
	const checkSession = useCallback((): boolean => {
		const current = screenRef.current;
		if (current.kind !== 'main') return false;
		try {
			const fresh = resolveSession(ctx, current.session, current.actor.tenant.name);
			if (fresh.user !== current.actor.user || fresh.tenant !== current.actor.tenant) changeScreen({...current, actor: fresh});
			return true;
		} catch (error) {
			if (isOrgError(error) && error.kind === 'store') throw error;
			changeScreen({kind: 'login', notice: sessionNotice(error)});
			return false;
		}
	}, [ctx, changeScreen]);

	/** Ends the console with the reason (printed by the caller after the terminal is restored, exit code 1). */
	const fail = useCallback((error: unknown) => exit(error instanceof Error ? error : new Error(String(error))), [exit]);

	const refresh = useCallback(() => {
		try {
			const next = ctx.store.read();
			setDb(previous => (previous.version === next.version ? previous : {...next}));
			if (running.current === 0) checkSession();
		} catch (error) {
			// The store file became unusable (truncated, edited by hand): leave cleanly with its reason,
			// as the deferred validation at start-up does, rather than crash from a timer.
			fail(error);
		}
	}, [ctx, checkSession, fail]);

	// Other consoles and scripts change the store too: pick that up (a stat per tick; a read only on change).
	useEffect(() => {
		const timer = setInterval(refresh, 2000);
		timer.unref();
		return () => clearInterval(timer);
	}, [refresh]);

	const setDirty = useCallback((id: string, isDirty: boolean) => {
		if (isDirty) dirty.current.add(id);
		else dirty.current.delete(id);
	}, []);

	const ask = useCallback(
		(request: DialogRequest extends infer R ? (R extends DialogRequest ? Omit<R, 'resolve'> : never) : never) =>
			new Promise<boolean>(resolve => {
				setDialog({...request, resolve} as DialogRequest);
			}),
		[],
	);

	const signIn = useCallback(
		async (who: Actor, message?: StatusMessage) => {
			let kept: Awaited<ReturnType<typeof keepSession>>;
			try {
				kept = await keepSession(ctx, who);
			} catch (error) {
				// Without a session record the console could not notice a logout or a password reset: stay out.
				setLoginKey(k => k + 1);
				changeScreen({kind: 'login', notice: `The session could not be opened: ${isOrgError(error) ? error.message : String(error)}`});
				return;
			}
			setDb({...ctx.store.read()});
			setSectionId(undefined);
			changeScreen({kind: 'main', actor: who, session: kept.session});
			setStatus(
				kept.unsaved
					? {kind: 'error', text: `Signed in, but the session could not be kept for next time: ${kept.unsaved}`}
					: (message ?? {kind: 'success', text: `Signed in as ${who.user.username}.`}),
			);
		},
		[ctx, changeScreen],
	);

	const api = useMemo<ConsoleApi | undefined>(() => {
		if (!actor) return undefined;
		return {
			ctx,
			actor,
			db,
			refresh,
			notify: setStatus,
			async run<T>(action: ConsoleAction<T>): Promise<T | undefined> {
				// The session may have ended since the last refresh: act only under a live one.
				try {
					if (!checkSession()) return undefined;
				} catch (error) {
					fail(error);
					return undefined;
				}
				running.current++;
				if (action.busy) setStatus({kind: 'info', text: action.busy});
				try {
					const result = await action.task();
					const text = typeof action.done === 'function' ? action.done(result) : (action.done ?? 'Done.');
					setStatus({kind: 'success', text, command: action.command});
					return result;
				} catch (error) {
					const text = isOrgError(error) ? error.message : `Unexpected error: ${String(error)}`;
					setStatus({kind: 'error', text, command: action.command});
					action.failed?.(text);
					return undefined;
				} finally {
					running.current--;
					refresh();
				}
			},
			async renewSession() {
				const {session} = await keepSession(ctx, actor);
				const current = screenRef.current;
				if (current.kind === 'main') changeScreen({...current, session});
			},
			confirm: question => ask({kind: 'confirm', question}),
			confirmTyped: (question, name) => ask({kind: 'typed', question, name}),
			setDirty,
		};
	}, [ctx, actor, db, refresh, checkSession, fail, changeScreen, ask, setDirty]);

	const quit = useCallback(async () => {
		if (dirty.current.size > 0 && !(await ask({kind: 'confirm', question: 'You have typed something that is not saved. Quit anyway?'}))) return;
		exit();
	}, [ask, exit]);

	useKeys(
		['global'],
		(command, key) => {
			switch (command) {
				case 'app.help':
					setHelp(true);
					return true;
				case 'app.quit':
					exit();
					return true;
				case 'app.interrupt':
					// A second Ctrl-C while asked means it.
					if (dialog) exit();
					else void quit();
					return true;
				case 'app.refresh':
					refresh();
					setStatus({kind: 'info', text: 'Reloaded from the store.'});
					return true;
				case 'section.next':
				case 'section.previous': {
					if (!section) return false;
					const at = sections.indexOf(section);
					const step = command === 'section.next' ? 1 : -1;
					setSectionId(sections[(at + step + sections.length) % sections.length]!.id);
					return true;
				}
				case 'section.goto': {
					const target = sections[Number(key.name) - 1];
					if (!target) return false;
					setSectionId(target.id);
					return true;
				}
				default:
					return false;
			}
		},
		{priority: PRIORITY.global},
	);

	// Tests and benchmarks wait for this: the screen is drawn and its key handlers are attached.
	const readyName = screen.kind === 'main' ? `main:${section?.id ?? 'none'}` : screen.kind;
	useEffect(() => {
		if (readyMarker) stdout.write(`\u001b]2;orgctl:ready:${readyName}\u0007`);
		if (!firstFrame.current) {
			firstFrame.current = true;
			onFirstFrame?.();
		}
	}, [readyMarker, readyName, stdout, onFirstFrame]);

	const height = Math.max(6, rows - 1);
	const bodyHeight = height - CHROME_ROWS;
	const paneWidth = screen.kind === 'main' ? Math.min(PANE_WIDTH, Math.floor(columns / 3)) : 0;
	const contentWidth = columns - paneWidth - (paneWidth > 0 ? 1 : 0);
	const sectionTitles = Object.fromEntries(sections.map(s => [s.id, s.title]));

	let body;
	if (help) {
		body = <Help width={columns - 2} height={bodyHeight} sectionTitles={sectionTitles} onClose={() => setHelp(false)} />;
	} else if (screen.kind === 'first-run') {
		body = <FirstRun ctx={ctx} tenant={tenant} width={Math.min(columns, 72)} onDone={(who, command) => void signIn(who, {kind: 'success', text: `Created ${who.user.username}, admin and superuser.`, command})} />;
	} else if (screen.kind === 'login') {
		body = <Login key={loginKey} ctx={ctx} tenant={tenant} width={Math.min(columns, 72)} height={bodyHeight} notice={screen.notice} onDone={(who, message) => void signIn(who, message ? {kind: 'success', text: message} : undefined)} />;
	} else if (api) {
		const Content = section?.Component;
		body = (
			<ConsoleContext.Provider value={api}>
				<Box flexDirection="row" height={bodyHeight}>
					<Box flexDirection="column" width={paneWidth} borderStyle="single" borderTop={false} borderBottom={false} borderLeft={false} {...(theme.noColor ? {} : {borderColor: 'gray'})}>
						{sections.map((s, i) => {
							const current = s === section;
							return (
								<Text key={s.id} wrap="truncate-end" {...(current ? theme.selected : {})}>
									{current ? theme.pointer : ' '}
									{i < 9 ? `${i + 1} ` : '  '}
									{s.title}
								</Text>
							);
						})}
					</Box>
					<Box width={contentWidth} height={bodyHeight} paddingLeft={1} overflow="hidden">
						{Content ? <Content key={section!.id} width={contentWidth - 1} height={bodyHeight} /> : <Text>There is nothing you can open here.</Text>}
					</Box>
				</Box>
			</ConsoleContext.Provider>
		);
	}

	return (
		<DirtyContext.Provider value={setDirty}>
			<Box flexDirection="column" width={columns} height={height} overflow="hidden">
				<Header actor={actor} width={columns} />
				<Text {...theme.muted}>{'─'.repeat(columns)}</Text>
				<Box height={bodyHeight} overflow="hidden" flexDirection="column">
					<Box flexGrow={1} flexShrink={1} overflow="hidden" flexDirection="column">
						{body}
					</Box>
					{dialog ? <Dialog request={dialog} width={columns} onClose={() => setDialog(undefined)} /> : null}
				</Box>
				<Text {...theme.muted}>{'─'.repeat(columns)}</Text>
				<StatusBar status={status} width={columns} />
			</Box>
		</DirtyContext.Provider>
	);
}

function Header({actor, width}: {readonly actor: Actor | undefined; readonly width: number}) {
	return (
		<Box width={width} justifyContent="space-between">
			<Text wrap="truncate-end">
				<Text {...theme.title}>orgctl</Text>
				<Text {...theme.muted}> · Organization Settings</Text>
			</Text>
			{actor ? (
				<Text wrap="truncate-start">
					<Text {...theme.heading}>{actor.user.username}</Text>
					<Text> {actor.user.role}</Text>
					{actor.user.superuser ? <Text {...theme.warning}> ★superuser</Text> : null}
					<Text {...theme.muted}> · tenant </Text>
					<Text>{actor.tenant.name}</Text>
				</Text>
			) : (
				<Text {...theme.muted}>not signed in</Text>
			)}
		</Box>
	);
}
