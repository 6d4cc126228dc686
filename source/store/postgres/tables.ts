import type {Database} from '../../core/model.js';

/**
 * How a column holds a field: `text`, `int`, `bool`, `time` (timestamptz, read back as an ISO
 * string in UTC with milliseconds, as the core writes them), `json` (the json type, which keeps the
 * text as written, key order included) or `text[]`.
 */
export type ColumnKind = 'text' | 'int' | 'bool' | 'time' | 'json' | 'text[]';

export type Column = {
	readonly field: string;
	readonly column: string;
	readonly kind: ColumnKind;
	/** `null`: the field may be null; `absent`: the field may be missing (a NULL column leaves it out). */
	readonly empty?: 'null' | 'absent';
};

/** One list of the data model (or the settings record) and the table that holds it. */
export type Table = {
	readonly list: Exclude<keyof Database, 'schemaVersion' | 'version'>;
	readonly table: string;
	/** The field that identifies a record (its primary key); the settings are one row. */
	readonly key: string | undefined;
	readonly columns: readonly Column[];
};

const col = (field: string, kind: ColumnKind, empty?: 'null' | 'absent', column = snake(field)): Column => (empty ? {field, column, kind, empty} : {field, column, kind});

function snake(field: string): string {
	return field.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);
}

/**
 * Every list of the data model, in the order of the model's schema, with its table
 * (migrations/*.sql creates them). A test compares this with the model's fields and with the
 * columns the migrations made, so a new field that has no column fails there.
 */
export const TABLES: readonly Table[] = [
	{list: 'tenants', table: 'tenants', key: 'id', columns: [col('id', 'text'), col('name', 'text'), col('created', 'time'), col('revision', 'int')]},
	{
		list: 'users',
		table: 'users',
		key: 'id',
		columns: [
			col('id', 'text'),
			col('tenantId', 'text'),
			col('username', 'text'),
			col('email', 'text'),
			col('role', 'text'),
			col('superuser', 'bool'),
			col('method', 'text'),
			col('passwordHash', 'text', 'null'),
			col('disabled', 'bool'),
			col('created', 'time'),
			col('lastLogin', 'time', 'null'),
			col('revision', 'int'),
		],
	},
	{
		list: 'invitations',
		table: 'invitations',
		key: 'id',
		columns: [
			col('id', 'text'),
			col('tenantId', 'text'),
			col('username', 'text'),
			col('email', 'text'),
			col('role', 'text'),
			col('method', 'text'),
			col('invitedBy', 'text'),
			col('created', 'time'),
			col('expires', 'time'),
			col('secretHash', 'text'),
			col('secretSealed', 'text'),
			col('mail', 'json'),
			col('sentCount', 'int'),
			col('revision', 'int'),
		],
	},
	{
		list: 'invitationTombstones',
		table: 'invitation_tombstones',
		key: 'id',
		columns: [col('id', 'text'), col('tenantId', 'text'), col('fate', 'text'), col('at', 'time'), col('by', 'text'), col('secretHash', 'text', 'absent')],
	},
	{
		list: 'signupDomains',
		table: 'signup_domains',
		key: 'id',
		columns: [col('id', 'text'), col('tenantId', 'text'), col('domain', 'text'), col('role', 'text'), col('method', 'text'), col('created', 'time'), col('createdBy', 'text'), col('revision', 'int')],
	},
	{
		list: 'pendingSignups',
		table: 'pending_signups',
		key: 'id',
		columns: [
			col('id', 'text'),
			col('tenantId', 'text'),
			col('domainId', 'text'),
			col('email', 'text'),
			col('username', 'text'),
			col('codeHash', 'text'),
			col('attempts', 'int'),
			col('created', 'time'),
			col('expires', 'time'),
			col('mail', 'json', 'absent'),
			col('revision', 'int'),
		],
	},
	{list: 'projects', table: 'projects', key: 'id', columns: [col('id', 'text'), col('tenantId', 'text'), col('name', 'text'), col('owner', 'text'), col('created', 'time'), col('revision', 'int')]},
	{
		list: 'tokens',
		table: 'api_tokens',
		key: 'id',
		columns: [
			col('id', 'text'),
			col('tenantId', 'text'),
			col('name', 'text'),
			col('owner', 'text'),
			col('projectId', 'text'),
			col('capabilities', 'text[]'),
			col('secretHash', 'text'),
			col('created', 'time'),
			col('lastUsed', 'time', 'null'),
			col('revoked', 'json', 'null'),
			col('revision', 'int'),
		],
	},
	{list: 'sessions', table: 'sessions', key: 'id', columns: [col('id', 'text'), col('userId', 'text'), col('secretHash', 'text'), col('created', 'time'), col('expires', 'time')]},
	{list: 'throttles', table: 'login_throttles', key: 'key', columns: [col('key', 'text'), col('failures', 'int'), col('lockedUntil', 'time', 'null'), col('last', 'time')]},
	{
		list: 'settings',
		table: 'settings',
		key: undefined,
		columns: [col('smtp', 'json', 'null'), col('ssl', 'json', 'null'), col('listeners', 'json'), col('publicUrl', 'text'), col('policy', 'json'), col('sso', 'json'), col('revision', 'int')],
	},
	{
		list: 'audit',
		table: 'audit_events',
		key: 'id',
		columns: [col('id', 'text'), col('time', 'time'), col('actor', 'text'), col('tenantId', 'text', 'null'), col('action', 'text'), col('target', 'text'), col('result', 'text'), col('reason', 'text', 'absent'), col('clientAddress', 'text', 'absent')],
	},
	{
		list: 'outbox',
		table: 'outbox',
		key: 'id',
		columns: [
			col('id', 'text'),
			col('kind', 'text'),
			col('ref', 'text', 'null'),
			col('to', 'text', undefined, 'to_address'),
			col('subject', 'text'),
			col('text', 'text', undefined, 'text_sealed'),
			col('html', 'text', undefined, 'html_sealed'),
			col('attempts', 'int'),
			col('nextAttempt', 'time'),
			col('created', 'time'),
			col('claimedUntil', 'time', 'null'),
		],
	},
	{list: 'housekeeping', table: 'housekeeping', key: undefined, columns: [col('lastRun', 'time', 'null')]},
	{list: 'samlRequests', table: 'saml_requests', key: 'id', columns: [col('id', 'text'), col('created', 'time'), col('expires', 'time'), col('purpose', 'json'), col('state', 'text')]},
	{list: 'samlAssertions', table: 'saml_assertions', key: 'id', columns: [col('id', 'text'), col('expires', 'time')]},
	{
		list: 'deviceLogins',
		table: 'device_logins',
		key: 'id',
		columns: [
			col('id', 'text'),
			col('codeMac', 'text'),
			col('pollSecretHash', 'text'),
			col('username', 'text'),
			col('tenant', 'text', 'null'),
			col('host', 'text'),
			col('clientAddress', 'text'),
			col('created', 'time'),
			col('expires', 'time'),
			col('state', 'text'),
			col('userId', 'text', 'null'),
			col('reason', 'text', 'null'),
		],
	},
];

/** The key of the settings row in orgctl_removed and in the change diff. */
export const SINGLE = 'settings';

/** A record's key: its key field, or the one settings row. */
export function keyOf(table: Table, record: Record<string, unknown>): string {
	return table.key === undefined ? SINGLE : String(record[table.key]);
}

/** The SELECT list of a table: times as ISO strings in UTC, as `Date.prototype.toISOString` writes them. */
export function selectList(table: Table): string {
	const columns = table.columns.map(c => (c.kind === 'time' ? `to_char(${quote(c.column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${quote(c.column)}` : quote(c.column)));
	return [...columns, 'seq', 'changed'].join(', ');
}

/** A SQL identifier, quoted. */
export function quote(identifier: string): string {
	return `"${identifier.replaceAll('"', '""')}"`;
}

/** Builds the record a row holds, with the model's field names in the model's order. */
export function recordFrom(table: Table, row: Record<string, unknown>): Record<string, unknown> {
	const record: Record<string, unknown> = {};
	for (const c of table.columns) {
		const value = row[c.column];
		if (value === null || value === undefined) {
			if (c.empty === 'absent') continue;
			record[c.field] = null;
		} else {
			record[c.field] = value;
		}
	}
	return record;
}

/** The parameter for one field of a record: what the driver sends for the column. */
export function parameterOf(c: Column, record: Record<string, unknown>): unknown {
	const value = record[c.field];
	if (value === undefined || value === null) return null;
	// The driver would send a JS array as a PostgreSQL array; json columns get the JSON text itself.
	if (c.kind === 'json') return JSON.stringify(value);
	return value;
}
