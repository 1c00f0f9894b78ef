-- One listSignerTasks page: a person's entries in started, not deleted processes with their
-- steps and processes; the count and the newest 20, in one snapshot. One extra primary-key
-- read picks a seeded person.
\set i random(:lo, :hi)
SELECT code, country FROM bench_targets WHERE n = :i \gset
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT count(*) FROM entries e JOIN processes p ON p.id = e.process_id
 WHERE e.personal_code_norm = :code AND e.signer_country = :country AND p.deleted_at IS NULL AND p.status <> 'PENDING';
SELECT p.id, p.document_name, p.status, p.created_at, p.owner_group, s.id, s.process_order, s.step_status, s.due_date,
       e.id, e.signer_name, e.signer_role, e.signing_status, e.signer_email
  FROM entries e JOIN steps s ON s.id = e.step_id JOIN processes p ON p.id = e.process_id
 WHERE e.personal_code_norm = :code AND e.signer_country = :country AND p.deleted_at IS NULL AND p.status <> 'PENDING'
 ORDER BY p.created_at DESC, e.id DESC LIMIT 20;
COMMIT;
