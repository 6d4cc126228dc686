/** Key names to the bytes a terminal sends; shared by the PTY and the ink-testing-library harnesses. */
export const KEYS: Record<string, string> = {
	enter: '\r',
	escape: '\u001b',
	tab: '\t',
	'shift-tab': '\u001b[Z',
	up: '\u001b[A',
	down: '\u001b[B',
	right: '\u001b[C',
	left: '\u001b[D',
	pageup: '\u001b[5~',
	pagedown: '\u001b[6~',
	home: '\u001b[H',
	end: '\u001b[F',
	backspace: '\u007f',
	'ctrl-c': '\u0003',
	'ctrl-u': '\u0015',
	'ctrl-d': '\u0004',
};
