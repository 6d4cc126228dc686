import {escapeHtml, type OutgoingMail} from '../mail.js';
import type {Invitation, Tenant, User} from '../model.js';
import {orgctlCommand} from '../shell.js';

/** The exact command that accepts a link, quoted for a POSIX shell when it needs to be. */
export function acceptCommand(link: string): string {
	return orgctlCommand('accept', link);
}

function howToSignIn(invitation: Invitation): string {
	switch (invitation.method) {
		case 'password':
			return 'You will choose your password when you accept.';
		case 'pam':
			return "You will sign in with your account's system password (PAM).";
		case 'saml':
			return "You will sign in through your organization's identity provider (single sign-on).";
	}
}

// Built once: a formatter costs far more to create than to use (bulk invitations format thousands).
let dayFormat: Intl.DateTimeFormat | undefined;
let timeFormat: Intl.DateTimeFormat | undefined;

/** "Tuesday 1 December 2026, 12:00 UTC": unambiguous wherever the reader is. */
function formatExpiry(iso: string): string {
	dayFormat ??= new Intl.DateTimeFormat('en-GB', {weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC'});
	timeFormat ??= new Intl.DateTimeFormat('en-GB', {hour: '2-digit', minute: '2-digit', timeZone: 'UTC'});
	const date = new Date(iso);
	return `${dayFormat.format(date)}, ${timeFormat.format(date)} UTC`;
}

/** The invitation e-mail: names the inviter and the organization, carries the link and the command. */
export function invitationMail(input: {invitation: Invitation; inviter: Pick<User, 'username' | 'email'> | undefined; tenant: Tenant; link: string}): OutgoingMail {
	const {invitation, tenant, link} = input;
	const inviter = input.inviter ? `${input.inviter.username} (${input.inviter.email})` : 'An administrator';
	const command = acceptCommand(link);
	const expires = formatExpiry(invitation.expires);
	const subject = `${input.inviter?.username ?? 'An administrator'} invited you to the organization ${tenant.name}`;
	const text = [
		`Hello ${invitation.username},`,
		'',
		`${inviter} invited you to join the organization ${tenant.name} as ${invitation.role}.`,
		'',
		'Open this link to accept the invitation:',
		link,
		'',
		'Or accept it on the server with:',
		command,
		'',
		`Your username will be ${invitation.username}. ${howToSignIn(invitation)}`,
		`The link works once and expires on ${expires}.`,
		'',
		'If you did not expect this invitation, you can ignore this message.',
		'',
	].join('\n');
	const html = [
		`<p>Hello ${escapeHtml(invitation.username)},</p>`,
		`<p>${escapeHtml(inviter)} invited you to join the organization <b>${escapeHtml(tenant.name)}</b> as ${escapeHtml(invitation.role)}.</p>`,
		`<p><a href="${escapeHtml(link)}">Accept the invitation</a></p>`,
		`<p>Or accept it on the server with:<br><code>${escapeHtml(command)}</code></p>`,
		`<p>Your username will be <b>${escapeHtml(invitation.username)}</b>. ${escapeHtml(howToSignIn(invitation))}<br>`,
		`The link works once and expires on ${escapeHtml(expires)}.</p>`,
		'<p>If you did not expect this invitation, you can ignore this message.</p>',
		'',
	].join('\n');
	return {to: invitation.email, subject, text, html};
}
