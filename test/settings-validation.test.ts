import {describe, expect, it} from 'vitest';
import {setListener} from '../source/core/server-settings.js';
import {setSmtpSettings} from '../source/core/smtp-settings.js';
import {setIdpByHand} from '../source/core/sso-settings.js';
import {cast} from './helpers/cast.js';
import {initializedContext} from './helpers/store.js';

/**
 * The red team's #12 (notes/redteam-10-14.md): settings that were saved without a word. Each is
 * refused with its sentence and nothing is saved; a plain-HTTP listener on every interface is warned about.
 */
const smtp = {port: 2525, security: 'starttls' as const, from: 'orgctl@example.com'};

describe('#12 settings validate what they save', () => {
	it.each(['999.999.999.999', '-bad-.com', 'a..b', '0', `${'a'.repeat(64)}.com`, `${'abc.'.repeat(75)}com`])('the SMTP host %s is refused', async host => {
		const {ctx, root} = await initializedContext();
		await expect(setSmtpSettings(ctx, root, {...smtp, host})).rejects.toThrow(/is not a host name or IP address/);
		expect(ctx.store.read().settings.smtp).toBeNull();
	});

	it('good hosts and addresses are kept', async () => {
		const {ctx, root} = await initializedContext();
		for (const host of ['mail.example.com', '127.0.0.1', '::1', '[2001:db8::1]', 'localhost']) {
			expect((await setSmtpSettings(ctx, root, {...smtp, host})).host).toBe(host);
		}
	});

	it('an SMTP user with control characters is refused', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setSmtpSettings(ctx, root, {...smtp, host: 'mail.example.com', user: 'u\u001b]52;c;aGk=\u0007x', password: 'pw'})).rejects.toThrow('The SMTP user must not contain control characters.');
	});

	it('a login in clear text to another machine is refused; to a relay on this machine it is not', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setSmtpSettings(ctx, root, {...smtp, security: 'none', host: 'mail.example.com', user: 'mailer', password: 'goodpw'})).rejects.toThrow(
			'Signing in to mail.example.com with --security none would send the SMTP user and password in clear text; use --security starttls or tls (or a relay on this machine).',
		);
		expect((await setSmtpSettings(ctx, root, {...smtp, security: 'none', host: '127.0.0.1', user: 'mailer', password: 'goodpw'})).host).toBe('127.0.0.1');
		// Without a login, plain SMTP to a relay is the admin's choice.
		expect((await setSmtpSettings(ctx, root, {...smtp, security: 'none', host: 'mail.example.com'})).host).toBe('mail.example.com');
	});

	it.each(['999.1.1.1', 'evil.com', '0', ''])('the listener address "%s" is refused', async address => {
		const {ctx, root} = await initializedContext();
		await expect(setListener(ctx, root, {name: 'requests', port: 8443, address})).rejects.toThrow(address === '' ? /The listener address is empty/ : /is not an IP address to listen on/);
		expect(ctx.store.read().settings.listeners.some(l => l.port === 8443)).toBe(false);
	});

	it('the user-requests listener in plain HTTP on every interface is warned about', async () => {
		const c = await cast();
		const wide = await c.as('root', ['settings', 'listeners', 'set', 'requests', '--port', '8443', '--address', '0.0.0.0', '--ssl', 'off']);
		expect(wide.code).toBe(0);
		expect(wide.stderr).toMatch(/^Warning: the requests listener serves invitation and password pages in plain HTTP on every interface \(0\.0\.0\.0\); turn on --ssl/m);
		const local = await c.as('root', ['settings', 'listeners', 'set', 'requests', '--port', '8443', '--address', '127.0.0.1']);
		expect(local.stderr).not.toMatch(/Warning/);
	});

	it('the IdP single sign-on URL is https, unless the IdP is on this machine', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setIdpByHand(ctx, root, {entityId: 'https://idp.example.com/metadata', ssoUrl: 'http://idp/sso', certificateFile: '/nonexistent.pem'})).rejects.toThrow(
			'The single sign-on URL must use https:// (plain http:// is allowed only for an identity provider on this machine).',
		);
	});
});
