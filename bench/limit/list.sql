-- One listProcesses page of a group (no search): the count, the newest 20, their steps and
-- entries, in one snapshot. One extra primary-key read picks a group.
\set g random(1, :groups)
SELECT owner_group FROM bench_groups WHERE n = :g \gset
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT count(*) FROM processes WHERE owner_group = :owner_group AND deleted_at IS NULL;
SELECT * FROM processes WHERE owner_group = :owner_group AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 20;
SELECT s.* FROM steps s WHERE s.process_id IN (SELECT id FROM processes WHERE owner_group = :owner_group AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 20);
SELECT e.* FROM entries e WHERE e.process_id IN (SELECT id FROM processes WHERE owner_group = :owner_group AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 20);
COMMIT;
