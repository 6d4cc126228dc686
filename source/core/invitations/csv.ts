import {invalid} from '../errors.js';
import {quoted} from '../words.js';
import {AUTH_METHODS, ROLES, type AuthMethod, type Role} from '../model.js';
import type {InvitationInput} from './record.js';

/** One row of a list of people to invite, with the line it came from for error messages. */
export type InvitationRow = InvitationInput & {readonly line: number};

/** A username for an e-mail-only row: the local part, with what a username cannot hold replaced. */
export function usernameFromEmail(email: string): string {
	return (
		email
			.split('@')[0]!
			.replace(/[^A-Za-z0-9._-]/g, '-')
			.replace(/^[^A-Za-z0-9]+/, '')
			.slice(0, 64) || 'user'
	);
}

/**
 * Parses a CSV file or a pasted list: one person a line, `username,email[,role[,method]]`, or just
 * an e-mail (the username is its local part). Commas, semicolons, tabs or spaces separate fields;
 * a header line starting with "username" or "email" and lines starting with # are skipped.
 * Throws one sentence naming the first line it cannot read; addresses are checked per row later.
 */
export function parseInvitationList(text: string, defaults: {role?: Role; method?: AuthMethod} = {}): InvitationRow[] {
	const rows: InvitationRow[] = [];
	const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
	lines.forEach((raw, index) => {
		const line = raw.trim();
		const number = index + 1;
		if (line === '' || line.startsWith('#')) return;
		const fields = line
			.split(/[,;\t ]+/)
			.map(f => f.trim().replace(/^"(.*)"$/, '$1'))
			.filter(f => f !== '');
		if (rows.length === 0 && /^(username|user|email|e-mail)$/i.test(fields[0] ?? '')) return;
		let username: string;
		let email: string;
		let rest: string[];
		if (fields.length === 1 || fields[0]!.includes('@')) {
			email = fields[0]!;
			username = usernameFromEmail(email);
			rest = fields.slice(1);
		} else {
			[username, email] = [fields[0]!, fields[1] ?? ''];
			rest = fields.slice(2);
		}
		if (email === '') throw invalid(`Line ${number} has no e-mail address: write username,email[,role[,method]].`);
		let role = defaults.role;
		let method = defaults.method;
		for (const field of rest) {
			const value = field.toLowerCase();
			if ((ROLES as readonly string[]).includes(value)) role = value as Role;
			else if ((AUTH_METHODS as readonly string[]).includes(value)) method = value as AuthMethod;
			else throw invalid(`Line ${number}: ${quoted(field)} is neither a role (${ROLES.join(', ')}) nor a method (${AUTH_METHODS.join(', ')}).`);
		}
		rows.push({line: number, username, email, ...(role ? {role} : {}), ...(method ? {method} : {})});
	});
	if (rows.length === 0) throw invalid('The list holds nobody to invite: write one person a line, username,email[,role[,method]].');
	return rows;
}
