import {describe, expect, it} from 'vitest';
import {Fields} from '../../source/ui/components/fields.js';
import {List} from '../../source/ui/components/list.js';
import {Text} from '../../source/ui/components/text.js';
import {StatusBar} from '../../source/ui/components/status-bar.js';
import {renderInk} from '../helpers/ink.js';

const OSC52 = '\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\u0007';
const TITLE = '\u001b]0;TOK\u0007';
const BIDI = 'txt.\u202eexe';

/** The bytes of a hostile string that must never reach the terminal. */
function assertNoPayload(frame: string): void {
	expect(frame).not.toContain('\u001b]');
	expect(frame).not.toContain('\u0007');
	expect(frame).not.toContain('\u202e');
}

describe('the console draws text inert', () => {
	it('escapes control characters in plain strings, fragments, arrays and nested Text', async () => {
		const ink = await renderInk(
			<Text>
				plain {OSC52}
				<>
					{' in a fragment '}
					{TITLE}
				</>
				{[' in an array ', BIDI]}
				<Text bold> nested {OSC52}</Text>
			</Text>,
			{columns: 200},
		);
		// Read as one line: where Ink wraps depends on the terminal width the test runner reports.
		const frame = ink.frame().replace(/\n/g, ' ');
		assertNoPayload(frame);
		expect(frame).toContain('plain \\e]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\\x07');
		expect(frame).toContain('in a fragment \\e]0;TOK\\x07');
		expect(frame).toContain('in an array txt.\\u202eexe');
		expect(frame).toContain('nested \\e]52;');
	});

	it('escapes them in list rows, detail fields and the status line', async () => {
		const rows = [{id: '1', name: `m2${OSC52}`, reason: `550 ${TITLE}`}];
		const ink = await renderInk(
			<>
				<List title={`Audit ${TITLE}`} items={rows} keyOf={r => r.id} columns={[{title: 'NAME', min: 8, width: 30, priority: 9, cell: r => r.name}, {title: 'REASON', min: 8, width: 20, priority: 8, cell: r => r.reason}]} width={78} height={6} />
				<Fields rows={[['Mail', `failed: ${OSC52}`]]} width={78} />
				<StatusBar status={{kind: 'error', text: `"${BIDI}" is not a valid username.`, command: 'orgctl users show x'}} width={78} />
			</>,
			{columns: 80},
		);
		const frame = ink.frame();
		assertNoPayload(frame);
		expect(frame).toContain('m2\\e]52;c;');
		expect(frame).toContain('550 \\e]0;TOK');
		expect(frame).toContain('failed: \\e]52;');
		expect(frame).toContain('txt.\\u202eexe');
	});

	it('measures a status message by the columns its escapes take: a command that no longer fits whole is not cut, : shows it', async () => {
		// 27 characters as stored, so beside the 42-character command it would fit 80 columns; drawn
		// inert (each BEL is `\x07`) it takes 63.
		const text = `"${'\u0007'.repeat(12)}" is not valid.`;
		const ink = await renderInk(<StatusBar status={{kind: 'error', text, command: 'orgctl invites create bob bob@example.com'}} width={80} />, {columns: 80});
		const frame = ink.frame();
		assertNoPayload(frame);
		// The sentence with its escapes leaves no room for the whole command, so none of it is drawn
		// (a command cut short would run something else) and `:` is named instead.
		expect(frame).not.toContain('$ orgctl invites');
		expect(frame).toContain('(: ');
		expect(frame).toContain('"\\x07\\x07');
	});
});
