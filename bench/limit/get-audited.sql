-- getProcessById with its PROCESS_GETONE audit row (AUDIT_READS=single): the reads, then the
-- chain's head locked and read in one statement, the row appended, the head moved.
\set i random(:lo, :hi)
SELECT process_id FROM bench_targets WHERE n = :i \gset
BEGIN;
SELECT * FROM processes WHERE id = :process_id AND deleted_at IS NULL;
SELECT * FROM steps WHERE process_id = :process_id ORDER BY process_order;
SELECT * FROM entries WHERE process_id = :process_id ORDER BY position;
SELECT length AS seq, length + 1 AS next_length, head_hash FROM audit_chains WHERE chain_key = :process_id FOR UPDATE \gset
INSERT INTO audit_events (id, chain_key, sequence, previous_hash, hash, created_at, event_type, process_id, key_id)
VALUES (gen_random_uuid(), :process_id, :seq, :head_hash, sha256(random()::text::bytea), now(), 'PROCESS_GETONE', :process_id, 'bench')
RETURNING hash AS new_hash \gset
UPDATE audit_chains SET length = :next_length, head_hash = :new_hash WHERE chain_key = :process_id;
COMMIT;
