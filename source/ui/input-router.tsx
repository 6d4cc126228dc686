import {createContext, useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode} from 'react';
import {useStdin} from 'ink';
import type {ActorFacts} from '../core/policy.js';
import {bindingOf, commandFor, policyRefusal, type Command} from './keymap.js';
import {isPrintable, keyPressesOf, textRun, type KeyPress} from './key-press.js';

/**
 * How a layer treats keys it does not consume: `normal` lets them fall through to the layers below;
 * `text` (a focused field, a filter) and `modal` (a dialog, the help overlay) hold them, so typing
 * `q` in a field never quits. Ctrl-C always reaches the bottom (it quits, asking if a form has changes).
 */
export type LayerKind = 'normal' | 'text' | 'modal';

/**
 * A layer's handler: the command the key map gives the key in the layer's contexts (if any), and
 * the key. Return true to consume it. `retire()` stops the layer seeing keys at once, before React
 * unmounts it: a dialog that has its answer lets the next key of a burst (`n` then Esc, typed
 * ahead) reach what is below instead of answering again.
 */
export type KeyHandler = (command: Command | undefined, key: KeyPress, retire: () => void) => boolean;

/** Conventional priorities: higher layers see keys first. */
export const PRIORITY = {global: 0, section: 10, list: 20, detail: 20, text: 30, dialog: 40, value: 45, help: 50, screen: 60} as const;

/**
 * Who is signed in, for the keys whose key map row names a policy action, and how to say that a
 * key is refused (the status line). The shell provides it; without it (before sign-in) no key is refused.
 */
export type KeyPolicy = {readonly facts: ActorFacts | undefined; readonly refuse: (reason: string, command: Command, target: string | undefined) => void};

const KeyPolicyContext = createContext<KeyPolicy>({facts: undefined, refuse: () => undefined});
export const KeyPolicyProvider = KeyPolicyContext.Provider;

/** Why a command may not be used on what the layer shows now (the selected row), or undefined. */
export type Refusal = (command: Command) => string | undefined;

export type Layer = {
	readonly id: number;
	priority: number;
	contexts: readonly string[];
	kind: LayerKind;
	handler: {current: KeyHandler};
	refusal?: {current: Refusal | undefined};
	/** What the layer's keys act on now (the selected row), for the audit of a refused key. */
	target?: {current: (() => string | undefined) | undefined};
	policy?: {current: KeyPolicy};
	/** Commands of its contexts the layer does not offer now (not shown in the status bar). */
	hidden?: readonly string[];
};

type Router = {
	register(layer: Layer): () => void;
	update(): void;
	nextId(): number;
};

/** What the status bar needs: the live key contexts (top first), and the commands not offered there. */
export type LiveKeys = {readonly contexts: readonly string[]; readonly hidden: readonly string[]};

const RouterContext = createContext<Router | undefined>(undefined);
const LiveContexts = createContext<LiveKeys>({contexts: [], hidden: []});

function ordered(layers: Iterable<Layer>): Layer[] {
	return [...layers].sort((a, b) => b.priority - a.priority || b.id - a.id);
}

/** Live contexts: from the top layer down to (and including) the first one that holds keys. */
function liveKeys(layers: Iterable<Layer>): LiveKeys {
	const contexts: string[] = [];
	const hidden: string[] = [];
	for (const layer of ordered(layers)) {
		for (const context of layer.contexts) if (!contexts.includes(context)) contexts.push(context);
		hidden.push(...(layer.hidden ?? []));
		if (layer.kind !== 'normal') break;
	}
	return {contexts, hidden};
}

/**
 * Why a layer refuses a command now: the policy's sentence when the signed-in user's role never
 * allows it (the key map row's action), else the layer's own check of what it shows (the core's
 * check for the selected row). Either way before any form opens.
 */
function refusalOf(layer: Layer, command: Command): string | undefined {
	const where = layer.contexts.find(context => bindingOf(command, context));
	const binding = where === undefined ? undefined : bindingOf(command, where);
	return (binding && policyRefusal(binding, layer.policy?.current.facts)) ?? layer.refusal?.current?.(command);
}

/** Sends one key down the layers; exported for tests of the routing rule. */
export function routeKey(layers: Iterable<Layer>, key: KeyPress, retire: (layer: Layer) => void = () => undefined): boolean {
	for (const layer of ordered(layers)) {
		const command = commandFor(key.name, layer.contexts);
		const reason = command === undefined ? undefined : refusalOf(layer, command);
		if (reason !== undefined) {
			layer.policy?.current.refuse(reason, command!, layer.target?.current?.());
			return true;
		}
		if (layer.handler.current(command, key, () => retire(layer))) return true;
		if (layer.kind !== 'normal' && key.name !== 'ctrl-c') return false;
	}
	return false;
}

type Props = {readonly children: ReactNode; readonly isActive?: boolean};

/** Whether the layer that sees keys first is a text field (it takes a run of typed text whole). */
export function topIsText(layers: Iterable<Layer>): boolean {
	return ordered(layers)[0]?.kind === 'text';
}

/**
 * Keys of one burst are handled one at a time: the first at once, each next one after React has
 * committed what the previous key did, so `/zed` or `G` + Enter reach the filter or the row the
 * earlier key opened or selected, not the layers that were live when the burst arrived. When a
 * text field is on top, the printable keys in a row go to it as one run: a 2,000-character paste is
 * one edit and one frame, not 2,000.
 */
class KeyQueue {
	private readonly queue: KeyPress[] = [];
	private draining = false;

	constructor(
		private readonly route: (key: KeyPress) => void,
		private readonly textOnTop: () => boolean,
	) {}

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
		if (isPrintable(next) && this.textOnTop()) {
			const run = [next];
			while (this.queue[0] && isPrintable(this.queue[0])) run.push(this.queue.shift()!);
			this.route(textRun(run));
		} else {
			this.route(next);
		}
		// React schedules the render a key caused from a microtask (React 19 roots), so one
		// setImmediate queued now would run before that render: the next key would reach the layer
		// this one closed (n then a name typed ahead lost its first letter). Two hops put it behind.
		setImmediate(() => setImmediate(this.drain));
	};
}

/** The one `useInput` of the console: every key goes through here, one key at a time. */
export function InputRouter({children, isActive = true}: Props) {
	const [layers] = useState(() => new Set<Layer>());
	const counter = useRef(0);
	const [live, setLive] = useState<LiveKeys>({contexts: [], hidden: []});
	const update = useCallback(() => {
		const next = liveKeys(layers);
		setLive(previous => (previous.contexts.join() === next.contexts.join() && previous.hidden.join() === next.hidden.join() ? previous : next));
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
	const [queue] = useState(
		() =>
			new KeyQueue(
				key =>
					routeKey(layers, key, layer => {
						if (layers.delete(layer)) update();
					}),
				() => topIsText(layers),
			),
	);
	// The bytes as Ink's input parser splits them (one escape sequence, or a run of text), read here
	// rather than through useInput, whose flags cannot tell Backspace from Delete (key-press.ts).
	const {setRawMode, internal_eventEmitter: events} = useStdin();
	useEffect(() => {
		if (!isActive) return undefined;
		setRawMode(true);
		const onInput = (data: string) => {
			queue.push(keyPressesOf(data));
		};
		events.on('input', onInput);
		return () => {
			events.off('input', onInput);
			setRawMode(false);
		};
	}, [isActive, setRawMode, events, queue]);
	return (
		<RouterContext.Provider value={router}>
			<LiveContexts.Provider value={live}>{children}</LiveContexts.Provider>
		</RouterContext.Provider>
	);
}

export type LayerOptions = {
	readonly priority: number;
	readonly kind?: LayerKind;
	/** An inactive layer sees no keys and adds nothing to the status bar. */
	readonly active?: boolean;
	/**
	 * Why a command of the key map is refused on what the layer shows now (the core's own check of
	 * the selected row): the key stays in the status bar, and pressing it says why on the status line.
	 */
	readonly refusal?: Refusal;
	/** What the keys act on now (the selected row's name), for the audit of a refused key. */
	readonly target?: () => string | undefined;
	/** Commands of the layer's contexts it does not offer here (the status bar leaves them out). */
	readonly hidden?: readonly Command[];
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
	const policy = useContext(KeyPolicyContext);
	const handlerRef = useRef(handler);
	const refusalRef = useRef(options.refusal);
	const targetRef = useRef(options.target);
	const policyRef = useRef(policy);
	useLayoutEffect(() => {
		handlerRef.current = handler;
		refusalRef.current = options.refusal;
		targetRef.current = options.target;
		policyRef.current = policy;
	});
	const {priority, kind = 'normal', active = true} = options;
	// One string stands for the contexts (and the hidden commands), so a new array with the same names keeps the layer.
	const key = contexts.join(',');
	const hidden = (options.hidden ?? []).join(',');
	const layerRef = useRef<Layer | undefined>(undefined);
	useLayoutEffect(() => {
		if (!active) return undefined;
		const layer: Layer = {id: router.nextId(), priority, contexts: key.split(','), kind, handler: handlerRef, refusal: refusalRef, target: targetRef, policy: policyRef};
		layerRef.current = layer;
		return router.register(layer);
	}, [router, priority, kind, active, key]);
	// What the layer offers changes with the selected row: update it in place (a new layer would
	// change the order of layers of equal priority).
	useLayoutEffect(() => {
		const layer = layerRef.current;
		if (!layer || !active) return;
		layer.hidden = hidden === '' ? [] : hidden.split(',');
		router.update();
	}, [router, active, hidden, key, priority, kind]);
}

/** The key contexts live now, top first, and the commands not offered there (for the status bar). */
export function useLiveKeys(): LiveKeys {
	return useContext(LiveContexts);
}
