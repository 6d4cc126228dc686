import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

/**
 * Writes `text` to a new file in a fresh folder under the system's temp directory ($TMPDIR, else
 * /tmp) and returns its path. The folder is made by mkdtemp (mode 0700, a name nobody could guess
 * or create first) and the file is created exclusively with mode 0600: a list of people to invite
 * is readable by its owner only, and no one can plant a file or symbolic link where it goes.
 */
export function writePrivateTempFile(name: string, text: string): string {
	const folder = mkdtempSync(join(tmpdir(), 'orgctl-'));
	const path = join(folder, name);
	writeFileSync(path, text, {mode: 0o600, flag: 'wx'});
	return path;
}
