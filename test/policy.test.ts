import {describe, expect, it} from 'vitest';
import {ROLES, type Role} from '../source/core/model.js';
import {ACTIONS, canGrantRole, decide, guardLastOwner, type Action, type ActorFacts, type TargetFacts} from '../source/core/policy.js';

/**
 * DESIGN §2, cell by cell. Each row: action, the target it is asked about, then the expected answer
 * for guest, member, admin (without the superuser bit), and for any of them with the bit (yes
 * unless the row says otherwise: the `cli` rule binds superusers too). Every decision the core
 * makes has its own row here (no operation borrows another's action), so changing any single
 * cell of the product's table makes this test fail.
 */
const ME = 'u-me';
const OTHER = 'u-other';
type Row = readonly [action: Action, target: TargetFacts, guest: boolean, member: boolean, admin: boolean, superuser?: boolean];
const TABLE: readonly Row[] = [
	['profile.own', {}, true, true, true],
	['users.list', {}, false, true, true],
	['users.manage', {targetSuperuser: false}, false, false, true],
	['users.manage', {targetSuperuser: true}, false, false, false],
	['superuser.grant', {}, false, false, false],
	// send invitations: members up to member, admins up to admin
	['invitations.send', {role: 'guest'}, false, true, true],
	['invitations.send', {role: 'member'}, false, true, true],
	['invitations.send', {role: 'admin'}, false, false, true],
	// see invitations: members their own, admins all in the tenant
	['invitations.list', {}, false, true, true],
	['invitations.list-all', {}, false, false, true],
	// resend, copy, revoke: members their own, admins all in tenant but a superuser's
	['invitations.manage', {invitedBy: ME, role: 'member'}, false, true, true],
	['invitations.manage', {invitedBy: OTHER, role: 'member'}, false, false, true],
	['invitations.manage', {invitedBy: ME, role: 'admin'}, false, false, true],
	['invitations.manage', {invitedBy: OTHER, role: 'member', ownerSuperuser: true}, false, false, false],
	['signup-domains.configure', {}, false, false, true],
	// projects: members their own, admins any in the tenant but a superuser's
	['projects.create', {ownerId: ME}, false, true, true],
	['projects.create', {ownerId: OTHER}, false, false, true],
	['projects.create', {ownerId: OTHER, ownerSuperuser: true}, false, false, false],
	['projects.manage', {ownerId: ME}, false, true, true],
	['projects.manage', {ownerId: OTHER}, false, false, true],
	['projects.manage', {ownerId: OTHER, ownerSuperuser: true}, false, false, false],
	['projects.list-all', {}, false, false, true],
	// tokens: the same, and a cli token only ever by its owner, superusers included
	['tokens.create', {ownerId: ME, projectOwnerId: ME}, false, true, true],
	['tokens.create', {ownerId: ME, projectOwnerId: OTHER}, false, false, true],
	['tokens.create', {ownerId: OTHER, projectOwnerId: OTHER}, false, false, true],
	['tokens.create', {ownerId: OTHER, ownerSuperuser: true}, false, false, false],
	['tokens.create', {ownerId: ME, projectOwnerId: OTHER, projectOwnerSuperuser: true}, false, false, false],
	['tokens.create', {ownerId: ME, projectOwnerId: ME, cli: true}, false, true, true],
	['tokens.create', {ownerId: OTHER, projectOwnerId: OTHER, cli: true}, false, false, false, false],
	['tokens.reissue', {ownerId: ME}, false, true, true],
	['tokens.reissue', {ownerId: ME, cli: true}, false, true, true],
	['tokens.reissue', {ownerId: OTHER}, false, false, true],
	['tokens.reissue', {ownerId: OTHER, ownerSuperuser: true}, false, false, false],
	['tokens.reissue', {ownerId: OTHER, cli: true}, false, false, false, false],
	['tokens.manage', {ownerId: ME}, false, true, true],
	['tokens.manage', {ownerId: OTHER}, false, false, true],
	['tokens.manage', {ownerId: OTHER, ownerSuperuser: true}, false, false, false],
	['tokens.list-all', {}, false, false, true],
	// what a user owns: everyone their own, admins anyone's
	['ownership.view', {ownerId: ME}, true, true, true],
	['ownership.view', {ownerId: OTHER}, false, false, true],
	['ownership.migrate', {}, false, false, true],
	['ownership.migrate', {ownerId: OTHER, ownerSuperuser: false, recipientSuperuser: false}, false, false, true],
	['ownership.migrate', {ownerId: OTHER, ownerSuperuser: true}, false, false, false],
	['ownership.migrate', {ownerId: OTHER, recipientSuperuser: true}, false, false, false],
	['mail.deliver', {}, false, false, true],
	['server.settings', {}, false, false, false],
	['tenants.manage', {}, false, false, false],
	['tenants.act-in-any', {}, false, false, false],
	['sso.manage', {}, false, false, false],
	['audit.view', {}, false, false, true],
	['audit.view-all-tenants', {}, false, false, false],
];

const actor = (role: Role, superuser: boolean): ActorFacts => ({userId: ME, role, superuser});

describe('the permission table of DESIGN §2', () => {
	it('has a row for every action', () => {
		expect(new Set(TABLE.map(([action]) => action))).toEqual(new Set(ACTIONS));
	});

	for (const [action, target, guest, member, admin, asSuperuser = true] of TABLE) {
		const answers = {guest, member, admin};
		for (const role of ROLES) {
			for (const superuser of [false, true]) {
				const expected = superuser ? asSuperuser : answers[role];
				it(`${role}${superuser ? ' + superuser' : ''} ${expected ? 'may' : 'may not'} ${action} ${JSON.stringify(target)}`, () => {
					const decision = decide(actor(role, superuser), action, target);
					expect(decision.allowed).toBe(expected);
					if (!decision.allowed) expect(decision.reason).toMatch(/^[A-Z].*\.$/);
				});
			}
		}
	}
});

describe('nobody grants a role above their own', () => {
	it.each([
		['guest', 'guest', true],
		['guest', 'member', false],
		['guest', 'admin', false],
		['member', 'guest', true],
		['member', 'member', true],
		['member', 'admin', false],
		['admin', 'admin', true],
	] as const)('a %s granting %s: %s', (role, grant, expected) => {
		expect(canGrantRole({role, superuser: false}, grant)).toBe(expected);
	});

	it('a superuser grants any role, whatever their own', () => {
		for (const role of ROLES) for (const grant of ROLES) expect(canGrantRole({role, superuser: true}, grant)).toBe(true);
	});

	it('only a superuser grants the superuser bit, even an admin may not', () => {
		expect(decide(actor('admin', false), 'superuser.grant').allowed).toBe(false);
		expect(decide(actor('admin', true), 'superuser.grant').allowed).toBe(true);
	});
});

describe('the last admin and the last superuser', () => {
	const admin = {role: 'admin', superuser: false, disabled: false, username: 'ann'} as const;
	const su = {role: 'member', superuser: true, disabled: false, username: 'sue'} as const;
	const adminSu = {role: 'admin', superuser: true, disabled: false, username: 'root'} as const;

	it.each(['demote', 'disable', 'delete'] as const)('the last admin of a tenant cannot be %s', change => {
		const decision = guardLastOwner(admin, change, {enabledAdminsInTenant: 1, enabledSuperusers: 3});
		expect(decision).toEqual({allowed: false, reason: expect.stringContaining('last admin')});
	});

	it.each(['demote', 'disable', 'delete'] as const)('an admin with another admin beside them can be %s', change => {
		expect(guardLastOwner(admin, change, {enabledAdminsInTenant: 2, enabledSuperusers: 1}).allowed).toBe(true);
	});

	it.each(['revoke-superuser', 'disable', 'delete'] as const)('the last superuser cannot be %s', change => {
		const decision = guardLastOwner(su, change, {enabledAdminsInTenant: 1, enabledSuperusers: 1});
		expect(decision).toEqual({allowed: false, reason: expect.stringContaining('last superuser')});
	});

	it('the last superuser may change role when other admins remain, and keeps the bit', () => {
		expect(guardLastOwner(adminSu, 'demote', {enabledAdminsInTenant: 2, enabledSuperusers: 1}).allowed).toBe(true);
	});

	it('a superuser who is the last admin cannot lose the bit only if also the last superuser', () => {
		expect(guardLastOwner(adminSu, 'revoke-superuser', {enabledAdminsInTenant: 1, enabledSuperusers: 2}).allowed).toBe(true);
		expect(guardLastOwner(adminSu, 'revoke-superuser', {enabledAdminsInTenant: 1, enabledSuperusers: 1}).allowed).toBe(false);
	});

	it('a disabled account does not count as the last of anything', () => {
		expect(guardLastOwner({...admin, disabled: true}, 'delete', {enabledAdminsInTenant: 1, enabledSuperusers: 1}).allowed).toBe(true);
	});
});
