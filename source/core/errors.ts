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
		detail: ErrorDetail = {},
	) {
		super(message);
		this.field = detail.field;
		this.code = detail.code;
	}
	/** The input at fault (`username`, `email`, `name`, ...), so a form can show the error beside that field. */
	readonly field: string | undefined;
	/** Which refusal this is, for a front end that shows each its own way (a web page and its status); the message stays the text. */
	readonly code: string | undefined;
}

/** What an error says beyond its sentence: the input at fault and which refusal it is. */
export interface ErrorDetail {
	readonly field?: string | undefined;
	readonly code?: string | undefined;
}

export const refused = (message: string, detail?: ErrorDetail) => new OrgError('refused', message, detail);
export const invalid = (message: string, detail?: ErrorDetail) => new OrgError('invalid', message, detail);
export const conflict = (message: string, detail?: ErrorDetail) => new OrgError('conflict', message, detail);
export const notFound = (message: string, detail?: ErrorDetail) => new OrgError('not-found', message, detail);
export const unavailable = (message: string, detail?: ErrorDetail) => new OrgError('unavailable', message, detail);
export const authFailed = (message: string, detail?: ErrorDetail) => new OrgError('auth', message, detail);

export function isOrgError(error: unknown): error is OrgError {
	return error instanceof OrgError;
}

/** Runs a check of one input and names that input on the error it throws (unless it names one already). */
export function atField<T>(field: string, check: () => T): T {
	try {
		return check();
	} catch (error) {
		if (isOrgError(error) && error.field === undefined) throw new OrgError(error.kind, error.message, {field, code: error.code});
		throw error;
	}
}
