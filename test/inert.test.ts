import {describe, expect, it} from 'vitest';
import {capText, echo, hasUnsafeCharacters, inert, inertLines} from '../source/core/inert.js';
import {COLUMN_MAX, table} from '../source/cli/context.js';
import {fit} from '../source/ui/format.js';

/** Every byte or code point that acts on a terminal, or turns text around, that `inert` must not let through. */
const CONTROLS = [
	...Array.from({length: 0x20}, (_, i) => String.fromCharCode(i)),
	'\u007f',
	...Array.from({length: 0x20}, (_, i) => String.fromCharCode(0x80 + i)),
	'\u061c',
	'\u200e',
	'\u200f',
	'\u2028',
	'\u2029',
	'\u202a',
	'\u202b',
	'\u202c',
	'\u202d',
	'\u202e',
	'\u2066',
	'\u2067',
	'\u2068',
	'\u2069',
];

/** Any character of CONTROLS. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the test
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const OSC52 = 'm2\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\u0007';

describe('text from elsewhere is shown inert', () => {
	it('shows the OSC 52 of the reported login escaped, never raw', () => {
		expect(inert(OSC52)).toBe('m2\\e]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\\x07');
	});

	it('escapes every C0 and C1 control, DEL, and the bidirectional marks, overrides and isolates', () => {
		for (const ch of CONTROLS) {
			const shown = inert(`a${ch}b`);
			expect(shown, `U+${ch.charCodeAt(0).toString(16)}`).not.toMatch(RAW);
			expect(shown.startsWith('a\\') && shown.endsWith('b')).toBe(true);
		}
		expect(inert('\u001b[2J\u009b31m\u202eevil\u2066')).toBe('\\e[2J\\u009b31m\\u202eevil\\u2066');
		expect(inert('tab\there\r\nDEL\u007f')).toBe('tab\\there\\r\\nDEL\\x7f');
	});

	it('leaves printable text alone, in any script, and is idempotent', () => {
		for (const text of ['root', 'Zoë Ørsted', '日本語のプロジェクト', 'C:\\path\\e (a backslash e)', 'emoji 🚀 ok', '']) {
			expect(inert(text)).toBe(text);
			expect(hasUnsafeCharacters(text)).toBe(false);
		}
		expect(inert(inert(OSC52))).toBe(inert(OSC52));
	});

	it('keeps line breaks only in text laid out in lines by orgctl itself', () => {
		expect(inertLines(`line one\n${OSC52}\n`)).toBe('line one\nm2\\e]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\\x07\n');
		expect(inertLines('a\r\n')).toBe('a\\r\n');
	});
});

describe('stored text is capped and says so', () => {
	it('keeps the first characters and marks how many were cut', () => {
		expect(capText('x'.repeat(100_000), 200)).toBe(`${'x'.repeat(200)}…[+99800]`);
		expect(capText('short', 200)).toBe('short');
	});

	it('never splits a surrogate pair', () => {
		const capped = capText(`${'a'.repeat(199)}🚀🚀`, 200);
		expect(capped).toBe(`${'a'.repeat(199)}…[+4]`);
		expect(echo('y'.repeat(1000))).toHaveLength(64 + '…[+936]'.length);
	});
});

describe('CLI tables', () => {
	const rows = [
		{name: 'ok', reason: 'fine'},
		{name: `t${OSC52}`, reason: 'r'.repeat(500)},
	];

	it('show every cell inert and never a raw control character', () => {
		const text = table(rows, [['name', 'name'], ['reason', 'reason']], {width: undefined});
		expect(text.replace(/\n/g, '')).not.toMatch(RAW);
		expect(text).toContain('tm2\\e]52;c;');
	});

	it('cap a column at COLUMN_MAX and mark the cut', () => {
		const lines = table(rows, [['name', 'name'], ['reason', 'reason']], {width: undefined}).trimEnd().split('\n');
		expect(lines[2]).toMatch(new RegExp(`r{${COLUMN_MAX - 1}}…$`));
		expect(Math.max(...lines.map(l => [...l].length))).toBeLessThanOrEqual(COLUMN_MAX * 2 + 2);
	});

	it('fit a terminal by letting the widest columns give way', () => {
		const many = [{time: '2026-11-27T10:00:00.000Z', actor: 'a'.repeat(40), action: 'login', target: 'b'.repeat(200), result: 'refused', reason: 'c'.repeat(200)}];
		const columns = (['time', 'actor', 'action', 'target', 'result', 'reason'] as const).map(k => [k, k] as const);
		for (const width of [80, 100, 132]) {
			const lines = table(many, columns, {width}).trimEnd().split('\n');
			for (const line of lines) expect([...line].length).toBeLessThanOrEqual(width);
			expect(lines[1]).toContain('login');
			expect(lines[1]).toContain('refused');
		}
	});

	it('never cut a column marked whole (a link to copy)', () => {
		const link = `https://crash.example.com/invite/${'0'.repeat(32)}.${'s'.repeat(43)}`;
		const text = table([{user: 'ann', link}], [['user', 'user'], ['link', 'link', {whole: true}]], {width: 60});
		expect(text).toContain(link);
	});
});

describe('console table cells', () => {
	it('are fitted after they are made inert, so an escape counts the columns it takes', () => {
		const cell = fit(OSC52, 20);
		expect([...cell]).toHaveLength(20);
		expect(cell).toBe('m2\\e]52;c;Y3VybCBld…');
		expect(fit('ab\u0007', 6)).toBe('ab\\x07');
	});
});
