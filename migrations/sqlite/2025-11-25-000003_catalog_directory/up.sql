-- Document profiles and attributes (admin configuration).
CREATE TABLE document_attributes (
    id         TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    attr_type  TEXT,
    name       TEXT NOT NULL,
    required   BOOLEAN NOT NULL
);

CREATE TABLE document_profiles (
    id               TEXT PRIMARY KEY,
    created_at       TIMESTAMP NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    document_type    TEXT,
    owner_group      TEXT,
    seal             TEXT,
    is_seal_required BOOLEAN NOT NULL,
    profileorder     INTEGER NOT NULL
);
CREATE INDEX document_profiles_owner_group ON document_profiles (owner_group, profileorder);

-- An attribute cannot be deleted while a profile links it (no cascade on that side).
CREATE TABLE profile_attributes (
    profile_id   TEXT NOT NULL REFERENCES document_profiles (id) ON DELETE CASCADE,
    attribute_id TEXT NOT NULL REFERENCES document_attributes (id),
    PRIMARY KEY (profile_id, attribute_id)
);
CREATE INDEX profile_attributes_attribute_id ON profile_attributes (attribute_id);

-- Contacts and templates with a visibility scope (PRODUCT.md section 5).
CREATE TABLE contacts (
    id                 TEXT PRIMARY KEY,
    created_at         TIMESTAMP NOT NULL,
    name               TEXT,
    name_lower         TEXT,
    country            TEXT,
    personal_code      TEXT,
    personal_code_norm TEXT,
    phone              TEXT,
    email              TEXT,
    email_lower        TEXT,
    role               TEXT,
    default_anonymous  BOOLEAN NOT NULL,
    owner              TEXT NOT NULL,
    scope              TEXT NOT NULL,
    group_name         TEXT,
    language           TEXT
);
CREATE INDEX contacts_owner ON contacts (owner);
CREATE INDEX contacts_group_name ON contacts (group_name);
CREATE INDEX contacts_scope ON contacts (scope);
CREATE INDEX contacts_personal_code_norm ON contacts (personal_code_norm);

CREATE TABLE templates (
    id         TEXT PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    data       TEXT,
    owner      TEXT NOT NULL,
    scope      TEXT NOT NULL,
    group_name TEXT
);
CREATE INDEX templates_owner ON templates (owner);
CREATE INDEX templates_group_name ON templates (group_name);
CREATE INDEX templates_scope ON templates (scope);
