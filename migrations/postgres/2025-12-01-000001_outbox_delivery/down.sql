DROP INDEX outbox_listing;
DROP INDEX outbox_lease_token;
ALTER TABLE outbox DROP COLUMN queued_at;
ALTER TABLE outbox DROP COLUMN lease_token;
ALTER TABLE outbox DROP COLUMN channel;
