-- Coordination of instances sharing one database (PRODUCT.md section 13).

-- Failed portal authorisations within the sliding window, counted for every instance. Keys
-- are SHA-256 hashes (hex) of the signer id or client address: an anonymous entry's id is a
-- portal secret and stays out of this table.
CREATE TABLE auth_attempts (
    attempt TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (attempt, key_hash)
);
CREATE INDEX auth_attempts_key ON auth_attempts (key_hash, attempted_at);

-- One row per run of a scheduled job (the reminders of one day): the instance that inserts
-- it runs the job, the others skip.
CREATE TABLE job_runs (
    job TEXT NOT NULL,
    run TEXT NOT NULL,
    claimed_at TIMESTAMP NOT NULL,
    PRIMARY KEY (job, run)
);
