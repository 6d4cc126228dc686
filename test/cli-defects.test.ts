import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {createTenant} from '../source/core/tenants.js';
import {orgctl} from './helpers/cli.js';
import {addUser} from './helpers/people.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';

describe('the command line names what it was asked for', () => {
	it('ORGCTL_USER with --tenant signs in as that tenant’s user when the name exists in several tenants', async () => {
		const {ctx, root} = await initializedContext();
		const beta = await createTenant(ctx, root, 'beta');
		const rootOfDefault = ctx.store.read().users.find(u => u.username === 'root')!;
		// Another tenant's root, with another password; only --tenant tells the two apart.
		await addUser(ctx, beta.id, 'root', {role: 'admin', passwordHash: rootOfDefault.passwordHash!});
		const env = {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD};
		const inBeta = await orgctl(ctx.dir, ['--tenant', 'beta', 'whoami', '--json'], {env});
		expect(inBeta.stderr).toBe('');
		expect(inBeta.code).toBe(0);
		expect(JSON.parse(inBeta.stdout)).toMatchObject({username: 'root', tenant: 'beta', superuser: false});
		const inDefault = await orgctl(ctx.dir, ['--tenant=default', 'whoami', '--json'], {env});
		expect(JSON.parse(inDefault.stdout)).toMatchObject({username: 'root', tenant: 'default', superuser: true});
		// Without --tenant the name means both, and one password opens both: only then does orgctl say so.
		const ambiguous = await orgctl(ctx.dir, ['whoami'], {env});
		expect(ambiguous).toMatchObject({code: 1, stdout: ''});
		expect(ambiguous.stderr).toMatch(/several tenants/);
	});

	it('--store=PATH keeps every = in the path', async () => {
		const {ctx} = await initializedContext();
		const dir = join(ctx.dir, 'a=b');
		mkdirSync(dir);
		const path = join(dir, 'c=d.json');
		const init = await orgctl(ctx.dir, [`--store=${path}`, 'init', '--username', 'eve', '--email', 'eve@example.com', '--password-stdin'], {input: FIRST_PASSWORD, env: {ORGCTL_STORE: undefined}});
		expect(init).toMatchObject({code: 0, stderr: ''});
		const list = await orgctl(ctx.dir, [`--store=${path}`, 'users', 'list', '--json'], {env: {ORGCTL_STORE: undefined, ORGCTL_USER: 'eve', ORGCTL_PASSWORD: FIRST_PASSWORD}});
		expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({username: 'eve'})]);
	});

	it('invites create --file reads RFC 4180 CSV (BOM, CRLF, CR, quoted commas) and gives each unreadable line its own reason', async () => {
		const {ctx} = await initializedContext();
		const file = join(ctx.dir, 'invites.csv');
		const lines = ['\uFEFFusername,email,role', 'ann,ann@example.com', '"bo, the second",bo@example.com,guest', ',,,', ';', 'cy,cy@example.com,boss', 'nobody', 'dee,"dee@example.com",member,pam', 'eve,"eve@example.com'];
		// CRLF between the first lines, a bare CR between the next, LF for the rest.
		writeFileSync(file, `${lines.slice(0, 3).join('\r\n')}\r${lines.slice(3, 5).join('\r')}\n${lines.slice(5).join('\n')}`);
		const env = {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD};
		const result = await orgctl(ctx.dir, ['invites', 'create', '--file', file, '--no-email', '--json'], {env});
		expect(result.stderr).not.toMatch(/unexpected error|\n\s+at /);
		expect(result.code).toBe(1);
		const rows = JSON.parse(result.stdout) as Array<{line: number; ok: boolean; username?: string; reason?: string}>;
		expect(rows.map(r => [r.line, r.ok])).toEqual([
			[2, true],
			[3, false],
			[6, false],
			[7, false],
			[8, true],
			[9, false],
		]);
		// A quoted comma stays inside its field: "bo, the second" is one username, refused as a username, not as a role.
		expect(rows.find(r => r.line === 3)!.reason).toMatch(/not a valid username/);
		expect(rows.find(r => r.line === 6)!.reason).toBe('"boss" is neither a role (guest, member, admin) nor a sign-in method (password, pam, saml).');
		expect(rows.find(r => r.line === 7)!.reason).toBe('There is no e-mail address on it; write username,email[,role[,method]].');
		expect(rows.find(r => r.line === 9)!.reason).toBe('The line is not valid CSV (a quote opens a field and is never closed); write username,email[,role[,method]].');
		expect(ctx.store.read().invitations.map(i => `${i.username} ${i.role} ${i.method}`).sort()).toEqual(['ann member password', 'dee member pam']);
		expect(result.stderr).toMatch(/^Inviting 3 people \(3 lines could not be read\)\.\.\.$/m);
	});

	it('users delete --move: a malformed move is a usage error, an item the user does not own is named', async () => {
		const {ctx, root} = await initializedContext();
		await addUser(ctx, root.tenant.id, 'bob');
		const env = {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD};
		const malformed = await orgctl(ctx.dir, ['users', 'delete', 'bob', '--move', 'web=carol', '--yes'], {env});
		expect(malformed).toMatchObject({code: 2, stderr: 'orgctl: --move takes KIND:ITEM=USER with KIND project, token or invitation (e.g. project:web=carol), not "web=carol".\n'});
		const unknown = await orgctl(ctx.dir, ['users', 'delete', 'bob', '--move', 'project:web=root', '--yes'], {env});
		expect(unknown).toMatchObject({code: 1, stderr: 'orgctl: bob owns no project named "web"; see orgctl users owned bob.\n'});
	});
});
