import {describe, expect, it} from 'vitest';
import {Form} from '../../source/ui/components/form.js';
import {renderInk} from '../helpers/ink.js';

describe('a form’s text fields', () => {
	it('edit in place: ← Home End and Ctrl-A/E/W/D work inside the value, and Enter sends what is shown', async () => {
		const pressed: Array<Readonly<Record<string, string>>> = [];
		const ink = await renderInk(<Form fields={[{name: 'email', label: 'E-mail'}]} buttons={[{id: 'save', label: 'Save'}]} onPress={(_b, values) => pressed.push(values)} width={60} />);
		await ink.press('carol@exmple.com', 'left', 'left', 'left', 'left', 'left', 'left', 'left', 'left', 'a');
		await ink.waitFor('carol@example.com');
		await ink.press('ctrl-a', 'x', 'ctrl-e', ' junk', 'ctrl-w', 'backspace');
		await ink.waitFor(frame => frame.includes('xcarol@example.com') && !frame.includes('junk'));
		await ink.press('home', 'ctrl-d', 'ctrl-e', 'enter');
		expect(pressed).toEqual([{email: 'carol@example.com'}]);
		ink.unmount();
	});

	it('a value longer than the field scrolls with the cursor instead of wrapping', async () => {
		const ink = await renderInk(<Form fields={[{name: 'link', label: 'Link'}]} buttons={[{id: 'next', label: 'Next'}]} onPress={() => undefined} width={30} />);
		const link = 'https://crash.example.com/invite/0123456789abcdef';
		await ink.press(link);
		await ink.waitFor('abcdef');
		expect(ink.frame()).not.toContain('https://');
		await ink.press('home');
		await ink.waitFor('https://');
		expect(ink.frame()).not.toContain('abcdef');
		expect(ink.frame().split('\n').filter(line => line.includes('Link'))).toHaveLength(1);
		ink.unmount();
	});
});
