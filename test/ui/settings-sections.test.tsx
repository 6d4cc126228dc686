import {X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {buildContext} from '../../source/app/context.js';
import {createSession} from '../../source/core/accounts.js';
import type {Actor, Context} from '../../source/core/context.js';
import {setSsl} from '../../source/core/server-settings.js';
import {importIdpMetadata} from '../../source/core/sso-settings.js';
import {createTenant, deleteTenant} from '../../source/core/tenants.js';
import {App} from '../../source/ui/app.js';
import {Store} from '../../source/store/store.js';
import {KeyFile} from '../../source/store/secrets.js';
import {renderInk, type InkHarness} from '../helpers/ink.js';
import {TEST_HASHER} from '../helpers/hasher.js';
import {makeCertificate, removeCertificate} from '../helpers/smtp.js';
import {Clock, initializedContext} from '../helpers/store.js';

const certificate = makeCertificate();
afterAll(() => removeCertificate(certificate));

async function console80x24(ctx: Context, actor: Actor): Promise<InkHarness> {
	return renderInk(<App ctx={ctx} start={{kind: 'main', actor, session: await createSession(ctx, actor)}} tenant={undefined} />, {columns: 80, rows: 24});
}

/** The right-hand pane's text as one line, whatever the wrapping. */
const pane = (frame: string) =>
	frame
		.split('\n')
		// Right of the left pane's border (its width follows the terminal's).
		.map(line => (line.includes('│') ? line.slice(line.indexOf('│') + 1) : '').trim())
		.join(' ')
		.replace(/\s+/g, ' ');

describe('Server Settings in the console', () => {
	it('the SSL pane shows subject, issuer, names, validity and the SHA-256 fingerprint in two lines, and warns 30 days before expiry', async () => {
		const {ctx, root} = await initializedContext();
		const facts = await setSsl(ctx, root, {cert: certificate.certFile, key: join(certificate.dir, 'key.pem')});
		const ink = await console80x24(ctx, root);
		await ink.press('5');
		await ink.waitFor('Server Settings');
		expect(pane(ink.frame())).toContain('SSL CN=localhost, until');
		expect(pane(ink.frame())).toContain('⚠');
		await ink.press('j', 'enter');
		await ink.waitFor('Esc: back to Server Settings');
		const text = pane(ink.frame());
		expect(text).toContain(`Certificate ${certificate.certFile}`);
		expect(text).toContain('Subject CN=localhost');
		expect(text).toContain('Names DNS:localhost, IP Address:127.0.0.1');
		// 95 characters at 80 columns: cut at whole bytes over three lines, every byte shown.
		const shown = ink.frame().split('\n').filter(line => /([0-9A-F]{2}:){3}/.test(line)).map(line => line.slice(line.indexOf('│') + 1).trim().replace(/^SHA-256/, '').trim());
		expect(shown).toHaveLength(3);
		expect(shown.join(':')).toBe(facts.fingerprint256);
		expect(text).toMatch(/⚠ The SSL certificate expires in 1 day, on \d{4}-\d\d-\d\d; renew it\./);
		expect(ink.frame().split('\n').every(line => line.length <= 80)).toBe(true);
	});

	it('a refused listener change shows the reason in the form and keeps what was typed', async () => {
		const {ctx, root} = await initializedContext();
		const ink = await console80x24(ctx, root);
		await ink.press('5', 'j', 'j', 'enter');
		await ink.waitFor('Listeners (Esc: back)');
		await ink.press('j', 'enter');
		await ink.waitFor('Listener for user requests');
		await ink.press('tab', 'ctrl-u', '7', '0', '0', '0', '0', 'enter', 'enter');
		await ink.waitFor('must be a whole number');
		expect(pane(ink.frame())).toContain('✗ The port must be a whole number from 1 to 65535, not 70000.');
		expect(ink.frame()).toContain('70000');
		expect(ctx.store.read().settings.listeners).toEqual([]);
	});
});

describe('the Public URL pane', () => {
	it('warns while mailed links would not open for anyone else, and stops once a reachable URL is saved', async () => {
		const {ctx, root} = await initializedContext();
		const ink = await console80x24(ctx, root);
		await ink.press('5', 'j', 'j', 'j', 'enter');
		await ink.waitFor('Invitation links');
		expect(pane(ink.frame())).toMatch(/⚠ The public URL is not set, so invitation links \(http:\/\/localhost:8080\/invite\/…\) will not be reachable/);
		await ink.press('e');
		await ink.waitFor('Public URL: the address people open');
		await ink.press('ctrl-u', 'https://crash.example.com', 'enter', 'enter');
		await ink.waitFor('Links now start with https://crash.example.com/');
		expect(pane(ink.frame())).not.toContain('⚠');
		expect(ink.frame().split('\n').every(line => line.length <= 80)).toBe(true);
	});
});

describe('Single Sign-On in the console', () => {
	it('shows the imported IdP with its certificate fingerprint, and y puts our SP metadata on screen', async () => {
		const real = new X509Certificate(Buffer.from(/<ds:X509Certificate>([^<]+)</.exec(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'saml', 'simplesamlphp-idp.xml'), 'utf8'))![1]!, 'base64'));
		const {ctx, root} = await initializedContext(new Clock(new Date(new Date(real.validFrom).getTime() + 86_400_000)));
		await importIdpMetadata(ctx, root, {path: join(import.meta.dirname, '..', 'fixtures', 'saml', 'simplesamlphp-idp.xml')});
		const ink = await console80x24(ctx, root);
		await ink.press('7');
		await ink.waitFor('Single Sign-On (SAML)');
		const text = pane(ink.frame());
		expect(text).toContain('IdP entity ID http://127.0.0.1:41255/simplesaml/sa');
		expect(ink.frame()).toContain(real.fingerprint256.slice(0, 35));
		expect(text).toContain('SP entity ID http://localhost:8080/saml/metadata');
		expect(text).toContain('ACS URL http://localhost:8080/saml/acs (POST)');
		await ink.press('y');
		await ink.waitFor('Our SP metadata, for the IdP');
		expect(ink.frame()).toContain('<md:EntityDescriptor');
		// Scrolled to its end, every character of it has been on screen.
		let seen = ink.frame();
		for (let i = 0; i < 40; i++) {
			await ink.press('j');
			seen += ink.frame();
		}
		expect(seen).toContain('</md:EntityDescriptor>');
		expect(ink.frame()).toMatch(/lines (\d+)–(\d+) of \2/);
		// The outcome is too long for the status line beside its command: `:` shows both whole.
		await ink.waitFor('Our SP metadata');
		await ink.press(':');
		await ink.waitFor('orgctl settings sso sp-metadata');
	});
});

describe('Tenants in the console', () => {
	it('d asks for the typed name with a summary of what goes with the tenant, then deletes it; the last one stays', async () => {
		const {ctx, root} = await initializedContext();
		const acme = await createTenant(ctx, root, 'acme');
		const {addUser} = await import('../helpers/people.js');
		await addUser(ctx, acme.id, 'zoe', {role: 'admin'});
		const ink = await console80x24(ctx, root);
		await ink.press('6');
		await ink.waitFor('Tenants');
		expect(pane(ink.frame())).toMatch(/acme 1 0 0/);
		await ink.press('j', 'd');
		await ink.waitFor('Type acme to confirm');
		expect(ink.frame().replace(/[│\s]+/g, ' ')).toContain('Delete tenant acme and everything in it: 1 user? This cannot be undone.');
		await ink.press('a', 'c', 'm', 'e', 'enter');
		await ink.waitFor('Deleted tenant acme and with it 1 user.');
		expect(ctx.store.read().tenants.map(t => t.name)).toEqual(['default']);
		expect(ctx.store.read().users.map(u => u.username)).toEqual(['root']);
		// The last tenant: the core refuses, and the console says why.
		await ink.press('d');
		await ink.waitFor('Type default to confirm');
		await ink.press('d', 'e', 'f', 'a', 'u', 'l', 't', 'enter');
		await ink.waitFor('default is the last tenant and cannot be deleted.');
	});
});

describe('the tenant a superuser acts in', () => {
	it('when it is deleted (here or by another console) the console goes back to the superuser’s own tenant and says so, without R', async () => {
		const {ctx, root} = await initializedContext();
		const acme = await createTenant(ctx, root, 'acme');
		const beta = await createTenant(ctx, root, 'beta');
		// Here: the store tells the console of the commit that deleted it, and the tenant check rides on that.
		const here = await console80x24(ctx, {user: root.user, tenant: acme});
		await here.waitFor(frame => /tenant acme \[T\]/.test(frame));
		await deleteTenant(ctx, root, 'acme', 'acme');
		await here.waitFor('Tenant acme no longer exists; the console is back in default.');
		expect(here.frame()).toMatch(/tenant default \[T\]/);
		here.unmount();
		// By another console: another process's store over the same file; the file's change signal brings it.
		const elsewhere = await console80x24(ctx, {user: root.user, tenant: beta});
		await elsewhere.waitFor(frame => /tenant beta \[T\]/.test(frame));
		const other = await Store.open(ctx.store.path, {now: ctx.clock.now});
		await deleteTenant(buildContext(other, KeyFile.load(other.path), {now: ctx.clock.now, hasher: TEST_HASHER}), root, 'beta', 'beta');
		await elsewhere.waitFor('Tenant beta no longer exists; the console is back in default.', 5000);
		expect(elsewhere.frame()).toMatch(/tenant default \[T\]/);
		elsewhere.unmount();
	});
});
