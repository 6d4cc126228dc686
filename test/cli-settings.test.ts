import {X509Certificate} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {orgctl} from './helpers/cli.js';
import {addPerson} from './helpers/people.js';
import {makeCertificate, removeCertificate} from './helpers/smtp.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';

const certificate = makeCertificate();
afterAll(() => removeCertificate(certificate));

const asRoot = {env: {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD}};

/**
 * simplesamlphp's real metadata with its signing certificate replaced by one made now, on the clock
 * of the orgctl process that reads it (the fixture's own certificate has fixed dates).
 */
function freshMetadata(dir: string): {path: string; fingerprint: string} {
	const der = new X509Certificate(certificate.cert).raw.toString('base64');
	const xml = readFileSync(join(import.meta.dirname, 'fixtures', 'saml', 'simplesamlphp-idp.xml'), 'utf8').replace(/(<ds:X509Certificate>)[^<]+/g, `$1${der}`);
	const path = join(dir, 'idp.xml');
	writeFileSync(path, xml);
	return {path, fingerprint: new X509Certificate(certificate.cert).fingerprint256};
}

describe('orgctl settings sso', () => {
	it('set --idp-metadata reads the IdP, show --json prints it with our SP entity ID, ACS URL and metadata', async () => {
		const {ctx} = await initializedContext();
		const {path, fingerprint} = freshMetadata(ctx.dir);
		expect(await orgctl(ctx.dir, ['settings', 'public-url', 'set', 'https://accounts.example.com'], asRoot)).toMatchObject({code: 0});
		const set = await orgctl(ctx.dir, ['settings', 'sso', 'set', '--idp-metadata', path, '--match-attribute', 'email'], asRoot);
		expect(set).toMatchObject({code: 0, stdout: expect.stringContaining('IdP entity ID     http://127.0.0.1:41255/simplesaml/saml2/idp/metadata.php')});
		// The certificate is a day from expiry: the note says so.
		expect(set.stderr).toMatch(/Note: The IdP signing certificate CN=localhost expires in 1 day/);
		const show = await orgctl(ctx.dir, ['settings', 'sso', 'show', '--json'], asRoot);
		expect(show.code).toBe(0);
		const view = JSON.parse(show.stdout);
		expect(view).toMatchObject({
			idp: {entityId: 'http://127.0.0.1:41255/simplesaml/saml2/idp/metadata.php', ssoUrl: 'http://127.0.0.1:41255/simplesaml/saml2/idp/SSOService.php', binding: 'redirect', certificates: [{fingerprint256: fingerprint}]},
			matchAttribute: 'email',
			sp: {entityId: 'https://accounts.example.com/saml/metadata', acsUrl: 'https://accounts.example.com/saml/acs', metadata: expect.stringContaining('Location="https://accounts.example.com/saml/acs"')},
		});
		expect(show.stdout).not.toContain('PRIVATE KEY');
		expect(show.stdout).not.toContain(ctx.store.read().settings.sso.sp!.privateKeySealed);
		expect((await orgctl(ctx.dir, ['settings', 'show', '--json'], asRoot)).stdout).not.toContain(ctx.store.read().settings.sso.sp!.privateKeySealed);
		const metadata = await orgctl(ctx.dir, ['settings', 'sso', 'sp-metadata'], asRoot);
		expect(metadata.stdout).toBe(view.sp.metadata);
		expect((await orgctl(ctx.dir, ['settings', 'sso', 'set', '--match-attribute', 'nameid'], asRoot)).code).toBe(0);
		expect(ctx.store.read().settings.sso.matchAttribute).toBe('nameid');
	});

	it('refuses bad metadata with its reason (exit 1) and a half-given command line as usage (exit 2)', async () => {
		const {ctx} = await initializedContext();
		const xxe = join(import.meta.dirname, 'fixtures', 'saml', 'xxe.xml');
		expect(await orgctl(ctx.dir, ['settings', 'sso', 'set', '--idp-metadata', xxe], asRoot)).toMatchObject({code: 1, stderr: expect.stringContaining('holds a DOCTYPE declaration')});
		expect(await orgctl(ctx.dir, ['settings', 'sso', 'set', '--sso-url', 'https://idp.example.com/sso'], asRoot)).toMatchObject({code: 2, stderr: expect.stringContaining('give --idp-metadata FILE, or all of')});
		expect(ctx.store.read().settings.sso.idp).toBeNull();
	});
});

describe('an admin who is not a superuser is refused by every settings and tenants command, and each refusal is audited', () => {
	const commands: ReadonlyArray<readonly [args: readonly string[], action: string, input?: string]> = [
		[['settings', 'show'], 'settings.show'],
		[['settings', 'smtp', 'show'], 'settings.smtp.show'],
		[['settings', 'smtp', 'set', '--host', 'mail.example.com', '--port', '587', '--security', 'starttls', '--from', 'a@example.com'], 'settings.smtp.set'],
		[['settings', 'smtp', 'test', '--to', 'ops@example.com'], 'settings.smtp.test'],
		[['settings', 'smtp', 'clear'], 'settings.smtp.clear'],
		[['settings', 'ssl', 'set', '--cert', certificate.certFile, '--key', join(certificate.dir, 'key.pem')], 'settings.ssl'],
		[['settings', 'listeners', 'set', 'requests', '--port', '8080'], 'settings.listener'],
		[['settings', 'listeners', 'remove', 'requests'], 'settings.listener.remove'],
		[['settings', 'public-url', 'set', 'https://evil.example.com'], 'settings.public-url'],
		[['settings', 'org', 'set', '--min-password-length', '8'], 'settings.org'],
		[['settings', 'sso', 'set', '--idp-metadata', join(import.meta.dirname, 'fixtures', 'saml', 'simplesamlphp-idp.xml')], 'settings.sso.set'],
		[['settings', 'sso', 'set', '--match-attribute', 'email'], 'settings.sso.match'],
		[['settings', 'sso', 'show'], 'settings.sso.show'],
		[['settings', 'sso', 'sp-metadata'], 'settings.sso.sp'],
		[['settings', 'sso', 'clear'], 'settings.sso.clear'],
		[['tenants', 'list'], 'tenants.list'],
		[['tenants', 'create', 'evil'], 'tenant.create'],
		[['tenants', 'delete', 'default', '--confirm', 'default'], 'tenant.delete'],
		[['--tenant', 'default', 'tenants', 'list'], 'tenants.list'],
	];

	it('exit 1 with the reason, nothing changed, and a refused audit event for each', async () => {
		const {ctx, root} = await initializedContext();
		await addPerson(ctx, root, 'ann', 'admin');
		// ann needs a password to act from the command line.
		const hash = await ctx.hasher.hash('ann password 123');
		await ctx.store.transact(db => {
			db.users.find(u => u.username === 'ann')!.passwordHash = hash;
		});
		const asAnn = {env: {ORGCTL_USER: 'ann', ORGCTL_PASSWORD: 'ann password 123'}};
		const settingsBefore = structuredClone(ctx.store.read().settings);
		const tenantsBefore = structuredClone(ctx.store.read().tenants);
		for (const [args, action] of commands) {
			const result = await orgctl(ctx.dir, args, asAnn);
			expect(result, args.join(' ')).toMatchObject({code: 1, stdout: ''});
			expect(result.stderr, args.join(' ')).toMatch(/^orgctl: (Server settings need the superuser bit|Tenants can be created and deleted only by a superuser|Single sign-on settings need the superuser bit)\.\n$/);
			expect(ctx.store.read().audit.at(-1), args.join(' ')).toMatchObject({actor: 'ann', action, result: 'refused'});
		}
		expect(ctx.store.read().settings).toEqual(settingsBefore);
		expect(ctx.store.read().tenants).toEqual(tenantsBefore);
	});
});
