import {readFileSync} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

/**
 * Where the files of one store live. Every name derives from the store file's real path (symlinks
 * resolved, see safe-place.ts), so two processes that name the store through a link and through
 * its target use the same lock, key, temp files and backups.
 *
 *     orgctl.json              the data
 *     orgctl.json.lock         the inter-process lock (lock.ts)
 *     orgctl.key               the key that seals secrets (secrets.ts)
 *     orgctl.json.bak          the last good file, refreshed after a migration and once a day (backup.ts)
 *     orgctl.json.v1.bak       the original of a file migrated from schema version 1 (migrations.ts)
 *     orgctl.json.validated    a MAC saying this build already validated these exact bytes (validated.ts)
 *     .orgctl.json.tmp-PID-X   a file being written by process PID: the next version of the store, a
 *                              backup or a new key file (temp-files.ts); all in the store's folder
 */

/** The folder orgctl was installed into (the repository root): where its package.json names it. */
export function installRoot(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	for (;;) {
		try {
			const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {name?: string};
			if (manifest.name === 'orgctl') return dir;
		} catch {
			// No manifest here: keep climbing.
		}
		const parent = dirname(dir);
		if (parent === dir) return resolve('.');
		dir = parent;
	}
}

/** `store/orgctl.json` in the folder orgctl was installed into (the repository root). */
export function defaultStorePath(): string {
	return join(installRoot(), 'store', 'orgctl.json');
}

/**
 * The key file of a PostgreSQL store when --key-file and ORGCTL_KEY_FILE name none: where the
 * default file store keeps its own (`store/orgctl.key`), so a store copied from the default file
 * to PostgreSQL keeps its key where it was.
 */
export function defaultKeyPath(): string {
	return keyPathOf(defaultStorePath());
}

export function lockPathOf(storePath: string): string {
	return `${storePath}.lock`;
}

/** The key file beside a store: `store/orgctl.json` → `store/orgctl.key`. */
export function keyPathOf(storePath: string): string {
	return storePath.replace(/\.json$/i, '') + '.key';
}

/** Where the MAC of the last validated store file is kept (validated.ts). */
export function validatedPathOf(storePath: string): string {
	return `${storePath}.validated`;
}

export function backupPathOf(storePath: string): string {
	return `${storePath}.bak`;
}

export function migrationBackupPathOf(storePath: string, fromVersion: number): string {
	return `${storePath}.v${fromVersion}.bak`;
}

const TEMP_MARK = '.tmp-';

/** What every temp file written on the way to `target` starts with (hidden, beside it). */
export function tempPrefixOf(target: string): string {
	return `.${basename(target)}${TEMP_MARK}`;
}

/** A temp file of the store at `storePath`, named for the process writing it so cleanups can tell whose it is. */
export function tempPathOf(storePath: string, unique: string): string {
	return join(dirname(storePath), `${tempPrefixOf(storePath)}${process.pid}-${unique}`);
}

/** The writer's pid in a temp file's name, or undefined when the name is not one of ours. */
export function tempWriterOf(target: string, name: string): number | undefined {
	const prefix = tempPrefixOf(target);
	if (!name.startsWith(prefix)) return undefined;
	const pid = Number(name.slice(prefix.length).split('-')[0]);
	return Number.isInteger(pid) && pid > 0 ? pid : 0;
}
