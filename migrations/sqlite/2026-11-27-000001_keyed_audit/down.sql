ALTER TABLE audit_chains DROP COLUMN unkeyed_length;
ALTER TABLE audit_chains DROP COLUMN head_hash;
ALTER TABLE audit_chains DROP COLUMN length;
ALTER TABLE audit_events DROP COLUMN key_id;
