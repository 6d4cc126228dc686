-- orgctl-schema-version: 7
--
-- Schema version 7 of the data model: single sign-on keeps its state in the store, shared by every
-- host (DESIGN §5a), as the file's migration adds three empty lists (source/store/migrations.ts):
-- - saml_requests: the AuthnRequests we sent, each usable for one answer (its ID comes back as
--   InResponseTo); a request used or burned on one host is used or burned on all of them;
-- - saml_assertions: the replay cache, the assertion IDs that already signed someone in, until
--   the assertion could no longer be valid anyway. The primary key makes a replay that two hosts
--   accept at the same moment impossible even below the core's check: one of the two commits fails;
-- - device_logins: a terminal's single sign-on, waiting for the browser side on any host.
-- Housekeeping (core/housekeeping.ts) prunes the expired rows of all three.
-- Tombstones of invitations keep the dead link's secret hash (optional in the model, absent in
-- tombstones made before), so that only the link's holder learns what became of it.
-- No row is rewritten and the version stays.

CREATE TABLE saml_requests (
	id text PRIMARY KEY CHECK (id ~ '^_[0-9a-f]{32,64}$'),
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL,
	-- {kind: 'invitation', invitationId} | {kind: 'signup', domainId, email, username} | {kind: 'device', deviceLoginId}
	purpose json NOT NULL CHECK (json_typeof(purpose) = 'object' AND purpose->>'kind' IN ('invitation', 'signup', 'device')),
	state text NOT NULL CHECK (state IN ('pending', 'burned', 'used')),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

CREATE TABLE saml_assertions (
	id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
	expires timestamptz NOT NULL,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

CREATE TABLE device_logins (
	id orgctl_id PRIMARY KEY,
	code_mac orgctl_sha256 NOT NULL,
	poll_secret_hash orgctl_sha256 NOT NULL,
	username text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
	tenant text CHECK (tenant ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
	host text NOT NULL CHECK (length(host) <= 253),
	client_address text NOT NULL CHECK (length(client_address) <= 64),
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL,
	state text NOT NULL CHECK (state IN ('pending', 'completed', 'finished', 'refused')),
	user_id orgctl_id,
	reason text CHECK (length(reason) <= 500),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

CREATE INDEX saml_requests_changed ON saml_requests (changed);
CREATE INDEX saml_assertions_changed ON saml_assertions (changed);
CREATE INDEX device_logins_changed ON device_logins (changed);

ALTER TABLE invitation_tombstones ADD COLUMN secret_hash orgctl_sha256;

UPDATE orgctl_meta SET schema_version = 7;
