-- orgctl-schema-version: 2
--
-- The tables of an orgctl store on PostgreSQL: one table per list of the data model
-- (source/core/model.ts), one row per record, holding schema version 2 of that model.
--
-- Every table has two columns the model does not: `seq`, the record's place in its list (lists
-- keep their order, as in the file), and `changed`, the store version that last wrote the row, so
-- a host that holds version N reads only the rows with changed > N. A removed row leaves a line in
-- orgctl_removed for the same reason.
--
-- The database enforces what it can express: unique usernames and e-mail addresses per tenant
-- (case-insensitive), the tenant, owner, project and inviter of a record exist (foreign keys,
-- checked at commit so a change may delete and insert in any order), roles, methods and the other
-- closed lists of words. The core's own invariants (source/core/invariants.ts) run before every
-- commit as well: they say what went wrong in the product's words.

CREATE TABLE orgctl_meta (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	-- The version of the data model the rows hold (SCHEMA_VERSION in source/core/model.ts).
	schema_version integer NOT NULL,
	-- Bumped by every committed change; NOTIFY carries it to the hosts that listen.
	version bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
	-- orgctl_removed holds every removal after this version; a host holding an older one reloads whole.
	removed_floor bigint NOT NULL DEFAULT 0,
	-- HMAC-SHA-256 of a fixed text under the key file that seals this store's secrets: a host with
	-- another key file is refused before it seals anything the others cannot open. Not the key.
	key_id text
);
INSERT INTO orgctl_meta (schema_version) VALUES (2);

CREATE TABLE orgctl_removed (
	tbl text NOT NULL,
	key text NOT NULL,
	version bigint NOT NULL,
	at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orgctl_removed_version ON orgctl_removed (version);

CREATE DOMAIN orgctl_id AS text CHECK (VALUE ~ '^[0-9a-f]{16,32}$');
CREATE DOMAIN orgctl_role AS text CHECK (VALUE IN ('guest', 'member', 'admin'));
CREATE DOMAIN orgctl_method AS text CHECK (VALUE IN ('password', 'pam', 'saml'));
CREATE DOMAIN orgctl_sha256 AS text CHECK (VALUE ~ '^[0-9a-f]{64}$');

CREATE TABLE tenants (
	id orgctl_id PRIMARY KEY,
	name text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
	created timestamptz NOT NULL,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

CREATE TABLE users (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	username text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
	email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
	role orgctl_role NOT NULL,
	superuser boolean NOT NULL,
	method orgctl_method NOT NULL,
	password_hash text,
	disabled boolean NOT NULL,
	created timestamptz NOT NULL,
	last_login timestamptz,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL,
	-- For the foreign keys that require an owner of the record's own tenant.
	UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX users_username_per_tenant ON users (tenant_id, lower(username));
CREATE UNIQUE INDEX users_email_per_tenant ON users (tenant_id, lower(email));

CREATE TABLE invitations (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	username text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
	email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
	role orgctl_role NOT NULL,
	method orgctl_method NOT NULL,
	-- A superuser may invite into any tenant: the inviter exists, in whichever tenant.
	invited_by orgctl_id NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL,
	secret_hash orgctl_sha256 NOT NULL,
	secret_sealed text NOT NULL,
	mail json NOT NULL,
	sent_count integer NOT NULL CHECK (sent_count >= 0),
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);
CREATE UNIQUE INDEX invitations_username_per_tenant ON invitations (tenant_id, lower(username));
CREATE UNIQUE INDEX invitations_email_per_tenant ON invitations (tenant_id, lower(email));
CREATE INDEX invitations_invited_by ON invitations (invited_by);

CREATE TABLE invitation_tombstones (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	fate text NOT NULL CHECK (fate IN ('accepted', 'revoked')),
	at timestamptz NOT NULL,
	by text NOT NULL,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

CREATE TABLE signup_domains (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	domain text NOT NULL CHECK (length(domain) BETWEEN 1 AND 253),
	role orgctl_role NOT NULL,
	method orgctl_method NOT NULL,
	created timestamptz NOT NULL,
	created_by orgctl_id NOT NULL,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);
-- As the core compares domains: lower case, without a trailing dot.
CREATE UNIQUE INDEX signup_domains_per_tenant ON signup_domains (tenant_id, lower(regexp_replace(domain, '\.$', '')));

CREATE TABLE pending_signups (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	domain_id orgctl_id NOT NULL REFERENCES signup_domains (id) DEFERRABLE INITIALLY DEFERRED,
	email text NOT NULL,
	username text NOT NULL,
	code_hash orgctl_sha256 NOT NULL,
	attempts integer NOT NULL CHECK (attempts >= 0),
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL,
	mail json,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

CREATE TABLE projects (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	owner orgctl_id NOT NULL,
	created timestamptz NOT NULL,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL,
	UNIQUE (tenant_id, id),
	-- Owned by a user of the project's own tenant.
	FOREIGN KEY (tenant_id, owner) REFERENCES users (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX projects_owner ON projects (owner);

CREATE TABLE api_tokens (
	id orgctl_id PRIMARY KEY,
	tenant_id orgctl_id NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	owner orgctl_id NOT NULL REFERENCES users (id) DEFERRABLE INITIALLY DEFERRED,
	project_id orgctl_id NOT NULL,
	capabilities text[] NOT NULL,
	secret_hash orgctl_sha256 NOT NULL,
	created timestamptz NOT NULL,
	last_used timestamptz,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL,
	-- Of a project of the token's own tenant.
	FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX api_tokens_owner ON api_tokens (owner);
CREATE INDEX api_tokens_project ON api_tokens (project_id);

CREATE TABLE sessions (
	id orgctl_id PRIMARY KEY,
	user_id orgctl_id NOT NULL,
	secret_hash orgctl_sha256 NOT NULL,
	created timestamptz NOT NULL,
	expires timestamptz NOT NULL,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

-- Failed logins per account key, shared by every host: a throttle holds across all of them.
CREATE TABLE login_throttles (
	key text PRIMARY KEY,
	failures integer NOT NULL CHECK (failures >= 0),
	locked_until timestamptz,
	last timestamptz NOT NULL,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

-- The server settings: one row.
CREATE TABLE settings (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	smtp json,
	ssl json,
	listeners json NOT NULL,
	public_url text NOT NULL,
	policy json NOT NULL,
	sso json,
	revision integer NOT NULL CHECK (revision >= 1),
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

-- Kept after their tenant is gone: no foreign key.
CREATE TABLE audit_events (
	id orgctl_id PRIMARY KEY,
	time timestamptz NOT NULL,
	actor text NOT NULL,
	tenant_id orgctl_id,
	action text NOT NULL,
	target text NOT NULL,
	result text NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),
	reason text,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);

-- Mail waiting to be (re)sent, shared by every host: a message is claimed by one host at a time
-- (SELECT ... FOR UPDATE SKIP LOCKED, then claimed_until), sent outside any transaction.
CREATE TABLE outbox (
	id orgctl_id PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('invitation', 'signup-code', 'test')),
	ref orgctl_id,
	to_address text NOT NULL,
	subject text NOT NULL,
	text_sealed text NOT NULL,
	html_sealed text NOT NULL,
	attempts integer NOT NULL CHECK (attempts >= 0),
	next_attempt timestamptz NOT NULL,
	created timestamptz NOT NULL,
	claimed_until timestamptz,
	seq bigint NOT NULL,
	changed bigint NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt);

CREATE INDEX tenants_changed ON tenants (changed);
CREATE INDEX users_changed ON users (changed);
CREATE INDEX invitations_changed ON invitations (changed);
CREATE INDEX invitation_tombstones_changed ON invitation_tombstones (changed);
CREATE INDEX signup_domains_changed ON signup_domains (changed);
CREATE INDEX pending_signups_changed ON pending_signups (changed);
CREATE INDEX projects_changed ON projects (changed);
CREATE INDEX api_tokens_changed ON api_tokens (changed);
CREATE INDEX sessions_changed ON sessions (changed);
CREATE INDEX login_throttles_changed ON login_throttles (changed);
CREATE INDEX settings_changed ON settings (changed);
CREATE INDEX audit_events_changed ON audit_events (changed);
CREATE INDEX outbox_changed ON outbox (changed);
