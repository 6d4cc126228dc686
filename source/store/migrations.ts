import {readFileSync} from 'node:fs';
import {storeError} from './errors.js';
import {writeFileAtomically} from './file-io.js';
import {migrationBackupPathOf} from './layout.js';

/** A step that turns a file of schema version `from` into version `from + 1`. */
export type Migration = {readonly from: number; readonly migrate: (raw: Record<string, unknown>) => Record<string, unknown>};

/** Schema migrations, oldest first. Version 1 is the first released schema. */
export const MIGRATIONS: readonly Migration[] = [];

/**
 * Brings a parsed file of schema version `from` up to `to`, in memory. Before anything is
 * migrated, the original text is kept beside the store as `orgctl.json.v<from>.bak` (written
 * atomically, never replaced: a backup from an earlier attempt holds the original already).
 */
export function migrateFile(path: string, record: Record<string, unknown>, from: number, to: number, migrations: readonly Migration[], text: string): Record<string, unknown> {
	let current = record;
	for (let v = from; v < to; v++) {
		const step = migrations.find(m => m.from === v);
		if (!step) throw storeError(path, `there is no migration from schema version ${v}`, 'open it with the orgctl release that wrote it (the file was not changed)');
		current = {...step.migrate(current), schemaVersion: v + 1};
	}
	const backup = migrationBackupPathOf(path, from);
	let written: boolean;
	try {
		written = writeFileAtomically(backup, text, {store: path, mode: 0o600, replace: false});
	} catch (error) {
		throw storeError(path, `it needs migrating from schema version ${from} but the backup ${backup} could not be written (${(error as Error).message})`, 'free some space or fix the folder permissions');
	}
	if (!written && readFileSync(backup, 'utf8') !== text) {
		throw storeError(path, `it needs migrating from schema version ${from} but ${backup} already exists with other content`, 'move that backup aside and start orgctl again');
	}
	return current;
}
