import {useCallback, useEffect, useMemo, useRef} from 'react';
import {Box, useApp, useStdout} from 'ink';
import {Text} from './components/text.js';
import {endSession, resolveSession} from '../core/accounts.js';
import {actorFacts, type Actor, type Context} from '../core/context.js';
import {isOrgError, refused} from '../core/errors.js';
import {refuse} from '../core/audit.js';
import {mayView} from '../core/policy.js';
import {orgctlCommand} from '../core/shell.js';
import {actInTenant} from '../core/tenants.js';
import {removeSessionFile} from '../adapters/session-file.js';
import {Dialog, type DialogRequest} from './components/dialogs.js';
import {Help} from './components/help.js';
import {StatusBar} from './components/status-bar.js';
import {TenantPicker} from './components/tenant-picker.js';
import {TooSmall, MIN_COLUMNS, MIN_ROWS} from './components/too-small.js';
import {ValueView} from './components/value-view.js';
import {ConsoleContext, formError, FormHostContext, type ConsoleAction, type ConsoleApi, type FormHost, type Revealed, type StatusMessage} from './console-context.js';
import useBurstReducer from './hooks/use-burst-reducer.js';
import useTerminalSize from './hooks/use-terminal-size.js';
import {InputRouter, KeyPolicyProvider, PRIORITY, useKeys, type KeyPolicy} from './input-router.js';
import {FirstRun} from './screens/first-run.js';
import {Login} from './screens/login.js';
import {SECTIONS} from './sections/index.js';
import type {Section} from './sections/section.js';
import {keepSession, sessionNotice} from './session.js';
import {initialShell, interruptOutcome, isQuitQuestion, shellReducer, type Screen} from './state/shell.js';
import {theme} from './theme.js';

export type {Screen} from './state/shell.js';

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
/** From this width on, the left pane shows the sections' full titles; below it their short ones, so tables get the room. */
const FULL_TITLES_FROM = 100;

/** The left pane's width: the pointer, its longest label ("3 Self Signup"), a space and the rule. */
function paneWidthFor(labels: readonly string[]): number {
	return Math.max(0, ...labels.map(label => [...label].length)) + 3;
}

/** The whole console: screens, the shell around them, dialogs, help and the keys that work everywhere. */
export function App(props: AppProps) {
	return (
		<InputRouter>
			<Shell {...props} />
		</InputRouter>
	);
}

type Ask = (request: DialogRequest extends infer R ? (R extends DialogRequest ? Omit<R, 'resolve'> : never) : never) => Promise<boolean>;

function Shell({ctx, start, tenant, readyMarker = false, onFirstFrame}: AppProps) {
	const {exit} = useApp();
	const {stdout, write} = useStdout();
	const {columns, rows} = useTerminalSize();
	// The session checks in refresh() and run() read latest(): a session renewed (or ended) a moment
	// ago counts before React has drawn it.
	const [shell, dispatch, latest] = useBurstReducer(shellReducer, () => initialShell(start, ctx.store.read()));
	const {screen, db, help, picker, dialog, status, loginKey} = shell;
	const firstFrame = useRef(false);

	const actor = screen.kind === 'main' ? screen.actor : undefined;
	const sections = useMemo(() => (actor ? SECTIONS.filter(s => mayView(actorFacts(actor), s.visibleWith)) : []), [actor]);
	const section: Section | undefined = sections.find(s => s.id === shell.sectionId) ?? sections[0];
	const setStatus = useCallback((message: StatusMessage | undefined) => dispatch({type: 'status', status: message}), [dispatch]);

	/**
	 * Checks the console's session against the store (it still exists, its secret matches, it has not
	 * expired, its user may sign in) and picks up changes to who is signed in (role, superuser).
	 * False, with the sign-in screen and the reason shown, when it has ended (`orgctl logout`, expiry,
	 * a password reset or change elsewhere). A store error is thrown: the console cannot go on.
	 */
	const checkSession = useCallback((): boolean => {
		const current = latest().screen;
		if (current.kind !== 'main') return false;
		try {
			const fresh = resolveSession(ctx, current.session, current.actor.tenant.name);
			// The actor is a copy made when it was resolved (core/context.ts actorAsNow): compared by content.
			if (JSON.stringify([fresh.user, fresh.tenant]) !== JSON.stringify([current.actor.user, current.actor.tenant])) dispatch({type: 'session', actor: fresh});
			return true;
		} catch (error) {
			if (isOrgError(error) && error.kind === 'store') throw error;
			// The tenant a superuser switched to was deleted (here or elsewhere): back to their own.
			if (isOrgError(error) && error.kind === 'not-found' && current.actor.tenant.id !== current.actor.user.tenantId) {
				try {
					const home = resolveSession(ctx, current.session);
					dispatch({type: 'session', actor: home});
					dispatch({type: 'status', status: {kind: 'info', text: `Tenant ${current.actor.tenant.name} no longer exists; the console is back in ${home.tenant.name}.`}});
					return true;
				} catch {
					// The session itself has ended too: sign in again, below.
				}
			}
			dispatch({type: 'signed-out', notice: sessionNotice(error)});
			return false;
		}
	}, [ctx, dispatch, latest]);

	/** Ends the console with the reason (printed by the caller after the terminal is restored, exit code 1). */
	const fail = useCallback((error: unknown) => exit(error instanceof Error ? error : new Error(String(error))), [exit]);

	/** Shows the data as it is now in memory and checks the session against it (after a change, or a core operation). */
	const showLatest = useCallback(() => {
		try {
			dispatch({type: 'data', db: ctx.store.read()});
			if (latest().running === 0) checkSession();
		} catch (error) {
			// The store file became unusable (truncated, edited by hand): leave cleanly with its reason,
			// as the deferred validation at start-up does, rather than crash from a timer.
			fail(error);
		}
	}, [ctx, dispatch, latest, checkSession, fail]);

	/** R: picks up what others committed now (the store tells of it, and showLatest draws it). */
	const refresh = useCallback(() => {
		ctx.store.refresh().then(showLatest, fail);
	}, [ctx, showLatest, fail]);

	// Other consoles and scripts change the store too. The store tells of every change (its watch
	// costs nothing at rest: an inotify event, or a stat every 2 s where none come), and the session
	// check rides on the same signal: a logout elsewhere is a change to the store.
	useEffect(
		() =>
			ctx.store.subscribe({
				changed: showLatest,
				failed: fail,
			}),
		[ctx, showLatest, fail],
	);

	const setDirty = useCallback((id: string, isDirty: boolean) => dispatch({type: 'dirty', id, dirty: isDirty}), [dispatch]);

	const ask = useCallback<Ask>(request => new Promise<boolean>(resolve => dispatch({type: 'dialog', dialog: {...request, resolve} as DialogRequest})), [dispatch]);

	const signIn = useCallback(
		async (who: Actor, message?: StatusMessage) => {
			let kept: Awaited<ReturnType<typeof keepSession>>;
			try {
				kept = await keepSession(ctx, who);
			} catch (error) {
				// Without a session record the console could not notice a logout or a password reset: stay out.
				dispatch({type: 'signed-out', notice: `The session could not be opened: ${isOrgError(error) ? error.message : String(error)}`, remount: true});
				return;
			}
			const text: StatusMessage = kept.unsaved
				? {kind: 'error', text: `Signed in, but the session could not be kept for next time: ${kept.unsaved}`, command: message?.command}
				: (message ?? {kind: 'success', text: `Signed in as ${who.user.username}.`});
			dispatch({type: 'signed-in', actor: who, session: kept.session, db: ctx.store.read(), status: text});
		},
		[ctx, dispatch],
	);

	/** Runs a core operation for a section: see ConsoleApi.run. */
	const run = useCallback(
		async <T,>(action: ConsoleAction<T>): Promise<T | undefined> => {
			// The session may have ended since the last refresh: act only under a live one.
			try {
				if (!checkSession()) return undefined;
			} catch (error) {
				fail(error);
				return undefined;
			}
			dispatch({type: 'running', delta: 1});
			if (action.busy) setStatus({kind: 'info', text: action.busy});
			try {
				const result = await action.task();
				const text = typeof action.done === 'function' ? action.done(result) : (action.done ?? 'Done.');
				setStatus({kind: 'success', text, command: action.command});
				return result;
			} catch (error) {
				const problem = formError(error);
				setStatus({kind: 'error', text: problem.message, command: action.command});
				action.failed?.(problem);
				return undefined;
			} finally {
				dispatch({type: 'running', delta: -1});
				showLatest();
			}
		},
		[checkSession, fail, dispatch, setStatus, showLatest],
	);

	const switchTenant = useCallback(
		async (name: string) => {
			dispatch({type: 'picker', open: false});
			const current = latest().screen;
			if (current.kind !== 'main' || current.actor.tenant.name === name) return;
			if (latest().dirty.length > 0 && !(await ask({kind: 'confirm', question: `You have typed something that is not saved. Switch to tenant ${name} anyway?`}))) return;
			const next = await run({
				task: () => actInTenant(ctx, current.actor, name),
				done: `The console now acts in tenant ${name}.`,
				command: orgctlCommand('--tenant', name),
			});
			if (next) dispatch({type: 'session', actor: next});
		},
		[ctx, dispatch, latest, run, ask],
	);

	const renewSession = useCallback(async () => {
		const current = latest().screen;
		if (current.kind !== 'main') return;
		const {session} = await keepSession(ctx, current.actor);
		dispatch({type: 'session', session});
	}, [ctx, dispatch, latest]);

	const reveal = useCallback((revealed: Revealed | undefined) => dispatch({type: 'reveal', revealed}), [dispatch]);

	const api = useMemo<ConsoleApi | undefined>(
		() =>
			actor && {
				ctx,
				actor,
				db,
				refresh,
				notify: setStatus,
				run,
				renewSession,
				confirm: question => ask({kind: 'confirm', question}),
				confirmTyped: (question, name) => ask({kind: 'typed', question, name}),
				switchTenant,
				setDirty,
				reveal,
			},
		[ctx, actor, db, refresh, setStatus, run, renewSession, ask, switchTenant, setDirty, reveal],
	);
	const formHost = useMemo<FormHost>(() => ({setDirty, confirm: question => ask({kind: 'confirm', question})}), [setDirty, ask]);
	const facts = useMemo(() => (actor ? actorFacts(actor) : undefined), [actor]);
	const audits = useRef<Promise<unknown>>(Promise.resolve());
	// A refused key is audited like the command line's refusal, through the core's one helper (DESIGN §2: every refusal is audited).
	const keyPolicy = useMemo<KeyPolicy>(
		() => ({
			facts,
			refuse: (reason, command, target) => {
				setStatus({kind: 'error', text: reason});
				// One after another: keys pressed in a row must not race their audit writes.
				if (actor) audits.current = audits.current.then(() => refuse(ctx, actor, `console.${command}`, target ?? actor.tenant.name, refused(reason))).catch(() => undefined);
			},
		}),
		[facts, setStatus, ctx, actor],
	);

	const quit = useCallback(async () => {
		if (latest().dirty.length > 0 && !(await ask({kind: 'confirm', question: 'You have typed something that is not saved. Quit anyway?', purpose: 'quit'}))) return;
		exit();
	}, [ask, exit, latest]);

	/** `L`: ends the session in the store, removes its file, and goes back to sign-in (asking first when a form has typed input). */
	const signOut = useCallback(async () => {
		const current = latest().screen;
		if (current.kind !== 'main') return;
		if (latest().dirty.length > 0 && !(await ask({kind: 'confirm', question: 'You have typed something that is not saved. Sign out anyway?'}))) return;
		try {
			await endSession(ctx, current.session.id);
			removeSessionFile(ctx.store.path);
		} catch (error) {
			setStatus({kind: 'error', text: `Could not sign out: ${isOrgError(error) ? error.message : String(error)}`, command: orgctlCommand('logout')});
			return;
		}
		dispatch({
			type: 'signed-out',
			notice: `${current.actor.user.username} signed out.`,
			remount: true,
			status: {kind: 'success', text: 'Signed out: the session ended and its file is removed.', command: orgctlCommand('logout')},
		});
	}, [ask, ctx, dispatch, latest, setStatus]);

	/** `:`: the last message and its command, whole, with `y` to copy the command. */
	const showLastCommand = useCallback(() => {
		const last = latest().status;
		if (!last) {
			setStatus({kind: 'info', text: 'Nothing has happened yet: the last action and its orgctl command show here.'});
			return;
		}
		if (!last.command) {
			reveal({title: 'The last message', value: last.text, what: 'The message', note: 'It has no orgctl command of its own.'});
			return;
		}
		reveal({title: 'The last action, and the orgctl command that does the same', lead: [`${last.kind === 'error' ? '✗' : '✓'} ${last.text}`], value: last.command, what: 'The command', note: 'Run it in a shell (or a script) to do the same again.'});
	}, [latest, reveal, setStatus]);

	useKeys(
		['global'],
		(command, key) => {
			switch (command) {
				case 'app.help':
					dispatch({type: 'help', open: true});
					return true;
				case 'app.quit':
					exit();
					return true;
				case 'app.lastCommand':
					showLastCommand();
					return true;
				case 'app.redraw':
					// Ink's write clears what it drew, writes this, and draws the whole frame again.
					write('\u001b[2J\u001b[3J\u001b[H');
					return true;
				case 'app.signOut':
					if (latest().screen.kind !== 'main') return false;
					void signOut();
					return true;
				case 'app.interrupt': {
					const state = latest();
					const outcome = interruptOutcome(state);
					if (state.dialog && !isQuitQuestion(state.dialog)) {
						dispatch({type: 'dialog', dialog: undefined});
						state.dialog.resolve(false);
					}
					if (outcome === 'exit') exit();
					else void quit();
					return true;
				}
				case 'app.refresh':
					// Said first, so what the reload finds (a session ended, a tenant gone) has the last word.
					setStatus({kind: 'info', text: 'Reloaded from the store.'});
					refresh();
					return true;
				case 'section.next':
				case 'section.previous':
					if (sections.length === 0) return false;
					dispatch({type: 'section.step', ids: sections.map(s => s.id), step: command === 'section.next' ? 1 : -1});
					return true;
				case 'section.goto': {
					const target = sections[Number(key.name) - 1];
					if (!target) return false;
					dispatch({type: 'section', id: target.id});
					return true;
				}
				default:
					return false;
			}
		},
		{priority: PRIORITY.global},
	);

	// The header's tenant switcher: a layer only superusers have, so the key is offered to no one else.
	useKeys(
		['superuser'],
		command => {
			if (command !== 'tenant.switch') return false;
			dispatch({type: 'picker', open: true});
			return true;
		},
		{priority: PRIORITY.global, active: actor?.user.superuser === true && !help && !picker},
	);

	// Tests and benchmarks wait for this: the screen is drawn and its key handlers are attached.
	const readyName = screen.kind === 'main' ? (picker ? 'main:tenant-picker' : `main:${section?.id ?? 'none'}`) : screen.kind;
	useEffect(() => {
		if (readyMarker) stdout.write(`\u001b]2;orgctl:ready:${readyName}\u0007`);
		if (!firstFrame.current) {
			firstFrame.current = true;
			onFirstFrame?.();
		}
	}, [readyMarker, readyName, stdout, onFirstFrame]);

	const height = Math.max(6, rows - 1);
	const bodyHeight = height - CHROME_ROWS;
	const labels = sections.map((s, i) => `${i < 9 ? i + 1 : ' '} ${columns >= FULL_TITLES_FROM ? s.title : (s.short ?? s.title)}`);
	const paneWidth = screen.kind === 'main' ? paneWidthFor(labels) : 0;
	const contentWidth = columns - paneWidth;
	const sectionTitles = Object.fromEntries(sections.map(s => [s.id, s.title]));
	const tooSmall = columns < MIN_COLUMNS || rows < MIN_ROWS;
	// Keys of sections this user does not see are not offered, in help either.
	const hiddenContexts = SECTIONS.filter(s => !sections.includes(s)).flatMap(s => [s.id, ...(s.contexts ?? [])]);

	let body;
	if (screen.kind === 'first-run') {
		body = <FirstRun ctx={ctx} tenant={tenant} width={Math.min(columns, 72)} onDone={(who, command) => void signIn(who, {kind: 'success', text: `Created ${who.user.username}, admin and superuser.`, command})} />;
	} else if (screen.kind === 'login') {
		body = (
			<Login
				key={loginKey}
				ctx={ctx}
				tenant={tenant}
				width={Math.min(columns, 72)}
				height={bodyHeight}
				notice={screen.notice}
				notify={outcome => setStatus({kind: 'success', ...outcome})}
				onDone={(who, done) => void signIn(who, {kind: 'success', ...done})}
			/>
		);
	} else if (api) {
		body = (
			<ConsoleContext.Provider value={api}>
				<Box flexDirection="row" height={bodyHeight}>
					<Box flexDirection="column" width={paneWidth} flexShrink={0} borderStyle="single" borderTop={false} borderBottom={false} borderLeft={false} {...(theme.noColor ? {} : {borderColor: 'gray'})}>
						{sections.map((s, i) => {
							const current = s === section;
							return (
								<Text key={s.id} wrap="truncate-end" {...(current ? theme.selected : {})}>
									{current ? theme.pointer : ' '}
									{labels[i]}
								</Text>
							);
						})}
					</Box>
					<Box width={contentWidth} height={bodyHeight} paddingLeft={1} overflow="hidden">
						{/* eslint-disable-next-line react-hooks/refs -- read for the first render only (false until its effects ran); no frame depends on it changing */}
						{section ? <section.Component key={`${section.id}:${actor?.tenant.id ?? ''}`} width={contentWidth - 1} height={bodyHeight} starting={!firstFrame.current} /> : <Text>There is nothing you can open here.</Text>}
					</Box>
				</Box>
			</ConsoleContext.Provider>
		);
	}

	// Help and a revealed value cover the body without unmounting it: a list keeps its place and a
	// form what was typed. Below 80×24 the console says so instead of drawing over itself.
	const picking = picker && actor !== undefined && !help;
	const covered = help || picking || shell.revealed !== undefined;
	return (
		<FormHostContext.Provider value={formHost}>
			<KeyPolicyProvider value={keyPolicy}>
				{tooSmall ? <TooSmall columns={columns} rows={rows} dirty={shell.dirty.length > 0} onQuit={() => exit()} /> : null}
				<Box display={tooSmall ? 'none' : 'flex'} flexDirection="column" width={columns} height={height} overflow="hidden">
					<Header actor={actor} width={columns} />
					<Text {...theme.muted}>{'─'.repeat(columns)}</Text>
					<Box height={bodyHeight} overflow="hidden" flexDirection="column">
						{help ? <Help width={columns - 2} height={bodyHeight} sectionTitles={sectionTitles} facts={facts} hiddenContexts={hiddenContexts} onClose={() => dispatch({type: 'help', open: false})} /> : null}
						{picking ? <TenantPicker db={db} actor={actor} width={columns - 2} height={bodyHeight} onPick={name => void switchTenant(name)} onCancel={() => dispatch({type: 'picker', open: false})} /> : null}
						{shell.revealed && !help && !picking ? (
							<ValueView revealed={shell.revealed} width={columns} height={bodyHeight} onClose={() => reveal(undefined)} onCopied={text => setStatus({kind: 'success', text})} />
						) : null}
						<Box display={covered ? 'none' : 'flex'} flexGrow={1} flexShrink={1} overflow="hidden" flexDirection="column">
							{body}
						</Box>
						{dialog ? (
							<Box flexShrink={0}>
								<Dialog request={dialog} width={columns} onClose={() => dispatch({type: 'dialog', dialog: undefined})} />
							</Box>
						) : null}
					</Box>
					<Text {...theme.muted}>{'─'.repeat(columns)}</Text>
					<StatusBar status={status} width={columns} facts={facts} />
				</Box>
			</KeyPolicyProvider>
		</FormHostContext.Provider>
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
					<Text {...(actor.tenant.id === actor.user.tenantId ? {} : theme.warning)}>{actor.tenant.name}</Text>
					{actor.user.superuser ? <Text {...theme.muted}> [T]</Text> : null}
				</Text>
			) : (
				<Text {...theme.muted}>not signed in</Text>
			)}
		</Box>
	);
}
