import type {ClientBase} from 'pg';
import {newId} from '../../core/ids.js';
import {repairedTokenName, schema4Summary} from '../migrations.js';

/** What a step of a migration may know: the composition root's clock, when the caller has one. */
export type StepContext = {readonly now: Date | undefined};

/**
 * A part of a migration that plain SQL cannot say as the file's migration does, run after the
 * migration's SQL in its transaction (a failure rolls the whole migration back).
 */
export type MigrationStep = (client: ClientBase, context: StepContext) => Promise<void>;

/**
 * Schema version 4 (after 0003's SQL): token names are repaired with the file migration's own
 * function (control and invisible characters become visible escapes; PostgreSQL's regular
 * expressions know no Unicode categories to do it in SQL), and what 0003 repaired is recorded as
 * the same `store.migrate` audit event the file gets, dated by the caller's clock, or without one
 * by the newest audit event, as the file's is.
 */
const boundedAndNamed: MigrationStep = async (client, {now}) => {
	const tokens = await client.query<{id: string; name: string}>('SELECT id, name FROM api_tokens ORDER BY seq');
	const renamed: string[] = [];
	for (const {id, name} of tokens.rows) {
		const repaired = repairedTokenName(name, id);
		if (repaired === name) continue;
		await client.query('UPDATE api_tokens SET name = $1, changed = (SELECT version FROM orgctl_meta) WHERE id = $2', [repaired, id]);
		renamed.push(`${repaired} (${id.slice(0, 8)})`);
	}
	const counts = (await client.query<{capped: string; rekeyed: string}>('SELECT capped, rekeyed FROM orgctl_schema4_repairs')).rows[0]!;
	const summary = schema4Summary(renamed, Number(counts.capped), Number(counts.rekeyed));
	if (!summary) return;
	const last = (await client.query<{time: string | null; seq: string | null}>(`SELECT to_char(max(time) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time, max(seq) AS seq FROM audit_events`)).rows[0]!;
	const time = now?.toISOString() ?? last.time ?? new Date(0).toISOString();
	await client.query(
		"INSERT INTO audit_events (id, time, actor, tenant_id, action, target, result, seq, changed) VALUES ($1, $2, 'system', NULL, 'store.migrate', $3, 'ok', $4, (SELECT version FROM orgctl_meta))",
		[newId(), time, summary, Number(last.seq ?? 0) + 1],
	);
};

/** The steps, by the name of the migration they belong to. */
export const MIGRATION_STEPS: Readonly<Record<string, MigrationStep>> = {
	'0003-bounded-text-housekeeping.sql': boundedAndNamed,
};
