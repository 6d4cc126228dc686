import {createHmac} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {sha256} from '../source/core/ids.js';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {login} from '../source/core/accounts.js';
import type {Actor} from '../source/core/context.js';
import type {OrgError} from '../source/core/errors.js';
import {addSignupDomain, editSignupDomain, removeSignupDomain} from '../source/core/signup-domains.js';
import {SIGNUP, startSignup, verifySignup} from '../source/core/signup.js';
import {setSmtpSettings} from '../source/core/smtp-settings.js';
import {deliverOutbox} from '../source/core/outbox.js';
import {TestSmtpServer, type ReceivedMail} from './helpers/smtp.js';
import {initializedContext} from './helpers/store.js';
import {storedText} from './helpers/backend.js';

const PASSWORD = 'a long enough password';

let smtp: TestSmtpServer;
beforeAll(async () => {
	smtp = await new TestSmtpServer().start();
});
afterAll(async () => smtp.stop());

type Ctx = Awaited<ReturnType<typeof initializedContext>>['ctx'];

/** A store with SMTP pointing at the loopback server and corp.com open for sign-up. */
async function openForSignup(options: {role?: 'guest' | 'member' | 'admin'; method?: 'password' | 'pam' | 'saml'} = {}): Promise<{ctx: Ctx; root: Actor}> {
	const {ctx, root} = await initializedContext();
	await setSmtpSettings(ctx, root, {host: '127.0.0.1', port: smtp.port, security: 'none', from: 'orgctl@corp.com', timeoutMs: 2000});
	await addSignupDomain(ctx, root, {domain: 'corp.com', ...options});
	return {ctx, root};
}

/** The newest message to `to` (waiting for it), and the code in it if any. */
async function mailTo(to: string): Promise<{mail: ReceivedMail; code: string | undefined}> {
	const deadline = Date.now() + 10_000;
	for (;;) {
		const mail = smtp.messages.filter(m => m.envelopeTo.includes(to)).at(-1);
		if (mail) {
			smtp.messages.splice(smtp.messages.indexOf(mail), 1);
			return {mail, code: /Your code: (\d{8})/.exec(mail.text)?.[1]};
		}
		if (Date.now() > deadline) throw new Error(`no mail to ${to}`);
		await smtp.waitForMessages(smtp.messages.length + 1, deadline - Date.now()).catch(() => undefined);
	}
}

describe('self sign-up through a real SMTP server on loopback', () => {
	it('signs up, receives the code, verifies, logs in and has the domain role', async () => {
		const {ctx} = await openForSignup({role: 'guest'});
		const started = await startSignup(ctx, {email: 'Carol@CORP.com', username: 'carol'});
		expect(started).toMatchObject({email: 'Carol@corp.com', tenant: 'default', mail: {state: 'sent'}});
		expect(started.message).toMatch(/^Check the mailbox of Carol@corp.com: a code is on its way/);
		expect(ctx.store.read().pendingSignups[0]).toMatchObject({username: 'carol', attempts: 0, mail: {state: 'sent'}});

		const {mail, code} = await mailTo('Carol@corp.com');
		expect(code).toMatch(/^\d{8}$/);
		expect(mail.text).toContain(`orgctl signup verify Carol@corp.com ${code}`);
		// Only a MAC keyed with the key file is kept (a plain hash of 8 digits would fall to a brute
		// force), and the sealed outbox copy is gone once sent.
		expect(await storedText(ctx.store, ctx.dir)).not.toContain(code!);
		const pending = ctx.store.read().pendingSignups[0]!;
		expect(pending.codeHash).not.toBe(sha256(`signup:${pending.id}:${code}`));
		expect(pending.codeHash).toBe(createHmac('sha256', Buffer.from(readFileSync(join(ctx.dir, 'orgctl.key'), 'utf8').trim(), 'base64url')).update(`signup:${pending.id}:${code}`).digest('hex'));

		const actor = await verifySignup(ctx, {email: 'carol@corp.com', code: `${code!.slice(0, 4)} ${code!.slice(4)}`, password: PASSWORD});
		expect(actor.user).toMatchObject({username: 'carol', role: 'guest', method: 'password', superuser: false});
		expect(ctx.store.read().pendingSignups).toHaveLength(0);

		const signedIn = await login(ctx, {identifier: 'carol', password: PASSWORD});
		expect(signedIn.user.role).toBe('guest');
		expect(ctx.store.read().audit.filter(e => e.action.startsWith('signup.')).map(e => [e.action, e.result])).toEqual([
			['signup.start', 'ok'],
			['signup.verify', 'ok'],
		]);
	});

	it('gives a pam or saml domain its method and no password', async () => {
		const {ctx} = await openForSignup({role: 'member', method: 'saml'});
		await startSignup(ctx, {email: 'dan@corp.com', username: 'dan'});
		const {code} = await mailTo('dan@corp.com');
		await expect(verifySignup(ctx, {email: 'dan@corp.com', code: code!, password: PASSWORD})).rejects.toThrow(/sign in with SAML/);
		const actor = await verifySignup(ctx, {email: 'dan@corp.com', code: code!});
		expect(actor.user).toMatchObject({method: 'saml', passwordHash: null, role: 'member'});
	});

	it('refuses a wrong code, counts the tries, and ends the sign-up after five', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'erin@corp.com', username: 'erin'});
		const {code} = await mailTo('erin@corp.com');
		const wrong = code === '00000000' ? '11111111' : '00000000';
		const messages: string[] = [];
		for (let i = 0; i < SIGNUP.maxAttempts; i++) {
			messages.push(await verifySignup(ctx, {email: 'erin@corp.com', code: wrong, password: PASSWORD}).then(() => 'accepted', (e: OrgError) => e.message));
		}
		expect(messages[0]).toBe('The code is wrong; 4 tries left.');
		expect(messages[3]).toBe('The code is wrong; 1 try left.');
		expect(messages[4]).toMatch(/Too many wrong codes/);
		// Now even the right code is refused: the sign-up is gone.
		await expect(verifySignup(ctx, {email: 'erin@corp.com', code: code!, password: PASSWORD})).rejects.toThrow(/No sign-up is waiting/);
		expect(ctx.store.read().users.map(u => u.username)).toEqual(['root']);
		expect(ctx.store.read().audit.filter(e => e.action === 'signup.verify' && e.result === 'refused')).toHaveLength(6);
	});

	it('refuses a code used once already', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'fay@corp.com', username: 'fay'});
		const {code} = await mailTo('fay@corp.com');
		await verifySignup(ctx, {email: 'fay@corp.com', code: code!, password: PASSWORD});
		await expect(verifySignup(ctx, {email: 'fay@corp.com', code: code!, password: PASSWORD})).rejects.toThrow(/No sign-up is waiting for fay@corp.com/);
	});

	it('refuses a code after 8 hours', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'gus@corp.com', username: 'gus'});
		const {code} = await mailTo('gus@corp.com');
		ctx.clock.advance(SIGNUP.lifetimeSeconds);
		await expect(verifySignup(ctx, {email: 'gus@corp.com', code: code!, password: PASSWORD})).rejects.toThrow(/has expired \(codes last 8 hours\)/);
		expect(ctx.store.read().pendingSignups).toHaveLength(0);
	});

	it('a new code replaces the old one, but not within a minute', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'hal@corp.com', username: 'hal'});
		const first = await mailTo('hal@corp.com');
		await expect(startSignup(ctx, {email: 'hal@corp.com', username: 'hal'})).rejects.toThrow(/moments ago; check your mail, or ask for a new one in 60 seconds/);
		ctx.clock.advance(SIGNUP.resendAfterSeconds);
		await startSignup(ctx, {email: 'hal@corp.com', username: 'hal'});
		const second = await mailTo('hal@corp.com');
		if (first.code !== second.code) {
			await expect(verifySignup(ctx, {email: 'hal@corp.com', code: first.code!, password: PASSWORD})).rejects.toThrow(/The code is wrong/);
		}
		await expect(verifySignup(ctx, {email: 'hal@corp.com', code: second.code!, password: PASSWORD})).resolves.toBeTruthy();
	});

	it('answers the same whether the username or address is taken or not; the mail says so instead of a code', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'ivy@corp.com', username: 'ivy'});
		await verifySignup(ctx, {email: 'ivy@corp.com', code: (await mailTo('ivy@corp.com')).code!, password: PASSWORD});

		const strip = (s: Awaited<ReturnType<typeof startSignup>>) => ({...s, email: '*', username: '*', message: s.message.replace(/\S+@corp\.com/, '*'), expires: '*', mail: s.mail.state});
		const free = await startSignup(ctx, {email: 'jon@corp.com', username: 'jon'});
		const sameAddress = await startSignup(ctx, {email: 'IVY@corp.com', username: 'ivy2'});
		const sameName = await startSignup(ctx, {email: 'kim@corp.com', username: 'IVY'});
		expect(strip(sameAddress)).toEqual(strip(free));
		expect(strip(sameName)).toEqual(strip(free));

		expect((await mailTo('jon@corp.com')).code).toMatch(/^\d{8}$/);
		const taken = await mailTo('IVY@corp.com');
		expect(taken.code).toBeUndefined();
		expect(taken.mail.text).toContain('no account was created');
		expect(taken.mail.text).toContain('already belongs to user ivy');
		expect((await mailTo('kim@corp.com')).mail.text).toContain('A user named ivy already exists');
		// No code exists for a taken sign-up, so none can be guessed either.
		await expect(verifySignup(ctx, {email: 'kim@corp.com', code: '12345678', password: PASSWORD})).rejects.toThrow(/The code is wrong/);
	});

	it('refuses an address outside the listed domains, and a subdomain', async () => {
		const {ctx} = await openForSignup();
		await expect(startSignup(ctx, {email: 'a@corp.com.evil.com', username: 'a'})).rejects.toThrow('Self sign-up is not open for addresses at corp.com.evil.com; ask an admin for an invitation.');
		await expect(startSignup(ctx, {email: 'a@eu.corp.com', username: 'a'})).rejects.toThrow(/not open for addresses at eu.corp.com/);
		await expect(startSignup(ctx, {email: 'a@evil.com?@corp.com', username: 'a'})).rejects.toThrow(/exactly one @/);
		expect(ctx.store.read().pendingSignups).toHaveLength(0);
		expect(smtp.messages.filter(m => m.envelopeTo.some(t => t.startsWith('a@')))).toHaveLength(0);
	});

	it('says plainly that sign-up needs SMTP when none is configured', async () => {
		const {ctx, root} = await initializedContext();
		await addSignupDomain(ctx, root, {domain: 'corp.com'});
		await expect(startSignup(ctx, {email: 'a@corp.com', username: 'a'})).rejects.toThrow(/this server has no mail \(SMTP\) set up yet/);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'signup.start', result: 'failed'});
	});

	it('a password shorter than the policy is refused before the code is judged', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'lou@corp.com', username: 'lou'});
		const {code} = await mailTo('lou@corp.com');
		await expect(verifySignup(ctx, {email: 'lou@corp.com', code: '00000000', password: 'short'})).rejects.toThrow(/at least 12 characters/);
		await expect(verifySignup(ctx, {email: 'lou@corp.com', code: code!})).rejects.toThrow(/Choose a password/);
		expect(ctx.store.read().pendingSignups[0]!.attempts).toBe(0);
	});

	it('the role and method are the domain’s at verify time; closing the domain ends the sign-up', async () => {
		const {ctx, root} = await openForSignup();
		await startSignup(ctx, {email: 'max@corp.com', username: 'max'});
		const {code} = await mailTo('max@corp.com');
		await editSignupDomain(ctx, root, 'corp.com', {role: 'guest'});
		await startSignup(ctx, {email: 'ned@corp.com', username: 'ned'});
		const ned = await mailTo('ned@corp.com');
		expect((await verifySignup(ctx, {email: 'max@corp.com', code: code!, password: PASSWORD})).user.role).toBe('guest');
		await removeSignupDomain(ctx, root, 'corp.com');
		await expect(verifySignup(ctx, {email: 'ned@corp.com', code: ned.code!, password: PASSWORD})).rejects.toThrow(/No sign-up is waiting/);
	});

	it('while its mail waits for a retry, the code is nowhere in the store file', async () => {
		const {ctx} = await openForSignup();
		smtp.mode = 'reject4xx';
		let whileQueued: string;
		try {
			const started = await startSignup(ctx, {email: 'pia@corp.com', username: 'pia'});
			expect(started.mail).toMatchObject({state: 'retrying'});
			expect(ctx.store.read().outbox).toHaveLength(1);
			whileQueued = await storedText(ctx.store, ctx.dir);
		} finally {
			smtp.mode = 'accept';
		}
		ctx.clock.advance(3600);
		await deliverOutbox(ctx);
		const {mail, code} = await mailTo('pia@corp.com');
		expect(code).toMatch(/^\d{8}$/);
		expect(mail.subject).not.toContain(code!);
		expect(whileQueued).not.toContain(code!);
	});

	it('a mail server that refuses the address: the answer says only that the mail could not be sent; the reason is on the pending sign-up and in the audit', async () => {
		const {ctx} = await openForSignup();
		smtp.mode = 'reject5xx';
		try {
			const started = await startSignup(ctx, {email: 'oz@corp.com', username: 'oz'});
			expect(started.mail).toMatchObject({state: 'failed'});
			expect(started.message).toBe('The mail to oz@corp.com could not be sent; try again later or ask an admin.');
			expect(ctx.store.read().pendingSignups[0]!.mail).toMatchObject({state: 'failed', reason: expect.stringContaining('No such user here')});
			expect(ctx.store.read().audit.find(e => e.action === 'mail.deliver')?.reason).toContain('No such user here');
		} finally {
			smtp.mode = 'accept';
		}
	});
});

describe('guessing sign-up codes is bounded per domain, not only per code (finding 6)', () => {
	it('after SIGNUP.failedCodesPerDomainPerHour wrong codes for a domain in an hour, even the right code waits', async () => {
		const {ctx} = await openForSignup();
		await startSignup(ctx, {email: 'ceo.office@corp.com', username: 'ceo'});
		const {code} = await mailTo('ceo.office@corp.com');
		// Wrong guesses spread over many sign-ups of the domain, 4 each (under the 5 tries of one code).
		const guessed: string[] = [];
		for (let i = 0; guessed.length < SIGNUP.failedCodesPerDomainPerHour; i++) {
			const email = `g${i}@corp.com`;
			await startSignup(ctx, {email, username: `g${i}`});
			for (let t = 0; t < 4 && guessed.length < SIGNUP.failedCodesPerDomainPerHour; t++) {
				await expect(verifySignup(ctx, {email, code: '00000000', password: 'long enough password'})).rejects.toThrow(/The code is wrong/);
				guessed.push(email);
			}
		}
		await expect(verifySignup(ctx, {email: 'ceo.office@corp.com', code: code!, password: 'long enough password'})).rejects.toThrow(
			'Too many wrong sign-up codes were typed for addresses at corp.com in the last hour; try again later.',
		);
	}, 60_000);
});
