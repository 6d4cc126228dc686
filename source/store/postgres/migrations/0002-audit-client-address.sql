-- orgctl-schema-version: 3
--
-- Schema version 3 of the data model: an audit event may carry the client address of the
-- operation that came over the network (orgctl serve). Nothing to move: older events have none.

ALTER TABLE audit_events ADD COLUMN client_address text CHECK (length(client_address) <= 64);

UPDATE orgctl_meta SET schema_version = 3;
