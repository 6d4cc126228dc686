import {createContext, useCallback, useContext, useLayoutEffect, useMemo, useRef, useState, type ReactNode} from 'react';
import {useInput} from 'ink';
import {commandFor, type Command} from './keymap.js';
import {keyPresses, type KeyPress} from './key-press.js';

/**
 * How a layer treats keys it does not consume: `normal` lets them fall through to the layers below;
 * `text` (a focused field, a filter) and `modal` (a dialog, the help overlay) hold them, so typing
 * `q` in a field never quits. Ctrl-C always reaches the bottom (it quits, asking if a form has changes).
 */
export type LayerKind = 'normal' | 'text' | 'modal';

/** A layer's handler: the command the key map gives the key in the layer's contexts (if any), and the key. Return true to consume it. */
export type KeyHandler = (command: Command | undefined, key: KeyPress) => boolean;

/** Conventional priorities: higher layers see keys first. */
export const PRIORITY = {global: 0, section: 10, list: 20, detail: 20, text: 30, dialog: 40, help: 50} as const;

type Layer = {
	readonly id: number;
	priority: number;
	contexts: readonly string[];
	kind: LayerKind;
	handler: {current: KeyHandler};
};

type Router = {
	register(layer: Layer): () => void;
	update(): void;
	nextId(): number;
};

const RouterContext = createContext<Router | undefined>(undefined);
/** The key contexts that are live now, the top layer first: what the status bar shows. */
const LiveContexts = createContext<readonly string[]>([]);

function ordered(layers: Iterable<Layer>): Layer[] {
	return [...layers].sort((a, b) => b.priority - a.priority || b.id - a.id);
}

/** Live contexts: from the top layer down to (and including) the first one that holds keys. */
function liveContexts(layers: Iterable<Layer>): string[] {
	const result: string[] = [];
	for (const layer of ordered(layers)) {
		for (const context of layer.contexts) if (!result.includes(context)) result.push(context);
		if (layer.kind !== 'normal') break;
	}
	return result;
}

/** Sends one key down the layers; exported for tests of the routing rule. */
export function routeKey(layers: Iterable<Layer>, key: KeyPress): boolean {
	for (const layer of ordered(layers)) {
		const command = commandFor(key.name, layer.contexts);
		if (layer.handler.current(command, key)) return true;
		if (layer.kind !== 'normal' && key.name !== 'ctrl-c') return false;
	}
	return false;
}

type Props = {readonly children: ReactNode; readonly isActive?: boolean};

/**
 * Keys of one burst are handled one per tick: the first at once, each next one after React has
 * committed what the previous key did, so `/zed` or `G` + Enter reach the filter or the row the
 * earlier key opened or selected, not the layers that were live when the burst arrived.
 */
class KeyQueue {
	private readonly queue: KeyPress[] = [];
	private draining = false;

	constructor(private readonly route: (key: KeyPress) => void) {}

	push(keys: readonly KeyPress[]): void {
		this.queue.push(...keys);
		if (this.draining) return;
		this.draining = true;
		this.drain();
	}

	private readonly drain = (): void => {
		const next = this.queue.shift();
		if (next === undefined) {
			this.draining = false;
			return;
		}
		this.route(next);
		setImmediate(this.drain);
	};
}

/** The one `useInput` of the console: every key goes through here, one key at a time. */
export function InputRouter({children, isActive = true}: Props) {
	const [layers] = useState(() => new Set<Layer>());
	const counter = useRef(0);
	const [contexts, setContexts] = useState<readonly string[]>([]);
	const update = useCallback(() => {
		const next = liveContexts(layers);
		setContexts(previous => (previous.join() === next.join() ? previous : next));
	}, [layers]);
	const router = useMemo<Router>(
		() => ({
			register(layer) {
				layers.add(layer);
				update();
				return () => {
					layers.delete(layer);
					update();
				};
			},
			update,
			nextId: () => ++counter.current,
		}),
		[layers, update],
	);
	const [queue] = useState(() => new KeyQueue(key => routeKey(layers, key)));
	useInput(
		(input, key) => {
			queue.push(keyPresses(input, key));
		},
		{isActive},
	);
	return (
		<RouterContext.Provider value={router}>
			<LiveContexts.Provider value={contexts}>{children}</LiveContexts.Provider>
		</RouterContext.Provider>
	);
}

export type LayerOptions = {
	readonly priority: number;
	readonly kind?: LayerKind;
	/** An inactive layer sees no keys and adds nothing to the status bar. */
	readonly active?: boolean;
};

/**
 * Registers a key layer for as long as the component is mounted and `active`: keys are resolved to
 * commands with the key map rows of `contexts`, and `handler` returns true to consume a key.
 */
export function useKeys(contexts: readonly string[], handler: KeyHandler, options: LayerOptions): void {
	const router = useContext(RouterContext);
	if (!router) throw new Error('useKeys needs an <InputRouter> above it.');
	// The layer keeps one handler object for its lifetime; each commit points it at the newest
	// handler, before the next key of a burst is routed (a tick after the commit).
	const handlerRef = useRef(handler);
	useLayoutEffect(() => {
		handlerRef.current = handler;
	});
	const {priority, kind = 'normal', active = true} = options;
	// One string stands for the contexts, so a new array with the same names keeps the layer.
	const key = contexts.join(',');
	useLayoutEffect(() => {
		if (!active) return undefined;
		const layer: Layer = {id: router.nextId(), priority, contexts: key.split(','), kind, handler: handlerRef};
		return router.register(layer);
	}, [router, priority, kind, active, key]);
}

/** The key contexts live now, top first (for the status bar). */
export function useLiveContexts(): readonly string[] {
	return useContext(LiveContexts);
}
