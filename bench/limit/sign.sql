-- One sign that does not end its step: the process locked, its steps and entries read, the
-- entry and the version changed, the chain head locked and read in one statement, one audit
-- row, the head moved, one outbox row. One extra primary-key read picks a seeded entry.
\set i random(:lo, :hi)
SELECT process_id, entry_id FROM bench_targets WHERE n = :i \gset
BEGIN;
SELECT id, version, status FROM processes WHERE id = :process_id FOR UPDATE;
SELECT id, process_order, step_status FROM steps WHERE process_id = :process_id;
SELECT id, step_id, signer_role, signing_status FROM entries WHERE process_id = :process_id;
UPDATE entries SET signing_status = 'SIGNED' WHERE id = :entry_id;
UPDATE processes SET version = version + 1 WHERE id = :process_id;
SELECT length AS seq, length + 1 AS next_length, head_hash FROM audit_chains WHERE chain_key = :process_id FOR UPDATE \gset
INSERT INTO audit_events (id, chain_key, sequence, previous_hash, hash, created_at, event_type, process_id, signer_id, key_id)
VALUES (gen_random_uuid(), :process_id, :seq, :head_hash, sha256(random()::text::bytea), now(), 'SIGNER_SIGNED', :process_id, :entry_id, 'bench')
RETURNING hash AS new_hash \gset
UPDATE audit_chains SET length = :next_length, head_hash = :new_hash WHERE chain_key = :process_id;
INSERT INTO outbox (id, event_type, role, to_email, process_id, signer_id, status, attempts, next_attempt_at, created_at, queued_at, channel, kind)
VALUES (gen_random_uuid(), 'SIGNER_SIGNED', 'INITIATOR', 'office@example.lv', :process_id, :entry_id, 'pending', 0, now(), now(), now(), 'EMAIL', 'NOTIFICATION');
COMMIT;
