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
	) {
		super(message);
	}
}

export const refused = (message: string) => new OrgError('refused', message);
export const invalid = (message: string) => new OrgError('invalid', message);
export const conflict = (message: string) => new OrgError('conflict', message);
export const notFound = (message: string) => new OrgError('not-found', message);
export const unavailable = (message: string) => new OrgError('unavailable', message);
export const authFailed = (message: string) => new OrgError('auth', message);

export function isOrgError(error: unknown): error is OrgError {
	return error instanceof OrgError;
}
