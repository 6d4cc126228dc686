import {afterAll, describe, expect, it} from 'vitest';
import {join} from 'node:path';
import {writeFileSync} from 'node:fs';
import {parseDuration, removeListener, setListener, setPolicy, setPublicUrl, setSsl, showSettings, unreachableLinks} from '../source/core/server-settings.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';
import {orgctl} from './helpers/cli.js';
import {addPerson} from './helpers/people.js';
import {makeCertificate, removeCertificate} from './helpers/smtp.js';

const one = makeCertificate();
const other = makeCertificate();
afterAll(() => {
	removeCertificate(one);
	removeCertificate(other);
});

describe('server settings', () => {
	it('need the superuser bit, even for an admin, and the refusal is audited', async () => {
		const {ctx, root} = await initializedContext();
		const admin = await addPerson(ctx, root, 'ann', 'admin');
		await expect(setPublicUrl(ctx, admin, 'https://crash.example.com')).rejects.toThrow('Server settings need the superuser bit.');
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.public-url', result: 'refused', actor: 'ann'});
		await expect(showSettings(ctx, admin)).rejects.toThrow(/superuser/);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.show', result: 'refused', actor: 'ann'});
	});

	it('the public URL is an http(s) address without query, stored without a trailing slash', async () => {
		const {ctx, root} = await initializedContext();
		expect(await setPublicUrl(ctx, root, 'https://crash.example.com/')).toBe('https://crash.example.com');
		await expect(setPublicUrl(ctx, root, 'ftp://x.example.com')).rejects.toThrow(/https:\/\/ or http:\/\//);
		await expect(setPublicUrl(ctx, root, 'https://x.example.com/?a=1')).rejects.toThrow(/query/);
		await expect(setPublicUrl(ctx, root, 'not a url')).rejects.toThrow(/is not a URL/);
		expect(ctx.store.read().settings.publicUrl).toBe('https://crash.example.com');
	});

	it('the org policy changes only what is named, within bounds', async () => {
		const {ctx, root} = await initializedContext();
		const policy = await setPolicy(ctx, root, {invitationLifetimeSeconds: parseDuration('2d'), minPasswordLength: 16});
		expect(policy).toMatchObject({invitationLifetimeSeconds: 172_800, minPasswordLength: 16, requireEmailVerification: true});
		await expect(setPolicy(ctx, root, {minPasswordLength: 4})).rejects.toThrow(/from 8 to 256/);
		await expect(setPolicy(ctx, root, {invitationLifetimeSeconds: 60})).rejects.toThrow(/between 1 hour and 90 days/);
		expect(() => parseDuration('a week')).toThrow(/7d, 12h or 90m/);
	});

	it('listener ports are 1-65535 and unique on overlapping addresses; SSL needs a certificate', async () => {
		const {ctx, root} = await initializedContext();
		await setListener(ctx, root, {name: 'requests', port: 8080});
		await expect(setListener(ctx, root, {name: 'crashes', port: 8080, address: '127.0.0.1'})).rejects.toThrow('Port 8080 is already used by the listener requests (0.0.0.0:8080).');
		await expect(setListener(ctx, root, {name: 'crashes', port: 70000})).rejects.toThrow(/1 to 65535/);
		await expect(setListener(ctx, root, {name: 'crashes', port: 8443, ssl: true})).rejects.toThrow(/certificate and key first/);
		await setListener(ctx, root, {name: 'requests', port: 8081});
		expect(ctx.store.read().settings.listeners).toEqual([{name: 'requests', address: '0.0.0.0', port: 8081, ssl: false}]);
		await removeListener(ctx, root, 'requests');
		await expect(removeListener(ctx, root, 'requests')).rejects.toThrow('There is no listener named requests.');
	});

	it('SSL takes a readable certificate and the key that belongs to it', async () => {
		const {ctx, root} = await initializedContext();
		const certFile = one.certFile;
		const keyFile = join(one.dir, 'key.pem');
		await expect(setSsl(ctx, root, {cert: certFile, key: join(other.dir, 'key.pem')})).rejects.toThrow(/does not belong to the certificate/);
		await expect(setSsl(ctx, root, {cert: '/nonexistent.pem', key: keyFile})).rejects.toThrow(/cannot be read \(ENOENT\)/);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.ssl', result: 'refused'});
		const garbage = join(one.dir, 'garbage.pem');
		writeFileSync(garbage, 'not a certificate');
		await expect(setSsl(ctx, root, {cert: garbage, key: keyFile})).rejects.toThrow(/holds no PEM certificate/);
		const facts = await setSsl(ctx, root, {cert: certFile, key: keyFile});
		expect(facts.subject).toBe('CN=localhost');
		expect((await showSettings(ctx, root)).ssl).toMatchObject({cert: certFile, facts: {fingerprint256: facts.fingerprint256}});
		await expect(setListener(ctx, root, {name: 'requests', port: 8443, ssl: true})).resolves.toMatchObject({ssl: true});
	});

	it('an expired certificate is refused', async () => {
		const {ctx, root} = await initializedContext();
		ctx.clock.advance(3 * 86_400);
		await expect(setSsl(ctx, root, {cert: one.certFile, key: join(one.dir, 'key.pem')})).rejects.toThrow(/expired on/);
	});
});

describe('links people can open', () => {
	it('an unset public URL, or one naming this machine, is reported as links that will not be reachable', async () => {
		const {ctx, root} = await initializedContext();
		expect((await showSettings(ctx, root)).linksUnreachable).toMatch(/^The public URL is not set, so invitation links \(http:\/\/localhost:8080\/invite\/…\) will not be reachable/);
		await setPublicUrl(ctx, root, 'http://127.0.0.1:8080');
		expect((await showSettings(ctx, root)).linksUnreachable).toMatch(/^The public URL http:\/\/127\.0\.0\.1:8080 names this machine only/);
		expect(unreachableLinks('https://[::1]:8443')).toMatch(/names this machine only/);
		expect(unreachableLinks('https://app.localhost')).toMatch(/names this machine only/);
		await setPublicUrl(ctx, root, 'https://crash.example.com');
		expect((await showSettings(ctx, root)).linksUnreachable).toBeNull();
	});

	it('orgctl settings show and invites create/list say so, and stop once a reachable URL is set', async () => {
		const {ctx} = await initializedContext();
		const root = {env: {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD}};
		const show = await orgctl(ctx.dir, ['settings', 'show'], root);
		expect(show.stdout).toContain('! The public URL is not set, so invitation links (http://localhost:8080/invite/…) will not be reachable');
		expect(show.stdout).toContain('orgctl serve needs a listener named requests');
		const create = await orgctl(ctx.dir, ['invites', 'create', 'ann', 'ann@example.com', '--no-email'], root);
		expect(create).toMatchObject({code: 0, stderr: expect.stringContaining('Warning: The public URL is not set')});
		expect((await orgctl(ctx.dir, ['invites', 'list'], root)).stderr).toContain('Warning: The public URL is not set');
		expect((await orgctl(ctx.dir, ['settings', 'public-url', 'set', 'https://accounts.example.com'], root)).stderr).toBe('');
		expect((await orgctl(ctx.dir, ['invites', 'list'], root)).stderr).toBe('');
		expect((await orgctl(ctx.dir, ['settings', 'show', '--json'], root)).stdout).toContain('"linksUnreachable": null');
	});
});
