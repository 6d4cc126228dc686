import {useCallback, useState} from 'react';
import {useConsole, type ConsoleAction} from '../console-context.js';

/** What the last action of a pane came to, kept on screen with its command (the status line cuts long ones at 80 columns). */
export type Outcome = {readonly ok: boolean; readonly text: string; readonly command: string | undefined};

/**
 * run() (see console-context.ts) that also keeps the outcome for the pane to show in full:
 * the sentence, and the equivalent `orgctl` command, wrapped rather than cut.
 */
export default function useRecordedRun(): {readonly outcome: Outcome | undefined; readonly act: <T>(action: ConsoleAction<T>) => Promise<T | undefined>; readonly clear: () => void} {
	const {run} = useConsole();
	const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
	const act = useCallback(
		async <T,>(action: ConsoleAction<T>): Promise<T | undefined> => {
			// Set from inside the task and the failure callback, which run() calls.
			const seen: {ok: boolean; result?: T; failure?: string} = {ok: false};
			await run({
				...action,
				task: async () => {
					seen.result = await action.task();
					seen.ok = true;
					return seen.result;
				},
				failed: error => {
					seen.failure = error.message;
					action.failed?.(error);
				},
			});
			if (seen.ok) {
				const text = typeof action.done === 'function' ? action.done(seen.result as T) : (action.done ?? 'Done.');
				setOutcome({ok: true, text, command: action.command});
			} else if (seen.failure !== undefined) setOutcome({ok: false, text: seen.failure, command: action.command});
			return seen.ok ? seen.result : undefined;
		},
		[run],
	);
	const clear = useCallback(() => setOutcome(undefined), []);
	return {outcome, act, clear};
}
