-- The audit log (PRODUCT.md section 8): one hash chain per process (chain_key is the process
-- id, or the nil UUID for events without one).
CREATE TABLE audit_events (
    id                     TEXT PRIMARY KEY,
    chain_key              TEXT NOT NULL,
    sequence               BIGINT NOT NULL,
    previous_hash          TEXT,
    hash                   TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    event_type             TEXT COLLATE "C" NOT NULL,
    event_origin           TEXT,
    creator                TEXT,
    document_id            TEXT,
    signer_id              TEXT,
    customer_personal_code TEXT,
    note                   TEXT,
    process_id             TEXT,
    ip_address             TEXT,
    container_id           TEXT,
    method                 TEXT,
    client_app_name        TEXT,
    -- The backstop against a forked chain.
    UNIQUE (chain_key, sequence)
);
CREATE INDEX audit_events_process_id ON audit_events (process_id);
CREATE INDEX audit_events_document_id ON audit_events (document_id);
CREATE INDEX audit_events_signer_id ON audit_events (signer_id);
CREATE INDEX audit_events_created_at ON audit_events (created_at);

-- One row per chain, locked (SELECT ... FOR UPDATE) while a transaction appends to it.
CREATE TABLE audit_chains (
    chain_key TEXT PRIMARY KEY
);

-- Emails written with the change that caused them (PRODUCT.md section 7).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    event_type      TEXT NOT NULL,
    role            TEXT NOT NULL,
    to_email        TEXT NOT NULL,
    language        TEXT,
    process_id      TEXT NOT NULL,
    step_id         TEXT,
    signer_id       TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMP,
    last_error      TEXT,
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
