import {OrgError} from '../core/errors.js';

/** Why a store file cannot be used: the message names the path, the reason and how to recover. */
export function storeError(path: string, reason: string, fix: string): OrgError {
	return new OrgError('store', `Cannot use the store ${path}: ${reason}; ${fix}`);
}
