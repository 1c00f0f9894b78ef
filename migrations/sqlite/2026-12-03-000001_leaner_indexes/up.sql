-- Index entries only for the rows a query can ask for (issue 15: storage, and fewer index
-- writes per row):
-- * the audit rows of a process's own events name no signer (half of them at the
--   benchmark's shape);
-- * an outbox row holds a lease token only while a dispatcher holds it, is due only while
--   pending and is purged by its age only once sent; the claim and the purge name their
--   status as a literal, which lets both databases match them to these partial indexes
--   (SQLite as built here, with SQLITE_ENABLE_QPSG, never matches a bound value);
-- * a group's processes are listed along processes_live_group; the audit events of a
--   group (deleted processes' too) need only its process ids, so the other group index
--   keeps the group alone.
DROP INDEX audit_events_signer_id;
CREATE INDEX audit_events_signer_id ON audit_events (signer_id) WHERE signer_id IS NOT NULL;
DROP INDEX outbox_lease_token;
CREATE INDEX outbox_lease_token ON outbox (lease_token) WHERE lease_token IS NOT NULL;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
DROP INDEX outbox_sent;
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE status = 'sent';
DROP INDEX processes_owner_group_created_at;
CREATE INDEX processes_owner_group ON processes (owner_group);
