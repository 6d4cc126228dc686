-- orgctl-schema-version: 5
--
-- Schema version 5 of the data model: single sign-on has its shape, {idp, matchAttribute, sp}
-- (an IdP from its metadata, the attribute that finds the account, our own key pair, its private
-- key sealed with the key file). No orgctl before it wrote anything there (sso was always NULL),
-- so every store starts with the empty setting, as the file's migration gives it
-- (source/store/migrations.ts, withSso); the column holds one from now on. The version is bumped
-- with the row, so that no host holds a copy older than it.

UPDATE orgctl_meta SET version = version + 1 WHERE EXISTS (SELECT 1 FROM settings WHERE sso IS NULL);

UPDATE settings SET sso = '{"idp":null,"matchAttribute":"nameid","sp":null}'::json, changed = (SELECT version FROM orgctl_meta)
WHERE sso IS NULL;

ALTER TABLE settings ALTER COLUMN sso SET NOT NULL;

UPDATE orgctl_meta SET schema_version = 5;
