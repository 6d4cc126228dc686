import {describe, expect, it} from 'vitest';
import type {DialogRequest} from '../../source/ui/components/dialogs.js';
import {interruptOutcome} from '../../source/ui/state/shell.js';

const question = (purpose?: 'quit'): DialogRequest => ({kind: 'confirm', question: 'Delete zed?', ...(purpose ? {purpose} : {}), resolve: () => undefined});
const typed: DialogRequest = {kind: 'typed', question: 'Delete zed?', name: 'zed', resolve: () => undefined};

describe('Ctrl-C', () => {
	it('quits at once when nothing is unsaved, whatever question is on screen', () => {
		expect(interruptOutcome({dialog: undefined, dirty: []})).toBe('exit');
		expect(interruptOutcome({dialog: question(), dirty: []})).toBe('exit');
	});

	it('inside any other confirmation still asks about unsaved input instead of quitting', () => {
		expect(interruptOutcome({dialog: undefined, dirty: ['invite']})).toBe('ask');
		expect(interruptOutcome({dialog: question(), dirty: ['invite']})).toBe('ask');
		expect(interruptOutcome({dialog: typed, dirty: ['invite']})).toBe('ask');
	});

	it('a second Ctrl-C at the unsaved-input question means quit', () => {
		expect(interruptOutcome({dialog: question('quit'), dirty: ['invite']})).toBe('exit');
	});
});
