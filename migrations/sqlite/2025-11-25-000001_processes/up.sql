-- Signing processes, their steps and entries (PRODUCT.md section 5). Ids are UUID text;
-- timestamps are UTC text as Diesel writes them (YYYY-MM-DD HH:MM:SS.ffffff), which compares
-- chronologically. Text compares byte-wise (BINARY), like the COLLATE "C" columns of the
-- PostgreSQL schema.
CREATE TABLE processes (
    id                   TEXT PRIMARY KEY,
    created_at           TIMESTAMP NOT NULL,
    status               TEXT NOT NULL,
    completed_at         TIMESTAMP,
    version              BIGINT NOT NULL,
    deleted_at           TIMESTAMP,
    initiator_email      TEXT,
    document_id          TEXT NOT NULL,
    document_name        TEXT,
    initiator            TEXT,
    comment              TEXT,
    document_type        TEXT,
    owner_group          TEXT,
    initiator_name       TEXT,
    -- Lower-cased copies computed in Rust (str::to_lowercase), for search and sorting.
    document_name_lower  TEXT,
    initiator_name_lower TEXT,
    -- Document name, initiator name and every signer name, lower-cased, one per line.
    search_names         TEXT NOT NULL,
    -- Initiator email and every signer email, lower-cased, one per line.
    search_emails        TEXT NOT NULL
);
CREATE INDEX processes_owner_group_created_at ON processes (owner_group, created_at);
CREATE INDEX processes_created_at ON processes (created_at);
CREATE INDEX processes_status ON processes (status);
CREATE INDEX processes_document_id ON processes (document_id);
CREATE INDEX processes_document_type ON processes (document_type);

CREATE TABLE steps (
    id            TEXT PRIMARY KEY,
    process_id    TEXT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    process_order INTEGER NOT NULL,
    step_status   TEXT NOT NULL,
    due_date      TIMESTAMP,
    UNIQUE (process_id, process_order)
);
CREATE INDEX steps_due_date ON steps (due_date);

CREATE TABLE entries (
    id                 TEXT PRIMARY KEY,
    process_id         TEXT NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    step_id            TEXT NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    signer_name        TEXT,
    signer_country     TEXT,
    -- As written (e.g. 161175-19997) and normalised (16117519997) for matching.
    personal_code      TEXT,
    personal_code_norm TEXT,
    signer_email       TEXT,
    signer_role        TEXT NOT NULL,
    comment_for_signer TEXT,
    signer_notification BOOLEAN NOT NULL,
    signer_language    TEXT,
    signing_status     TEXT NOT NULL,
    signer_comment     TEXT
);
CREATE INDEX entries_person ON entries (personal_code_norm, signer_country);
CREATE INDEX entries_process_id ON entries (process_id);
CREATE INDEX entries_step_id ON entries (step_id);

-- Keys of changes that must happen once (reminders per entry, due date and offset).
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL
);
