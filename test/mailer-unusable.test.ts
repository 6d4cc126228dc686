import {rmSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {createInvitation} from '../source/core/invitations.js';
import {deliverOutbox} from '../source/core/outbox.js';
import {orgctl} from './helpers/cli.js';
import {useLoopbackSmtp} from './helpers/people.js';
import {makeCertificate, removeCertificate} from './helpers/smtp.js';
import {FIRST_PASSWORD, initializedContext} from './helpers/store.js';

/** SMTP settings whose CA file is deleted after they were saved: the mailer cannot be opened. */
async function withVanishedCaFile() {
	const {ctx, root} = await initializedContext();
	const certificate = makeCertificate();
	await useLoopbackSmtp(ctx, root, 2525, {security: 'tls', caFile: certificate.certFile});
	rmSync(certificate.certFile);
	removeCertificate(certificate);
	return {ctx, root, caFile: certificate.certFile};
}

describe('mail when the mailer cannot be opened', () => {
	it('every claimed message fails at once with the reason, nothing stays claimed, and the invitation says why', async () => {
		const {ctx, root, caFile} = await withVanishedCaFile();
		const {invitation} = await createInvitation(ctx, root, {username: 'carol', email: 'carol@example.com'});
		const report = await deliverOutbox(ctx);
		expect(report).toMatchObject({sent: 0, failed: 1});
		expect(ctx.store.read().outbox).toEqual([]);
		const mail = ctx.store.read().invitations.find(i => i.id === invitation.id)!.mail;
		expect(mail).toMatchObject({state: 'failed', reason: expect.stringContaining(`The SMTP CA file ${caFile} cannot be read`)});
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'mail.deliver', result: 'failed'});
	});

	it('orgctl invites create still prints the link and id, and says why the mail failed', async () => {
		const {ctx} = await withVanishedCaFile();
		const created = await orgctl(ctx.dir, ['invites', 'create', 'carol', 'carol@example.com'], {env: {ORGCTL_USER: 'root', ORGCTL_PASSWORD: FIRST_PASSWORD}});
		const invitation = ctx.store.read().invitations[0]!;
		expect(created.stdout).toContain(`/invite/${invitation.id}.`);
		expect(created.stderr).toContain(`id ${invitation.id.slice(0, 8)}`);
		expect(created.stderr).toContain('Mail to carol@example.com failed: The SMTP CA file');
		expect(created.code).toBe(0);
		expect(invitation.mail.state).toBe('failed');
	});
});
