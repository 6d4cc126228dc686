import {useState} from 'react';
import {describe, expect, it} from 'vitest';
import {Form} from '../../source/ui/components/form.js';
import {List} from '../../source/ui/components/list.js';
import {renderInk} from '../helpers/ink.js';

const rows = [
	{id: '1', name: 'one'},
	{id: '2', name: 'two'},
];

/** A list whose `n` opens a form, as Manage Invitations does. */
function Opener() {
	const [open, setOpen] = useState(false);
	if (open) return <Form fields={[{name: 'username', label: 'Username'}]} buttons={[{id: 'ok', label: 'OK'}]} onPress={() => undefined} width={60} />;
	return <List title="Rows" items={rows} keyOf={r => r.id} renderRow={r => r.name} width={40} height={8} contexts={['invitations']} onCommand={command => command === 'invitations.new' && (setOpen(true), true)} />;
}

describe('keys typed ahead of the screen', () => {
	it('the keys after one that opens a form go into the form: n then a name in one write keeps every letter', async () => {
		const ink = await renderInk(<Opener />);
		// One write, as a fast typist over SSH or a paste delivers it: the form is not drawn yet when "kept" arrives.
		ink.write('nkept');
		await ink.waitFor(frame => /Username\s+kept/.test(frame), 3000);
		expect(ink.frame()).not.toContain('Rows');
	});
});
