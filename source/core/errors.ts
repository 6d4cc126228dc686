/**
 * Why an operation did not happen. `refused` is a permission or guard decision, `invalid` is bad
 * input, `conflict` is a clash with what is stored (a duplicate, or a record another admin changed),
 * `not-found` names what is missing, `unavailable` is an outside service (SMTP, PAM), and `store`
 * is a store file that cannot be used. The message is always one sentence a user can act on.
 */
export type ErrorKind = 'refused' | 'invalid' | 'conflict' | 'not-found' | 'unavailable' | 'store' | 'auth';

export class OrgError extends Error {
	override readonly name = 'OrgError';

	constructor(
		readonly kind: ErrorKind,
		message: string,
		/** Which refusal this is, for a front end that shows each its own way (a web page and its status); the message stays the text. */
		readonly code?: string,
	) {
		super(message);
	}
}

export const refused = (message: string, code?: string) => new OrgError('refused', message, code);
export const invalid = (message: string, code?: string) => new OrgError('invalid', message, code);
export const conflict = (message: string, code?: string) => new OrgError('conflict', message, code);
export const notFound = (message: string, code?: string) => new OrgError('not-found', message, code);
export const unavailable = (message: string, code?: string) => new OrgError('unavailable', message, code);
export const authFailed = (message: string, code?: string) => new OrgError('auth', message, code);

export function isOrgError(error: unknown): error is OrgError {
	return error instanceof OrgError;
}
