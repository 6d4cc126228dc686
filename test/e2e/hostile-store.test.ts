import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import type {Actor, Context} from '../../source/core/context.js';
import {copyInvitationLink, createInvitation, revokeInvitation} from '../../source/core/invitations.js';
import {createProject} from '../../source/core/projects.js';
import {addSignupDomain} from '../../source/core/signup-domains.js';
import {createToken} from '../../source/core/tokens.js';
import {orgctl, type CliResult} from '../helpers/cli.js';
import {expectInert} from '../helpers/inert.js';
import {addUser} from '../helpers/people.js';
import {tempDir} from '../helpers/store.js';
import {seedRoot, signIn, spawnConsole, type ConsoleTerm} from '../helpers/term.js';

// A store full of hostile strings: every field the schema lets hold free text (names have their
// rules at the door, so these are the texts from elsewhere: audit targets and reasons, SMTP
// replies, file paths, addresses to listen on, token capabilities, single sign-on settings, the
// public URL). Every console screen and every command that prints must show them inert.

const ESC = '\u001b';
const BEL = '\u0007';
/** OSC 52, OSC 0, a repaint in red, a C1 CSI, a right-to-left override and isolate, DEL, and a line break. */
const H = `${ESC}]52;c;SE9TVElMRQ==${BEL}${ESC}]0;TOK${BEL}${ESC}[2J${ESC}[31mHOSTILE\u009b31m\u202eevil\u2066\u007f\r\nend`;
/** How H reads on screen. */
const SHOWN = '\\e]52;c;SE9TVElMRQ==\\x07\\e]0;TOK\\x07\\e[2J\\e[31mHOSTILE\\u009b31m\\u202eevil\\u2066\\x7f\\r\\nend';
const PAYLOADS = [`${ESC}]52;`, `${ESC}]0;TOK`, `${ESC}[31mHOSTILE`, '\u009b31m', '\u202eevil', `\r\nend`];

let dir: string;
let carolId: string;
let store: {ctx: Context; root: Actor};

/** Fills the store: a member, a project with a token, invitations (one revoked), a sign-up domain, then H wherever free text is kept. */
async function hostileStore(ctx: Context, rootTenantId: string, root: Parameters<typeof createProject>[1]): Promise<void> {
	await addUser(ctx, rootTenantId, 'mia');
	await createProject(ctx, root, {name: 'web', owner: 'mia'});
	await createToken(ctx, root, {name: 'ci', project: 'web', owner: 'mia'});
	const carol = await createInvitation(ctx, root, {username: 'carol', email: 'carol@example.com'}, {sendEmail: false});
	carolId = carol.invitation.id;
	await createInvitation(ctx, root, {username: 'dan', email: 'dan@example.com'}, {sendEmail: false});
	const ned = await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'}, {sendEmail: false});
	await revokeInvitation(ctx, root, ned.invitation.id);
	await addSignupDomain(ctx, root, {domain: 'corp.com'});
	await ctx.store.transact(db => {
		const at = ctx.now().toISOString();
		for (const result of ['ok', 'refused', 'failed'] as const) db.audit.push({id: `${result.length}`.padEnd(32, 'a'), time: at, actor: H, tenantId: rootTenantId, action: 'login', target: H, result, reason: H, clientAddress: H.slice(0, 64)});
		db.invitations.find(i => i.username === 'carol')!.mail = {state: 'failed', at, reason: H};
		db.invitations.find(i => i.username === 'dan')!.mail = {state: 'retrying', at, reason: H};
		db.invitationTombstones[0]!.by = H;
		db.tokens[0]!.capabilities = ['error:post', H];
		db.settings.smtp = {host: '127.0.0.1', port: 2525, security: 'none', user: H, passwordSealed: null, from: H, timeoutMs: 1000, caFile: H};
		db.settings.ssl = {cert: H, key: H};
		db.settings.listeners = [{name: 'http', address: H, port: 8080, ssl: false}];
		db.settings.sso = {idp: {entityId: H, ssoUrl: 'https://idp.example.com/sso', binding: 'redirect', certificates: [`-----BEGIN CERTIFICATE-----${H}`]}, matchAttribute: 'email', sp: null};
		db.settings.publicUrl = `https://crash.example.com/${H}`;
	});
}

// tempDir() folders go after each test: each test gets its own hostile store.
beforeEach(async () => {
	dir = tempDir();
	const {ctx, root} = await seedRoot(dir);
	await hostileStore(ctx, root.tenant.id, root);
	await signIn(ctx, root, dir);
	store = {ctx, root};
});

const running: ConsoleTerm[] = [];
afterEach(async () => {
	for (const t of running.splice(0)) {
		t.kill('SIGKILL');
		await t.exited;
	}
});

function expectInertCli(result: CliResult): void {
	expectInert(result.stdout, PAYLOADS);
	expectInert(result.stderr, PAYLOADS);
}

/** Every command that prints what the store holds, and with --json the same data exact. */
const PRINTING: ReadonlyArray<readonly string[]> = [
	['whoami'],
	['users', 'list'],
	['users', 'show', 'mia'],
	['users', 'owned', 'mia'],
	['invites', 'list'],
	['signup-domains', 'list'],
	['projects', 'list'],
	['tokens', 'list'],
	['tenants', 'list'],
	['audit'],
	['settings', 'show'],
	['settings', 'smtp', 'show'],
];

/** Commands that are refused with a message quoting what was typed (or stored). */
const REFUSED: ReadonlyArray<readonly string[]> = [
	['users', 'show', H],
	['users', 'set-role', H, 'admin'],
	['projects', 'create', H],
	['projects', 'transfer', H, '--to', 'mia'],
	['tokens', 'create', H, '--project', 'web'],
	['tokens', 'delete', H],
	['tenants', 'create', H],
	['tenants', 'delete', H, '--confirm', H],
	['signup-domains', 'add', H],
	['signup-domains', 'remove', H],
	['invites', 'create', H, 'x@example.com'],
	['invites', 'create', 'x', H],
	['invites', 'resend', H],
	['invites', 'link', H],
	['settings', 'public-url', 'set', H],
	['settings', 'listeners', 'set', H, '--port', '1'],
	['settings', 'smtp', 'test', '--to', H],
	['audit', '--since', H],
	['login', '--username', H, '--password-stdin'],
	[`--${H}`],
	[H],
];

describe('a store full of hostile strings', () => {
	it('every command that prints shows them inert, and --json keeps them exact', async () => {
		for (const args of PRINTING) {
			const human = await orgctl(dir, args);
			expect(human.code, `${args.join(' ')}: ${human.stderr}`).toBe(0);
			expectInertCli(human);
			const json = await orgctl(dir, [...args, '--json']);

			expect(json.code, args.join(' ')).toBe(0);
			expect(() => JSON.parse(json.stdout) as unknown, args.join(' ')).not.toThrow();
		}
		// The hostile texts are there, escaped, and a line break inside one does not start a line.
		const audit = await orgctl(dir, ['audit']);
		expect(audit.stdout).toContain(SHOWN.slice(0, 40));
		const settings = await orgctl(dir, ['settings', 'show']);
		expect(settings.stdout).toContain(`SSL                ${SHOWN} (${SHOWN} cannot be read`);
		// (zod's URL check drops the line break from a URL.)
		expect(settings.stdout).toContain(`public URL         https://crash.example.com/${SHOWN.replace('\\r\\n', '')}`);
		expect((await orgctl(dir, ['settings', 'smtp', 'show'])).stdout).toContain(`CA file   ${SHOWN}\n`);
		// --json is exact: the same strings, with JSON's own escapes.
		const events = JSON.parse((await orgctl(dir, ['audit', '--json'])).stdout) as Array<{target: string; reason?: string}>;
		expect(events.filter(e => e.target === H && e.reason === H)).toHaveLength(3);
		const tokens = JSON.parse((await orgctl(dir, ['tokens', 'list', '--json'])).stdout) as Array<{capabilities: string[]}>;
		expect(tokens[0]!.capabilities).toEqual(['error:post', H]);
		const invites = JSON.parse((await orgctl(dir, ['invites', 'list', '--json'])).stdout) as Array<{username: string; mail: {reason?: string}}>;
		expect(invites.find(i => i.username === 'carol')!.mail.reason).toBe(H);
		// The audit's FROM column (the client address of a web request) is data too.
		expect(audit.stdout).toMatch(/^TIME +ACTOR +FROM /);
		// orgctl admin check quotes the store's text (certificate paths, findings): inert, whatever it finds.
		const check = await orgctl(dir, ['admin', 'check']);
		expect(check.stdout.length).toBeGreaterThan(0);
		expectInertCli(check);
	}, 180_000);

	it('every refusal that quotes what was typed shows it inert', async () => {
		for (const args of REFUSED) {
			const result = await orgctl(dir, args, {input: 'x'});

			expect(result.code, `${JSON.stringify(args)}: ${result.stdout}${result.stderr}`).not.toBe(0);
			expectInertCli(result);
		}
		// The mail link of a stored invitation is built from the (hostile) public URL: inert too.
		const link = await orgctl(dir, ['invites', 'link', carolId.slice(0, 8)]);
		expect(link.code).toBe(0);
		expectInertCli(link);
		expect(link.stdout).toContain(`https://crash.example.com/${SHOWN.replace('\\r\\n', '')}/invite/`);
	}, 120_000);

	it('every console screen shows them inert: lists, details, dialogs, help and the status line', async () => {
		// No tmux and no display: the copy goes out as OSC 52 (of the link, base64), which orgctl means to write.
		const t = spawnConsole({dir, cols: 120, rows: 30, env: {TMUX: undefined, DISPLAY: undefined, WAYLAND_DISPLAY: undefined}});
		running.push(t);
		await t.waitReady('main:users');
		await t.waitFor('mia');
		// Users: a user's detail, then back.
		await t.press('enter');
		await t.waitFor('(Esc: back)');
		await t.press('escape');
		await t.waitFor(screen => !screen.includes('(Esc: back)'));
		// Manage Invitations: the list, carol's detail with the whole reason, a dialog, the link shown.
		await t.press('2');
		await t.waitReady('main:invitations');
		// Newest first: dan, then carol.
		await t.waitFor(/›dan[\s\S]*carol.*FAILED/);
		await t.press('j');
		await t.waitFor(/›carol/);
		await t.press('enter');
		await t.waitFor('Invitation for carol');
		await t.waitFor('\\e]52;c;SE9TVElMRQ==\\x07\\e]0;TOK');
		await t.press('d');
		await t.waitFor('Revoke the invitation for carol');
		await t.press('n');
		await t.waitFor(screen => !screen.includes('[y/N]'));
		await t.press('y');
		await t.waitFor(`https://crash.example.com/\\e]52;`);
		await t.press('escape');
		await t.waitFor(screen => !screen.includes('(Esc: back)'));
		// Configure Self Signup, Projects & Tokens (the hostile capability), Audit, My Account, help.
		await t.press('3');
		await t.waitReady('main:signup-domains');
		await t.press('4');
		await t.waitReady('main:projects');
		await t.waitFor('error:post,\\e]52;c;');
		await t.press('8');
		await t.waitReady('main:audit');
		await t.waitFor('\\e]52;c;SE9TVElMRQ==');
		await t.press('9');
		await t.waitReady('main:account');
		await t.press('?');
		await t.waitFor('Esc closes');
		await t.press('escape');
		await t.waitFor(screen => !screen.includes('Esc closes'));
		// The status line quoting stored text: resending to dan fails on the stored (hostile) sender address.
		await t.press('2');
		await t.waitReady('main:invitations');
		await t.waitFor(/›dan/);
		await t.press('r');
		await t.waitFor(/Resent to dan@example.com: failed: .*\\e\]52;c;/, 20_000);
		const {link} = await copyInvitationLink(store.ctx, store.root, carolId);
		expectInert(t.output(), PAYLOADS, {copied: [link]});
	}, 120_000);
});
