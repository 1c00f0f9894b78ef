-- Retention of sent rows (OUTBOX_KEEP_SENT): the hourly purge finds SENT rows by their send
-- time in batches; without this index every batch would scan the table.
CREATE INDEX outbox_sent ON outbox (status, sent_at);
