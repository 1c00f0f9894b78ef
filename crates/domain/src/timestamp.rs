//! Timestamps: UTC, microsecond precision (what both PostgreSQL and SQLite store exactly),
//! RFC 3339 on the wire.

use time::OffsetDateTime;

/// Drops sub-microsecond digits and moves to UTC, so that a value survives a round trip through
/// either database unchanged.
///
/// ```
/// use pas_domain::timestamp::truncate;
/// use time::macros::datetime;
/// let t = truncate(datetime!(2026-01-02 03:04:05.123456789 +02:00));
/// assert_eq!(t, datetime!(2026-01-02 01:04:05.123456 UTC));
/// ```
pub fn truncate(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let micros = t.nanosecond() / 1_000 * 1_000;
    t.replace_nanosecond(micros).unwrap_or(t)
}

/// Formats as RFC 3339 (used in messages and canonical forms).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// serde helpers: `#[serde(with = "pas_domain::timestamp::serde_rfc3339")]`.
pub mod serde_rfc3339 {
    pub use time::serde::rfc3339::*;

    /// For `Option<OffsetDateTime>` fields.
    pub mod option {
        pub use time::serde::rfc3339::option::*;
    }
}
