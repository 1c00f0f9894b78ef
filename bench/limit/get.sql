-- getProcessById without a read audit (AUDIT_READS=none): the process, its steps, its
-- entries, in one snapshot. One extra primary-key read picks a seeded process.
\set i random(:lo, :hi)
SELECT process_id FROM bench_targets WHERE n = :i \gset
SELECT * FROM processes WHERE id = :process_id AND deleted_at IS NULL;
SELECT * FROM steps WHERE process_id = :process_id ORDER BY process_order;
SELECT * FROM entries WHERE process_id = :process_id ORDER BY position;
