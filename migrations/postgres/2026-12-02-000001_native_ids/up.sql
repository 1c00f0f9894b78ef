-- Ids and digests of the tables that grow with every process in PostgreSQL's own types
-- (issue 15): a uuid takes 16 bytes where its text took 37, a SHA-256 digest 32 where its hex
-- took 65, in the row and in every index that holds it. SQLite keeps text (crate::columns).
-- Every stored digest was written by the service as lower-case hex, so decode and encode
-- give back exactly what each chain's hashes were computed over.
ALTER TABLE steps DROP CONSTRAINT steps_process_id_fkey;
ALTER TABLE entries DROP CONSTRAINT entries_process_id_fkey,
    DROP CONSTRAINT entries_step_id_fkey;

ALTER TABLE processes ALTER COLUMN id TYPE uuid USING id::uuid;
ALTER TABLE steps ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN process_id TYPE uuid USING process_id::uuid;
ALTER TABLE entries ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN process_id TYPE uuid USING process_id::uuid,
    ALTER COLUMN step_id TYPE uuid USING step_id::uuid;

ALTER TABLE steps ADD CONSTRAINT steps_process_id_fkey
    FOREIGN KEY (process_id) REFERENCES processes (id) ON DELETE CASCADE;
ALTER TABLE entries ADD CONSTRAINT entries_process_id_fkey
    FOREIGN KEY (process_id) REFERENCES processes (id) ON DELETE CASCADE,
    ADD CONSTRAINT entries_step_id_fkey
    FOREIGN KEY (step_id) REFERENCES steps (id) ON DELETE CASCADE;

ALTER TABLE audit_events ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN chain_key TYPE uuid USING chain_key::uuid,
    ALTER COLUMN process_id TYPE uuid USING process_id::uuid,
    ALTER COLUMN signer_id TYPE uuid USING signer_id::uuid,
    ALTER COLUMN previous_hash TYPE bytea USING decode(previous_hash, 'hex'),
    ALTER COLUMN hash TYPE bytea USING decode(hash, 'hex'),
    ALTER COLUMN customer_pseudonym TYPE bytea USING decode(customer_pseudonym, 'hex');
ALTER TABLE audit_chains ALTER COLUMN chain_key TYPE uuid USING chain_key::uuid,
    ALTER COLUMN head_hash TYPE bytea USING decode(head_hash, 'hex');
ALTER TABLE outbox ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN process_id TYPE uuid USING process_id::uuid,
    ALTER COLUMN step_id TYPE uuid USING step_id::uuid,
    ALTER COLUMN signer_id TYPE uuid USING signer_id::uuid;
