import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {login} from '../source/core/accounts.js';
import {
	acceptInvitation,
	copyInvitationLink,
	createInvitation,
	createInvitations,
	listInvitations,
	mailInvitations,
	parseInvitationToken,
	queueResend,
	resendInvitation,
	revokeInvitation,
} from '../source/core/invitations.js';
import {parseInvitationList} from '../source/core/invitations/csv.js';
import {deliverOutbox, RETRY} from '../source/core/outbox.js';
import {byIdPrefix} from '../source/core/ids.js';
import {addPerson, useLoopbackSmtp} from './helpers/people.js';
import {makeCertificate, removeCertificate, TestSmtpServer, type TestCertificate} from './helpers/smtp.js';
import {initializedContext} from './helpers/store.js';
import {storedText} from './helpers/backend.js';

const PASSWORD = 'a long enough password';

let server: TestSmtpServer;
let certificate: TestCertificate;
beforeAll(async () => {
	certificate = makeCertificate();
});
afterAll(() => removeCertificate(certificate));
afterEach(async () => {
	await server?.stop().catch(() => undefined);
});

async function setup() {
	const {ctx, root} = await initializedContext();
	server = await new TestSmtpServer().start();
	await useLoopbackSmtp(ctx, root, server.port);
	return {ctx, root};
}

function secretOf(link: string): string {
	return parseInvitationToken(link)!.secret;
}

describe('inviting someone', () => {
	it('mails the invitee a message naming the inviter and the organization, with a link that accepts', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'Carol', email: 'Carol@Example.COM', role: 'admin'});
		expect(issued.link).toMatch(/^http:\/\/localhost:8080\/invite\/[0-9a-f]{32}\.[\w-]{43}$/);
		const report = await mailInvitations(ctx, [issued]);
		expect(report.sent).toBe(1);

		const [mail] = await server.waitForMessages(1);
		expect(mail!.envelopeTo).toEqual(['Carol@example.com']);
		expect(mail!.subject).toBe('root invited you to the organization default');
		expect(mail!.text).toContain('root (root@example.com) invited you to join the organization default as admin');
		expect(mail!.text).toContain(issued.link);
		expect(mail!.text).toContain(`orgctl accept ${issued.link}`);
		expect(mail!.html).toContain(`href="${issued.link}"`);
		expect(ctx.store.read().invitations[0]).toMatchObject({mail: {state: 'sent'}, sentCount: 1});

		const link = /https?:\/\/\S+\/invite\/\S+/.exec(mail!.text)![0];
		const {user} = await acceptInvitation(ctx, {link, password: PASSWORD});
		expect(user).toMatchObject({username: 'Carol', email: 'Carol@example.com', role: 'admin', method: 'password'});
		expect(ctx.store.read().invitations).toHaveLength(0);
		expect((await login(ctx, {identifier: 'carol', password: PASSWORD})).user.id).toBe(user.id);
	});

	it('expires after the org-wide invitation lifetime', async () => {
		const {ctx, root} = await setup();
		await ctx.store.transact(db => {
			db.settings.policy.invitationLifetimeSeconds = 3600;
		});
		const issued = await createInvitation(ctx, root, {username: 'dave', email: 'dave@example.com'}, {sendEmail: false});
		expect(new Date(issued.invitation.expires).getTime() - ctx.now().getTime()).toBe(3600 * 1000);
		expect(issued.invitation).toMatchObject({role: 'member', method: 'password', mail: {state: 'not-sent'}});
	});

	it('never writes the raw secret of a link to the store file', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'erin', email: 'erin@example.com'});
		await mailInvitations(ctx, [issued]);
		server.mode = 'reject4xx';
		const again = await resendInvitation(ctx, root, issued.invitation.id);
		await mailInvitations(ctx, [again]);
		const file = await storedText(ctx.store, ctx.dir);
		expect(file).not.toContain(secretOf(issued.link));
		expect(file).toContain(issued.invitation.id);
	});

	it('refuses a username or e-mail already taken by a user or a pending invitation, in any case', async () => {
		const {ctx, root} = await setup();
		await createInvitation(ctx, root, {username: 'frank', email: 'frank@example.com'}, {sendEmail: false});
		await expect(createInvitation(ctx, root, {username: 'ROOT', email: 'x@example.com'})).rejects.toThrow('A user named root already exists');
		await expect(createInvitation(ctx, root, {username: 'other', email: 'Root@Example.com'})).rejects.toThrow('already belongs to user root');
		await expect(createInvitation(ctx, root, {username: 'Frank', email: 'y@example.com'})).rejects.toThrow('already pending');
		await expect(createInvitation(ctx, root, {username: 'zed', email: 'FRANK@example.com'})).rejects.toThrow('already pending');
		await expect(createInvitation(ctx, root, {username: 'evil', email: 'a@evil.example,b@corp.example'})).rejects.toThrow('exactly one @');
		await expect(createInvitation(ctx, root, {username: 'dot', email: 'dot@example.com.'})).rejects.toThrow('not a valid domain');
	});
});

describe('who may invite and manage invitations', () => {
	it('a member cannot invite an admin, and a guest cannot invite at all', async () => {
		const {ctx, root} = await setup();
		const member = await addPerson(ctx, root, 'mia', 'member');
		const guest = await addPerson(ctx, root, 'gus', 'guest');
		await expect(createInvitation(ctx, member, {username: 'boss', email: 'boss@example.com', role: 'admin'})).rejects.toThrow('A member can invite with roles up to member, not admin.');
		await expect(createInvitation(ctx, guest, {username: 'pal', email: 'pal@example.com'})).rejects.toThrow('Guests cannot send invitations');
		await createInvitation(ctx, member, {username: 'pal', email: 'pal@example.com', role: 'member'}, {sendEmail: false});
		const refusals = ctx.store.read().audit.filter(e => e.action === 'invitation.create' && e.result === 'refused');
		expect(refusals.map(e => e.actor)).toEqual(['mia', 'gus']);
	});

	it('a member manages only their own invitations; an admin manages all of the tenant', async () => {
		const {ctx, root} = await setup();
		const mia = await addPerson(ctx, root, 'mia', 'member');
		const max = await addPerson(ctx, root, 'max', 'member');
		const admin = await addPerson(ctx, root, 'ada', 'admin');
		const mine = await createInvitation(ctx, mia, {username: 'one', email: 'one@example.com'}, {sendEmail: false});
		const theirs = await createInvitation(ctx, max, {username: 'two', email: 'two@example.com'}, {sendEmail: false});
		expect((await listInvitations(ctx, mia)).map(i => i.username)).toEqual(['one']);
		expect((await listInvitations(ctx, admin)).map(i => i.username).sort()).toEqual(['one', 'two']);
		// A member looks ids up only among their own invitations: another's is not there to be refused (red team 10-14 #14).
		const notThere = `No invitation has an id starting with "${theirs.invitation.id}".`;
		await expect(resendInvitation(ctx, mia, theirs.invitation.id)).rejects.toThrow(notThere);
		await expect(copyInvitationLink(ctx, mia, theirs.invitation.id)).rejects.toThrow(notThere);
		await expect(revokeInvitation(ctx, mia, theirs.invitation.id)).rejects.toThrow(notThere);
		expect((await copyInvitationLink(ctx, mia, mine.invitation.id)).link).toBe(mine.link);
		await revokeInvitation(ctx, admin, theirs.invitation.id);
		expect(ctx.store.read().invitations.map(i => i.username)).toEqual(['one']);
	});

	it('finds an invitation by any unique prefix of its id of at least 4 characters', async () => {
		const {ctx, root} = await setup();
		const a = await createInvitation(ctx, root, {username: 'ann', email: 'ann@example.com'}, {sendEmail: false});
		const b = await createInvitation(ctx, root, {username: 'bob', email: 'bob@example.com'}, {sendEmail: false});
		let common = 0;
		while (a.invitation.id[common] === b.invitation.id[common]) common++;
		expect((await copyInvitationLink(ctx, root, a.invitation.id.slice(0, Math.max(common + 1, 4)))).link).toBe(a.link);
		if (common >= 4) await expect(copyInvitationLink(ctx, root, a.invitation.id.slice(0, common))).rejects.toThrow('matches 2 invitation ids');
		await expect(copyInvitationLink(ctx, root, a.invitation.id.slice(0, 3))).rejects.toThrow('is too short to name invitation: type at least 4 characters of its id.');
		await expect(copyInvitationLink(ctx, root, 'zzzz')).rejects.toThrow('ids are hex digits');
		const absent = a.invitation.id[0] === 'f' ? '0000' : 'ffff';
		if (!b.invitation.id.startsWith(absent)) await expect(revokeInvitation(ctx, root, absent)).rejects.toThrow('No invitation has an id starting with');
	});

	it('a prefix two ids share is refused and asks for more of the id', () => {
		const records = [{id: 'abcd1234'}, {id: 'abcd5678'}];
		expect(() => byIdPrefix(records, 'abcd', 'invitation')).toThrow('"abcd" matches 2 invitation ids; type more of the id.');
		expect(byIdPrefix(records, 'ABCD5', 'invitation')).toBe(records[1]);
	});
});

describe('when mail cannot be delivered', () => {
	const cases = [
		['SMTP is down', 'retrying', 'ECONNREFUSED'],
		['the server answers 4xx', 'retrying', '451 Mailbox busy'],
		['the server answers 5xx', 'failed', '550 No such user here'],
		['the server never answers', 'retrying', 'did not answer in time'],
		['the TLS certificate is not trusted', 'failed', 'certificate is not trusted'],
	] as const;
	for (const [what, state, reason] of cases) {
		it(`${what}: the invitation is kept as ${state}, its link works, and Resend sends it once the server is back`, async () => {
			const {ctx, root} = await initializedContext();
			const tlsServer = what.includes('TLS') ? await new TestSmtpServer({tls: 'implicit', certificate}).start() : undefined;
			server = tlsServer ?? (await new TestSmtpServer().start());
			await useLoopbackSmtp(ctx, root, server.port, {security: tlsServer ? 'tls' : 'none', timeoutMs: 500});
			if (what === 'SMTP is down') await server.stop();
			if (what.includes('4xx')) server.mode = 'reject4xx';
			if (what.includes('5xx')) server.mode = 'reject5xx';
			if (what.includes('never answers')) server.mode = 'hang';

			const issued = await createInvitation(ctx, root, {username: 'kim', email: 'kim@example.com'});
			await mailInvitations(ctx, [issued]);
			const kept = ctx.store.read().invitations[0]!;
			expect(kept.mail).toMatchObject({state, reason: expect.stringContaining(reason)});
			expect(kept.sentCount).toBe(0);
			expect((await copyInvitationLink(ctx, root, kept.id)).link).toBe(issued.link);

			// The server comes back (or its CA is configured), and Resend delivers the same link.
			if (what === 'SMTP is down') server = await new TestSmtpServer().start();
			if (tlsServer) await useLoopbackSmtp(ctx, root, server.port, {security: 'tls', caFile: certificate.certFile});
			else await useLoopbackSmtp(ctx, root, server.port);
			server.mode = 'accept';
			const resent = await queueResend(ctx, root, kept.id);
			expect(resent.renewed).toBe(false);
			expect((await mailInvitations(ctx, [resent])).sent).toBe(1);
			const [mail] = await server.waitForMessages(1);
			expect(mail!.text).toContain(issued.link);
			expect(ctx.store.read().invitations[0]).toMatchObject({mail: {state: 'sent'}, sentCount: 1});
			expect(ctx.store.read().outbox).toHaveLength(0);
		});
	}

	it('SMTP not configured: the invitation is kept as "not sent" and its link can be copied', async () => {
		const {ctx, root} = await initializedContext();
		const issued = await createInvitation(ctx, root, {username: 'lee', email: 'lee@example.com'});
		await mailInvitations(ctx, [issued]);
		expect(ctx.store.read().invitations[0]!.mail).toMatchObject({state: 'not-sent', reason: 'SMTP is not configured'});
		expect((await copyInvitationLink(ctx, root, issued.invitation.id)).link).toBe(issued.link);
	});

	it('a temporary failure is retried later by whoever delivers the outbox', async () => {
		const {ctx, root} = await setup();
		server.mode = 'reject4xx';
		const issued = await createInvitation(ctx, root, {username: 'mo', email: 'mo@example.com'});
		await mailInvitations(ctx, [issued]);
		server.mode = 'accept';
		ctx.clock.advance(RETRY.firstDelaySeconds);
		await deliverOutbox(ctx);
		expect(ctx.store.read().invitations[0]!.mail.state).toBe('sent');
	});
});

describe('a link that no longer works says why', () => {
	it('a revoked link', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'ned', email: 'ned@example.com'});
		await revokeInvitation(ctx, root, issued.invitation.id.slice(0, 6));
		expect(ctx.store.read().outbox).toHaveLength(0);
		await expect(acceptInvitation(ctx, {link: issued.link, password: PASSWORD})).rejects.toThrow(/was revoked on .* by root; ask for a new invitation/);
	});

	it('a used link', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'ola', email: 'ola@example.com'}, {sendEmail: false});
		const {user} = await acceptInvitation(ctx, {link: issued.link, password: PASSWORD});
		expect(user).toMatchObject({method: 'password', role: 'member'});
		await expect(acceptInvitation(ctx, {link: issued.link, password: PASSWORD})).rejects.toThrow(/already used on .*the account ola exists/);
	});

	it('each dead link carries its own code, so a web page can show it its own way', async () => {
		const {ctx, root} = await setup();
		const used = await createInvitation(ctx, root, {username: 'uma', email: 'uma@example.com'}, {sendEmail: false});
		await acceptInvitation(ctx, {link: used.link, password: PASSWORD});
		const revoked = await createInvitation(ctx, root, {username: 'rex', email: 'rex@example.com'}, {sendEmail: false});
		await revokeInvitation(ctx, root, revoked.invitation.id);
		const codeOf = (link: string) => acceptInvitation(ctx, {link, password: PASSWORD}).then(() => 'accepted', (error: {code?: string}) => error.code);
		expect(await codeOf(used.link)).toBe('invitation.used');
		expect(await codeOf(revoked.link)).toBe('invitation.revoked');
		const late = await createInvitation(ctx, root, {username: 'lea', email: 'lea@example.com'}, {sendEmail: false});
		const tampered = late.link.slice(0, -1) + (late.link.endsWith('A') ? 'B' : 'A');
		expect(await codeOf(tampered)).toBe('invitation.invalid');
		expect(await codeOf('https://example.com/invite/nonsense')).toBe('invitation.invalid');
		ctx.clock.advance(7 * 86_400);
		expect(await codeOf(late.link)).toBe('invitation.expired');
	});

	it('a SAML invitation is not accepted from its link alone: only the identity provider can say who the invitee is', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'sia', email: 'sia@example.com', method: 'saml'}, {sendEmail: false});
		await expect(acceptInvitation(ctx, {link: issued.link})).rejects.toThrow('This invitation is accepted through single sign-on: open the invitation link in a browser and choose Continue with single sign-on.');
		expect(ctx.store.read().users.map(u => u.username)).not.toContain('sia');
		expect(ctx.store.read().invitations.map(i => i.username)).toContain('sia');
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'refused', actor: 'anonymous'});
	});

	it('a PAM invitation is accepted only with the system account\'s password, and a refusal is audited', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'pia', email: 'pia@example.com', method: 'pam'}, {sendEmail: false});
		await expect(acceptInvitation(ctx, {link: issued.link})).rejects.toThrow('Confirm the system account pia: type its password (checked through PAM).');
		expect(ctx.store.read().users.map(u => u.username)).not.toContain('pia');
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'refused', actor: 'anonymous'});
	});

	it('an expired link, until Resend renews it with a fresh one', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'pat', email: 'pat@example.com'}, {sendEmail: false});
		ctx.clock.advance(7 * 86_400);
		await expect(acceptInvitation(ctx, {link: issued.link, password: PASSWORD})).rejects.toThrow(/expired on .*ask root to resend it/);
		await expect(copyInvitationLink(ctx, root, issued.invitation.id)).rejects.toThrow('resend it to renew the link');
		const renewed = await resendInvitation(ctx, root, issued.invitation.id);
		expect(renewed.renewed).toBe(true);
		expect(renewed.link).not.toBe(issued.link);
		expect(new Date(renewed.invitation.expires).getTime()).toBe(ctx.now().getTime() + 7 * 86_400_000);
		await expect(acceptInvitation(ctx, {link: issued.link, password: PASSWORD})).rejects.toThrow('not valid');
		await acceptInvitation(ctx, {link: renewed.link, password: PASSWORD});
	});

	it('a resend of a live invitation keeps its link', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'quinn', email: 'quinn@example.com'});
		const again = await queueResend(ctx, root, issued.invitation.id);
		expect(again.link).toBe(issued.link);
		expect(ctx.store.read().outbox).toHaveLength(1);
	});

	it('a tampered link', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'rae', email: 'rae@example.com'}, {sendEmail: false});
		const last = issued.link.at(-1) === 'A' ? 'B' : 'A';
		const tampered = [issued.link.slice(0, -1) + last, issued.link.replace(/\/invite\/(.)/, (_, first: string) => `/invite/${first === '0' ? '1' : '0'}`), issued.link.slice(0, -3), 'nonsense'];
		for (const link of tampered) {
			await expect(acceptInvitation(ctx, {link, password: PASSWORD})).rejects.toThrow('This invitation link is not valid');
		}
		expect(ctx.store.read().audit.filter(e => e.action === 'invitation.accept' && e.result === 'refused')).toHaveLength(4);
		// The genuine link still works, and a bare token works as well as the link.
		await acceptInvitation(ctx, {link: issued.link.split('/invite/')[1]!, password: PASSWORD});
	});

	it('a password shorter than the policy minimum is refused and the invitation stays', async () => {
		const {ctx, root} = await setup();
		const issued = await createInvitation(ctx, root, {username: 'sam', email: 'sam@example.com'}, {sendEmail: false});
		await expect(acceptInvitation(ctx, {link: issued.link, password: 'short'})).rejects.toThrow('at least 12 characters');
		await expect(acceptInvitation(ctx, {link: issued.link})).rejects.toThrow('Choose a password');
		expect(ctx.store.read().invitations).toHaveLength(1);
	});
});

describe('bulk invitations', () => {
	it('creates the good rows in one transaction, reports each bad row, and mails through one pool', async () => {
		const {ctx, root} = await setup();
		const member = await addPerson(ctx, root, 'mia', 'member');
		const rows = parseInvitationList(
			['username,email,role', 'u1,u1@example.com', 'u2,u2@example.com,guest', 'u3@example.com', 'root,r@example.com', 'u4,not-an-address', 'u5,u5@example.com,admin', 'u1,again@example.com'].join('\n'),
		);
		const versionBefore = ctx.store.read().version;
		const results = await createInvitations(ctx, member, rows);
		expect(ctx.store.read().version).toBe(versionBefore + 1);
		expect(results.map(r => [r.line, r.ok])).toEqual([
			[2, true],
			[3, true],
			[4, true],
			[5, false],
			[6, false],
			[7, false],
			[8, false],
		]);
		expect(results.find(r => r.line === 7)).toMatchObject({reason: 'A member can invite with roles up to member, not admin.'});
		expect(results.find(r => r.line === 8)).toMatchObject({reason: expect.stringContaining('already pending')});
		const progress: number[] = [];
		const report = await mailInvitations(ctx, results.filter(r => r.ok), {onProgress: done => progress.push(done)});
		expect(report.sent).toBe(3);
		expect(progress).toEqual([1, 2, 3]);
		expect((await server.waitForMessages(3)).map(m => m.envelopeTo[0]).sort()).toEqual(['u1@example.com', 'u2@example.com', 'u3@example.com']);
	});
});
