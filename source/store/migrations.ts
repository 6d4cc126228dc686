import {readFileSync} from 'node:fs';
import {storeError} from './errors.js';
import {writeFileAtomically} from './file-io.js';
import {migrationBackupPathOf} from './layout.js';

/** A step that turns a file of schema version `from` into version `from + 1`. */
export type Migration = {readonly from: number; readonly migrate: (raw: Record<string, unknown>) => Record<string, unknown>};

/** `… (invitation <id>)`: how audit events named an invitation before schema version 2. */
const AUDITED_INVITATION = / \(invitation ([0-9a-f]{32})\)$/;

type RawEvent = {action?: unknown; result?: unknown; target?: unknown; time?: unknown; actor?: unknown; tenantId?: unknown};

/**
 * Version 2 keeps what became of an accepted or revoked invitation as a tombstone record. Before,
 * a dead link's fate was read back from the audit log's wording; the migration does that reading
 * once, newest event first, so links that died before the upgrade still say how.
 */
function invitationTombstones(raw: Record<string, unknown>): unknown[] {
	const audit = Array.isArray(raw['audit']) ? (raw['audit'] as RawEvent[]) : [];
	const seen = new Set<string>();
	const tombstones: unknown[] = [];
	for (let i = audit.length - 1; i >= 0; i--) {
		const event = audit[i]!;
		if (event.result !== 'ok' || typeof event.target !== 'string' || typeof event.tenantId !== 'string') continue;
		const fate = event.action === 'invitation.accept' ? 'accepted' : event.action === 'invitation.revoke' ? 'revoked' : undefined;
		const id = AUDITED_INVITATION.exec(event.target)?.[1];
		if (!fate || !id || seen.has(id)) continue;
		seen.add(id);
		tombstones.unshift({id, tenantId: event.tenantId, fate, at: event.time, by: event.actor});
	}
	return tombstones;
}

/** Schema migrations, oldest first: each turns a file of version `from` into `from + 1`. */
export const MIGRATIONS: readonly Migration[] = [
	{from: 1, migrate: raw => ({...raw, invitationTombstones: invitationTombstones(raw)})},
	// Version 3 lets audit events carry the client address of a web request (`clientAddress`, optional):
	// nothing to change in the data, but an older orgctl must refuse the file rather than rewrite its
	// audit without the addresses.
	{from: 2, migrate: raw => raw},
];

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
