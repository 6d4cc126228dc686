-- orgctl-schema-version: 6
--
-- Schema version 6 of the data model: an API token can be revoked and kept (it moved to another
-- owner, or its owner was disabled or had their password reset): `revoked` is {at, reason} while
-- only a re-issue makes its secret work again, NULL otherwise. No token was revoked before, so
-- every existing row holds NULL, as the file's migration gives every token `revoked: null`;
-- nothing is rewritten and the version stays.

ALTER TABLE api_tokens ADD COLUMN revoked json
	CHECK (revoked IS NULL OR (json_typeof(revoked) = 'object' AND json_typeof(revoked->'at') = 'string' AND json_typeof(revoked->'reason') = 'string'));

UPDATE orgctl_meta SET schema_version = 6;
