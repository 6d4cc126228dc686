import {SMTPServer} from 'smtp-server';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import type {Actor, Context} from '../source/core/context.js';
import {inertReply} from '../source/adapters/mailer.js';
import {sendTestMail, setSmtpSettings, type SmtpInput} from '../source/core/smtp-settings.js';
import {makeCertificate, removeCertificate, TestSmtpServer, type TestCertificate} from './helpers/smtp.js';
import {initializedContext} from './helpers/store.js';

// "Send test e-mail" against a real SMTP server on loopback: each stage of the SMTP conversation
// that can be made to fail here is, and the admin reads which stage and why in one sentence.

let certificate: TestCertificate;
const servers: TestSmtpServer[] = [];
beforeAll(() => {
	certificate = makeCertificate();
});
afterAll(() => removeCertificate(certificate));
afterEach(async () => {
	for (const server of servers.splice(0)) await server.stop().catch(() => undefined);
});

async function server(options: ConstructorParameters<typeof TestSmtpServer>[0] = {}): Promise<TestSmtpServer> {
	const started = await new TestSmtpServer(options).start();
	servers.push(started);
	return started;
}

async function configured(smtp: Partial<SmtpInput> & {port: number}): Promise<{ctx: Context; root: Actor}> {
	const {ctx, root} = await initializedContext();
	await setSmtpSettings(ctx, root, {host: '127.0.0.1', security: 'none', from: 'orgctl@example.com', timeoutMs: 1500, ...smtp});
	return {ctx, root};
}

/** The sentence a failed test e-mail is refused with, and the audit event it left. */
async function failure(ctx: Context, root: Actor, to = 'ops@example.com'): Promise<string> {
	const error = await sendTestMail(ctx, root, to).then(
		() => undefined,
		(e: unknown) => e as Error,
	);
	expect(error, 'the test e-mail should have failed').toBeInstanceOf(Error);
	expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.smtp.test', target: to, result: 'failed', reason: error!.message});
	// One sentence: no line breaks from the server's reply survive into it.
	expect(error!.message).not.toMatch(/\n/);
	return error!.message;
}

describe('Send test e-mail names the stage that failed', () => {
	it('arrives when the settings work, and the audit says so', async () => {
		const smtp = await server();
		const {ctx, root} = await configured({port: smtp.port});
		const result = await sendTestMail(ctx, root, 'ops@example.com');
		expect(result.response).toMatch(/^250/);
		const [mail] = await smtp.waitForMessages(1);
		expect(mail).toMatchObject({envelopeTo: ['ops@example.com'], envelopeFrom: 'orgctl@example.com', subject: 'orgctl test e-mail'});
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.smtp.test', result: 'ok'});
	});

	it('DNS: a host name that does not resolve', async () => {
		const {ctx, root} = await configured({host: 'no-such-host.invalid', port: 25});
		expect(await failure(ctx, root)).toMatch(/^The test e-mail to ops@example\.com failed at the DNS stage: the SMTP host name no-such-host\.invalid does not resolve \(.*ENOTFOUND.*\)\.$/);
	});

	it('connection: nothing listens on the port', async () => {
		const smtp = await server();
		const port = smtp.port;
		await smtp.stop();
		const {ctx, root} = await configured({port});
		expect(await failure(ctx, root)).toMatch(new RegExp(`failed at the connection stage: cannot reach the SMTP server 127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED`));
	});

	it('connection: a server that never greets, with the hint that the port may want TLS', async () => {
		const smtp = await server();
		smtp.mode = 'hang';
		const {ctx, root} = await configured({port: smtp.port, timeoutMs: 300});
		expect(await failure(ctx, root)).toMatch(/failed at the connection stage: the SMTP server 127\.0\.0\.1:\d+ did not answer in time \(Greeting never received, waited 300 ms\); if .* expects TLS from the first byte .*choose TLS\.$/);
	});

	it('TLS: TLS spoken to a server that starts in plain text', async () => {
		const smtp = await server();
		const {ctx, root} = await configured({port: smtp.port, security: 'tls'});
		expect(await failure(ctx, root)).toMatch(/failed at the TLS stage: no TLS handshake with 127\.0\.0\.1:\d+ \(.*wrong version number.*\); .* choose STARTTLS \(or none\) instead of TLS\.$/);
		expect(smtp.messages).toHaveLength(0);
	});

	it('TLS: a certificate nobody vouches for, over TLS and over STARTTLS', async () => {
		for (const [tls, security] of [['implicit', 'tls'], ['starttls', 'starttls']] as const) {
			const smtp = await server({tls, certificate});
			const {ctx, root} = await configured({port: smtp.port, security});
			expect(await failure(ctx, root)).toMatch(/failed at the TLS stage: the SMTP server's TLS certificate is not trusted \(self-signed certificate\); set a CA file/);
			expect(smtp.messages).toHaveLength(0);
		}
	});

	it('TLS: STARTTLS required and the server does not offer it', async () => {
		const smtp = await server();
		const {ctx, root} = await configured({port: smtp.port, security: 'starttls'});
		expect(await failure(ctx, root)).toMatch(/failed at the TLS stage: the SMTP server does not offer the STARTTLS the settings require/);
	});

	it('authentication: a wrong password, and a server that wants a login when none is set', async () => {
		const smtp = await server({auth: {user: 'mailer', pass: 'right password'}});
		const {ctx, root} = await configured({port: smtp.port, user: 'mailer', password: 'wrong password'});
		expect(await failure(ctx, root)).toBe('The test e-mail to ops@example.com failed at the authentication stage: the SMTP server refused the login of mailer: 535 Invalid username or password.');
		await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: smtp.port, security: 'none', from: 'orgctl@example.com'});
		expect(await failure(ctx, root)).toMatch(/failed at the authentication stage: the SMTP server wants a login before it takes mail \(530 .*\); set a user and password\.$/);
		await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: smtp.port, security: 'none', from: 'orgctl@example.com', user: 'mailer', password: 'right password'});
		await expect(sendTestMail(ctx, root, 'ops@example.com')).resolves.toMatchObject({response: expect.stringMatching(/^250/)});
	});

	it('sender: the server refuses our From address', async () => {
		const smtp = await server();
		smtp.mode = 'rejectSender';
		const {ctx, root} = await configured({port: smtp.port});
		expect(await failure(ctx, root)).toBe('The test e-mail to ops@example.com failed at the sender stage: the SMTP server refused the sender orgctl@example.com: 553 Sender address rejected: not owned by you.');
	});

	it('recipient: the server refuses the address typed', async () => {
		const smtp = await server();
		smtp.mode = 'reject5xx';
		const {ctx, root} = await configured({port: smtp.port});
		expect(await failure(ctx, root, 'nobody@example.com')).toBe('The test e-mail to nobody@example.com failed at the recipient stage: the SMTP server refused the recipient nobody@example.com: 550 No such user here.');
	});

	it('a server reply that carries terminal escape sequences is shown inert, never obeyed', async () => {
		// OSC 52 would set the admin's clipboard; a bidi override would reorder what they read.
		const hostile = new SMTPServer({
			authOptional: false,
			allowInsecureAuth: true,
			disabledCommands: ['STARTTLS'],
			logger: false,
			onAuth: (_auth, _session, callback) => callback(Object.assign(new Error('denied \u001b]52;c;ZXZpbA==\u0007 \u202eevil'), {responseCode: 535})),
		});
		await new Promise<void>(resolve => hostile.listen(0, '127.0.0.1', () => resolve()));
		try {
			const port = (hostile.server.address() as {port: number}).port;
			const {ctx, root} = await configured({port, user: 'mailer', password: 'any password'});
			const message = await failure(ctx, root);
			expect(message).toContain('failed at the authentication stage');
			// smtp-server itself already drops ESC and BEL from what it sends; the bidi override comes through.
			expect(message).toContain('\\u202eevil');
			// eslint-disable-next-line no-control-regex -- what must not reach a terminal
			expect(message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
		} finally {
			await new Promise<void>(resolve => hostile.close(() => resolve()));
		}
	});

	it('every control character of a reply is escaped, whatever the server sends', () => {
		expect(inertReply('550 \u001b]52;c;ZXZpbA==\u0007 no\r\n  such \u009b user \u2066x')).toBe('550 \\e]52;c;ZXZpbA==\\x07 no such \\u009b user \\u2066x');
	});

	it('an address that is not one is refused before anything is sent', async () => {
		const smtp = await server();
		const {ctx, root} = await configured({port: smtp.port});
		await expect(sendTestMail(ctx, root, 'a@evil.example,b@corp.example')).rejects.toMatchObject({kind: 'invalid'});
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'settings.smtp.test', result: 'refused'});
		expect(smtp.messages).toHaveLength(0);
	});
});
