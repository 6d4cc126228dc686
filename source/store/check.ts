import {closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, lstatSync, realpathSync, statSync} from 'node:fs';
import {basename, dirname, join, resolve} from 'node:path';
import {isOrgError} from '../core/errors.js';
import {brokenInvariants} from '../core/invariants.js';
import {SCHEMA_VERSION, type Database} from '../core/model.js';
import {AtomicJsonFile} from './atomic-file.js';
import {backupPathOf, lockPathOf} from './layout.js';
import {probeLock} from './lock.js';
import {MIGRATIONS} from './migrations.js';
import {exposedCopyProblem, ownedFileProblem, placeProblem, storeCopies} from './safe-place.js';
import {KeyFile, sealedSecretsIn} from './secrets.js';
import {strayTempFiles} from './temp-files.js';

/** One thing `orgctl admin check` looked at: what it found and, when it is wrong, how to put it right. */
export type Finding = {
	readonly subject: 'place' | 'file' | 'rules' | 'key' | 'lock' | 'backup' | 'temp files';
	readonly ok: boolean;
	readonly detail: string;
	readonly fix?: string;
};

export type StoreReport = {
	/** The store path as given, and the real path it leads to. */
	readonly path: string;
	readonly realPath: string;
	readonly healthy: boolean;
	readonly findings: readonly Finding[];
};

/** An error's message without the "Cannot use the store P: " (or key file) it starts with, split at its fix. */
function split(message: string, path: string): {detail: string; fix?: string} {
	const body = message.replace(`Cannot use the store ${path}: `, '').replace('Cannot use the key file: ', '').replace(/\.$/, '');
	const at = body.lastIndexOf('; ');
	return at < 0 ? {detail: body} : {detail: body.slice(0, at), fix: body.slice(at + 2)};
}

/** The real path of `path` as far as it exists, even where the place is unsafe (the report still looks). */
function realPathOf(path: string): string {
	try {
		return realpathSync(path);
	} catch {
		try {
			return join(realpathSync(dirname(path)), basename(path));
		} catch {
			return path;
		}
	}
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

type FileState = {findings: Finding[]; db?: Database; bad: boolean};

function inspectFile(path: string): FileState {
	let text: string;
	let mode: number;
	try {
		// Without blocking, and read only if it is a regular file (a FIFO put in its place held the open for ever).
		const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
		try {
			const stat = fstatSync(fd);
			if (!stat.isFile()) return {findings: [{subject: 'file', ok: false, detail: `${path} is not a regular file`, fix: `move it aside (mv ${path} ${path}.aside) and put the store file back`}], bad: false};
			mode = stat.mode;
			const problem = ownedFileProblem('store file', path, stat);
			if (problem) return {findings: [{subject: 'file', ok: false, detail: problem.reason, fix: problem.fix}], bad: false};
			text = readFileSync(fd, 'utf8');
		} finally {
			closeSync(fd);
		}
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {findings: [{subject: 'file', ok: true, detail: 'there is no store file yet: the first orgctl command creates it'}], bad: false};
		return {findings: [{subject: 'file', ok: false, detail: `it cannot be read (${(error as Error).message})`, fix: 'check its owner and permissions'}], bad: false};
	}
	const findings: Finding[] = [];
	if ((mode & 0o200) === 0) findings.push({subject: 'file', ok: false, detail: `the file is read-only (mode ${(mode & 0o7777).toString(8).padStart(4, '0')}): every change is refused`, fix: `if that is not meant, run chmod 600 ${path}`});
	const version = (() => {
		try {
			return (JSON.parse(text) as {schemaVersion?: unknown}).schemaVersion;
		} catch {
			return undefined;
		}
	})();
	if (typeof version === 'number' && version < SCHEMA_VERSION) {
		findings.push({subject: 'file', ok: true, detail: `schema version ${version}: the next orgctl command migrates it to ${SCHEMA_VERSION}, keeping the original beside it`});
		return {findings, bad: false};
	}
	try {
		const db = new AtomicJsonFile(path, {migrations: MIGRATIONS, schemaVersion: SCHEMA_VERSION, lineCacheBytes: 0}).parse(text);
		const counts = [count(db.tenants.length, 'tenant'), count(db.users.length, 'user'), count(db.invitations.length, 'invitation')].join(', ');
		findings.push({subject: 'file', ok: true, detail: `version ${db.version}, schema ${db.schemaVersion}: ${counts}`}, {subject: 'rules', ok: true, detail: 'every record validates and every cross-record rule holds'});
		return {findings, db, bad: false};
	} catch (error) {
		if (!isOrgError(error)) throw error;
		const {detail} = split(error.message, path);
		const rules = /^the file is inconsistent/.test(detail) ? everyBrokenRule(text) : [];
		if (rules.length > 0) for (const rule of rules) findings.push({subject: 'rules', ok: false, detail: rule});
		else findings.push({subject: 'file', ok: false, detail});
		return {findings, bad: true};
	}
}

/** Every broken rule of a file that validates record by record (the store's own read stops at the first). */
function everyBrokenRule(text: string): string[] {
	try {
		return brokenInvariants(JSON.parse(text) as Database);
	} catch {
		return [];
	}
}

function inspectKey(path: string, db: Database | undefined): Finding {
	const sealed = db ? sealedSecretsIn(db) : [];
	let found: KeyFile | 'missing' | 'empty';
	try {
		found = KeyFile.inspect(path);
	} catch (error) {
		if (!isOrgError(error)) throw error;
		return {subject: 'key', ok: false, ...split(error.message, path)};
	}
	const keyPath = KeyFile.pathFor(path);
	if (found === 'missing' || found === 'empty') {
		if (sealed.length === 0) return {subject: 'key', ok: true, detail: `${keyPath} is ${found}; nothing is sealed with it, so the next orgctl command makes a new one`};
		return {
			subject: 'key',
			ok: false,
			detail: `${keyPath} is ${found}, and ${count(sealed.length, 'secret')} ${sealed.length === 1 ? 'is' : 'are'} sealed with it (invitation links, queued mail or the SMTP password)`,
			fix: `restore ${keyPath} from a backup of the store folder (mode 0600); without it those secrets cannot be recovered`,
		};
	}
	try {
		if (sealed[0] !== undefined) found.unseal(sealed[0]);
	} catch {
		return {subject: 'key', ok: false, detail: `${keyPath} does not open the secrets sealed in the store: it is another store's key`, fix: `restore this store's own key file at ${keyPath}`};
	}
	return {subject: 'key', ok: true, detail: `${keyPath} holds a key${sealed.length > 0 ? ` that opens the sealed secrets (${count(sealed.length, 'secret')})` : ''}`};
}

function inspectLock(path: string): Finding {
	try {
		const lock = probeLock(path);
		return lock.held
			? {subject: 'lock', ok: true, detail: `held right now (${lock.holder}); if that lasts, that process is stopped or hung`, fix: 'continue it (kill -CONT PID) or end it: its lock goes with it'}
			: {subject: 'lock', ok: true, detail: `${lockPathOf(path)} is free`};
	} catch (error) {
		if (!isOrgError(error)) throw error;
		return {subject: 'lock', ok: false, ...split(error.message, path)};
	}
}

function inspectBackups(path: string): Finding[] {
	const findings: Finding[] = [];
	const backup = backupPathOf(path);
	try {
		const taken = statSync(backup).mtime.toISOString();
		const db = new AtomicJsonFile(backup, {migrations: MIGRATIONS, schemaVersion: SCHEMA_VERSION, lineCacheBytes: 0}).readSync();
		findings.push({subject: 'backup', ok: true, detail: `${backup}, version ${db?.version}, taken ${taken}, validates`});
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') findings.push({subject: 'backup', ok: true, detail: `no ${basename(backup)} yet: orgctl keeps one after a migration and once a day`});
		else findings.push({subject: 'backup', ok: false, detail: `${backup} cannot be used: ${split((error as Error).message, backup).detail}`, fix: `remove it (rm ${backup}); the next change takes a new one`});
	}
	let names: string[] = [];
	try {
		names = readdirSync(dirname(path));
	} catch {
		// The place finding says why.
	}
	const originals = names.filter(name => name.startsWith(`${basename(path)}.v`) && name.endsWith('.bak')).sort();
	if (originals.length > 0) findings.push({subject: 'backup', ok: true, detail: `originals kept by migrations: ${originals.join(', ')}`});
	return findings;
}

/** How to get a working store back once the file itself is damaged. */
function recovery(path: string, backups: readonly Finding[]): Finding {
	const backup = backupPathOf(path);
	const good = backups.some(f => f.ok && f.detail.startsWith(backup));
	return good
		? {subject: 'file', ok: false, detail: 'the store file cannot be used as it is', fix: `restore the last good file: mv ${path} ${path}.damaged && cp -p ${backup} ${path} (changes made since the backup was taken are lost), or mend it by hand`}
		: {subject: 'file', ok: false, detail: 'the store file cannot be used as it is, and there is no good backup beside it', fix: `mend it by hand, restore it from a backup of the server, or move it aside (mv ${path} ${path}.damaged) to start afresh`};
}

/**
 * Looks at everything a store is made of, changing nothing (no file is created, repaired or
 * migrated): its place, the file and its rules, the key, the lock, the backups and temp files
 * left by dead writers. Healthy when nothing needs a person's hand.
 */
export function checkStore(storePath: string): StoreReport {
	const path = resolve(storePath);
	const place = placeProblem(path);
	const real = place.real ?? realPathOf(path);
	const findings: Finding[] = [];
	findings.push(place.problem ? {subject: 'place', ok: false, detail: place.problem.reason, fix: place.problem.fix} : {subject: 'place', ok: true, detail: `${dirname(real)} and the folders above it are safe: nobody but their owners can change them${real === path ? '' : `; ${path} leads to ${real}`}`});
	const file = inspectFile(real);
	findings.push(...file.findings);
	findings.push(inspectKey(real, file.db));
	findings.push(inspectLock(real));
	const backups = inspectBackups(real);
	findings.push(...backups);
	if (file.bad) findings.push(recovery(real, backups));
	// The store, its backups and temp files hold the hashes and the audit: nobody else reads them.
	for (const copy of storeCopies(real)) {
		let mode: number;
		try {
			mode = lstatSync(copy).mode;
		} catch {
			continue;
		}
		const problem = exposedCopyProblem(copy, mode);
		if (problem) findings.push({subject: copy === real ? 'file' : copy.endsWith('.tmp') ? 'temp files' : 'backup', ok: false, detail: problem.reason, fix: problem.fix});
	}
	const strays = strayTempFiles(real);
	if (strays.length > 0) findings.push({subject: 'temp files', ok: true, detail: `${strays.length} left by writers that died (${strays.map(s => basename(s)).join(', ')}); the next orgctl command removes them`});
	return {path, realPath: real, healthy: findings.every(f => f.ok), findings};
}
