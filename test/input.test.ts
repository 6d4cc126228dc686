import {describe, expect, it} from 'vitest';
import {parseSince} from '../source/cli/commands/audit.js';
import {parseDuration} from '../source/core/durations.js';
import {setListener, setPolicy} from '../source/core/server-settings.js';
import {setSmtpSettings} from '../source/core/smtp-settings.js';
import {initializedContext} from './helpers/store.js';

describe('input is checked by the model’s own rules', () => {
	it('the org policy takes what the store keeps, and the store keeps what the policy takes', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setPolicy(ctx, root, {invitationLifetimeSeconds: 3599})).rejects.toThrow('The invitation lifetime must be between 1 hour and 90 days.');
		await expect(setPolicy(ctx, root, {invitationLifetimeSeconds: 90 * 86_400 + 1})).rejects.toThrow('between 1 hour and 90 days');
		await expect(setPolicy(ctx, root, {minPasswordLength: 257})).rejects.toThrow('The minimum password length must be a whole number from 8 to 256.');
		await expect(setPolicy(ctx, root, {minPasswordLength: 12.5})).rejects.toThrow('from 8 to 256');
		expect(await setPolicy(ctx, root, {invitationLifetimeSeconds: 3600, minPasswordLength: 256})).toMatchObject({invitationLifetimeSeconds: 3600, minPasswordLength: 256});
		expect(await setPolicy(ctx, root, {invitationLifetimeSeconds: 90 * 86_400})).toMatchObject({invitationLifetimeSeconds: 90 * 86_400});
		// A change that skips the door (a bug, a hand edit) meets the same rule in the store.
		await expect(
			ctx.store.transact(db => {
				db.settings.policy.invitationLifetimeSeconds = 60;
			}),
		).rejects.toThrow(/settings\.policy\.invitationLifetimeSeconds is invalid \(The invitation lifetime must be between 1 hour and 90 days\.\)/);
	});

	it('a port is one rule for the listeners and the SMTP settings', async () => {
		const {ctx, root} = await initializedContext();
		await expect(setListener(ctx, root, {name: 'requests', port: 0})).rejects.toThrow('The port must be a whole number from 1 to 65535, not 0.');
		await expect(setListener(ctx, root, {name: 'requests', port: 8.5})).rejects.toThrow('The port must be a whole number from 1 to 65535, not 8.5.');
		await expect(setSmtpSettings(ctx, root, {host: '127.0.0.1', port: 65536, security: 'none', from: 'orgctl@example.com'})).rejects.toThrow('The SMTP port must be a whole number from 1 to 65535, not 65536.');
		// The two listeners a server has are the only names (crashes, requests).
		await expect(setListener(ctx, root, {name: 'bad name', port: 80})).rejects.toThrow('There is no listener "bad name"; a server has two: crashes');
	});

	it('one duration syntax: the invitation lifetime and audit --since read 90m alike', () => {
		// Any moment will do (parseSince counts back from the one it is given): the real now, as every test clock starts.
		const now = new Date();
		expect(parseDuration('90m')).toBe(5400);
		expect(parseDuration('2d')).toBe(172_800);
		expect(parseDuration('45')).toBe(45);
		expect(parseSince('90m', now).getTime()).toBe(now.getTime() - 5400 * 1000);
		expect(parseSince('2 d', now).getTime()).toBe(now.getTime() - 172_800 * 1000);
		expect(() => parseDuration('a week')).toThrow('"a week" is not a duration; write it as 7d, 12h or 90m.');
	});
});
