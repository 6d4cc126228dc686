import {describe, expect, it} from 'vitest';
import {auditSince, cast} from './helpers/cast.js';

/**
 * The red team's findings against issues 10 and 14 (notes/redteam-10-14.md, #6–#15), each written
 * as its attack, through the built orgctl (real processes, a real store in a temp folder). Each
 * failed on the main these fixes started from (ed54e60).
 */

const NEW_PASSWORD = 'a new password, long enough';

describe('#6 a pending invitation is only as good as its sender’s standing', () => {
	it('an admin’s admin invitation stops working when the admin is disabled, and works again when enabled', async () => {
		const c = await cast();
		const made = await c.as('ada', ['invites', 'create', 'pal', 'pal@example.com', '--role', 'admin', '--no-email']);
		expect(made.code).toBe(0);
		const link = made.stdout.trim();
		const disabled = await c.as('root', ['users', 'disable', 'ada']);
		expect(disabled.code).toBe(0);
		expect(disabled.stderr).toMatch(/their pending invitation is suspended/);
		const before = c.ctx.store.read().audit.length;
		const accepted = await c.run(['accept', link, '--password-stdin'], {input: NEW_PASSWORD});
		expect(accepted.code).toBe(1);
		expect(accepted.stderr).toBe('orgctl: This invitation is on hold: whoever sent it may no longer invite with the admin role; ask an admin of the organization for a new invitation.\n');
		expect(c.ctx.store.read().users.some(u => u.username === 'pal')).toBe(false);
		expect(auditSince(c, before)).toMatchObject([{action: 'invitation.accept', result: 'refused'}]);
		// The admin list says why; enabling ada lifts the hold (the invitation still expires as usual).
		const listed = await c.as('root', ['--json', 'invites', 'list']);
		expect(JSON.parse(listed.stdout)).toMatchObject([{username: 'pal', suspended: 'its sender ada is disabled'}]);
		expect((await c.as('root', ['users', 'enable', 'ada'])).code).toBe(0);
		expect((await c.run(['accept', link, '--password-stdin'], {input: NEW_PASSWORD})).code).toBe(0);
		expect(c.ctx.store.read().users.find(u => u.username === 'pal')?.role).toBe('admin');
	});

	it('an admin demoted to guest (or member) cannot have an admin invitation accepted; a member invitation of theirs still works while they may send it', async () => {
		const c = await cast();
		const adminLink = (await c.as('ada', ['invites', 'create', 'pal2', 'pal2@example.com', '--role', 'admin', '--no-email'])).stdout.trim();
		const memberLink = (await c.as('ada', ['invites', 'create', 'pal3', 'pal3@example.com', '--role', 'member', '--no-email'])).stdout.trim();
		const demoted = await c.as('root', ['users', 'set-role', 'ada', 'member']);
		expect(demoted.code).toBe(0);
		expect(demoted.stderr).toMatch(/ada is now member; their pending invitation is suspended/);
		const refused = await c.run(['accept', adminLink, '--password-stdin'], {input: NEW_PASSWORD});
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/This invitation is on hold/);
		expect((await c.run(['accept', memberLink, '--password-stdin'], {input: NEW_PASSWORD})).code).toBe(0);
		// A guest sends nothing: every invitation of theirs is on hold.
		const guestLink = (await c.as('mia', ['invites', 'create', 'pal4', 'pal4@example.com', '--no-email'])).stdout.trim();
		expect((await c.as('root', ['users', 'set-role', 'mia', 'guest'])).code).toBe(0);
		expect((await c.run(['accept', guestLink, '--password-stdin'], {input: NEW_PASSWORD})).stderr).toMatch(/This invitation is on hold: whoever sent it may no longer invite with the member role/);
		expect(c.ctx.store.read().users.filter(u => u.username === 'pal2' || u.username === 'pal4')).toEqual([]);
	});

	it('a superuser who loses the bit cannot have an admin invitation they sent as a member accepted', async () => {
		const c = await cast();
		await c.as('root', ['users', 'set-superuser', 'ada', 'on']);
		await c.as('root', ['users', 'set-role', 'ada', 'member']);
		const link = (await c.as('ada', ['invites', 'create', 'pal5', 'pal5@example.com', '--role', 'admin', '--no-email'])).stdout.trim();
		expect(link).toMatch(/^http/);
		const revoked = await c.as('root', ['users', 'set-superuser', 'ada', 'off']);
		expect(revoked.stderr).toMatch(/no longer a superuser; their pending invitation is suspended/);
		expect((await c.run(['accept', link, '--password-stdin'], {input: NEW_PASSWORD})).stderr).toMatch(/This invitation is on hold/);
	});
});
