/**
 * Manage Invitations (DESIGN §3 "Invite", "Accept"), one module per part:
 * invitations/link.ts (the link format), record.ts (what the parts share), create.ts (invite one
 * or many, and mail them), list.ts (what an admin sees), manage.ts (resend, copy, revoke),
 * accept.ts (a link becomes a user; a dead link says why), csv.ts (a pasted or uploaded list),
 * mail.ts (the e-mail).
 */
export * from './invitations/accept.js';
export * from './invitations/create.js';
export type {InvitationList, InvitationRow, UnreadableLine} from './invitations/csv.js';

/** Reads a CSV invitation list (invitations/csv.ts); the CSV parser loads here, not with every command that imports the core. */
export async function readInvitationList(...args: Parameters<typeof import('./invitations/csv.js').parseInvitationList>): Promise<import('./invitations/csv.js').InvitationList> {
	return (await import('./invitations/csv.js')).parseInvitationList(...args);
}
export * from './invitations/link.js';
export * from './invitations/list.js';
export * from './invitations/mail.js';
export * from './invitations/manage.js';
export * from './invitations/record.js';
