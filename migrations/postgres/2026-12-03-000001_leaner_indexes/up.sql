-- Index entries only for the rows a query can ask for (issue 15: storage, and fewer index
-- writes per row):
-- * the audit rows of a process's own events name no signer (half of them at the
--   benchmark's shape);
-- * an outbox row holds a lease token only while a dispatcher holds it, is due only while
--   pending and is purged by its age only once sent; the claim and the purge name their
--   status as a literal, which lets both databases match them to these partial indexes
--   (SQLite as built here and a generic PostgreSQL plan never match a bound value);
-- * a group's processes and their count are read along processes_live_group; the audit
--   events of a group (deleted processes' too) need only its process ids, so the other
--   group index keeps the group alone, which PostgreSQL stores once per value
--   (deduplication).
-- The new indexes are built first (from then until the commit, writes to their tables
-- wait, reads do not) and the old ones dropped last (from then, reads wait too); tables
-- are taken in the order the service writes them (processes, audit rows, outbox rows), so
-- that a request's write and the migration do not wait on each other crosswise.
CREATE INDEX processes_owner_group ON processes (owner_group);
CREATE INDEX audit_events_signer_id_partial ON audit_events (signer_id)
    WHERE signer_id IS NOT NULL;
CREATE INDEX outbox_lease_token_partial ON outbox (lease_token) WHERE lease_token IS NOT NULL;
CREATE INDEX outbox_due_partial ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_sent_partial ON outbox (sent_at) WHERE status = 'sent';
DROP INDEX processes_owner_group_created_at;
DROP INDEX audit_events_signer_id;
ALTER INDEX audit_events_signer_id_partial RENAME TO audit_events_signer_id;
DROP INDEX outbox_lease_token;
ALTER INDEX outbox_lease_token_partial RENAME TO outbox_lease_token;
DROP INDEX outbox_due;
ALTER INDEX outbox_due_partial RENAME TO outbox_due;
DROP INDEX outbox_sent;
ALTER INDEX outbox_sent_partial RENAME TO outbox_sent;
