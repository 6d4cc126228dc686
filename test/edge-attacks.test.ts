import {chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {createProject} from '../source/core/projects.js';
import {createToken} from '../source/core/tokens.js';
import {auditSince, cast, PASSWORD} from './helpers/cast.js';
import {startServe} from './helpers/serve.js';
import {makeCertificate, removeCertificate} from './helpers/smtp.js';

/** Another local user, for what an attacker plants (a uid with no account: chown needs none, but root does). */
const OTHER = 54_321;
const ROOT = process.geteuid?.() === 0;

/**
 * The red team's findings against issues 10 and 14 (notes/redteam-10-14.md, #6–#15), each written
 * as its attack, through the built orgctl (real processes, a real store in a temp folder). Each
 * failed on the main these fixes started from (ed54e60).
 */

const NEW_PASSWORD = 'a new password, long enough';

describe('#6 a pending invitation is only as good as its sender’s standing', () => {
	it('an admin’s admin invitation stops working when the admin is disabled, and works again when enabled', async () => {
		const c = await cast();
		const made = await c.as('ada', ['invites', 'create', 'pal', 'pal@example.com', '--role', 'admin', '--no-email']);
		expect(made.code).toBe(0);
		const link = made.stdout.trim();
		const disabled = await c.as('root', ['users', 'disable', 'ada']);
		expect(disabled.code).toBe(0);
		expect(disabled.stderr).toMatch(/their pending invitation is suspended/);
		const before = c.ctx.store.read().audit.length;
		const accepted = await c.run(['accept', link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(accepted.code).toBe(1);
		expect(accepted.stderr).toBe('orgctl: This invitation is on hold: whoever sent it may no longer invite with the admin role; ask an admin of the organization for a new invitation.\n');
		expect(c.ctx.store.read().users.some(u => u.username === 'pal')).toBe(false);
		expect(auditSince(c, before)).toMatchObject([{action: 'invitation.accept', result: 'refused'}]);
		// The admin list says why; enabling ada lifts the hold (the invitation still expires as usual).
		const listed = await c.as('root', ['--json', 'invites', 'list']);
		expect(JSON.parse(listed.stdout)).toMatchObject([{username: 'pal', suspended: 'its sender ada is disabled'}]);
		expect((await c.as('root', ['users', 'enable', 'ada'])).code).toBe(0);
		expect((await c.run(['accept', link, '--password-stdin'], {input: NEW_PASSWORD})).code).toBe(0);
		expect(c.ctx.store.read().users.find(u => u.username === 'pal')?.role).toBe('admin');
	});

	it('an admin demoted to guest (or member) cannot have an admin invitation accepted; a member invitation of theirs still works while they may send it', async () => {
		const c = await cast();
		const adminLink = (await c.as('ada', ['invites', 'create', 'pal2', 'pal2@example.com', '--role', 'admin', '--no-email'])).stdout.trim();
		const memberLink = (await c.as('ada', ['invites', 'create', 'pal3', 'pal3@example.com', '--role', 'member', '--no-email'])).stdout.trim();
		const demoted = await c.as('root', ['users', 'set-role', 'ada', 'member']);
		expect(demoted.code).toBe(0);
		expect(demoted.stderr).toMatch(/ada is now member; their pending invitation is suspended/);
		const refused = await c.run(['accept', adminLink, '--password-stdin'], {input: NEW_PASSWORD});
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/This invitation is on hold/);
		expect((await c.run(['accept', memberLink, '--password-stdin'], {input: NEW_PASSWORD})).code).toBe(0);
		// A guest sends nothing: every invitation of theirs is on hold.
		const guestLink = (await c.as('mia', ['invites', 'create', 'pal4', 'pal4@example.com', '--no-email'])).stdout.trim();
		expect((await c.as('root', ['users', 'set-role', 'mia', 'guest'])).code).toBe(0);
		expect((await c.run(['accept', guestLink, '--password-stdin'], {input: NEW_PASSWORD})).stderr).toMatch(/This invitation is on hold: whoever sent it may no longer invite with the member role/);
		expect(c.ctx.store.read().users.filter(u => u.username === 'pal2' || u.username === 'pal4')).toEqual([]);
	});

	it('a superuser who loses the bit cannot have an admin invitation they sent as a member accepted', async () => {
		const c = await cast();
		await c.as('root', ['users', 'set-superuser', 'ada', 'on']);
		await c.as('root', ['users', 'set-role', 'ada', 'member']);
		const link = (await c.as('ada', ['invites', 'create', 'pal5', 'pal5@example.com', '--role', 'admin', '--no-email'])).stdout.trim();
		expect(link).toMatch(/^http/);
		const revoked = await c.as('root', ['users', 'set-superuser', 'ada', 'off']);
		expect(revoked.stderr).toMatch(/no longer a superuser; their pending invitation is suspended/);
		expect((await c.run(['accept', link, '--password-stdin'], {input: NEW_PASSWORD})).stderr).toMatch(/This invitation is on hold/);
	});
});

describe('#7 a session file gets the store’s care', () => {
	it('login into a folder others can write is refused, and a link planted at the temp names is never written through', async () => {
		const c = await cast();
		const shared = join(c.ctx.dir, 'shared');
		mkdirSync(shared);
		chmodSync(shared, 0o1777);
		const victim = join(c.ctx.dir, 'victim');
		writeFileSync(victim, 'important config\n', {mode: 0o644});
		// The old temp name was `<file>.<pid>.tmp`: a range of pids covers the next process.
		for (let pid = process.pid; pid < process.pid + 400; pid++) symlinkSync(victim, join(shared, `s.json.${pid}.tmp`));
		const login = await c.run(['login', '--username', 'root', '--password-stdin'], {input: PASSWORD, env: {ORGCTL_SESSION_FILE: join(shared, 's.json')}});
		expect(login.code).toBe(1);
		expect(login.stderr).toMatch(/^orgctl: The session file .*s\.json is not safe to use: its folder .*shared \(mode 1777\) is writable by others/);
		expect(readFileSync(victim, 'utf8')).toBe('important config\n');
		expect(lstatSync(victim).mode & 0o777).toBe(0o644);
		// In a folder of our own, the planted links are left alone too: the temp file has a random name and O_EXCL|O_NOFOLLOW.
		const mine = join(c.ctx.dir, 'mine');
		mkdirSync(mine, {mode: 0o700});
		for (let pid = process.pid; pid < process.pid + 400; pid++) symlinkSync(victim, join(mine, `s.json.${pid}.tmp`));
		const ok = await c.run(['login', '--username', 'root', '--password-stdin'], {input: PASSWORD, env: {ORGCTL_SESSION_FILE: join(mine, 's.json')}});
		expect(ok.code).toBe(0);
		expect(readFileSync(victim, 'utf8')).toBe('important config\n');
		expect(lstatSync(join(mine, 's.json')).mode & 0o777).toBe(0o600);
	});

	it('a session file that is a link, or that others may read, is refused on read', async () => {
		const c = await cast();
		const file = join(c.ctx.dir, 'session.json');
		expect((await c.run(['login', '--username', 'mia', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
		chmodSync(file, 0o644);
		const wide = await c.run(['whoami']);
		expect(wide.code).toBe(1);
		expect(wide.stderr).toMatch(/session\.json is not safe to use: it has mode 0644, so others may read or change the session; remove it/);
		chmodSync(file, 0o600);
		const linked = join(c.ctx.dir, 'linked.json');
		symlinkSync(file, linked);
		const link = await c.run(['whoami'], {env: {ORGCTL_SESSION_FILE: linked}});
		expect(link.code).toBe(1);
		expect(link.stderr).toMatch(/linked\.json is not safe to use: it is a symbolic link/);
	});

	it.skipIf(!ROOT)('a session planted by another user does not make root act as the planter (session fixation)', async () => {
		const c = await cast();
		const file = join(c.ctx.dir, 'session.json');
		expect((await c.run(['login', '--username', 'gus', '--password-stdin'], {input: PASSWORD})).code).toBe(0);
		chownSync(file, OTHER, OTHER);
		const planted = await c.run(['whoami']);
		expect(planted.code).toBe(1);
		expect(planted.stderr).toMatch(new RegExp(`session\\.json is not safe to use: it belongs to uid ${OTHER}, not to you`));
		// A folder of someone else's is refused for reading and writing alike.
		const theirs = join(c.ctx.dir, 'theirs');
		mkdirSync(theirs, {mode: 0o700});
		chownSync(theirs, OTHER, OTHER);
		const write = await c.run(['login', '--username', 'root', '--password-stdin'], {input: PASSWORD, env: {ORGCTL_SESSION_FILE: join(theirs, 's.json')}});
		expect(write.stderr).toMatch(new RegExp(`its folder .*theirs belongs to uid ${OTHER}, not to you`));
		expect(readdirSync(theirs)).toEqual([]);
	});

	it('our own sessions folder, found wider than 0700, is put back to 0700', async () => {
		const c = await cast();
		const state = join(c.ctx.dir, 'state');
		const sessions = join(state, 'orgctl', 'sessions');
		mkdirSync(sessions, {recursive: true, mode: 0o700});
		chmodSync(sessions, 0o777);
		const env = {ORGCTL_SESSION_FILE: undefined, XDG_STATE_HOME: state};
		expect((await c.run(['login', '--username', 'mia', '--password-stdin'], {input: PASSWORD, env})).code).toBe(0);
		expect(lstatSync(sessions).mode & 0o777).toBe(0o700);
		const [name] = readdirSync(sessions);
		expect(lstatSync(join(sessions, name!)).mode & 0o777).toBe(0o600);
		expect((await c.run(['whoami'], {env})).stdout).toMatch(/^mia/);
	});
});

describe('#8 files named in the settings are saved absolute and read only from a safe place', () => {
	const certificate = makeCertificate();
	afterAll(() => removeCertificate(certificate));
	const keyFile = join(certificate.dir, 'key.pem');

	/** The certificate pair copied into `dir`, key 0600, certificate 0644. */
	function pairIn(dir: string): {cert: string; key: string} {
		mkdirSync(dir, {recursive: true, mode: 0o700});
		const cert = join(dir, 'c.pem');
		const key = join(dir, 'k.pem');
		copyFileSync(certificate.certFile, cert);
		copyFileSync(keyFile, key);
		chmodSync(cert, 0o644);
		chmodSync(key, 0o600);
		return {cert, key};
	}

	it('relative paths are saved as the absolute paths they named where they were typed', async () => {
		const c = await cast();
		pairIn(join(c.ctx.dir, 'x'));
		const set = await c.as('root', ['settings', 'ssl', 'set', '--cert', 'x/c.pem', '--key', 'x/k.pem'], {cwd: c.ctx.dir});
		expect(set.code).toBe(0);
		expect(c.ctx.store.read().settings.ssl).toEqual({cert: join(c.ctx.dir, 'x', 'c.pem'), key: join(c.ctx.dir, 'x', 'k.pem')});
		const smtp = await c.as('root', ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', '2525', '--security', 'starttls', '--from', 'orgctl@example.com', '--ca-file', 'x/c.pem'], {cwd: c.ctx.dir});
		expect(smtp.code).toBe(0);
		expect(c.ctx.store.read().settings.smtp?.caFile).toBe(join(c.ctx.dir, 'x', 'c.pem'));
	});

	it('a key others may read, or a certificate or CA file others may write, is refused at save', async () => {
		const c = await cast();
		const {cert, key} = pairIn(join(c.ctx.dir, 'x'));
		chmodSync(key, 0o644);
		const readableKey = await c.as('root', ['settings', 'ssl', 'set', '--cert', cert, '--key', key]);
		expect(readableKey.code).toBe(1);
		expect(readableKey.stderr).toBe(`orgctl: The key file ${key} cannot be read (the key ${key} has mode 0644: group and others may open it and so read or change the private key; run chmod 600 ${key}).\n`);
		chmodSync(key, 0o600);
		chmodSync(cert, 0o666);
		expect((await c.as('root', ['settings', 'ssl', 'set', '--cert', cert, '--key', key])).stderr).toMatch(/has mode 0666: group and others may write it and so change the certificate/);
		const ca = await c.as('root', ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', '2525', '--security', 'starttls', '--from', 'orgctl@example.com', '--ca-file', cert]);
		expect(ca.code).toBe(1);
		expect(ca.stderr).toMatch(/The CA file .* cannot be read \(the CA file .* has mode 0666: group and others may write it and so change whom mail trusts and so read all mail; run chmod go-w/);
		// A folder others can write is no place for them either: the files could be swapped.
		const shared = join(c.ctx.dir, 'shared');
		const inShared = pairIn(shared);
		chmodSync(shared, 0o1777);
		expect((await c.as('root', ['settings', 'ssl', 'set', '--cert', inShared.cert, '--key', inShared.key])).stderr).toMatch(/is writable by group and others, so another user could put a file of their own there/);
		expect(c.ctx.store.read().settings.ssl).toBeNull();
		expect(c.ctx.store.read().settings.smtp).toBeNull();
	});

	it.skipIf(!ROOT)('a CA file, certificate or key owned by another user is refused', async () => {
		const c = await cast();
		const {cert, key} = pairIn(join(c.ctx.dir, 'x'));
		chownSync(key, OTHER, OTHER);
		expect((await c.as('root', ['settings', 'ssl', 'set', '--cert', cert, '--key', key])).stderr).toMatch(new RegExp(`the key .*k\\.pem belongs to uid ${OTHER}, not to root, so that user could change it`));
		chownSync(cert, OTHER, OTHER);
		expect((await c.as('root', ['settings', 'smtp', 'set', '--host', '127.0.0.1', '--port', '2525', '--security', 'starttls', '--from', 'orgctl@example.com', '--ca-file', cert])).stderr).toMatch(new RegExp(`the CA file .*c\\.pem belongs to uid ${OTHER}`));
	});

	it('serve checks the files again at start and on SIGHUP: a key made readable meanwhile is not loaded', async () => {
		const c = await cast();
		const {cert, key} = pairIn(join(c.ctx.dir, 'x'));
		expect((await c.as('root', ['settings', 'ssl', 'set', '--cert', cert, '--key', key])).code).toBe(0);
		expect((await c.as('root', ['settings', 'listeners', 'set', 'requests', '--port', '8443', '--address', '127.0.0.1', '--ssl', 'on'])).code).toBe(0);
		const server = await startServe(c.ctx.dir, ['--listen', '127.0.0.1:0']);
		try {
			expect(server.url).toMatch(/^https:/);
			chmodSync(key, 0o644);
			server.child.kill('SIGHUP');
			await server.waitForLog(/reload failed, still serving as before: The key file .* cannot be read \(the key .* has mode 0644/);
		} finally {
			await server.stop();
		}
		const again = await c.run(['serve', '--listen', '127.0.0.1:0']);
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/The key file .* cannot be read \(the key .* has mode 0644/);
	});
});

describe('#9 deleting a project takes along only the API tokens the actor may delete', () => {
	it('an admin cannot delete a superuser’s token by deleting the admin’s own project it is in; a member, an admin’s', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('ada'), {name: 'admp2'});
		const rootToken = (await createToken(c.ctx, c.root, {name: 'roottok', project: 'admp2', capabilities: ['cli']})).token;
		const before = c.ctx.store.read().audit.length;
		const refused = await c.as('ada', ['projects', 'delete', 'admp2']);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toBe(`orgctl: Deleting the project admp2 would delete an API token you may not delete: roottok (${rootToken.id.slice(0, 8)}, owned by root). Only a superuser can delete an API token a superuser owns. Ask their owners (or an admin) to delete or move them first.\n`);
		expect(c.ctx.store.read().tokens.map(t => t.name)).toEqual(['roottok']);
		expect(c.ctx.store.read().projects.map(p => p.name)).toEqual(['admp2']);
		expect(auditSince(c, before).filter(e => e.result !== 'ok')).toMatchObject([{actor: 'ada', action: 'project.delete', result: 'refused'}]);

		await createProject(c.ctx, c.actor('mia'), {name: 'memp3'});
		await createToken(c.ctx, c.actor('ada'), {name: 'admtok', project: 'memp3'});
		expect((await c.as('mia', ['projects', 'delete', 'memp3'])).stderr).toMatch(/^orgctl: Deleting the project memp3 would delete an API token you may not delete: admtok \(\w{8}, owned by ada\)\. Only its owner or an admin can delete an API token\./);
		expect(c.ctx.store.read().tokens.map(t => t.name).sort()).toEqual(['admtok', 'roottok']);
		// Her own tokens go with her project, and a superuser's delete takes everything.
		await createToken(c.ctx, c.actor('mia'), {name: 'miatok', project: 'memp3'});
		expect((await c.as('ada', ['tokens', 'delete', c.ctx.store.read().tokens.find(t => t.name === 'admtok')!.id])).code).toBe(0);
		expect((await c.as('mia', ['projects', 'delete', 'memp3'])).stderr).toBe('Deleted project memp3 and its 1 API token.\n');
		expect((await c.as('root', ['projects', 'delete', 'admp2'])).code).toBe(0);
		expect(c.ctx.store.read().tokens).toEqual([]);
	});
});

describe('#13 no copy of the store is readable by others', () => {
	it('admin check reports a store and backup readable by group or others, and the next open makes them 0600', async () => {
		const c = await cast();
		const path = c.ctx.store.path;
		writeFileSync(`${path}.bak`, readFileSync(path), {mode: 0o600});
		chmodSync(path, 0o644);
		chmodSync(`${path}.bak`, 0o640);
		const report = await c.run(['admin', 'check']);
		expect(report.code).toBe(1);
		expect(report.stdout).toContain(`${path} has mode 0644: group and others may read the password, session and token hashes and the audit it holds`);
		expect(report.stdout).toContain(`${path}.bak has mode 0640: its group may read the password`);
		expect(report.stdout).not.toContain('The store is healthy.');
		// admin check changes nothing; any other command opens the store and closes the gap.
		expect(lstatSync(path).mode & 0o777).toBe(0o644);
		expect((await c.as('mia', ['whoami'])).code).toBe(0);
		expect(lstatSync(path).mode & 0o777).toBe(0o600);
		expect(lstatSync(`${path}.bak`).mode & 0o777).toBe(0o600);
		expect((await c.run(['admin', 'check'])).stdout).toContain('The store is healthy.');
	});
});

describe('#14 members learn nothing of others’ invitations and tokens', () => {
	it('an id prefix finds only a member’s own tokens and invitations, and a clash with another’s invitation does not say it is one', async () => {
		const c = await cast();
		await createProject(c.ctx, c.actor('ada'), {name: 'adas'});
		const adas = (await createToken(c.ctx, c.actor('ada'), {name: 'adatok', project: 'adas', capabilities: ['cli']})).token;
		const rootInvite = JSON.parse((await c.as('root', ['--json', 'invites', 'create', 'rinv', 'rinv@example.com', '--no-email'])).stdout) as {id: string};
		for (const args of [['tokens', 'delete'], ['tokens', 'reissue']]) {
			const probe = await c.as('mia', [...args, adas.id.slice(0, 6)]);
			expect(probe.stderr).toBe(`orgctl: No API token has an id starting with "${adas.id.slice(0, 6)}".\n`);
		}
		for (const verb of ['link', 'resend', 'delete']) {
			expect((await c.as('mia', ['invites', verb, rootInvite.id.slice(0, 6)])).stderr).toBe(`orgctl: No invitation has an id starting with "${rootInvite.id.slice(0, 6)}".\n`);
		}
		const sameEmail = await c.as('mia', ['invites', 'create', 'someone', 'rinv@example.com', '--no-email']);
		expect(sameEmail.stderr).toBe('orgctl: The e-mail rinv@example.com cannot be used for a new account in this tenant; ask an admin.\n');
		const sameName = await c.as('mia', ['invites', 'create', 'rinv', 'other@example.com', '--no-email']);
		expect(sameName.stderr).toBe('orgctl: The username rinv is already taken in this tenant; choose another.\n');
		// An admin, who sees every invitation, is told what the clash is; so is the member about her own.
		expect((await c.as('ada', ['invites', 'create', 'someone', 'rinv@example.com', '--no-email'])).stderr).toBe('orgctl: An invitation to rinv@example.com is already pending.\n');
		expect((await c.as('mia', ['invites', 'create', 'mine', 'mine@example.com', '--no-email'])).code).toBe(0);
		expect((await c.as('mia', ['invites', 'create', 'mine2', 'mine@example.com', '--no-email'])).stderr).toBe('orgctl: An invitation to mine@example.com is already pending.\n');
		// And the admin still reaches everyone's by prefix.
		expect((await c.as('ada', ['invites', 'link', rootInvite.id.slice(0, 6)])).stderr).toMatch(/Only a superuser can resend, copy or revoke an invitation a superuser sent/);
	});
});

describe('#15 an id prefix names one thing on purpose', () => {
	it('destructive commands refuse prefixes shorter than 4 characters', async () => {
		const c = await cast();
		await createProject(c.ctx, c.root, {name: 'p'});
		const token = (await createToken(c.ctx, c.root, {name: 't', project: 'p'})).token;
		const short = await c.as('root', ['tokens', 'delete', token.id.slice(0, 1)]);
		expect(short.code).toBe(1);
		expect(short.stderr).toBe(`orgctl: "${token.id.slice(0, 1)}" is too short to name API token: type at least 4 characters of its id.\n`);
		expect(c.ctx.store.read().tokens).toHaveLength(1);
		expect((await c.as('root', ['tokens', 'delete', token.id.slice(0, 4)])).code).toBe(0);
	});
});
