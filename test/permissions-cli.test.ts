import {copyFileSync} from 'node:fs';
import {join} from 'node:path';
import type {Command} from 'commander';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CliContext} from '../source/cli/context.js';
import {buildProgram} from '../source/cli/program.js';
import {actorFacts} from '../source/core/context.js';
import {createInvitation} from '../source/core/invitations.js';
import {decide, type Action, type ActorFacts, type Decision, type TargetFacts} from '../source/core/policy.js';
import {createProject} from '../source/core/projects.js';
import {setListener} from '../source/core/server-settings.js';
import {addSignupDomain} from '../source/core/signup-domains.js';
import {createToken} from '../source/core/tokens.js';
import {deleteUser, disableUser, enableUser} from '../source/core/user-admin.js';
import {Store} from '../source/store/store.js';
import {cast, PASSWORD, type Cast} from './helpers/cast.js';
import {orgctl, type CliResult} from './helpers/cli.js';
import {addUser, useLoopbackSmtp} from './helpers/people.js';
import {makeCertificate, removeCertificate, TestSmtpServer, type TestCertificate} from './helpers/smtp.js';
import {tempDir} from './helpers/store.js';

/**
 * Who may do what, asked of the built orgctl itself: every subcommand of the commander program, run
 * by every kind of identity, each run a real process on its own copy of one prepared store. Each
 * answer must be the policy table's (source/core/policy.ts): allowed commands exit 0; refused ones
 * exit 1 with the table's sentence and leave exactly one refusal in the audit log. Identities that
 * cannot act at all (another tenant's admin, a token without `cli`, a revoked token, a deleted
 * user's token) are refused by every command, each refusal audited.
 *
 * The subcommands are read from the program, so a new one without a row below fails this test.
 */

/** What the rows refer to, from the prepared store. */
type World = {
	readonly ids: Readonly<Record<'root' | 'ada' | 'mia' | 'max', string>>;
	readonly miaToken: string;
	readonly rootToken: string;
	readonly miaInvitation: string;
	readonly rootInvitation: string;
	readonly link: string;
	readonly certificate: TestCertificate;
	readonly smtpPort: number;
};

/** A command for identities: its arguments and what the policy says about it for `who`. */
type ActingRow = {readonly args: (w: World) => readonly string[]; readonly input?: string; readonly policy: (who: ActorFacts, w: World) => Decision};
/** A command that needs nobody signed in: how it ends, and what it leaves in the audit log. */
type PublicRow = {readonly public: true; readonly args: (w: World) => readonly string[]; readonly input?: string; readonly code: number; readonly audit: 'ok' | 'refused' | 'none'};
type Row = ActingRow | PublicRow;

/** A row's decision straight from one action of the table, with the target facts of this world. */
const rule =
	(action: Action, target: (w: World, who: ActorFacts) => TargetFacts = () => ({})) =>
	(who: ActorFacts, w: World): Decision =>
		decide(who, action, target(w, who));

/**
 * An id looked up among what `who` may list (the red team's #14): another's token or invitation,
 * to one whose row does not let them list it, is "no such", before any other row is asked; a
 * command refused to the role as a whole (`before`) says so first.
 */
const amongVisible =
	(listAll: Action, what: string, id: (w: World) => string, owner: (w: World) => string, inner: ActingRow['policy'], before?: Action) =>
	(who: ActorFacts, w: World): Decision => {
		if (before && !decide(who, before).allowed) return inner(who, w);
		if (decide(who, listAll).allowed || owner(w) === who.userId) return inner(who, w);
		return {allowed: false, reason: `No ${what} has an id starting with "${id(w).slice(0, 8)}".`};
	};

/** For what the table lets anyone who may act do (their own profile, the lists that show each their own). */
const anyone = (): Decision => ({allowed: true});

const NEW_PASSWORD = 'another long password';

/** One row per subcommand, by its path in the program. */
const ROWS: Readonly<Record<string, Row>> = {
	init: {public: true, args: () => ['init', '--username', 'x', '--email', 'x@example.com', '--password-stdin'], input: NEW_PASSWORD, code: 1, audit: 'refused'},
	login: {public: true, args: () => ['login', '--username', 'mia', '--password-stdin'], input: PASSWORD, code: 0, audit: 'ok'},
	logout: {public: true, args: () => ['logout'], code: 0, audit: 'none'},
	accept: {public: true, args: w => ['accept', w.link, '--password-stdin'], input: NEW_PASSWORD, code: 0, audit: 'ok'},
	signup: {public: true, args: () => ['signup', 'new@corp.com', 'newcomer'], code: 0, audit: 'ok'},
	'signup verify': {public: true, args: () => ['signup', 'verify', 'nobody@corp.com', '12345678'], code: 1, audit: 'refused'},
	// Break-glass: for whoever can read (check) or write (reset) the store file, as file permissions decide.
	'admin check': {public: true, args: () => ['admin', 'check'], code: 0, audit: 'none'},
	// The web side serves anonymous pages; whoever can read the store may run it (as admin check). Its
	// own refusals go through the core's helper and are tested over HTTP (test/web/http.test.ts); here
	// it is asked to listen on an address this machine does not have, so it ends at once: one sentence.
	serve: {public: true, args: () => ['serve', '--listen', '192.0.2.1:8080'], code: 1, audit: 'none'},
	'admin reset-password': {public: true, args: () => ['admin', 'reset-password', 'max', '--password-stdin'], input: NEW_PASSWORD, code: 0, audit: 'ok'},
	// The store's own commands, as admin check: for whoever can open the store (its file, or the
	// database with its credentials). Copying needs a store to copy from; a path with none is one sentence.
	'admin migrate': {public: true, args: () => ['admin', 'migrate'], code: 0, audit: 'none'},
	'admin copy-store': {public: true, args: () => ['admin', 'copy-store', '/nonexistent/orgctl.json', '/nonexistent/copy.json'], code: 1, audit: 'none'},

	whoami: {args: () => ['whoami'], policy: rule('profile.own')},
	passwd: {args: () => ['passwd', '--password-stdin'], input: `${PASSWORD}\n${NEW_PASSWORD}`, policy: rule('profile.own')},

	'users list': {args: () => ['users', 'list'], policy: rule('users.list')},
	'users show': {args: () => ['users', 'show', 'mia'], policy: (who, w) => (who.userId === w.ids.mia ? {allowed: true} : decide(who, 'users.list'))},
	'users owned': {args: () => ['users', 'owned', 'mia'], policy: rule('ownership.view', w => ({ownerId: w.ids.mia}))},
	'users set-role': {args: () => ['users', 'set-role', 'max', 'member'], policy: rule('users.manage', () => ({targetSuperuser: false}))},
	'users set-superuser': {args: () => ['users', 'set-superuser', 'max', 'off'], policy: rule('superuser.grant')},
	'users disable': {args: () => ['users', 'disable', 'max'], policy: rule('users.manage', () => ({targetSuperuser: false}))},
	'users enable': {args: () => ['users', 'enable', 'max'], policy: rule('users.manage', () => ({targetSuperuser: false}))},
	'users reset-password': {args: () => ['users', 'reset-password', 'max', '--password-stdin'], input: NEW_PASSWORD, policy: rule('users.manage', () => ({targetSuperuser: false}))},
	'users delete': {args: () => ['users', 'delete', 'sam', '--yes'], policy: rule('users.manage', () => ({targetSuperuser: false}))},

	'projects create': {args: () => ['projects', 'create', 'fresh'], policy: rule('projects.create', (_w, who) => ({ownerId: who.userId, ownerSuperuser: who.superuser}))},
	'projects list': {args: () => ['projects', 'list'], policy: anyone},
	'projects transfer': {args: () => ['projects', 'transfer', 'mias', '--to', 'max'], policy: rule('ownership.migrate', w => ({ownerId: w.ids.mia, ownerSuperuser: false, recipientSuperuser: false}))},
	'projects delete': {args: () => ['projects', 'delete', 'adas'], policy: rule('projects.manage', w => ({ownerId: w.ids.ada, ownerSuperuser: false}))},

	'tokens create': {
		args: () => ['tokens', 'create', 'fresh', '--project', 'mias'],
		policy: rule('tokens.create', (w, who) => ({ownerId: who.userId, ownerSuperuser: who.superuser, projectOwnerId: w.ids.mia, projectOwnerSuperuser: false, cli: false})),
	},
	'tokens list': {args: () => ['tokens', 'list'], policy: anyone},
	'tokens transfer': {args: w => ['tokens', 'transfer', w.miaToken.slice(0, 8), '--to', 'max'], policy: amongVisible('tokens.list-all', 'API token', w => w.miaToken, w => w.ids.mia, rule('ownership.migrate', w => ({ownerId: w.ids.mia, ownerSuperuser: false, recipientSuperuser: false})))},
	'tokens reissue': {args: w => ['tokens', 'reissue', w.miaToken.slice(0, 8)], policy: amongVisible('tokens.list-all', 'API token', w => w.miaToken, w => w.ids.mia, rule('tokens.reissue', w => ({ownerId: w.ids.mia, ownerSuperuser: false, cli: false})))},
	'tokens delete': {args: w => ['tokens', 'delete', w.rootToken.slice(0, 8)], policy: amongVisible('tokens.list-all', 'API token', w => w.rootToken, w => w.ids.root, rule('tokens.manage', w => ({ownerId: w.ids.root, ownerSuperuser: true})))},

	'tenants list': {args: () => ['tenants', 'list'], policy: rule('tenants.manage')},
	'tenants create': {args: () => ['tenants', 'create', 'fresh'], policy: rule('tenants.manage')},
	'tenants delete': {args: () => ['tenants', 'delete', 'other', '--confirm', 'other'], policy: rule('tenants.manage')},
	audit: {args: () => ['audit'], policy: rule('audit.view')},

	'settings show': {args: () => ['settings', 'show'], policy: rule('server.settings')},
	'settings public-url set': {args: () => ['settings', 'public-url', 'set', 'https://crash.example.com'], policy: rule('server.settings')},
	'settings org set': {args: () => ['settings', 'org', 'set', '--min-password-length', '14'], policy: rule('server.settings')},
	'settings listeners set': {args: () => ['settings', 'listeners', 'set', 'crashes', '--port', '8443'], policy: rule('server.settings')},
	'settings listeners remove': {args: () => ['settings', 'listeners', 'remove', 'requests'], policy: rule('server.settings')},
	'settings ssl set': {args: w => ['settings', 'ssl', 'set', '--cert', w.certificate.certFile, '--key', join(w.certificate.dir, 'key.pem')], policy: rule('server.settings')},
	'settings smtp set': {args: w => ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', String(w.smtpPort), '--security', 'none', '--from', 'ops@example.com'], policy: rule('server.settings')},
	'settings smtp show': {args: () => ['settings', 'smtp', 'show'], policy: rule('server.settings')},
	'settings smtp test': {args: () => ['settings', 'smtp', 'test', '--to', 'ops@example.com'], policy: rule('server.settings')},
	'settings smtp clear': {args: () => ['settings', 'smtp', 'clear'], policy: rule('server.settings')},
	'settings sso set': {args: () => ['settings', 'sso', 'set', '--match-attribute', 'email'], policy: rule('sso.manage')},
	'settings sso show': {args: () => ['settings', 'sso', 'show'], policy: rule('sso.manage')},
	'settings sso sp-metadata': {args: () => ['settings', 'sso', 'sp-metadata'], policy: rule('sso.manage')},
	'settings sso clear': {args: () => ['settings', 'sso', 'clear'], policy: rule('sso.manage')},

	'invites create': {args: () => ['invites', 'create', 'newbie', 'newbie@example.com', '--no-email'], policy: rule('invitations.send', () => ({role: 'member'}))},
	'invites list': {args: () => ['invites', 'list'], policy: rule('invitations.list')},
	'invites resend': {args: w => ['invites', 'resend', w.miaInvitation.slice(0, 8)], policy: rule('invitations.manage', w => ({invitedBy: w.ids.mia, role: 'member', ownerSuperuser: false}))},
	'invites link': {args: w => ['invites', 'link', w.miaInvitation.slice(0, 8)], policy: rule('invitations.manage', w => ({invitedBy: w.ids.mia, role: 'member', ownerSuperuser: false}))},
	'invites delete': {args: w => ['invites', 'delete', w.rootInvitation.slice(0, 8)], policy: amongVisible('invitations.list-all', 'invitation', w => w.rootInvitation, w => w.ids.root, rule('invitations.manage', w => ({invitedBy: w.ids.root, role: 'member', ownerSuperuser: true})), 'invitations.manage')},
	'invites deliver': {args: () => ['invites', 'deliver'], policy: rule('mail.deliver')},

	'signup-domains add': {args: () => ['signup-domains', 'add', 'fresh.example.org'], policy: rule('signup-domains.configure')},
	'signup-domains list': {args: () => ['signup-domains', 'list'], policy: rule('signup-domains.configure')},
	'signup-domains set': {args: () => ['signup-domains', 'set', 'corp.com', '--method', 'pam'], policy: rule('signup-domains.configure')},
	'signup-domains remove': {args: () => ['signup-domains', 'remove', 'corp.com'], policy: rule('signup-domains.configure')},
};

/** The paths of every subcommand that does something (has an action), read from the program. */
export function subcommandsOf(command: Command, prefix: readonly string[] = []): string[] {
	const paths: string[] = [];
	for (const sub of command.commands) {
		const path = [...prefix, sub.name()];
		// Commander keeps the action as _actionHandler; a group such as `users` has none.
		if ((sub as unknown as {_actionHandler: unknown})._actionHandler) paths.push(path.join(' '));
		paths.push(...subcommandsOf(sub, path));
	}
	return paths;
}

function theProgram(): Command {
	return buildProgram(
		new CliContext({
			resolveStorePath: path => path ?? '',
			open: () => Promise.reject(new Error('not opened')),
			check: () => {
				throw new Error('not checked');
			},
			migrate: () => Promise.reject(new Error('not migrated')),
			copyStore: () => Promise.reject(new Error('not copied')),
		}),
	);
}

/** Who runs the commands. The first four act; the other four must be refused by everything. */
type Identity = {
	readonly name: string;
	readonly env: (c: Cast, w: Secrets) => Record<string, string>;
	readonly extraArgs?: readonly string[];
	/** For those that act: the user whose policy facts apply. */
	readonly user?: string;
	/** For those that may not act at all: the sentence and the audit action of the refusal. */
	readonly refusal?: {readonly sentence: RegExp; readonly action: string};
};
type Secrets = {readonly nonCli: string; readonly revoked: string; readonly deleted: string};

const asUser = (username: string) => () => ({ORGCTL_USER: username, ORGCTL_PASSWORD: PASSWORD});
const IDENTITIES: readonly Identity[] = [
	{name: 'superuser', user: 'root', env: asUser('root')},
	{name: 'admin', user: 'ada', env: asUser('ada')},
	{name: 'member', user: 'mia', env: asUser('mia')},
	{name: 'guest', user: 'gus', env: asUser('gus')},
	{name: 'another tenant’s admin', env: asUser('olga'), extraArgs: ['--tenant', 'default'], refusal: {sentence: /^Only a superuser can act in another tenant; olga belongs to other\.$/, action: 'tenant.enter'}},
	{name: 'a token without cli', env: (_c, s) => ({ORGCTL_TOKEN: s.nonCli}), refusal: {sentence: /^The API token mias-crashes lacks the cli capability/, action: 'authenticate'}},
	{name: 'a revoked token', env: (_c, s) => ({ORGCTL_TOKEN: s.revoked}), refusal: {sentence: /^The API token maxs-laptop was revoked on .* \(its owner was disabled\)/, action: 'authenticate'}},
	{name: 'a deleted user’s token', env: (_c, s) => ({ORGCTL_TOKEN: s.deleted}), refusal: {sentence: /^The API token dans-laptop was revoked on .* \(it moved from dan to max\)/, action: 'authenticate'}},
];

/** How many processes run at once: the machine has two cores, and each process is mostly start-up. */
const POOL = 4;

type Outcome = {readonly result: CliResult; readonly audit: ReadonlyArray<{actor: string; action: string; result: string; reason?: string}>};

let c: Cast;
let world: World;
let secrets: Secrets;
let smtp: TestSmtpServer;
const outcomes = new Map<string, Outcome>();
let measured = '';

/** Runs one command on a fresh copy of the prepared store and reads back the audit events it added. */
async function runOnCopy(args: readonly string[], env: Record<string, string>, input?: string): Promise<Outcome> {
	const dir = tempDir();
	copyFileSync(c.ctx.store.path, join(dir, 'orgctl.json'));
	copyFileSync(join(c.ctx.dir, 'orgctl.key'), join(dir, 'orgctl.key'));
	const before = c.ctx.store.read().audit.length;
	const result = await orgctl(dir, args, {env, ...(input === undefined ? {} : {input})});
	const copy = await Store.open(join(dir, 'orgctl.json'));
	return {result, audit: copy.read().audit.slice(before)};
}

async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, size: number): Promise<T[]> {
	const results: T[] = [];
	let next = 0;
	await Promise.all(
		Array.from({length: size}, async () => {
			while (next < tasks.length) {
				const index = next++;
				results[index] = await tasks[index]!();
			}
		}),
	);
	return results;
}

const key = (command: string, identity: string) => `${command} / ${identity}`;

beforeAll(async () => {
	c = await cast();
	const {ctx, root} = c;
	smtp = await new TestSmtpServer({parse: false}).start();
	await useLoopbackSmtp(ctx, root, smtp.port);
	await setListener(ctx, root, {name: 'requests', port: 8080});
	await addSignupDomain(ctx, root, {domain: 'corp.com'});
	for (const [name, owner] of [['roots', 'root'], ['adas', 'ada'], ['mias', 'mia'], ['maxs', 'max']] as const) await createProject(ctx, c.actor(owner), {name});
	const rootToken = (await createToken(ctx, root, {name: 'roots-crashes', project: 'roots'})).token.id;
	const nonCli = await createToken(ctx, c.actor('mia'), {name: 'mias-crashes', project: 'mias'});
	// A revoked token: max's cli token, revoked when an admin disabled him (enabled again since).
	const revoked = (await createToken(ctx, c.actor('max'), {name: 'maxs-laptop', project: 'maxs', capabilities: ['cli']})).secret;
	await disableUser(ctx, root, 'max');
	await enableUser(ctx, root, 'max');
	// A deleted user's token: dan's, which moved to max when dan was deleted.
	await addUser(ctx, root.tenant.id, 'dan');
	await createProject(ctx, c.actor('dan'), {name: 'dans'});
	const deleted = (await createToken(ctx, c.actor('dan'), {name: 'dans-laptop', project: 'dans', capabilities: ['cli']})).secret;
	await deleteUser(ctx, root, 'dan', {migrateTo: 'max'});
	const miaInvitation = (await createInvitation(ctx, c.actor('mia'), {username: 'friend', email: 'friend@example.com'}, {sendEmail: false})).invitation.id;
	const rootInvitation = (await createInvitation(ctx, root, {username: 'boss', email: 'boss@example.com'}, {sendEmail: false})).invitation.id;
	const link = (await createInvitation(ctx, root, {username: 'joiner', email: 'joiner@example.com'}, {sendEmail: false})).link;
	const ids = {root: root.user.id, ada: c.users['ada']!.id, mia: c.users['mia']!.id, max: c.users['max']!.id};
	world = {ids, miaToken: nonCli.token.id, rootToken, miaInvitation, rootInvitation, link, certificate: makeCertificate(), smtpPort: smtp.port};
	secrets = {nonCli: nonCli.secret, revoked, deleted};

	const tasks: Array<() => Promise<void>> = [];
	for (const [command, row] of Object.entries(ROWS)) {
		if ('public' in row) {
			tasks.push(async () => void outcomes.set(key(command, 'nobody'), await runOnCopy(row.args(world), {}, row.input)));
			continue;
		}
		for (const identity of IDENTITIES) {
			tasks.push(async () => void outcomes.set(key(command, identity.name), await runOnCopy([...(identity.extraArgs ?? []), ...row.args(world)], identity.env(c, secrets), row.input)));
		}
	}
	const started = performance.now();
	await pool(tasks, POOL);
	measured = `${tasks.length} orgctl processes in ${((performance.now() - started) / 1000).toFixed(1)} s (${POOL} at a time)`;
}, 600_000);

afterAll(async () => {
	if (measured) process.stderr.write(`permission matrix: ${measured}\n`);
	await smtp?.stop();
	if (world) removeCertificate(world.certificate);
});

describe('the permission matrix, through the built orgctl', () => {
	it('has a row for every subcommand of the program, and none for a command that is gone', () => {
		const paths = subcommandsOf(theProgram());
		expect(paths.filter(p => !(p in ROWS)), 'subcommands without a row in ROWS').toEqual([]);
		expect(Object.keys(ROWS).filter(p => !paths.includes(p)), 'rows for no subcommand').toEqual([]);
	});

	it('notices a subcommand added without a row', () => {
		const program = theProgram();
		program.commands.find(cmd => cmd.name() === 'users')!.command('promote').action(() => undefined);
		expect(subcommandsOf(program).filter(p => !(p in ROWS))).toEqual(['users promote']);
	});

	for (const [command, row] of Object.entries(ROWS)) {
		if ('public' in row) {
			it(`${command}: needs nobody signed in, exits ${row.code}${row.audit === 'none' ? '' : `, audited ${row.audit}`}`, () => {
				const {result, audit} = outcomes.get(key(command, 'nobody'))!;
				expect(result.code, result.stderr).toBe(row.code);
				const mine = audit.filter(e => e.action !== 'mail.deliver');
				if (row.audit === 'none') expect(mine).toEqual([]);
				else expect(mine.map(e => e.result)).toEqual([row.audit]);
			});
			continue;
		}
		for (const identity of IDENTITIES) {
			const expected = (): {allowed: true} | {allowed: false; sentence: string | RegExp; action?: string} => {
				if (identity.refusal) return {allowed: false, sentence: identity.refusal.sentence, action: identity.refusal.action};
				const decision = row.policy(actorFacts(c.actor(identity.user!)), world);
				return decision.allowed ? decision : {allowed: false, sentence: decision.reason};
			};
			it(`${command}: ${identity.name} is ${identity.refusal ? 'refused' : 'answered'} as the policy table says`, () => {
				const {result, audit} = outcomes.get(key(command, identity.name))!;
				const want = expected();
				const refusals = audit.filter(e => e.result !== 'ok');
				if (want.allowed) {
					expect(result.code, `${identity.name}: ${result.stderr}`).toBe(0);
					expect(refusals).toEqual([]);
					return;
				}
				expect(result.code, result.stdout).toBe(1);
				const sentence = result.stderr.replace(/^orgctl: /, '').trimEnd();
				if (typeof want.sentence === 'string') expect(sentence).toBe(want.sentence);
				else expect(sentence).toMatch(want.sentence);
				// Audited once, with the sentence the user read.
				expect(refusals).toHaveLength(1);
				expect(refusals[0]).toMatchObject({result: 'refused', reason: sentence, ...(want.action ? {action: want.action} : {}), ...(identity.user ? {actor: identity.user} : {})});
			});
		}
	}
});
