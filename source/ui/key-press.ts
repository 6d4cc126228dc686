/** One key as the console's router sees it: a name for the key map, and the text it types, if any. */
export type KeyPress = {
	/** `j`, `G`, `?`, ` `, `up`, `down`, `enter`, `escape`, `tab`, `shift-tab`, `backspace`, `ctrl-c`, `pageup`, `home`, ... */
	readonly name: string;
	/** The character typed, for printable keys; empty for keys that type nothing. */
	readonly text: string;
};

/** The subset of Ink's `Key` the router reads (Ink 6 `useInput`). */
export type InkKey = {
	readonly upArrow: boolean;
	readonly downArrow: boolean;
	readonly leftArrow: boolean;
	readonly rightArrow: boolean;
	readonly pageUp: boolean;
	readonly pageDown: boolean;
	readonly home: boolean;
	readonly end: boolean;
	readonly return: boolean;
	readonly escape: boolean;
	readonly ctrl: boolean;
	readonly shift: boolean;
	readonly tab: boolean;
	readonly backspace: boolean;
	readonly delete: boolean;
	readonly meta: boolean;
};

const special = (name: string): KeyPress => ({name, text: ''});

/**
 * Turns one Ink input event into single keys. Fast typing, key repeat over SSH and pastes arrive as
 * one string (`'jjj'`, `'abc\r'`): Ink hands it over whole, so it is split here, one key per
 * character, and every layer sees keys one at a time (TUI.md pitfall 4).
 */
export function keyPresses(input: string, key: InkKey): KeyPress[] {
	if (key.upArrow) return [special('up')];
	if (key.downArrow) return [special('down')];
	if (key.leftArrow) return [special('left')];
	if (key.rightArrow) return [special('right')];
	if (key.pageUp) return [special('pageup')];
	if (key.pageDown) return [special('pagedown')];
	if (key.home) return [special('home')];
	if (key.end) return [special('end')];
	if (key.tab) return [special(key.shift ? 'shift-tab' : 'tab')];
	// Most terminals send DEL (0x7f) for Backspace, which Ink names `delete`: the fields edit at the end, so both erase.
	if (key.backspace || key.delete) return [special('backspace')];
	if (key.escape && input.length <= 1) return [special('escape')];
	if (key.return && input.length <= 1) return [special('enter')];
	if (key.ctrl && input.length === 1) return [special(`ctrl-${input.toLowerCase()}`)];
	if (key.meta && input.length === 1) return [special(`meta-${input}`)];
	return [...input].map(charKey);
}

function charKey(ch: string): KeyPress {
	if (ch === '\r' || ch === '\n') return special('enter');
	if (ch === '\t') return special('tab');
	if (ch === '\u007f' || ch === '\b') return special('backspace');
	if (ch === '\u001b') return special('escape');
	const code = ch.codePointAt(0)!;
	if (code < 32) return special(`ctrl-${String.fromCharCode(code + 96)}`);
	return {name: ch, text: ch};
}

/** Applies a key to a one-line text value edited at its end: typing appends, Backspace erases, Ctrl-U clears. Undefined when the key does not edit. */
export function editText(value: string, key: KeyPress): string | undefined {
	if (key.text !== '') return value + key.text;
	if (key.name === 'backspace') return [...value].slice(0, -1).join('');
	if (key.name === 'ctrl-u') return '';
	if (key.name === 'ctrl-w') return value.replace(/\S+\s*$/, '');
	return undefined;
}
