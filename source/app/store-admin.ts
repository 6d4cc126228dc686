import {existsSync} from 'node:fs';
import {isDeepStrictEqual} from 'node:util';
import {OrgError} from '../core/errors.js';
import type {Database} from '../core/model.js';
import {storeError} from '../store/errors.js';
import {writeFileAtomically} from '../store/file-io.js';
import {keyPathOf} from '../store/layout.js';
import {displayAddress, isPostgresAddress} from '../store/postgres/address.js';
import {KeyFile, sealedSecretsIn} from '../store/secrets.js';
import {openStore, resolveKeyPath, type OpenedStore} from './context.js';

/** The parts of the data `admin copy-store` copies: every list and the settings (not the version counters). */
type Part = Exclude<keyof Database, 'schemaVersion' | 'version'>;

function partsOf(db: Database): Part[] {
	return (Object.keys(db) as Array<keyof Database>).filter((k): k is Part => k !== 'schemaVersion' && k !== 'version');
}

/** What `orgctl admin migrate` did. */
export type MigrateReport = {readonly store: string; readonly applied: readonly string[]; readonly backend: 'file' | 'postgres'};

/**
 * `orgctl admin migrate`: applies the SQL migrations this orgctl ships to a PostgreSQL store, under
 * the advisory lock, so that hosts upgraded to this orgctl can open it. A file store migrates itself
 * when it is opened (with a backup of the old version beside it), so this only opens it.
 */
export async function migrateStore(address: string): Promise<MigrateReport> {
	if (!isPostgresAddress(address)) {
		const store = await openStore(address);
		await store.close();
		return {store: store.path, applied: [], backend: 'file'};
	}
	const {migrateDatabase} = await import('../store/postgres/pg-store.js');
	// The production clock, as openContext's: it dates the store.migrate event of a repairing migration.
	const applied = await migrateDatabase(address, {now: () => new Date()});
	return {store: displayAddress(address), applied, backend: 'postgres'};
}

/** What `orgctl admin copy-store` copied and where the key file must be. */
export type CopyReport = {
	readonly from: string;
	readonly to: string;
	/** Records per list, as copied and read back equal. */
	readonly counts: Readonly<Record<string, number>>;
	readonly records: number;
	/** The key file the copy's secrets are sealed with, and where it was put (a file destination) or must be given (PostgreSQL). */
	readonly keyFile: {readonly from: string; readonly to: string; readonly copied: boolean};
};

export type CopyOptions = {
	/** The key file of a PostgreSQL store on either side (--key-file); a file store's is beside it. */
	readonly keyFile?: string | undefined;
};

/**
 * Copies a whole store to an empty one, the file and PostgreSQL in either direction, and verifies
 * it: the destination is opened afresh and every record compared with the source's. Sealed secrets
 * are copied sealed; the key file that seals them goes with them: beside a file destination, or
 * bound to a PostgreSQL destination (whose hosts then need that key file: --key-file).
 */
export async function copyStore(fromAddress: string, toAddress: string, options: CopyOptions = {}): Promise<CopyReport> {
	const toPostgres = isPostgresAddress(toAddress);
	const fromPostgres = isPostgresAddress(fromAddress);
	if (!fromPostgres && !existsSync(fromAddress)) throw new OrgError('invalid', `There is no store file at ${fromAddress} to copy from; give the path of an existing store.`);
	if (!toPostgres && existsSync(toAddress)) throw new OrgError('invalid', `${toAddress} exists already; copy-store writes only to a new file (move that one aside, or give another path).`);
	const source = await openStore(fromAddress, {migrate: 'never'});
	let destination: OpenedStore | undefined;
	try {
		const from = source.read();
		const keyFrom = fromPostgres ? resolveKeyPath(options.keyFile) : keyPathOf(source.path);
		const keyTo = toPostgres ? resolveKeyPath(options.keyFile) : keyPathOf(toAddress);
		const found = keyAt(keyFrom);
		if (fromPostgres && found && 'keyId' in source && source.keyId !== null && source.keyId !== found.id) {
			throw storeError(source.path, `its secrets are sealed with another key than the key file ${keyFrom}`, 'point --key-file at the key file the hosts of this store use');
		}
		if (!found && sealedSecretsIn(from).length > 0) {
			throw storeError(source.path, `it holds secrets sealed with a key file, and there is none at ${keyFrom}`, fromPostgres ? 'point --key-file at the key file the hosts of this store use' : 'restore the key file beside the store from a backup');
		}
		destination = await openStore(toAddress);
		const existing = destination.read();
		const holding = partsOf(existing).filter(part => part !== 'settings' && (existing[part] as unknown[]).length > 0);
		if (holding.length > 0) {
			throw storeError(destination.path, `it holds a store already (${holding.join(', ')})`, 'copy into an empty database or schema (createdb orgctl2), or a new file');
		}
		if (found && 'bindKey' in destination) await destination.bindKey(found.id, keyFrom);
		await destination.transact(db => {
			const target = db as unknown as Record<Part, unknown>;
			for (const part of partsOf(from)) target[part] = structuredClone(from[part]);
		});
		let copied = false;
		if (found && !toPostgres) {
			// The destination file was just made: its key file goes beside it, the same key.
			copied = writeFileAtomically(keyTo, found.text, {store: destination.path, mode: 0o600, replace: false});
			if (!copied && keyAt(keyTo)?.id !== found.id) throw storeError(destination.path, `a different key file is at ${keyTo} already`, `move it aside and copy ${keyFrom} there (mode 0600)`);
		}
		await destination.close();
		const counts = await verifyCopy(from, toAddress, destination.path);
		destination = undefined;
		const records = Object.values(counts).reduce((sum, n) => sum + n, 0);
		return {from: source.path, to: displayAddress(toAddress), counts, records, keyFile: {from: keyFrom, to: keyTo, copied}};
	} finally {
		await destination?.close();
		await source.close();
	}
}

/** The key file at `path`, if there is one: its id and its text (to copy it exactly). */
function keyAt(path: string): {id: string; text: string} | undefined {
	const found = KeyFile.inspectFile(path);
	return typeof found === 'object' ? found : undefined;
}

/** Opens the destination afresh and compares every record with the source's; returns the counts. */
async function verifyCopy(from: Database, toAddress: string, shown: string): Promise<Record<string, number>> {
	const reopened = await openStore(toAddress, {migrate: 'never'});
	try {
		const to = reopened.read();
		const counts: Record<string, number> = {};
		for (const part of partsOf(from)) {
			const want = from[part];
			const got = to[part];
			if (!Array.isArray(want)) {
				if (!isDeepStrictEqual(want, got)) throw storeError(shown, `the copy's ${part} differ from the source's`, 'nothing is wrong with the source; remove the copy and report this');
				counts[part] = 1;
				continue;
			}
			const gotList = got as unknown[];
			if (gotList.length !== want.length) throw storeError(shown, `the copy holds ${gotList.length} ${part} where the source holds ${want.length}`, 'nothing is wrong with the source; remove the copy and report this');
			want.forEach((record, i) => {
				if (!isDeepStrictEqual(record, gotList[i])) {
					const id = (record as {id?: string; key?: string}).id ?? (record as {key?: string}).key ?? String(i);
					throw storeError(shown, `the copy of ${part} ${id} differs from the source's`, 'nothing is wrong with the source; remove the copy and report this');
				}
			});
			counts[part] = want.length;
		}
		return counts;
	} finally {
		await reopened.close();
	}
}

/** One finding of `orgctl admin check`, in the shape of the file's (source/store/check.ts). */
type Finding = {readonly subject: string; readonly ok: boolean; readonly detail: string; readonly fix?: string};

/** An OrgError's message without the "Cannot use the store ADDRESS: " it starts with, split at its fix. */
function findingOf(subject: string, error: unknown, shown: string): Finding {
	const message = error instanceof Error ? error.message : String(error);
	// The check changes nothing either way: the store error's closing reassurance is no fix.
	const body = message.replace(`Cannot use the store ${shown}: `, '').replace(/\.$/, '').replace(/; orgctl changed nothing$/, '').replace(/ \(the database was not changed\)$/, '');
	const at = body.lastIndexOf('; ');
	return at < 0 ? {subject, ok: false, detail: body} : {subject, ok: false, detail: body.slice(0, at), fix: body.slice(at + 2)};
}

/**
 * `orgctl admin check` on a PostgreSQL store, changing nothing: the database reached and migrated
 * as this orgctl expects, every row valid and every rule across rows kept, the key file this host
 * holds the one the store's secrets are sealed with.
 */
export async function checkPostgres(address: string, keyFile?: string): Promise<{path: string; realPath: string; healthy: boolean; findings: Finding[]}> {
	const shown = displayAddress(address);
	const findings: Finding[] = [];
	let store: OpenedStore | undefined;
	try {
		store = await openStore(address, {migrate: 'never'});
		findings.push({subject: 'database', ok: true, detail: `reached; its migrations are this orgctl's, schema version ${store.read().schemaVersion}, store version ${store.read().version}`});
		findings.push({subject: 'rules', ok: true, detail: 'every row validates and every rule across records holds'});
	} catch (error) {
		findings.push(findingOf('database', error, shown));
	}
	if (store) {
		const keyPath = resolveKeyPath(keyFile);
		const found = keyAt(keyPath);
		const bound = 'keyId' in store ? store.keyId : null;
		const sealed = sealedSecretsIn(store.read()).length;
		if (!found) {
			findings.push(sealed > 0 ? {subject: 'key', ok: false, detail: `there is no key file at ${keyPath}, and ${sealed} secrets are sealed with one`, fix: 'copy the key file from a host that uses this store there (mode 0600), or point --key-file or ORGCTL_KEY_FILE at it'} : {subject: 'key', ok: true, detail: `no key file at ${keyPath} yet; nothing is sealed, so the first command makes one`});
		} else if (bound !== null && bound !== found.id) {
			findings.push({subject: 'key', ok: false, detail: `the key file ${keyPath} is not the one this store's secrets are sealed with`, fix: 'copy the key file from a host that uses this store (mode 0600) and point --key-file or ORGCTL_KEY_FILE at it'});
		} else {
			findings.push({subject: 'key', ok: true, detail: `${keyPath} is the key this store's secrets are sealed with`});
		}
		await store.close();
	}
	return {path: shown, realPath: shown, healthy: findings.every(f => f.ok), findings};
}
