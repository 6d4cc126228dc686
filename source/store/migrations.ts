import {EMPTY_SSO} from '../core/model.js';
import {closeSync, constants, fstatSync, openSync, readFileSync} from 'node:fs';
import {unknownThrottleKey} from '../core/accounts.js';
import {newId} from '../core/ids.js';
import {capText, inert} from '../core/inert.js';
import {AUDIT_REASON_MAX, AUDIT_TEXT_MAX, DEFAULT_POLICY, MAIL_REASON_MAX, tokenNameSchema} from '../core/model.js';
import {plural} from '../core/words.js';
import {storeError} from './errors.js';
import {writeFileAtomically} from './file-io.js';
import {migrationBackupPathOf} from './layout.js';

/**
 * A step that turns a file of schema version `from` into version `from + 1`. `now` is the
 * composition root's clock, when the store was given one: it dates what a step records.
 */
export type Migration = {readonly from: number; readonly migrate: (raw: Record<string, unknown>, context: {readonly now: Date | undefined}) => Record<string, unknown>};

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

type Raw = Record<string, unknown>;

const records = (raw: Raw, key: string): Raw[] => (Array.isArray(raw[key]) ? (raw[key] as Raw[]) : []);

/**
 * A token name that version 3 accepted (any 1 to 100 characters) made to follow the name rule of
 * version 4: control and invisible characters become their visible escapes (`\e`, `\u202e`), so
 * the token keeps a name its owner recognises and nothing in it acts on a terminal.
 */
export function repairedTokenName(name: string, id: string): string {
	if (tokenNameSchema().safeParse(name).success) return name;
	const visible = inert(name)
		.replace(/[^\p{L}\p{N}\p{P}\p{S} ]/gu, ch => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`)
		.replace(/ {2,}/g, ' ')
		.trim();
	const cut = [...visible].slice(0, 100).join('').trim();
	return tokenNameSchema().safeParse(cut).success ? cut : `token ${id.slice(0, 8)}`;
}

/**
 * Version 4 bounds what refused input leaves behind and gives names character rules (DESIGN §4,
 * §4a). Files of version 3 could hold what version 4 refuses, so this step repairs it rather than
 * refuse a file an older orgctl wrote:
 * - audit actors and targets, and tombstones' `by`, capped at AUDIT_TEXT_MAX, reasons at AUDIT_REASON_MAX (`…[+N]`);
 * - mail status reasons (an SMTP server's reply) capped at MAIL_REASON_MAX;
 * - throttle entries of unknown identifiers keyed by a hash of the identifier, not the text;
 * - API token names with control or invisible characters renamed to their visible escapes;
 * - the audit retention policy (365 days, 100,000 events) and the housekeeping record added.
 * What it changed is recorded as an audit event `store.migrate` (dated by the store's clock, or
 * without one by the newest event of the file); the original stays in the `.v3.bak` backup. Usernames and e-mails always had their rules at the door, so a file that
 * breaks them was edited by hand and is refused on open like any other invalid file.
 */
function boundedAndNamed(raw: Raw, clock: Date | undefined): Raw {
	let capped = 0;
	const cap = (value: unknown, max: number): unknown => {
		if (typeof value !== 'string' || value.length <= max) return value;
		capped++;
		return capText(value, max);
	};
	const audit = records(raw, 'audit').map(e => ({...e, actor: cap(e['actor'], AUDIT_TEXT_MAX), target: cap(e['target'], AUDIT_TEXT_MAX), ...('reason' in e ? {reason: cap(e['reason'], AUDIT_REASON_MAX)} : {})}));
	const invitationTombstones = records(raw, 'invitationTombstones').map(t => ({...t, by: cap(t['by'], AUDIT_TEXT_MAX)}));
	const withMail = (r: Raw): Raw => {
		const mail = r['mail'] as Raw | undefined;
		return mail && typeof mail === 'object' && 'reason' in mail ? {...r, mail: {...mail, reason: cap(mail['reason'], MAIL_REASON_MAX)}} : r;
	};
	const invitations = records(raw, 'invitations').map(withMail);
	const pendingSignups = records(raw, 'pendingSignups').map(withMail);

	let rekeyed = 0;
	const throttles = records(raw, 'throttles').map(t => {
		const match = typeof t['key'] === 'string' ? /^unknown:([^/]*)\/(.*)$/s.exec(t['key']) : null;
		if (!match) return t;
		rekeyed++;
		return {...t, key: unknownThrottleKey(match[1] === '*' ? undefined : match[1], match[2]!)};
	});

	const renamed: string[] = [];
	const tokens = records(raw, 'tokens').map(t => {
		if (typeof t['name'] !== 'string' || typeof t['id'] !== 'string') return t;
		const name = repairedTokenName(t['name'], t['id']);
		if (name === t['name']) return t;
		renamed.push(`${name} (${t['id'].slice(0, 8)})`);
		return {...t, name};
	});

	const settings = (raw['settings'] ?? {}) as Raw;
	const policy = (settings['policy'] ?? {}) as Raw;
	const summary = schema4Summary(renamed, capped, rekeyed);
	// The store reads no clock of its own: without the root's, the event takes the file's last moment.
	const lastTime = records(raw, 'audit').map(e => e['time']).filter((t): t is string => typeof t === 'string').sort().at(-1);
	const time = clock?.toISOString() ?? lastTime ?? new Date(0).toISOString();
	const events = summary ? [...audit, {id: newId(), time, actor: 'system', tenantId: null, action: 'store.migrate', target: summary, result: 'ok'}] : audit;
	return {
		...raw,
		audit: events,
		invitationTombstones,
		invitations,
		pendingSignups,
		throttles,
		tokens,
		settings: {...settings, policy: {auditRetentionDays: DEFAULT_POLICY.auditRetentionDays, auditMaxEvents: DEFAULT_POLICY.auditMaxEvents, ...policy}},
		housekeeping: raw['housekeeping'] ?? {lastRun: null},
	};
}

/**
 * The target of the `store.migrate` audit event of version 4's repairs (`renamed` as `name (id8)`),
 * or undefined when nothing was repaired; the PostgreSQL migration records the same.
 */
export function schema4Summary(renamed: readonly string[], capped: number, rekeyed: number): string | undefined {
	const changes = [
		renamed.length ? `renamed ${plural(renamed.length, 'API token')} whose names held control or invisible characters: ${renamed.join(', ')}` : '',
		capped ? `cut ${plural(capped, 'stored text')} longer than the new limits` : '',
		rekeyed ? `keyed ${plural(rekeyed, 'throttle entry')} by a hash of the name tried` : '',
	].filter(Boolean);
	return changes.length ? capText(`schema 4: ${changes.join('; ')}`, AUDIT_TEXT_MAX) : undefined;
}

/**
 * Version 5 gives single sign-on its shape (an IdP, the match attribute, our own key pair). No
 * orgctl before it wrote anything there (its `sso` was always null), so every file starts empty.
 */
function withSso(raw: Record<string, unknown>): Record<string, unknown> {
	const settings = (raw['settings'] ?? {}) as Record<string, unknown>;
	return {...raw, settings: {...settings, sso: {...EMPTY_SSO}}};
}

/** Schema migrations, oldest first: each turns a file of version `from` into `from + 1`. */
export const MIGRATIONS: readonly Migration[] = [
	{from: 1, migrate: raw => ({...raw, invitationTombstones: invitationTombstones(raw)})},
	// Version 3 lets audit events carry the client address of a web request (`clientAddress`, optional):
	// nothing to change in the data, but an older orgctl must refuse the file rather than rewrite its
	// audit without the addresses.
	{from: 2, migrate: raw => raw},
	{from: 3, migrate: (raw, {now}) => boundedAndNamed(raw, now)},
	{from: 4, migrate: withSso},
	// Version 6: a token can be revoked and kept (it moved, its owner was disabled or reset); none was before.
	{from: 5, migrate: raw => ({...raw, tokens: Array.isArray(raw['tokens']) ? (raw['tokens'] as Record<string, unknown>[]).map(t => ({...t, revoked: null})) : raw['tokens']})},
	// Version 7 keeps single sign-on's state in the store, shared by every process: the requests we
	// sent, the assertions already used, and the terminals waiting for a sign-in.
	{from: 6, migrate: raw => ({...raw, samlRequests: [], samlAssertions: [], deviceLogins: []})},
];

/**
 * Brings a parsed file of schema version `from` up to `to`, in memory. Before anything is
 * migrated, the original text is kept beside the store as `orgctl.json.v<from>.bak` (written
 * atomically, never replaced: a backup from an earlier attempt holds the original already).
 */
export function migrateFile(path: string, record: Record<string, unknown>, from: number, to: number, migrations: readonly Migration[], text: string, now?: Date): Record<string, unknown> {
	let current = record;
	for (let v = from; v < to; v++) {
		const step = migrations.find(m => m.from === v);
		if (!step) throw storeError(path, `there is no migration from schema version ${v}`, 'open it with the orgctl release that wrote it (the file was not changed)');
		current = {...step.migrate(current, {now}), schemaVersion: v + 1};
	}
	const backup = migrationBackupPathOf(path, from);
	let written: boolean;
	try {
		written = writeFileAtomically(backup, text, {store: path, mode: 0o600, replace: false});
	} catch (error) {
		throw storeError(path, `it needs migrating from schema version ${from} but the backup ${backup} could not be written (${(error as Error).message})`, 'free some space or fix the folder permissions');
	}
	if (!written && readBackup(backup) !== text) {
		throw storeError(path, `it needs migrating from schema version ${from} but ${backup} already exists with other content`, 'move that backup aside and start orgctl again');
	}
	return current;
}

/** The backup already there, read without blocking and only if it is a regular file (a FIFO put there held the open for ever). */
function readBackup(path: string): string | undefined {
	const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
	try {
		return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : undefined;
	} finally {
		closeSync(fd);
	}
}
