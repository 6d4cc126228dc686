/** One key as the console's router sees it: a name for the key map, and the text it types, if any. */
export type KeyPress = {
	/**
	 * `j`, `G`, `?`, ` `, `up`, `down`, `enter`, `escape`, `tab`, `shift-tab`, `backspace`, `delete`,
	 * `ctrl-c`, `meta-b`, `ctrl-left`, `pageup`, `home`, ...; `text` for a run of typed text that a
	 * text field takes whole (see `TEXT_RUN`).
	 */
	readonly name: string;
	/** The character(s) typed, for printable keys; empty for keys that type nothing. */
	readonly text: string;
};

/** The name of a run of printable characters handed to a text field in one piece (a paste). */
export const TEXT_RUN = 'text';

const special = (name: string): KeyPress => ({name, text: ''});

/** CSI `~` codes (`ESC [ 3 ~` is Delete) as xterm, the Linux console, rxvt and tmux send them. */
const TILDE: Readonly<Record<string, string>> = {'1': 'home', '2': 'insert', '3': 'delete', '4': 'end', '5': 'pageup', '6': 'pagedown', '7': 'home', '8': 'end'};
/** CSI and SS3 final letters (`ESC [ A`, `ESC O A` in application cursor mode). */
const FINAL: Readonly<Record<string, string>> = {A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', Z: 'shift-tab'};

/** xterm's modifier parameter (`ESC [ 1 ; 5 C` is Ctrl-→): 1 + shift 1, alt 2, ctrl 4. */
function withModifiers(name: string, parameter: string | undefined): string {
	const bits = parameter ? Number(parameter) - 1 : 0;
	if (!Number.isInteger(bits) || bits <= 0) return name;
	return `${bits & 4 ? 'ctrl-' : ''}${bits & 2 ? 'meta-' : ''}${bits & 1 && name !== 'shift-tab' ? 'shift-' : ''}${name}`;
}

/** One escape sequence (Ink's input parser hands them over one at a time), or undefined when it is not one we know. */
function escapeKey(sequence: string): KeyPress | undefined {
	if (sequence === '\u001b') return special('escape');
	// What follows ESC (or ESC ESC, Alt with a function key in some terminals).
	const rest = sequence.slice(1);
	const csi = /^\[(\d*)(?:;(\d+))?([~A-Za-z])$/.exec(rest.startsWith('\u001b') ? rest.slice(1) : rest);
	if (csi) {
		const [, code = '', modifier, final = ''] = csi;
		const name = final === '~' ? TILDE[code] : FINAL[final];
		return name ? special(withModifiers(name, modifier)) : undefined;
	}
	const ss3 = /^O([A-Z])$/.exec(rest);
	if (ss3) {
		const name = FINAL[ss3[1]!];
		return name ? special(name) : undefined;
	}
	// Alt (Meta) with a key: ESC then the key (Alt-B, Alt-F, Alt-D, Alt-Backspace).
	if (rest === '\u007f' || rest === '\b') return special('meta-backspace');
	if (META_KEYS.has(rest)) return special(`meta-${rest.toLowerCase()}`);
	return undefined;
}

/** The Alt keys the console uses (readline's word keys). Any other ESC + key is Esc, then the key: typed quickly one after the other, they arrive together. */
const META_KEYS = new Set(['b', 'f', 'd', 'B', 'F', 'D']);

function charKey(ch: string): KeyPress {
	if (ch === '\r' || ch === '\n') return special('enter');
	if (ch === '\t') return special('tab');
	// Terminals send DEL (0x7f) for Backspace, some ^H; the Delete key is ESC [ 3 ~ (escapeKey).
	if (ch === '\u007f' || ch === '\b') return special('backspace');
	if (ch === '\u001b') return special('escape');
	const code = ch.codePointAt(0)!;
	if (code === 0) return special('ctrl-space');
	if (code < 27) return special(`ctrl-${String.fromCharCode(code + 96)}`);
	if (code < 32) return special('ignored');
	return {name: ch, text: ch};
}

/**
 * Turns what the terminal sent into single keys. Ink's input parser hands over one escape sequence
 * at a time, and everything between sequences as one string: fast typing, key repeat over SSH and
 * pastes arrive as `'jjj'` or `'bob\tpw\r'`, so they are split here, one key per character, and
 * every layer sees keys one at a time (TUI.md pitfall 4).
 *
 * The console reads these bytes itself rather than Ink's `useInput` flags: Ink 6 names both DEL
 * (what Backspace sends) and `ESC [ 3 ~` (the Delete key) `delete`, and has no name for Alt-B/F.
 */
export function keyPressesOf(sequence: string): KeyPress[] {
	// Esc pressed twice quickly (or under load) arrives as one ESC ESC: two presses, not one.
	if (sequence.length > 1 && [...sequence].every(ch => ch === '\u001b')) return [...sequence].map(() => special('escape'));
	if (sequence.startsWith('\u001b')) {
		const key = escapeKey(sequence);
		if (key) return [key];
		const rest = sequence.slice(1);
		if ([...rest].length === 1) return [special('escape'), charKey(rest)].filter(k => k.name !== 'ignored');
		// A sequence we do not know (a function key, a mouse report) types nothing.
		return [];
	}
	return [...sequence].map(charKey).filter(key => key.name !== 'ignored');
}

/** Whether a key types one printable character (a candidate for a text run). */
export function isPrintable(key: KeyPress): boolean {
	return key.text !== '' && key.name === key.text;
}

/** Several typed keys as one run of text, for a text field to insert at once (a 2,000-character paste is one edit, not 2,000 frames). */
export function textRun(keys: readonly KeyPress[]): KeyPress {
	if (keys.length === 1) return keys[0]!;
	return {name: TEXT_RUN, text: keys.map(k => k.text).join('')};
}
