import {statSync} from 'node:fs';
import {writeFileAtomically} from './file-io.js';
import {backupPathOf} from './layout.js';

const DAY_MS = 86_400_000;
/** A backup stamped further ahead than this was taken before the clock was set back: take another. */
const FUTURE_SLACK_MS = 60_000;

/**
 * Whether `orgctl.json.bak` is missing or a day old. Its age is judged by the time the store's
 * clock wrote into the backup's mtime when it took it, so both ends of the comparison come from
 * one clock: the file system's own clock (another host over NFS, a stepped clock) is never asked.
 */
export function backupDue(storePath: string, now: Date): boolean {
	let taken: number;
	try {
		taken = statSync(backupPathOf(storePath)).mtimeMs;
	} catch {
		return true;
	}
	const age = now.getTime() - taken;
	return age >= DAY_MS || age < -FUTURE_SLACK_MS;
}

/**
 * Keeps `source` (a store file just written and validated, not yet renamed into place) as
 * `orgctl.json.bak`: the last good file, to restore when the store itself is damaged. The store
 * takes it after a migration, at the first commit of a store with users, then once a day.
 */
export function takeBackup(storePath: string, source: string, now: Date): void {
	writeFileAtomically(backupPathOf(storePath), {copyOf: source}, {store: storePath, mode: 0o600, replace: true, mtime: now});
}
