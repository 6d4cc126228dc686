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
		/** The input at fault (`username`, `email`, `name`, ...), so a form can show the error beside that field. */
		readonly field?: string,
	) {
		super(message);
	}
}

export const refused = (message: string) => new OrgError('refused', message);
export const invalid = (message: string, field?: string) => new OrgError('invalid', message, field);
export const conflict = (message: string, field?: string) => new OrgError('conflict', message, field);
export const notFound = (message: string) => new OrgError('not-found', message);
export const unavailable = (message: string) => new OrgError('unavailable', message);
export const authFailed = (message: string, field?: string) => new OrgError('auth', message, field);

export function isOrgError(error: unknown): error is OrgError {
	return error instanceof OrgError;
}

/** Runs a check of one input and names that input on the error it throws (unless it names one already). */
export function atField<T>(field: string, check: () => T): T {
	try {
		return check();
	} catch (error) {
		if (isOrgError(error) && error.field === undefined) throw new OrgError(error.kind, error.message, field);
		throw error;
	}
}
