import {describe, expect, it} from 'vitest';
import {refuse} from '../source/core/audit.js';
import {refused} from '../source/core/errors.js';
import {acceptInvitation, createInvitation, inspectInvitationAudited} from '../source/core/invitations.js';
import {clearSmtpSettings, sendTestMail, setSmtpSettings} from '../source/core/smtp-settings.js';
import {orgctl} from './helpers/cli.js';
import {addPerson} from './helpers/people.js';
import {FIRST_PASSWORD as PASSWORD, initializedContext} from './helpers/store.js';

const smtp = {host: '127.0.0.1', port: 2525, security: 'none', from: 'orgctl@example.com'} as const;

describe('every refusal is audited (DESIGN §2)', () => {
	it('a member’s attempts at the SMTP settings are refused and audited', async () => {
		const {ctx, root} = await initializedContext();
		const mia = await addPerson(ctx, root, 'mia', 'member');
		await expect(setSmtpSettings(ctx, mia, smtp)).rejects.toMatchObject({kind: 'refused'});
		await expect(clearSmtpSettings(ctx, mia)).rejects.toMatchObject({kind: 'refused'});
		await expect(sendTestMail(ctx, mia, 'ops@example.com')).rejects.toMatchObject({kind: 'refused'});
		// An admin's invalid input is audited too.
		await expect(setSmtpSettings(ctx, root, {...smtp, port: 0})).rejects.toMatchObject({kind: 'invalid'});
		const events = ctx.store.read().audit.filter(e => e.action.startsWith('settings.smtp'));
		expect(events.map(e => [e.actor, e.action, e.result])).toEqual([
			['mia', 'settings.smtp.set', 'refused'],
			['mia', 'settings.smtp.clear', 'refused'],
			['mia', 'settings.smtp.test', 'refused'],
			['root', 'settings.smtp.set', 'refused'],
		]);
		expect(ctx.store.read().settings.smtp).toBeNull();
	});

	it('orgctl accept with a garbage link leaves a refused invitation.accept in the audit', async () => {
		const {ctx} = await initializedContext();
		expect(await orgctl(ctx.dir, ['accept', 'http://localhost:8080/invite/garbage'])).toMatchObject({code: 1, stderr: expect.stringContaining('not valid')});
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'refused', reason: expect.stringContaining('not valid')});
	});

	it('inspecting a used link (as orgctl accept does first) is audited as a refused acceptance', async () => {
		const {ctx, root} = await initializedContext();
		const {link} = await createInvitation(ctx, root, {username: 'carol', email: 'carol@example.com'}, {sendEmail: false});
		await acceptInvitation(ctx, {link, password: PASSWORD});
		await expect(inspectInvitationAudited(ctx, link)).rejects.toThrow(/already used/);
		expect(ctx.store.read().audit.at(-1)).toMatchObject({action: 'invitation.accept', result: 'refused', reason: expect.stringContaining('already used')});
	});

	it('an operation that came over the network records the client address on its audit events, ok and refused alike', async () => {
		const {ctx, root} = await initializedContext();
		const {link} = await createInvitation(ctx, root, {username: 'dan', email: 'dan@example.com'}, {sendEmail: false});
		const fromWeb = {...ctx, clientAddress: '203.0.113.7'};
		await expect(inspectInvitationAudited(fromWeb, 'https://example.com/invite/garbage')).rejects.toThrow('not valid');
		await acceptInvitation(fromWeb, {link, password: PASSWORD});
		const [created, refusedEvent, accepted] = ctx.store.read().audit.slice(-3);
		expect(created).toMatchObject({action: 'invitation.create', result: 'ok'});
		expect(created).not.toHaveProperty('clientAddress');
		expect(refusedEvent).toMatchObject({action: 'invitation.accept', result: 'refused', clientAddress: '203.0.113.7'});
		expect(accepted).toMatchObject({action: 'invitation.accept', result: 'ok', actor: 'dan', clientAddress: '203.0.113.7'});
	});
});

describe('a refusal audited in a change that runs twice', () => {
	it('is written once, on the run that commits: a store may run a change again when another host committed first', async () => {
		const {ctx} = await initializedContext();
		const before = ctx.store.read().audit.length;
		// As PostgreSQL does after a serialization failure: the change runs on data that is then thrown away, then again.
		const store = ctx.store;
		const twice: typeof store = Object.create(store) as typeof store;
		twice.transact = change => {
			change(structuredClone(store.read()));
			return store.transact(change);
		};
		await expect(refuse({...ctx, store: twice}, {label: 'anonymous', tenantId: null}, 'login', 'nobody', refused('No.'))).rejects.toThrow('No.');
		expect(ctx.store.read().audit.slice(before).map(e => [e.action, e.target, e.reason])).toEqual([['login', 'nobody', 'No.']]);
	});
});
