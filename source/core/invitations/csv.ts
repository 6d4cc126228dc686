import {parse, type Info} from 'csv-parse/sync';
import {invalid} from '../errors.js';
import {AUTH_METHODS, ROLES, type AuthMethod, type Role} from '../model.js';
import type {InvitationInput} from './record.js';

/** One row of a list of people to invite, with the line it came from for error messages. */
export type InvitationRow = InvitationInput & {readonly line: number};

/** A line that could not be read as a person to invite, and why, in one sentence. */
export type UnreadableLine = {readonly line: number; readonly reason: string};

/** A list of people to invite as read: the rows, and the lines that could not be read. */
export type InvitationList = {readonly rows: readonly InvitationRow[]; readonly unreadable: readonly UnreadableLine[]};

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

const FORMAT = 'username,email[,role[,method]]';

/**
 * Parses a CSV file or a pasted list: one person a line, `username,email[,role[,method]]`, or just
 * an e-mail (the username is its local part). RFC 4180 as csv-parse reads it: fields in double
 * quotes may hold separators, quotes ("") and line breaks; lines end in LF, CRLF or CR; a BOM is
 * dropped. Commas, semicolons or tabs separate fields (a line without any may use spaces); a header
 * line starting with "username" or "email", lines starting with #, and lines of only separators are
 * skipped. Each line that cannot be read gets its own reason, and the others still count;
 * addresses are checked per row when inviting.
 */
export function parseInvitationList(text: string, defaults: {role?: Role; method?: AuthMethod} = {}): InvitationList {
	const unreadable: UnreadableLine[] = [];
	// A record that cannot be read is reported at the line it starts on: the one after the last good record.
	let lastGoodLine = 0;
	const records = parse(text, {
		bom: true,
		delimiter: [',', ';', '\t'],
		record_delimiter: ['\r\n', '\n', '\r'],
		relax_column_count: true,
		trim: true,
		skip_empty_lines: true,
		comment: '#',
		comment_no_infix: true,
		info: true,
		skip_records_with_error: true,
		on_record: (record: string[], context: Info) => {
			lastGoodLine = context.lines;
			return record;
		},
		on_skip: (error: {code?: string; message: string} | undefined) => {
			if (error && !unreadable.some(u => u.line === lastGoodLine + 1)) unreadable.push({line: lastGoodLine + 1, reason: `the line is not valid CSV (${csvProblem(error.code, error.message)}); write ${FORMAT}`});
		},
	}) as unknown as Array<{record: string[]; info: Info}>;
	const rows: InvitationRow[] = [];
	let first = true;
	for (const {record, info} of records) {
		const line = info.lines;
		let fields = record.filter(field => field !== '');
		if (fields.length === 0) continue;
		// A pasted list separated by spaces: "bea bea@corp.com member".
		if (fields.length === 1 && /\s/.test(fields[0]!) && record.length === 1) fields = fields[0]!.split(/\s+/);
		const header = first && /^(username|user|email|e-mail)$/i.test(fields[0]!);
		first = false;
		if (header) continue;
		const row = readRow(fields, line, defaults);
		if ('reason' in row) unreadable.push(row);
		else rows.push(row);
	}
	if (rows.length === 0 && unreadable.length === 0) throw invalid(`The list holds nobody to invite: write one person a line, ${FORMAT}.`);
	return {rows, unreadable};
}

function readRow(fields: readonly string[], line: number, defaults: {role?: Role; method?: AuthMethod}): InvitationRow | UnreadableLine {
	const emailFirst = fields.length === 1 || fields[0]!.includes('@');
	const email = emailFirst ? fields[0]! : (fields[1] ?? '');
	const username = emailFirst ? usernameFromEmail(email) : fields[0]!;
	if (!email.includes('@')) return {line, reason: `there is no e-mail address on it; write ${FORMAT}`};
	let role = defaults.role;
	let method = defaults.method;
	for (const field of fields.slice(emailFirst ? 1 : 2)) {
		const value = field.toLowerCase();
		if ((ROLES as readonly string[]).includes(value)) role = value as Role;
		else if ((AUTH_METHODS as readonly string[]).includes(value)) method = value as AuthMethod;
		else return {line, reason: `"${clip(field)}" is neither a role (${ROLES.join(', ')}) nor a sign-in method (${AUTH_METHODS.join(', ')})`};
	}
	return {line, username, email, ...(role ? {role} : {}), ...(method ? {method} : {})};
}

/** csv-parse's codes in the words of someone fixing the file. */
function csvProblem(code: string | undefined, message: string): string {
	switch (code) {
		case 'CSV_QUOTE_NOT_CLOSED':
			return 'a quote opens a field and is never closed';
		case 'CSV_INVALID_CLOSING_QUOTE':
			return 'a quoted field goes on after its closing quote';
		case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
			return 'something follows the closing quote of a field';
		default:
			return clip(message);
	}
}

function clip(text: string): string {
	return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
