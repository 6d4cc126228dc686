import {OrgError} from '../core/errors.js';

/** Why a store file cannot be used: the message names the path, the reason and how to recover. */
export function storeError(path: string, reason: string, fix: string): OrgError {
	return new OrgError('store', `Cannot use the store ${path}: ${reason}; ${fix}`);
}

/** A change that would store invalid or inconsistent data: nothing was saved. */
export function refusedChange(where: string, reason: string): OrgError {
	return new OrgError('invalid', where ? `The change was not saved: ${where} is invalid (${reason}).` : `The change was not saved: ${reason}.`);
}
