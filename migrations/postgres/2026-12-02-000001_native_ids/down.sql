ALTER TABLE outbox ALTER COLUMN id TYPE text USING id::text,
    ALTER COLUMN process_id TYPE text USING process_id::text,
    ALTER COLUMN step_id TYPE text USING step_id::text,
    ALTER COLUMN signer_id TYPE text USING signer_id::text;
ALTER TABLE audit_chains ALTER COLUMN chain_key TYPE text USING chain_key::text,
    ALTER COLUMN head_hash TYPE text USING encode(head_hash, 'hex');
ALTER TABLE audit_events ALTER COLUMN id TYPE text USING id::text,
    ALTER COLUMN chain_key TYPE text USING chain_key::text,
    ALTER COLUMN process_id TYPE text USING process_id::text,
    ALTER COLUMN signer_id TYPE text USING signer_id::text,
    ALTER COLUMN previous_hash TYPE text USING encode(previous_hash, 'hex'),
    ALTER COLUMN hash TYPE text USING encode(hash, 'hex'),
    ALTER COLUMN customer_pseudonym TYPE text USING encode(customer_pseudonym, 'hex');

ALTER TABLE steps DROP CONSTRAINT steps_process_id_fkey;
ALTER TABLE entries DROP CONSTRAINT entries_process_id_fkey,
    DROP CONSTRAINT entries_step_id_fkey;
ALTER TABLE processes ALTER COLUMN id TYPE text USING id::text;
ALTER TABLE steps ALTER COLUMN id TYPE text USING id::text,
    ALTER COLUMN process_id TYPE text USING process_id::text;
ALTER TABLE entries ALTER COLUMN id TYPE text USING id::text,
    ALTER COLUMN process_id TYPE text USING process_id::text,
    ALTER COLUMN step_id TYPE text USING step_id::text;
ALTER TABLE steps ADD CONSTRAINT steps_process_id_fkey
    FOREIGN KEY (process_id) REFERENCES processes (id) ON DELETE CASCADE;
ALTER TABLE entries ADD CONSTRAINT entries_process_id_fkey
    FOREIGN KEY (process_id) REFERENCES processes (id) ON DELETE CASCADE,
    ADD CONSTRAINT entries_step_id_fkey
    FOREIGN KEY (step_id) REFERENCES steps (id) ON DELETE CASCADE;
