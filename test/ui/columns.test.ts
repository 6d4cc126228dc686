import {describe, expect, it} from 'vitest';
import {columnWidths, table, type Column} from '../../source/ui/columns.js';

type User = {username: string; email: string; role: string};

const USERS: Column<User>[] = [
	{title: 'USERNAME', min: 8, width: 16, priority: 9, cell: u => u.username},
	{title: 'E-MAIL', min: 14, width: 28, priority: 1, grow: 1, cell: u => u.email},
	{title: 'ROLE', min: 6, width: 6, priority: 8, cell: u => u.role},
];

describe('table columns share the width by rule', () => {
	it('every column gets its preferred width when there is room, and the growing one takes the rest', () => {
		expect(columnWidths(USERS, 16 + 28 + 6 + 2)).toEqual([16, 28, 6]);
		expect(columnWidths(USERS, 80)).toEqual([16, 56, 6]);
	});

	it('room above the minimums goes to the highest priority first: the username keeps its width longest', () => {
		// Minimums 8 + 14 + 6 and two gaps = 30; 6 more go to the username, not the e-mail.
		expect(columnWidths(USERS, 36)).toEqual([14, 14, 6]);
		expect(columnWidths(USERS, 40)).toEqual([16, 16, 6]);
	});

	it('when even the minimums do not fit, the lowest priority is hidden first', () => {
		// 29: no room for the e-mail's 14, so it goes; the username takes the room it leaves.
		expect(columnWidths(USERS, 29)).toEqual([16, 0, 6]);
		expect(columnWidths(USERS, 14)).toEqual([14, 0, 0]);
		// One column always stays, cut if need be.
		expect(columnWidths(USERS, 3)).toEqual([8, 0, 0]);
	});

	it('header and rows come from the same declaration, so they cannot disagree', () => {
		const users = table(USERS, 36);
		expect(users.header).toBe('USERNAME       E-MAIL         ROLE  ');
		expect(users.line({username: 'alice', email: 'alice@example.com', role: 'admin'})).toBe('alice          alice@example… admin ');
		expect(users.header.length).toBe(36);
		const narrow = table(USERS, 20);
		expect(narrow.header).toBe('USERNAME      ROLE  ');
		expect(narrow.line({username: 'bob', email: 'bob@example.com', role: 'guest'})).not.toContain('bob@');
	});
});
