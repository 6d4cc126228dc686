-- orgctl-schema-version: 4
--
-- Schema version 4 of the data model (DESIGN §4, §4a): stored text is bounded and names follow
-- character rules, the audit has a retention policy, and a housekeeping record says when the store
-- was last pruned. What version 3 accepted and version 4 refuses is repaired here, as the file's
-- migration does (source/store/migrations.ts), with the version bumped so that no host holds a copy
-- older than the repaired rows:
-- - audit actors and targets, and tombstones' `by`, cut at 200 characters (`…[+N]`), reasons at 400;
-- - mail status reasons (an SMTP server's reply) cut at 300 characters;
-- - throttle entries of unknown identifiers keyed by a SHA-256 of the identifier, not its text;
-- - API token names holding control or invisible characters made visible escapes, as the file's
--   repairedTokenName does (`token <first 8 of its id>` only when nothing usable is left): that
--   step is JavaScript, run in the same transaction after this file (postgres/steps.ts), which also
--   records what was repaired as a `store.migrate` audit event, as the file's migration does;
-- - the audit retention policy (365 days, 100,000 events) added to the settings.

UPDATE orgctl_meta SET version = version + 1 WHERE version > 0;

-- What is repaired below, counted as the file's migration counts it, for the audit event.
CREATE TEMPORARY TABLE orgctl_schema4_repairs ON COMMIT DROP AS SELECT
	(SELECT count(*) FILTER (WHERE length(actor) > 200) + count(*) FILTER (WHERE length(target) > 200) + count(*) FILTER (WHERE length(reason) > 400) FROM audit_events)
	+ (SELECT count(*) FROM invitation_tombstones WHERE length(by) > 200)
	+ (SELECT count(*) FROM invitations WHERE length(mail->>'reason') > 300)
	+ (SELECT count(*) FROM pending_signups WHERE length(mail->>'reason') > 300) AS capped,
	(SELECT count(*) FROM login_throttles WHERE key LIKE 'unknown:%' AND key !~ '^unknown:[^/]*/[0-9a-f]{64}$') AS rekeyed;

UPDATE audit_events SET
	actor = CASE WHEN length(actor) > 200 THEN left(actor, 200) || '…[+' || (length(actor) - 200) || ']' ELSE actor END,
	target = CASE WHEN length(target) > 200 THEN left(target, 200) || '…[+' || (length(target) - 200) || ']' ELSE target END,
	reason = CASE WHEN length(reason) > 400 THEN left(reason, 400) || '…[+' || (length(reason) - 400) || ']' ELSE reason END,
	changed = (SELECT version FROM orgctl_meta)
WHERE length(actor) > 200 OR length(target) > 200 OR length(reason) > 400;

UPDATE invitation_tombstones SET by = left(by, 200) || '…[+' || (length(by) - 200) || ']', changed = (SELECT version FROM orgctl_meta)
WHERE length(by) > 200;

UPDATE invitations SET mail = jsonb_set(mail::jsonb, '{reason}', to_jsonb(left(mail->>'reason', 300) || '…[+' || (length(mail->>'reason') - 300) || ']'))::json, changed = (SELECT version FROM orgctl_meta)
WHERE length(mail->>'reason') > 300;

UPDATE pending_signups SET mail = jsonb_set(mail::jsonb, '{reason}', to_jsonb(left(mail->>'reason', 300) || '…[+' || (length(mail->>'reason') - 300) || ']'))::json, changed = (SELECT version FROM orgctl_meta)
WHERE length(mail->>'reason') > 300;

-- unknown:TENANT/IDENTIFIER becomes unknown:TENANT/sha256(identifier), merging entries that meet.
CREATE TEMPORARY TABLE rekeyed ON COMMIT DROP AS
	SELECT key AS old_key,
		'unknown:' || substring(key FROM '^unknown:([^/]*)/') || '/' || encode(sha256(convert_to(lower(btrim(substring(key FROM '^unknown:[^/]*/(.*)$'))), 'UTF8')), 'hex') AS new_key,
		failures, locked_until, last, seq
	FROM login_throttles
	WHERE key LIKE 'unknown:%' AND key !~ '^unknown:[^/]*/[0-9a-f]{64}$';
DELETE FROM login_throttles WHERE key IN (SELECT old_key FROM rekeyed);
INSERT INTO orgctl_removed (tbl, key, version) SELECT 'throttles', old_key, (SELECT version FROM orgctl_meta) FROM rekeyed;
INSERT INTO login_throttles (key, failures, locked_until, last, seq, changed)
	SELECT new_key, max(failures), max(locked_until), max(last), min(seq), (SELECT version FROM orgctl_meta) FROM rekeyed GROUP BY new_key
	ON CONFLICT (key) DO UPDATE SET failures = GREATEST(login_throttles.failures, EXCLUDED.failures), locked_until = GREATEST(login_throttles.locked_until, EXCLUDED.locked_until), last = GREATEST(login_throttles.last, EXCLUDED.last), changed = EXCLUDED.changed;

UPDATE settings SET policy = (jsonb_build_object('auditRetentionDays', 365, 'auditMaxEvents', 100000) || policy::jsonb)::json, changed = (SELECT version FROM orgctl_meta);

-- When the store was last pruned of old audit events and dead records (core/housekeeping.ts).
CREATE TABLE housekeeping (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	last_run timestamptz,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);
INSERT INTO housekeeping (last_run, seq, changed) VALUES (NULL, 0, (SELECT version FROM orgctl_meta));
CREATE INDEX housekeeping_changed ON housekeeping (changed);

ALTER TABLE login_throttles ADD CONSTRAINT login_throttles_key_length CHECK (length(key) <= 160);
ALTER TABLE audit_events ADD CONSTRAINT audit_events_action_length CHECK (length(action) <= 64);

UPDATE orgctl_meta SET schema_version = 4;
