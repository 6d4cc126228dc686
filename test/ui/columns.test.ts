import {describe, expect, it} from 'vitest';
import {columnWidths, fitToContent, refitToContent, table, type Column} from '../../source/ui/columns.js';
import {changeBetween} from '../../source/ui/follow-rows.js';
import {fit} from '../../source/ui/format.js';
import {USER_COLUMNS} from '../../source/ui/sections/users.js';
import {invitationColumns} from '../../source/ui/sections/invitations.js';
import type {Invitation, User} from '../../source/core/model.js';

type Person = {username: string; email: string; role: string};

const PEOPLE: Column<Person>[] = [
	{title: 'USERNAME', min: 8, width: 16, priority: 9, cell: u => u.username},
	{title: 'E-MAIL', min: 14, width: 28, priority: 5, grow: 1, cell: u => u.email},
	{title: 'ROLE', min: 6, width: 6, priority: 8, cell: u => u.role},
];

describe('table columns share the width by rule', () => {
	it('every column gets its preferred width when there is room, and the growing one takes the rest', () => {
		expect(columnWidths(PEOPLE, 16 + 28 + 6 + 2)).toEqual([16, 28, 6]);
		expect(columnWidths(PEOPLE, 80)).toEqual([16, 56, 6]);
	});

	it('the e-mail gives way first: it shrinks to what the username and role leave, the username keeps its width', () => {
		expect(columnWidths(PEOPLE, 40)).toEqual([16, 16, 6]);
		expect(columnWidths(PEOPLE, 38)).toEqual([16, 14, 6]);
	});

	it('when the one that gives way would go below its minimum it is hidden, and so is everything of lower priority', () => {
		expect(columnWidths(PEOPLE, 37)).toEqual([16, 0, 6]);
		expect(columnWidths(PEOPLE, 20)).toEqual([16, 0, 0]);
		// The first column always stays, cut if need be.
		expect(columnWidths(PEOPLE, 5)).toEqual([5, 0, 0]);
	});

	it('header and rows come from the same declaration, so they cannot disagree', () => {
		const people = table(PEOPLE, 40);
		expect(people.header).toBe('USERNAME         E-MAIL           ROLE  ');
		expect(people.line({username: 'alice', email: 'alice.smith@example.com', role: 'admin'})).toBe('alice            alice.smith@exa… admin ');
		expect(people.header.length).toBe(40);
		const narrow = table(PEOPLE, 24);
		expect(narrow.header).toBe('USERNAME         ROLE  ');
		expect(narrow.line({username: 'bob', email: 'bob@example.com', role: 'guest'})).not.toContain('bob@');
	});

	it('a column of short values gives its unused preferred width to the others', () => {
		const short = fitToContent(PEOPLE, [{username: 'ann', email: 'ann.longer-address@example.com', role: 'admin'}]);
		// USERNAME needs only its title's 8 columns here, ROLE the 5 of "admin": the e-mail gets 25.
		expect(columnWidths(short, 40)).toEqual([8, 25, 5]);
	});

	it('refitted after a change from the columns as they were, gives what measuring every row gives', () => {
		let seed = 11;
		const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
		const word = () => 'abcdefghijklmnopqrstuvwxyz'.slice(0, 1 + Math.floor(next() * 20));
		const person = () => ({username: word(), email: `${word()}@x.example`, role: ['admin', 'member', 'guest'][Math.floor(next() * 3)]!});
		let rows = Array.from({length: 40}, person);
		let fitted: readonly Column<(typeof rows)[number]>[] = fitToContent(PEOPLE, rows);
		let measured = 0;
		for (let step = 0; step < 400; step++) {
			const copy = [...rows];
			const at = Math.floor(next() * copy.length);
			const what = next();
			if (what < 0.5) copy[at] = person();
			else if (what < 0.75) copy.push(person());
			else if (copy.length > 1) copy.splice(at, 1);
			const change = changeBetween(rows, copy)!;
			const counting = PEOPLE.map(column => ({...column, cell: (row: (typeof rows)[number]) => (measured++, column.cell(row))}));
			const before = fitted.map((column, i) => ({...column, cell: counting[i]!.cell}));
			fitted = refitToContent(counting, before, copy, change);
			rows = copy;
			expect(fitted.map(c => c.width), `step ${step}`).toEqual(fitToContent(PEOPLE, rows).map(c => c.width));
		}
		// Most changes measured only the rows that left and entered, not all of them.
		expect(measured).toBeLessThan(400 * PEOPLE.length * 10);
	});

	it('a column whose title already takes its width is not measured', () => {
		const marks: Column<{star: boolean}>[] = [{title: 'SU', min: 2, width: 2, priority: 1, cell: () => {
			throw new Error('measured');
		}}];
		expect(fitToContent(marks, [{star: true}])[0]!.width).toBe(2);
	});

	it('a wide character counts two columns, so its row lines up with the header', () => {
		expect(fit('日本', 5)).toBe('日本 ');
		expect(fit('日本語です', 5)).toBe('日本…');
		expect(fit('ab', 0)).toBe('');
	});
});

describe('the Users table at 80×24', () => {
	// 80 columns: the left pane takes 16, the section 63, its pointer 1: the table has 62.
	const user = {username: 'abcdefghijklmnop', email: 'abcdefghij@example.co.uk', role: 'member', superuser: true, method: 'password', disabled: false} as unknown as User;

	it('shows a 16-character username and a 24-character e-mail whole, with the role, superuser mark and status', () => {
		expect(user.username).toHaveLength(16);
		expect(user.email).toHaveLength(24);
		const layout = table(fitToContent(USER_COLUMNS, [user]), 62);
		expect(layout.header).toMatch(/^USERNAME\s+E-MAIL\s+ROLE\s+SU STATUS\s*$/);
		expect(layout.line(user)).toContain('abcdefghijklmnop abcdefghij@example.co.uk');
		expect(layout.line(user)).toMatch(/member\s+★\s+active/);
		expect(layout.line(user).length).toBeLessThanOrEqual(62);
	});
});

describe('the invitations table at 80×24', () => {
	it('keeps the username, role, expiry and mail status, and gives the e-mail what they leave', () => {
		const invitation = {id: 'a'.repeat(32), username: 'abcdefghijklmnop', email: 'someone.quite-long@partner.example.org', role: 'member', method: 'password', invitedBy: 'x', expires: new Date(Date.now() + 86_400_000).toISOString(), mail: {state: 'sent', at: ''}} as unknown as Invitation;
		const layout = table(fitToContent(invitationColumns(() => 'root', () => new Date()), [invitation]), 62);
		expect(layout.header).toMatch(/^USERNAME\s+E-MAIL\s+ROLE\s+EXPIRES MAIL\s*$/);
		expect(layout.line(invitation)).toMatch(/^abcdefghijklmnop someone\.quite-long@\S+ member\s+\d\d-\d\d\s+sent$/);
	});
});
