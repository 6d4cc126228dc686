import type {Budget} from './types.js';

/**
 * The budgets of DESIGN §8, in one table: every benchmark takes its limits from here, so the table a
 * run prints and the design cannot drift apart. The last two rows were added by issue 18.
 */
export const BUDGETS = {
	/** Console start to the Users section drawn and taking keys, 10,000 users + 2,000 invitations, signed in by a session. */
	consoleStart: {of: 'median', limit: 150},
	/** Key to frame (move, page, filter) at 100,000 users. */
	keyToFrame: {of: 'p95', limit: 16},
	/** One change committed (lock, re-read, validate, atomic write, fsync) at 10,000 users. */
	commit10k: {of: 'median', limit: 40},
	/** `orgctl users list --json` at 10,000 users, signed in by a session or an API token. */
	usersList: {of: 'median', limit: 200},
	/** Bulk invitation of 1,000 addresses through a loopback SMTP server, in seconds. */
	bulkInvite: {of: 'median', limit: 5},
	/** Peak memory at 100,000 users (the console; the store process alone too), in MB. */
	peakMemory100k: {of: 'value', limit: 300},
	/** One change committed at 100,000 users (issue 18). */
	commit100k: {of: 'median', limit: 100},
} as const satisfies Record<string, Budget>;
