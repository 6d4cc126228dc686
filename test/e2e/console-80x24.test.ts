import {existsSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {afterEach, describe, expect, it, onTestFinished} from 'vitest';
import {createProject} from '../../source/core/projects.js';
import type {Actor, Context} from '../../source/core/context.js';
import {tempDir} from '../helpers/store.js';
import {openStore, seedRoot, seedUsers, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// The console as a new user meets it: the built console in a real pseudo-terminal at 80×24 (the
// size an SSH session opens at), a key at a time, the screen read back from a headless xterm.
const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

/** The console, outside tmux whatever runs the tests: copies go out as OSC 52, which the output shows. */
function start(dir: string, options: {cols?: number; rows?: number; env?: Record<string, string>} = {}): ConsoleTerm {
	const t = spawnConsole({dir, ...options, env: {TMUX: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined, ...options.env}});
	running.push(t);
	return t;
}

const SIXTEEN = 'abcdefghijklmnop';
const TWENTY_FOUR = 'abcdefghij@example.co.uk';
const LONG_EMAIL = 'carol.longname-with-department@engineering.eu.example-corp.com';

/** root (admin, superuser) and a few users; `as` signs in someone else. */
async function store(options: {as?: string} = {}): Promise<{dir: string; ctx: Context; root: Actor}> {
	const dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	await seedUsers(ctx, root.tenant.id, [
		{username: SIXTEEN, email: TWENTY_FOUR},
		{username: 'carol', email: LONG_EMAIL},
		{username: 'mia', role: 'member'},
		{username: 'ada', role: 'admin'},
	]);
	const who = options.as ? {user: ctx.store.read().users.find(u => u.username === options.as)!, tenant: root.tenant} : root;
	await signIn(ctx, who, dir);
	return {dir, ctx, root};
}

/** Selects a user of the Users list by filtering on the name (Enter keeps the filter). */
async function select(t: ConsoleTerm, name: string): Promise<void> {
	await t.press('/');
	await t.type(name);
	await t.press('enter');
	await t.waitFor(`›${name}`);
}

/** The row of the screen that holds `text`. */
const lineWith = (t: ConsoleTerm, text: string) => t.lines().find(line => line.includes(text)) ?? '';

describe('tables at 80×24', () => {
	it('Users shows a 16-character username and a 24-character e-mail whole, and Enter shows every field whole, wrapped', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.waitFor(SIXTEEN);
		expect(lineWith(t, SIXTEEN)).toMatch(new RegExp(`${SIXTEEN}\\s+${TWENTY_FOUR.replace(/\./g, '\\.')}\\s+member`));
		// Header and rows come from one declaration: the columns start at the same place.
		const header = lineWith(t, 'USERNAME');
		expect(lineWith(t, SIXTEEN).indexOf(TWENTY_FOUR)).toBe(header.indexOf('E-MAIL'));
		expect(t.lines().every(line => line.length <= 80)).toBe(true);

		// carol's 63-character e-mail is cut in the table, and whole (over two lines) in the detail.
		await t.press('/');
		await t.type('carol');
		await t.press('enter', 'enter');
		await t.waitFor('Sign-in method');
		const joined = t.lines().map(line => line.replace(/^.*│ /, '').trim()).join('');
		expect(joined).toContain(LONG_EMAIL);
		expect(t.screen()).not.toContain('…');
		await t.expectCommand('orgctl users show carol');
	});

	it('Projects & Tokens: a token row lines up with the header', async () => {
		const {dir, ctx, root} = await store();
		await createProject(ctx, root, {name: 'web'});
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press(/(\d) Projects/.exec(t.screen())![1]!);
		await t.waitReady('main:projects');
		await t.press('t');
		await t.waitFor('New API token for web');
		await t.type('deploy');
		await t.press('enter', 'enter');
		await t.waitFor('Copy the secret now');
		await t.press('escape');
		await t.waitFor('└ deploy');
		const header = lineWith(t, 'OWNER');
		expect(lineWith(t, '└ deploy').indexOf(' root ') + 1).toBe(header.indexOf('OWNER'));
		expect(lineWith(t, 'web ').indexOf(' root ') + 1).toBe(header.indexOf('OWNER'));
	});
});

describe('text fields at 80×24', () => {
	it('edit in place with the readline keys: ← → Home End Delete Backspace Ctrl-A/E/K/U/W Alt-B/F', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.press('n');
		await t.waitFor('Invite someone');
		await t.type('abcdef');
		await t.press('left', 'left');
		await t.type('X');
		await t.waitFor(/Username\s+abcdXef/);
		await t.press('home', 'delete', 'end', 'backspace');
		await t.waitFor(/Username\s+bcdXe\b/);
		await t.press('ctrl-a');
		await t.type('>');
		await t.press('ctrl-e');
		await t.type(' tail');
		await t.waitFor(/Username\s+>bcdXe tail/);
		await t.press('ctrl-w');
		await t.waitFor(s => /Username\s+>bcdXe\s*$/m.test(s));
		await t.press('meta-b');
		await t.type('[');
		await t.press('meta-f');
		await t.type(']');
		await t.waitFor(/Username\s+>\[bcdXe\]/);
		await t.press('ctrl-a', 'ctrl-k');
		await t.waitFor(s => /Username\s*$/m.test(s.split('\n').find(l => l.includes('Username')) ?? ''));
		await t.type('ann');
		await t.press('ctrl-u');
		await t.type('bea');
		await t.waitFor(/Username\s+bea\b/);
	});

	it('a 2,000-character paste into Username scrolls inside the field; the refusal is beside it, its echo cut short, the layout whole', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.press('n');
		await t.waitFor('Invite someone');
		// One write, as a terminal hands over a paste.
		await t.press('u'.repeat(2000));
		await t.waitFor(/Username\s+…u+/);
		await t.press('tab');
		await t.type('bob@example.com');
		await t.press('enter', 'enter', 'enter');
		await t.waitFor('is not a valid username');
		expect(t.screen()).toContain('(2,000');
		const lines = t.lines();
		expect(lines[0]).toMatch(/^orgctl · Organization Settings/);
		expect(lines[22]).toContain('Ctrl-C quit');
		expect(lines[20]).toMatch(/^─+$/);
		expect(lines.every(line => line.length <= 80)).toBe(true);
		expect(t.screen()).not.toContain('u'.repeat(80));
		// The form is still there, every field kept.
		expect(t.screen()).toMatch(/E-mail\s+bob@example\.com/);
		// The cursor is back on Username, its value selected: typing replaces it.
		await t.type('bob');
		await t.waitFor(/Username\s+bob\s/);
	});

	it('the bulk-invite list moves between lines with ↑ ↓ and edits inside a line; the rows go to a private file the command names', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.press('b');
		await t.waitFor('Invite many at once');
		await t.type('ann@corp.com');
		await t.press('enter');
		await t.type('bob@corp.com');
		await t.press('up', 'home');
		await t.type('x');
		await t.press('down', 'end');
		await t.type('.uk');
		await t.waitFor(s => s.includes('xann@corp.com') && s.includes('bob@corp.com.uk'));
		expect(t.screen()).toContain('2 lines');
		await t.press('up', 'home', 'delete', 'tab', 'enter');
		await t.waitFor('2 of 2 invited');
		// The rows went to a file only the user can read, which the status line names and the command reads.
		const path = /list: (\S+invites\.csv)/.exec(t.lines()[21]!)?.[1];
		expect(path).toMatch(new RegExp(`^${tmpdir()}/orgctl-\\w+/invites\\.csv$`));
		onTestFinished(() => rmSync(dirname(path!), {recursive: true, force: true}));
		expect(statSync(path!).mode & 0o777).toBe(0o600);
		expect(statSync(dirname(path!)).mode & 0o777).toBe(0o700);
		expect(readFileSync(path!, 'utf8')).toBe('ann@corp.com\nbob@corp.com.uk\n');
		await t.expectCommand(`orgctl invites create --file ${path}`);
		await t.press('enter');
		await t.waitFor(/Result\s+not sent: SMTP is not configured/);
	});
});

describe('forms never lose input', () => {
	it('Esc on a form with typed input asks first; No keeps every character', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.press('n');
		await t.waitFor('Invite someone');
		await t.type('dora');
		await t.press('tab');
		await t.type('dora@example.com');
		await t.press('escape');
		await t.waitFor('Discard what you typed in this form? [y/N]');
		await t.press('n');
		await t.waitFor(s => !s.includes('Discard what you typed'));
		expect(t.screen()).toMatch(/Username\s+dora/);
		expect(t.screen()).toMatch(/E-mail\s+dora@example\.com/);
		await t.press('escape');
		await t.waitFor('Discard what you typed');
		await t.press('y');
		await t.waitFor('Manage Invitations');
		// An untouched form closes at once.
		await t.press('n');
		await t.waitFor('Invite someone');
		await t.press('escape');
		await t.waitFor('Manage Invitations');
	});

	it('New project: the Owner is shown and selected, typing replaces it, and a refusal keeps the form open beside the owner', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press(/(\d) Projects/.exec(t.screen())![1]!);
		await t.waitReady('main:projects');
		await t.press('n');
		await t.waitFor('New project');
		expect(t.screen()).toMatch(/Owner\s+root/);
		await t.type('web');
		await t.press('tab');
		await t.type('nobody');
		await t.press('enter');
		await t.waitFor('There is no user nobody in this tenant.');
		expect(t.screen()).toMatch(/Owner\s+nobody/);
		expect(t.screen()).toMatch(/Name\s+web/);
		// The owner is selected again: typing replaces "nobody" (not "nobodymia").
		await t.type('mia');
		await t.press('enter');
		await t.waitFor('Created project web, owned by mia.');
		expect((await openStore(dir)).store.read().projects.map(p => p.name)).toEqual(['web']);
	});
});

describe('the status line', () => {
	it('shows the outcome first and the command second; `:` shows the command whole and y copies it', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await select(t, 'mia');
		await t.press('x');
		await t.waitFor('[y/N]');
		await t.press('y');
		await t.waitFor('mia is disabled.');
		const status = t.lines()[21]!;
		expect(status.indexOf('mia is disabled.')).toBeLessThan(status.indexOf('$ orgctl users disable'));
		expect(status).toBe('✓ mia is disabled.  $ orgctl users disable mia');
		await t.press(':');
		await t.waitFor('the orgctl command that does the same');
		await t.press('y');
		await t.waitFor('The command copied to the clipboard');
		expect(t.output()).toContain(`\u001b]52;c;${Buffer.from('orgctl users disable mia').toString('base64')}\u0007`);
	});

	it('a sentence too long for both keeps the sentence and points to `:` for the command', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.press('n');
		await t.waitFor('Invite someone');
		await t.type('carol2');
		await t.press('tab');
		await t.type(LONG_EMAIL.replace('carol', 'carol2'));
		await t.press('enter', 'enter', 'enter');
		await t.waitFor('Invited carol2');
		expect(t.lines()[21]).toMatch(/^✓ Invited carol2: mail not sent.*\(: shows (the command|it whole)\)$/);
		await t.expectCommand(`orgctl invites create carol2 ${LONG_EMAIL.replace('carol', 'carol2')}`);
	});

	it('signing in shows `orgctl login --username U`', async () => {
		const dir = tempDir();
		await seedRoot(dir);
		const t = start(dir);
		await t.waitReady('login');
		await t.type('root');
		await t.press('tab');
		await t.type('correct horse battery staple');
		await t.press('enter');
		await t.waitReady('main:users', 20_000);
		await t.waitFor('$ orgctl login --username root');
	});
});

describe('keys the signed-in user may not use', () => {
	it('are not offered to a member, and pressing one says why without opening a form', async () => {
		const {dir} = await store({as: 'mia'});
		const t = start(dir);
		await t.waitReady('main:users');
		await t.waitFor('/ filter');
		const keys = t.lines()[22]!;
		expect(keys).not.toContain('e role');
		expect(keys).not.toContain('d delete');
		expect(keys).not.toContain('x disable');
		await t.press('e');
		await t.waitFor('Only admins can change roles, disable or delete users.');
		expect(t.screen()).not.toContain('Change the role');
		await t.press('d');
		await t.waitFor('Only admins can change roles');
		expect(t.screen()).not.toContain('Delete');
	});

	it('shown to an admin for context, they are refused on a superuser’s row with the reason, before any form', async () => {
		const {dir} = await store({as: 'ada'});
		const t = start(dir);
		await t.waitReady('main:users');
		await t.waitFor('e role');
		await select(t, 'root');
		await t.press('e');
		await t.waitFor('Only a superuser can change, disable or delete a superuser.');
		expect(t.screen()).not.toContain('Change the role of root');
		// The admin's own row: deleting oneself is refused before the typed confirmation.
		await t.press('escape');
		await select(t, 'ada');
		await t.press('d');
		await t.waitFor('You cannot delete your own account');
		expect(t.screen()).not.toContain('to confirm');
	});
});

describe('confirmations', () => {
	it('making someone admin asks [y/N]; No leaves the role; the choices stop at the ends', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await select(t, 'mia');
		await t.press('e');
		await t.waitFor('Change the role of mia');
		expect(t.screen()).toMatch(/guest\s+\[member\]\s+admin/);
		await t.press('right', 'right', 'right');
		await t.waitFor(/guest\s+member\s+\[admin\]/);
		await t.press('enter');
		await t.waitFor('Make mia an admin?');
		await t.press('n');
		await t.waitFor(s => !s.includes('Make mia an admin?'));
		expect((await openStore(dir)).store.read().users.find(u => u.username === 'mia')!.role).toBe('member');
		// From admin, left three times is guest; one more stays guest (no wrap-around).
		await t.press('left', 'left', 'left');
		await t.waitFor(/\[guest\]\s+member\s+admin/);
	});

	it('lowering one’s own role asks; revoking one’s own superuser bit asks; deleting anyone asks for the typed name', async () => {
		const {dir, ctx} = await store();
		// A second superuser, so root's own bit is not the last one (that is refused before any question).
		await ctx.store.transact(db => {
			db.users.find(u => u.username === 'ada')!.superuser = true;
		});
		const t = start(dir);
		await t.waitReady('main:users');
		await select(t, 'root');
		await t.press('e');
		await t.waitFor('Change the role of root');
		await t.press('left', 'enter');
		await t.waitFor('Lower your own role from admin to member?');
		await t.press('n');
		await t.press('escape');
		await t.waitFor('›root');
		await t.press('s');
		await t.waitFor('Revoke your own superuser bit?');
		await t.press('n');
		await t.press('escape');
		await select(t, 'mia');
		await t.press('d');
		// mia owns nothing, and is still asked for her name.
		await t.waitFor('Type mia to confirm');
		await t.type('mi');
		await t.press('enter');
		await t.waitFor('That is not mia');
		await t.type('a');
		await t.press('enter');
		await t.waitFor('mia deleted.');
	});
});

describe('the shell at 80×24', () => {
	it('below 80×24 says how big it needs to be, and comes back as it was', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.press('n');
		await t.type('kept');
		// The form holds the text before the terminal shrinks (a resize may overtake keys still in the pipe).
		await t.waitFor(/Username\s+kept/);
		t.resize(60, 20);
		await t.waitFor('orgctl needs a terminal of at least 80×24');
		await t.waitFor('this one is 60×20');
		t.resize(80, 24);
		await t.waitFor(/Username\s+kept/);
	});

	it('L signs out: the session ends in the store, its file is removed, and the sign-in screen shows no trace of the user’s last message', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await select(t, 'mia');
		await t.press('x', 'y');
		await t.waitFor('mia is disabled.');
		expect(existsSync(join(dir, 'session.json'))).toBe(true);
		await t.press('L');
		await t.waitReady('login');
		await t.waitFor('Signed out: the session ended and its file is removed.');
		expect(t.screen()).not.toContain('is disabled.');
		expect(existsSync(join(dir, 'session.json'))).toBe(false);
		expect((await openStore(dir)).store.read().sessions).toEqual([]);
	});

	it('a session that ends elsewhere leaves the sign-in screen without the last user’s status line', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await select(t, 'mia');
		await t.press('x', 'y');
		await t.waitFor('mia is disabled.');
		const ctx = await openStore(dir);
		await ctx.store.transact(db => {
			db.sessions = [];
		});
		// The console notices within its two-second look at the store.
		await t.waitReady('login', 10_000);
		await t.waitFor('Your session has ended');
		expect(t.screen()).not.toContain('is disabled.');
		expect(t.lines()[21]!.trim()).toBe('');
	});

	it('Ctrl-L redraws the whole screen', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.waitFor('d delete');
		await t.settle(300);
		const before = t.screen();
		const from = t.output().length;
		await t.press('ctrl-l');
		await t.waitFor(() => t.output().slice(from).includes('\u001b[2J'));
		await t.waitFor(() => t.output().slice(from).includes('Organization Settings'));
		await t.waitFor(s => s === before);
	});

	it('help pages with PgDn/PgUp/G/g, searches with /, and reads every row under its own heading', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('?');
		await t.waitFor('Everywhere');
		await t.press('pagedown');
		await t.waitFor(s => !s.includes('Everywhere') || s.includes('(continued)'));
		await t.press('G');
		await t.waitFor('delete the selected project or token');
		// The last row sits under its own heading (My Account's key once came after Projects & Tokens);
		// a superuser's help ends with the Single Sign-On section's keys.
		// The help's own rows: below its title line, above the rule of the status bar.
		const lines = t.lines().slice(3, 20);
		const lastHeading = lines.map((line, i) => ({line, i})).filter(({line}) => /^[A-Z]/.test(line)).at(-1)!;
		expect(lastHeading.line).toMatch(/^Single Sign-On/);
		expect(lines.slice(lastHeading.i).join('\n')).not.toContain('change your password');
		await t.press('g');
		await t.waitFor('Everywhere');
		await t.press('/');
		await t.type('password');
		await t.waitFor('/password');
		expect(t.screen()).toMatch(/^My Account\n {2}p\s+change your password/m);
		expect(t.screen()).not.toContain('Everywhere');
		expect(t.screen()).not.toContain('Everywhere');
		await t.press('escape', 'escape');
		await t.waitFor('USERNAME');
	});

	it('the token secret fits one line at 80 columns and y copies it', async () => {
		const {dir, ctx, root} = await store();
		await createProject(ctx, root, {name: 'web'});
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press(/(\d) Projects/.exec(t.screen())![1]!);
		await t.waitReady('main:projects');
		await t.press('t');
		await t.type('ci');
		await t.press('enter', 'enter');
		await t.waitFor('Copy the secret now');
		const secret = t.lines().find(line => /^[0-9a-f]{32}\.[\w-]{43}$/.test(line));
		expect(secret).toBeDefined();
		await t.press('y');
		await t.waitFor('The secret copied to the clipboard');
		expect(t.output()).toContain(`\u001b]52;c;${Buffer.from(secret!).toString('base64')}\u0007`);
	});

	it('Enter is offered where it opens something: an audit event shows whole', async () => {
		const {dir} = await store();
		const t = start(dir);
		await t.waitReady('main:users');
		await t.press(/(\d) Audit/.exec(t.screen())![1]!);
		await t.waitReady('main:audit');
		await t.waitFor('Enter open');
		await t.press('enter');
		await t.waitFor(/Time\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC/);
		await t.waitFor('Esc back');
	});
});
