import {chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join} from 'node:path';
import {sha256} from '../core/ids.js';

/** What `orgctl login` leaves for later commands and for the console: never the password. */
export type SessionFile = {readonly store: string; readonly id: string; readonly secret: string; readonly expires: string};

/**
 * One session file per operating-system user and store, 0600 in a 0700 folder:
 * $ORGCTL_SESSION_FILE, or $XDG_STATE_HOME/orgctl/sessions/<hash of the store path>.json.
 */
export function sessionFilePath(storePath: string): string {
	const explicit = process.env['ORGCTL_SESSION_FILE'];
	if (explicit) return explicit;
	const state = process.env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
	return join(state, 'orgctl', 'sessions', `${sha256(storePath).slice(0, 16)}.json`);
}

export function readSessionFile(storePath: string): SessionFile | undefined {
	try {
		const data = JSON.parse(readFileSync(sessionFilePath(storePath), 'utf8')) as Partial<SessionFile>;
		if (typeof data.id === 'string' && typeof data.secret === 'string' && typeof data.expires === 'string' && data.store === storePath) {
			return data as SessionFile;
		}
	} catch {
		// No session, or an unreadable one: the user signs in again.
	}
	return undefined;
}

export function writeSessionFile(session: SessionFile): void {
	const path = sessionFilePath(session.store);
	mkdirSync(dirname(path), {recursive: true, mode: 0o700});
	const temp = `${path}.${process.pid}.tmp`;
	writeFileSync(temp, JSON.stringify(session), {mode: 0o600});
	chmodSync(temp, 0o600);
	renameSync(temp, path);
}

export function removeSessionFile(storePath: string): void {
	rmSync(sessionFilePath(storePath), {force: true});
}
