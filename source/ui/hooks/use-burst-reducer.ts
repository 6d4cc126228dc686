import {useCallback, useRef, useState} from 'react';

/**
 * A reducer whose newest state the next key of a burst can read. Keys of a burst (`jjj`, key
 * repeat over SSH, a paste) reach the handlers one per tick, sooner than React re-renders, so a
 * handler that read the rendered state would act on a stale one (`j` then `d` deleting the row
 * the cursor has just left). `dispatch` applies the action to the newest state at once and
 * returns it; `latest()` reads it; the rendered `state` follows on the next frame.
 */
export default function useBurstReducer<S, A>(reducer: (state: S, action: A) => S, initial: S | (() => S)): [state: S, dispatch: (action: A) => S, latest: () => S] {
	const [state, setState] = useState(initial);
	const newest = useRef(state);
	const dispatch = useCallback(
		(action: A) => {
			newest.current = reducer(newest.current, action);
			setState(newest.current);
			return newest.current;
		},
		[reducer],
	);
	const latest = useCallback(() => newest.current, []);
	return [state, dispatch, latest];
}

type Update<S> = S | ((current: S) => S);

function replace<S>(state: S, update: Update<S>): S {
	return typeof update === 'function' ? (update as (current: S) => S)(state) : update;
}

/** `useState` for state a key burst must see: the setter applies at once, `latest()` reads it. */
export function useBurstState<S>(initial: S | (() => S)): [state: S, set: (update: Update<S>) => S, latest: () => S] {
	return useBurstReducer<S, Update<S>>(replace, initial);
}
