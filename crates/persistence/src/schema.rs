//! The tables, written by hand for both backends: types PostgreSQL and SQLite share (`Text`,
//! `BigInt`, `Integer`, `Bool`, `Timestamp`), and two of ours whose storage differs
//! (`crate::columns`): the ids of processes, steps, entries, audit events and outbox rows are
//! `Id` (PostgreSQL `uuid`, SQLite UUID text) and the audit digests `Digest` (PostgreSQL
//! `bytea`, SQLite hex text). Other ids are UUID text on both; timestamps are UTC
//! (`PrimitiveDateTime`, converted with `assume_utc()` at the edge of this crate). The
//! migrations in `migrations/postgres` and `migrations/sqlite` create exactly these columns.

diesel::table! {
    use diesel::sql_types::*;
    use crate::columns::sql::{Digest, Id};

    processes (id) {
        id -> Id,
        created_at -> Timestamp,
        status -> Text,
        completed_at -> Nullable<Timestamp>,
        version -> BigInt,
        deleted_at -> Nullable<Timestamp>,
        initiator_email -> Nullable<Text>,
        document_id -> Text,
        document_name -> Nullable<Text>,
        initiator -> Nullable<Text>,
        comment -> Nullable<Text>,
        document_type -> Nullable<Text>,
        owner_group -> Nullable<Text>,
        initiator_name -> Nullable<Text>,
        document_name_lower -> Nullable<Text>,
        initiator_name_lower -> Nullable<Text>,
        search_names -> Text,
        search_emails -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::columns::sql::{Digest, Id};

    steps (id) {
        id -> Id,
        process_id -> Id,
        process_order -> Integer,
        step_status -> Text,
        due_date -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::columns::sql::{Digest, Id};

    entries (id) {
        id -> Id,
        process_id -> Id,
        step_id -> Id,
        position -> Integer,
        signer_name -> Nullable<Text>,
        signer_country -> Nullable<Text>,
        personal_code -> Nullable<Text>,
        personal_code_norm -> Nullable<Text>,
        signer_email -> Nullable<Text>,
        signer_role -> Text,
        comment_for_signer -> Nullable<Text>,
        signer_notification -> Bool,
        signer_language -> Nullable<Text>,
        signing_status -> Text,
        signer_comment -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (key) {
        key -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::columns::sql::{Digest, Id};

    audit_events (id) {
        id -> Id,
        chain_key -> Id,
        sequence -> BigInt,
        previous_hash -> Nullable<Digest>,
        hash -> Digest,
        created_at -> Timestamp,
        event_type -> Text,
        event_origin -> Nullable<Text>,
        creator -> Nullable<Text>,
        document_id -> Nullable<Text>,
        signer_id -> Nullable<Id>,
        customer_personal_code -> Nullable<Text>,
        note -> Nullable<Text>,
        process_id -> Nullable<Id>,
        ip_address -> Nullable<Text>,
        container_id -> Nullable<Text>,
        method -> Nullable<Text>,
        client_app_name -> Nullable<Text>,
        key_id -> Nullable<Text>,
        customer_pseudonym -> Nullable<Digest>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::columns::sql::{Digest, Id};

    audit_chains (chain_key) {
        chain_key -> Id,
        length -> BigInt,
        head_hash -> Nullable<Digest>,
        unkeyed_length -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::columns::sql::{Digest, Id};

    outbox (id) {
        id -> Id,
        event_type -> Nullable<Text>,
        role -> Nullable<Text>,
        to_email -> Nullable<Text>,
        language -> Nullable<Text>,
        process_id -> Nullable<Id>,
        step_id -> Nullable<Id>,
        signer_id -> Nullable<Id>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        channel -> Text,
        lease_token -> Nullable<Text>,
        queued_at -> Timestamp,
        kind -> Text,
        body -> Nullable<Text>,
        subscription_id -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        owner_group -> Nullable<Text>,
        description -> Nullable<Text>,
        enabled -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_until -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        subscription_id -> Text,
        delivery_id -> Text,
        event_type -> Nullable<Text>,
        attempted_at -> Timestamp,
        succeeded -> Bool,
        status_code -> Nullable<Integer>,
        duration_ms -> BigInt,
        answer -> Nullable<Text>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    document_attributes (id) {
        id -> Text,
        created_at -> Timestamp,
        attr_type -> Nullable<Text>,
        name -> Text,
        required -> Bool,
    }
}

diesel::table! {
    document_profiles (id) {
        id -> Text,
        created_at -> Timestamp,
        name -> Text,
        document_type -> Nullable<Text>,
        owner_group -> Nullable<Text>,
        seal -> Nullable<Text>,
        is_seal_required -> Bool,
        profileorder -> Integer,
    }
}

diesel::table! {
    profile_attributes (profile_id, attribute_id) {
        profile_id -> Text,
        attribute_id -> Text,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        created_at -> Timestamp,
        name -> Nullable<Text>,
        name_lower -> Nullable<Text>,
        country -> Nullable<Text>,
        personal_code -> Nullable<Text>,
        personal_code_norm -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        email_lower -> Nullable<Text>,
        role -> Nullable<Text>,
        default_anonymous -> Bool,
        owner -> Text,
        scope -> Text,
        group_name -> Nullable<Text>,
        language -> Nullable<Text>,
    }
}

diesel::table! {
    templates (id) {
        id -> Text,
        created_at -> Timestamp,
        name -> Text,
        name_lower -> Text,
        data -> Nullable<Text>,
        owner -> Text,
        scope -> Text,
        group_name -> Nullable<Text>,
    }
}

diesel::table! {
    auth_attempts (attempt, key_hash) {
        attempt -> Text,
        key_hash -> Text,
        attempted_at -> Timestamp,
    }
}

diesel::table! {
    job_runs (job, run) {
        job -> Text,
        run -> Text,
        claimed_at -> Timestamp,
    }
}

diesel::joinable!(steps -> processes (process_id));
diesel::joinable!(entries -> steps (step_id));
diesel::joinable!(profile_attributes -> document_profiles (profile_id));
diesel::joinable!(profile_attributes -> document_attributes (attribute_id));

diesel::allow_tables_to_appear_in_same_query!(
    auth_attempts,
    job_runs,
    processes,
    steps,
    entries,
    idempotency_keys,
    audit_events,
    audit_chains,
    outbox,
    document_attributes,
    document_profiles,
    profile_attributes,
    contacts,
    templates,
    webhook_subscriptions,
    webhook_attempts,
);
