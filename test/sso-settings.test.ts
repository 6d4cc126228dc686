import {X509Certificate, createPrivateKey} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DOMParser} from '@xmldom/xmldom';
import {describe, expect, it} from 'vitest';
import type {Actor, Context} from '../source/core/context.js';
import {setPublicUrl} from '../source/core/server-settings.js';
import {clearIdp, importIdpMetadata, prepareServiceProvider, setIdpByHand, setMatchAttribute, showSso, spEndpoints} from '../source/core/sso-settings.js';
import {storedTextIn} from './helpers/backend.js';
import {addPerson} from './helpers/people.js';
import {Clock, initializedContext} from './helpers/store.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'saml');
const fixture = (name: string) => join(FIXTURES, name);
const REAL = fixture('simplesamlphp-idp.xml');

/** The real IdP's signing certificate, read straight from the fixture with Node (not with our parser). */
const realCertificate = (() => {
	const base64 = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(readFileSync(REAL, 'utf8'))![1]!;
	return new X509Certificate(Buffer.from(base64, 'base64'));
})();

/**
 * A clock a day into the fixture certificate's life: the tests never depend on today's date, only
 * on the certificate's own (it is valid for ten years from when the fixture was fetched).
 */
function fixtureClock(): Clock {
	return new Clock(new Date(new Date(realCertificate.validFrom).getTime() + 86_400_000));
}

async function superuser(): Promise<{ctx: Context & {dir: string; clock: Clock}; root: Actor}> {
	const {ctx, root} = await initializedContext(fixtureClock());
	await setPublicUrl(ctx, root, 'https://accounts.example.com');
	return {ctx, root};
}

describe('single sign-on: importing the IdP metadata', () => {
	it('reads simplesamlphp’s real metadata: entity ID, SSO URL, and the signing certificate with its fingerprint and expiry', async () => {
		const {ctx, root} = await superuser();
		const {view, notes} = await importIdpMetadata(ctx, root, {path: REAL});
		expect(notes).toEqual([]);
		expect(view.idp).toMatchObject({
			entityId: 'http://127.0.0.1:41255/simplesaml/saml2/idp/metadata.php',
			ssoUrl: 'http://127.0.0.1:41255/simplesaml/saml2/idp/SSOService.php',
			binding: 'redirect',
		});
		// The encryption key is the same certificate: it is kept once, as a signing certificate.
		expect(view.idp!.certificates).toHaveLength(1);
		expect(view.idp!.certificates[0]).toMatchObject({fingerprint256: realCertificate.fingerprint256, validTo: new Date(realCertificate.validTo).toISOString(), warning: undefined});
		expect(view.matchAttribute).toBe('nameid');
		const stored = ctx.store.read().settings.sso;
		expect(stored.idp!.certificates[0]).toBe(realCertificate.toString());
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.sso.set', target: REAL, result: 'ok'});
	});

	it('makes our key pair once: the key sealed with the key file, the certificate in our metadata, the same on every later save', async () => {
		const {ctx, root} = await superuser();
		await importIdpMetadata(ctx, root, {path: REAL});
		const sp = ctx.store.read().settings.sso.sp!;
		expect(await storedTextIn(ctx.dir)).not.toContain('PRIVATE KEY');
		const key = createPrivateKey(ctx.secrets.unseal(sp.privateKeySealed));
		const cert = new X509Certificate(sp.certificate);
		expect(cert.checkPrivateKey(key)).toBe(true);
		expect(cert.subject).toBe('CN=orgctl SAML SP accounts.example.com');
		expect(new Date(cert.validFrom).getTime()).toBeLessThanOrEqual(ctx.now().getTime());
		expect(new Date(cert.validTo).getTime() - ctx.now().getTime()).toBeGreaterThan(3600 * 86_400_000);
		await importIdpMetadata(ctx, root, {path: REAL, matchAttribute: 'email'});
		expect(ctx.store.read().settings.sso.sp).toEqual(sp);
		expect(ctx.store.read().settings.sso.matchAttribute).toBe('email');
	});

	it('our metadata for the IdP names the SP entity ID, the ACS URL and our certificate, and parses as SAML metadata', async () => {
		const {ctx, root} = await superuser();
		const view = await prepareServiceProvider(ctx, root);
		expect(view.sp).toMatchObject({entityId: 'https://accounts.example.com/saml/metadata', acsUrl: 'https://accounts.example.com/saml/acs'});
		expect(spEndpoints('https://accounts.example.com/')).toMatchObject({acsUrl: 'https://accounts.example.com/saml/acs'});
		const doc = new DOMParser().parseFromString(view.sp.metadata!, 'text/xml');
		const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
		expect(doc.documentElement!.getAttribute('entityID')).toBe('https://accounts.example.com/saml/metadata');
		const acs = doc.getElementsByTagNameNS(md, 'AssertionConsumerService')[0]!;
		expect([acs.getAttribute('Binding'), acs.getAttribute('Location')]).toEqual(['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'https://accounts.example.com/saml/acs']);
		const published = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate')[0]!.textContent!;
		expect(new X509Certificate(Buffer.from(published, 'base64')).fingerprint256).toBe(view.sp.certificate!.fingerprint256);
		expect(doc.getElementsByTagNameNS(md, 'NameIDFormat')[0]!.textContent).toBe('urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress');
		// Asking again changes nothing: the key pair is made once.
		const again = await prepareServiceProvider(ctx, root);
		expect(again.sp.certificate!.fingerprint256).toBe(view.sp.certificate!.fingerprint256);
	});

	it('foreign text in IdP metadata never reaches the terminal live: a bidi override in the entity ID is refused, an escape in a URL is quoted inert', async () => {
		const {ctx, root} = await superuser();
		const real = readFileSync(REAL, 'utf8');
		const spoofed = join(ctx.dir, 'spoofed.xml');
		writeFileSync(spoofed, real.replace('entityID="http://127.0.0.1:41255/', 'entityID="http://127.0.0.1:41255/\u202Elmx.'));
		await expect(importIdpMetadata(ctx, root, {path: spoofed})).rejects.toThrow(/^The IdP entity ID in .*spoofed\.xml holds spaces or control characters\.$/);
		const pem = join(ctx.dir, 'idp.pem');
		writeFileSync(pem, realCertificate.toString());
		const refused = await setIdpByHand(ctx, root, {entityId: 'https://idp.example.com/metadata', ssoUrl: 'https://a\u001b]52;c;QUFB\u0007b/', certificateFile: pem}).catch((error: Error) => error);
		expect((refused as Error).message).toBe('The single sign-on URL "https://a\\e]52;c;QUFB\\x07b/" is not a URL.');
		await expect(setIdpByHand(ctx, root, {entityId: 'https://idp.example.com/metadata', ssoUrl: 'https://idp.example.com/sso', binding: 'p\u202Eost', certificateFile: pem})).rejects.toThrow('The single sign-on binding is redirect or post, not "p\\u202eost".');
		expect((await showSso(ctx, root)).idp).toBeNull();
	});

	it('the IdP by hand: entity ID, SSO URL and a PEM certificate file, checked as metadata is', async () => {
		const {ctx, root} = await superuser();
		const pem = join(ctx.dir, 'idp.pem');
		writeFileSync(pem, realCertificate.toString());
		const {view} = await setIdpByHand(ctx, root, {entityId: 'https://idp.example.com/metadata', ssoUrl: 'https://idp.example.com/sso', binding: 'post', certificateFile: pem});
		expect(view.idp).toMatchObject({entityId: 'https://idp.example.com/metadata', ssoUrl: 'https://idp.example.com/sso', binding: 'post'});
		await expect(setIdpByHand(ctx, root, {entityId: 'https://idp.example.com/metadata', ssoUrl: 'javascript:alert(1)', certificateFile: pem})).rejects.toThrow('The single sign-on URL must be an https:// or http:// URL, not javascript:.');
		await expect(setIdpByHand(ctx, root, {entityId: 'has space', ssoUrl: 'https://idp.example.com/sso', certificateFile: pem})).rejects.toThrow('The IdP entity ID holds spaces or control characters.');
		await expect(setIdpByHand(ctx, root, {entityId: 'x', ssoUrl: 'https://idp.example.com/sso', certificateFile: REAL})).rejects.toThrow(/holds no PEM certificate/);
		await expect(setMatchAttribute(ctx, root, 'username')).rejects.toThrow('Users are matched by nameid or email, not "username".');
		expect((await setMatchAttribute(ctx, root, 'email')).matchAttribute).toBe('email');
		await clearIdp(ctx, root);
		expect((await showSso(ctx, root)).idp).toBeNull();
	});

	it('a certificate expiring within 30 days is kept with a warning', async () => {
		const {ctx, root} = await superuser();
		ctx.clock.time = new Date(new Date(realCertificate.validTo).getTime() - 10 * 86_400_000);
		const {notes, view} = await importIdpMetadata(ctx, root, {path: REAL});
		expect(notes).toEqual([`The IdP signing certificate CN=127.0.0.1:41255 throwaway test IdP expires in 10 days, on ${new Date(realCertificate.validTo).toISOString().slice(0, 10)}; renew it.`]);
		expect(view.warnings).toEqual(notes);
	});
});

describe('single sign-on refuses bad IdP metadata with its reason, and saves nothing', () => {
	const cases: Array<[string, string, string | RegExp]> = [
		['a file that is missing', '/nonexistent/idp.xml', 'The metadata file /nonexistent/idp.xml cannot be read (ENOENT).'],
		['plain text', fixture('garbage.txt'), /garbage\.txt is not XML \(/],
		['an HTML error page', fixture('not-xml.txt'), /not-xml\.txt is not XML \(Opening and ending tag mismatch/],
		['well-formed XML that is not metadata', fixture('wrong-root.xml'), /wrong-root\.xml is not SAML 2\.0 metadata: its root element is <html>, not <md:EntityDescriptor>\./],
		['an external entity (XXE)', fixture('xxe.xml'), /xxe\.xml holds a DOCTYPE declaration; SAML metadata never needs one, and orgctl refuses it because entity expansion attacks start there\./],
		['nested entity expansion (billion laughs)', fixture('billion-laughs.xml'), /billion-laughs\.xml holds a DOCTYPE declaration/],
		['no single sign-on URL', fixture('missing-sso-url.xml'), /missing-sso-url\.xml names no single sign-on URL \(a SingleSignOnService with the HTTP-Redirect or HTTP-POST binding\)\./],
		['no signing certificate', fixture('no-signing-cert.xml'), /no-signing-cert\.xml holds no signing certificate/],
		['a signing certificate that is not one', fixture('bad-cert.xml'), /A signing certificate in .*bad-cert\.xml is not an X\.509 certificate orgctl can read\./],
		['a service provider’s metadata', fixture('sp-not-idp.xml'), /sp-not-idp\.xml describes no identity provider \(no IDPSSODescriptor\)/],
		['an aggregate of two IdPs', fixture('two-idps.xml'), /two-idps\.xml describes 2 identity providers; export the metadata of the one to use\./],
	];
	for (const [what, path, reason] of cases) {
		it(`refuses ${what}`, async () => {
			const {ctx, root} = await superuser();
			const before = structuredClone(ctx.store.read().settings);
			await expect(importIdpMetadata(ctx, root, {path})).rejects.toThrow(reason);
			expect(ctx.store.read().settings).toEqual(before);
			expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.sso.set', result: 'refused', reason: typeof reason === 'string' ? reason : expect.stringMatching(reason)});
		});
	}

	it('refuses an expired signing certificate', async () => {
		const {ctx, root} = await superuser();
		ctx.clock.time = new Date(new Date(realCertificate.validTo).getTime() + 86_400_000);
		await expect(importIdpMetadata(ctx, root, {path: REAL})).rejects.toThrow(/simplesamlphp-idp\.xml holds no signing certificate that can be used now: CN=127\.0\.0\.1:41255 throwaway test IdP expired on \d{4}-\d\d-\d\d\.$/);
		expect(ctx.store.read().settings.sso.idp).toBeNull();
		// Nothing half-made either: no key pair without saved settings.
		expect(ctx.store.read().settings.sso.sp).toBeNull();
	});

	it('refuses metadata past its validUntil, and a file far larger than any metadata', async () => {
		const {ctx, root} = await superuser();
		const stale = join(ctx.dir, 'stale.xml');
		writeFileSync(stale, readFileSync(REAL, 'utf8').replace('<md:EntityDescriptor ', '<md:EntityDescriptor validUntil="2000-01-01T00:00:00Z" '));
		await expect(importIdpMetadata(ctx, root, {path: stale})).rejects.toThrow(/stale\.xml was valid until 2000-01-01T00:00:00Z; fetch current metadata from the IdP\./);
		const huge = join(ctx.dir, 'huge.xml');
		writeFileSync(huge, `<a>${'x'.repeat(1_100_000)}</a>`);
		await expect(importIdpMetadata(ctx, root, {path: huge})).rejects.toThrow(/is 1100007 bytes; IdP metadata is a few kilobytes/);
	});

	it('refuses an unknown match attribute before reading anything', async () => {
		const {ctx, root} = await superuser();
		await expect(importIdpMetadata(ctx, root, {path: REAL, matchAttribute: 'uid'})).rejects.toThrow('Users are matched by nameid or email, not "uid".');
		expect(ctx.store.read().settings.sso.idp).toBeNull();
	});

	it('an admin who is not a superuser is refused, audited, and no key pair is made', async () => {
		const {ctx, root} = await superuser();
		const ann = await addPerson(ctx, root, 'ann', 'admin');
		await expect(importIdpMetadata(ctx, ann, {path: REAL})).rejects.toThrow('Single sign-on settings need the superuser bit.');
		await expect(prepareServiceProvider(ctx, ann)).rejects.toThrow('Single sign-on settings need the superuser bit.');
		await expect(showSso(ctx, ann)).rejects.toThrow('Single sign-on settings need the superuser bit.');
		expect(ctx.store.read().settings.sso).toEqual({idp: null, matchAttribute: 'nameid', sp: null});
		expect(ctx.store.read().audit.slice(-3).map(e => [e.actor, e.action, e.result])).toEqual([
			['ann', 'settings.sso.set', 'refused'],
			['ann', 'settings.sso.sp', 'refused'],
			['ann', 'settings.sso.show', 'refused'],
		]);
	});
});
