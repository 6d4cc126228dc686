import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import type {Context} from '../source/core/context.js';
import {createMailer} from '../source/adapters/mailer.js';
import {createInvitation} from '../source/core/invitations.js';
import {deliverOutbox, enqueueMail, RETRY} from '../source/core/outbox.js';
import {sendTestMail, setSmtpSettings} from '../source/core/smtp-settings.js';
import type {SmtpSettings} from '../source/core/model.js';
import {makeCertificate, removeCertificate, TestSmtpServer, type TestCertificate} from './helpers/smtp.js';
import {initializedContext} from './helpers/store.js';
import {storedText} from './helpers/backend.js';

const plainSecrets = {seal: (s: string) => s, unseal: (s: string) => s};
const mail = {to: 'bob@example.com', subject: 'Hello', text: 'hello', html: '<p>hello</p>'};

function settings(port: number, extra: Partial<SmtpSettings> = {}): SmtpSettings {
	return {host: '127.0.0.1', port, security: 'none', user: null, passwordSealed: null, from: 'noreply@example.com', timeoutMs: 500, caFile: null, ...extra};
}

async function sendOnce(smtp: SmtpSettings) {
	const mailer = await createMailer(smtp, plainSecrets);
	try {
		return await mailer.send(mail);
	} finally {
		mailer.close();
	}
}

let certificate: TestCertificate;
beforeAll(() => {
	certificate = makeCertificate();
});
afterAll(() => removeCertificate(certificate));

describe('the mailer over a real SMTP server on loopback', () => {
	it('delivers to exactly the envelope recipient it was given', async () => {
		const server = await new TestSmtpServer().start();
		try {
			expect(await sendOnce(settings(server.port))).toMatchObject({result: 'sent'});
			const [received] = await server.waitForMessages(1);
			expect(received!.envelopeTo).toEqual(['bob@example.com']);
			expect(received!.envelopeFrom).toBe('noreply@example.com');
			expect(received!.subject).toBe('Hello');
		} finally {
			await server.stop();
		}
	});

	it('refuses an address list smuggled into one recipient instead of sending it to the first address', async () => {
		const server = await new TestSmtpServer().start();
		try {
			const mailer = await createMailer(settings(server.port), plainSecrets);
			const outcome = await mailer.send({...mail, to: 'a@evil.example,b@corp.example'});
			mailer.close();
			expect(outcome.result).toBe('permanent');
			expect(server.messages).toHaveLength(0);
		} finally {
			await server.stop();
		}
	});

	it('calls a 4xx reply temporary and a 5xx reply permanent, keeping the server reason', async () => {
		const server = await new TestSmtpServer().start();
		try {
			server.mode = 'reject4xx';
			expect(await sendOnce(settings(server.port))).toEqual({result: 'temporary', stage: 'recipient', reason: expect.stringContaining('451 Mailbox busy')});
			server.mode = 'reject5xx';
			expect(await sendOnce(settings(server.port))).toEqual({result: 'permanent', stage: 'recipient', reason: expect.stringContaining('550 No such user here')});
		} finally {
			await server.stop();
		}
	});

	it('calls a server that never greets, drops the connection or is down temporary', async () => {
		const server = await new TestSmtpServer().start();
		const port = server.port;
		server.mode = 'hang';
		const started = Date.now();
		expect(await sendOnce(settings(port))).toEqual({result: 'temporary', stage: 'connect', reason: expect.stringContaining('did not answer in time')});
		expect(Date.now() - started).toBeLessThan(3000);
		server.mode = 'close';
		expect((await sendOnce(settings(port))).result).toBe('temporary');
		await server.stop();
		expect(await sendOnce(settings(port))).toEqual({result: 'temporary', stage: 'connect', reason: expect.stringContaining('ECONNREFUSED')});
	});

	it('never trusts an unknown certificate, and trusts it once its CA file is configured', async () => {
		for (const tls of ['implicit', 'starttls'] as const) {
			const server = await new TestSmtpServer({tls, certificate}).start();
			try {
				const security = tls === 'implicit' ? 'tls' : 'starttls';
				expect(await sendOnce(settings(server.port, {security}))).toEqual({result: 'permanent', stage: 'tls', reason: expect.stringContaining('certificate is not trusted')});
				expect(server.messages).toHaveLength(0);
				expect(await sendOnce(settings(server.port, {security, caFile: certificate.certFile}))).toMatchObject({result: 'sent'});
			} finally {
				await server.stop();
			}
		}
	});

	it('refuses to send in clear text when STARTTLS is required and the server does not offer it', async () => {
		const server = await new TestSmtpServer().start();
		try {
			expect(await sendOnce(settings(server.port, {security: 'starttls'}))).toEqual({result: 'permanent', stage: 'tls', reason: expect.stringContaining('STARTTLS')});
			expect(server.messages).toHaveLength(0);
		} finally {
			await server.stop();
		}
	});

	it('logs in with the sealed SMTP password', async () => {
		const server = await new TestSmtpServer({auth: {user: 'mailer', pass: 's3cret pass'}}).start();
		try {
			const {ctx, root} = await initializedContext();
			await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: server.port, security: 'none', from: 'noreply@example.com', user: 'mailer', password: 's3cret pass', timeoutMs: 2000});
			expect(await storedText(ctx.store, ctx.dir)).not.toContain('s3cret pass');
			await sendTestMail(ctx, root, 'ops@example.com');
			expect((await server.waitForMessages(1))[0]!.envelopeTo).toEqual(['ops@example.com']);
		} finally {
			await server.stop();
		}
	});
});

describe('the outbox', () => {
	async function queue(ctx: Context, count = 1) {
		return ctx.store.transact(db => Array.from({length: count}, (_, i) => enqueueMail(db, ctx, {...mail, to: `user${i}@example.com`, kind: 'test', ref: null}).id));
	}

	it('keeps message bodies sealed in the store file', async () => {
		const {ctx} = await initializedContext();
		await ctx.store.transact(db => enqueueMail(db, ctx, {...mail, text: 'secret-link-123', html: '<a>secret-link-123</a>', kind: 'test', ref: null}));
		expect(await storedText(ctx.store, ctx.dir)).not.toContain('secret-link-123');
	});

	it('marks messages "not sent" when SMTP is not configured', async () => {
		const {ctx} = await initializedContext();
		await queue(ctx);
		const report = await deliverOutbox(ctx);
		expect(report.notSent).toBe(1);
		expect(report.results[0]!.status).toMatchObject({state: 'not-sent', reason: 'SMTP is not configured'});
		expect(ctx.store.read().outbox).toHaveLength(0);
	});

	it('retries temporary failures with back-off and sends once the server is back', async () => {
		const server = await new TestSmtpServer().start();
		try {
			const {ctx, root} = await initializedContext();
			await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: server.port, security: 'none', from: 'noreply@example.com', timeoutMs: 1000});
			server.mode = 'reject4xx';
			await queue(ctx);
			const first = await deliverOutbox(ctx);
			expect(first.results[0]!.status).toMatchObject({state: 'retrying', reason: expect.stringContaining('451')});
			expect(ctx.store.read().outbox[0]).toMatchObject({attempts: 1, claimedUntil: null});
			// Not due yet: nothing is sent.
			server.mode = 'accept';
			expect((await deliverOutbox(ctx)).results).toHaveLength(0);
			ctx.clock.advance(RETRY.firstDelaySeconds);
			expect((await deliverOutbox(ctx)).sent).toBe(1);
			expect(ctx.store.read().outbox).toHaveLength(0);
			await server.waitForMessages(1);
		} finally {
			await server.stop();
		}
	});

	it('fails permanent errors at once and tells the owning record', async () => {
		const server = await new TestSmtpServer().start();
		try {
			const {ctx, root} = await initializedContext();
			await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: server.port, security: 'none', from: 'noreply@example.com', timeoutMs: 1000});
			// The owning record is a real one: an invitation, whose status the outbox keeps.
			const {invitation} = await createInvitation(ctx, root, {username: 'carol', email: 'carol@example.com'});
			server.mode = 'reject5xx';
			const report = await deliverOutbox(ctx);
			expect(report.failed).toBe(1);
			expect(report.results[0]!.status).toMatchObject({state: 'failed', reason: expect.stringContaining('550 No such user here')});
			expect(ctx.store.read().invitations.find(i => i.id === invitation.id)!.mail.state).toEqual('failed');
			expect(ctx.store.read().outbox).toHaveLength(0);
		} finally {
			await server.stop();
		}
	});

	it('does not send a message another process has claimed', async () => {
		const server = await new TestSmtpServer().start();
		try {
			const {ctx, root} = await initializedContext();
			await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: server.port, security: 'none', from: 'noreply@example.com', timeoutMs: 1000});
			await queue(ctx, 3);
			const [a, b] = await Promise.all([deliverOutbox(ctx), deliverOutbox(ctx)]);
			expect(a.sent + b.sent).toBe(3);
			await server.waitForMessages(3);
			await new Promise(resolve => setTimeout(resolve, 200));
			expect(server.messages).toHaveLength(3);
		} finally {
			await server.stop();
		}
	});
});
