//! The variables a template sees (documented in the crate README).

use jiff::tz::TimeZone;
use pas_domain::ids::{EntryId, ProcessId, StepId};
use pas_domain::notify::{NotificationIntent, RecipientRole};
use pas_domain::process::{
    Entry, ProcessData, ProcessHeader, ProcessOrder, ProcessStep, SignerDetails,
};
use pas_domain::status::{EventType, ProcessStatus, SignerRole, SigningStatus, StepStatus};
use pas_domain::values::Email;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::vars::{EntryVars, ProcessVars, StepVars};
use uuid::Uuid;

/// What the context needs besides the intent and the process.
pub(crate) struct ContextSettings<'a> {
    /// `PORTAL_URL` without a trailing slash.
    pub portal_url: &'a str,
    /// `APP_TIMEZONE`.
    pub timezone: &'a TimeZone,
}

/// The entry an intent is addressed to, when the recipient is an entry (not the initiator,
/// not the administrator of a FAILURE notice).
pub(crate) fn recipient_entry<'p>(
    intent: &NotificationIntent,
    process: &'p ProcessData,
) -> Option<(&'p ProcessStep, &'p Entry)> {
    if intent.role == RecipientRole::Initiator || intent.event_type == EventType::Failure {
        return None;
    }
    intent.signer_id.and_then(|id| process.find_entry(id))
}

/// The template context of one email.
pub(crate) fn build(
    intent: &NotificationIntent,
    process: &ProcessData,
    language: &str,
    settings: &ContextSettings<'_>,
) -> Value {
    let named = intent.signer_id.and_then(|id| process.find_entry(id));
    let recipient = recipient_entry(intent, process);
    let decliner = if matches!(
        intent.event_type,
        EventType::SignerDeclined | EventType::ApproverDeclined
    ) {
        named.map(|(_, e)| e).or_else(|| {
            process
                .entries()
                .find(|e| e.signing_status == SigningStatus::Declined)
        })
    } else {
        None
    };
    let step = intent
        .step_id
        .and_then(|id| process.find_step(id))
        .or(named.map(|(s, _)| s))
        .or_else(|| process.current_step());

    let mut ctx = Map::new();
    ctx.insert("process".into(), to_json(&ProcessVars::from(process)));
    ctx.insert("event_type".into(), json!(intent.event_type.as_str()));
    ctx.insert("role".into(), json!(intent.role.as_str()));
    ctx.insert("language".into(), json!(language));
    ctx.insert("recipient".into(), json!(intent.to.as_str()));
    ctx.insert("portal_url".into(), json!(settings.portal_url));
    ctx.insert(
        "created_at".into(),
        json!(format_instant(
            process.created_at,
            settings.timezone,
            language
        )),
    );
    if let Some(done) = process.completed_at {
        ctx.insert(
            "completed_at".into(),
            json!(format_instant(done, settings.timezone, language)),
        );
    }
    if let Some((_, entry)) = recipient {
        ctx.insert("signer".into(), to_json(&EntryVars::from(entry)));
        ctx.insert(
            "portal_link".into(),
            json!(format!("{}/process/{}", settings.portal_url, entry.id)),
        );
    }
    if let Some((_, entry)) = named {
        ctx.insert("actor".into(), to_json(&EntryVars::from(entry)));
    }
    if let Some(entry) = decliner {
        ctx.insert("decliner".into(), to_json(&EntryVars::from(entry)));
    }
    if let Some(step) = step {
        ctx.insert("step".into(), to_json(&StepVars::from(step)));
        if let Some(due) = step.due_date {
            ctx.insert(
                "due_date".into(),
                json!(format_instant(due, settings.timezone, language)),
            );
        }
    }
    Value::Object(ctx)
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// An instant in the service time zone, written as readers of `language` (the matrix
/// entry's tag) expect: `05.03.2026 14:00 (Europe/Riga)` in Estonian and Russian, ISO 8601
/// `2026-03-05 14:00 (Europe/Riga)` otherwise (the Lithuanian standard, and what the English
/// and Latvian templates have always shown).
pub(crate) fn format_instant(at: OffsetDateTime, tz: &TimeZone, language: &str) -> String {
    let pattern = date_pattern(language);
    match jiff::Timestamp::from_nanosecond(at.unix_timestamp_nanos()) {
        Ok(ts) => {
            let zoned = ts.to_zoned(tz.clone());
            match tz.iana_name() {
                Some(name) => format!("{} ({name})", zoned.strftime(pattern)),
                None => format!("{} {}", zoned.strftime(pattern), zoned.strftime("(UTC%:z)")),
            }
        }
        Err(_) => at.to_string(),
    }
}

/// The `strftime` pattern of the date and time for a language tag (by its primary subtag,
/// so `ru-lv` is written as `ru`).
fn date_pattern(language: &str) -> &'static str {
    match language.split('-').next().unwrap_or(language) {
        "et" | "ru" => "%d.%m.%Y %H:%M",
        _ => "%Y-%m-%d %H:%M",
    }
}

/// A made-up process used to try every template once when a matrix loads, so that a
/// template that cannot render (an unknown filter, say) stops the start instead of
/// failing every email later.
pub(crate) fn sample() -> ProcessData {
    let id = |n: u128| Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0000 | n);
    let at = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let entry = |n: u128, role: SignerRole, status: SigningStatus| Entry {
        id: EntryId::from_uuid(id(n)),
        details: SignerDetails {
            signer_name: Some(format!("Sample {role}")),
            signer_country: None,
            signer_personal_code: None,
            signer_email: Email::parse(&format!("sample{n}@example.com")).ok(),
            signer_role: role,
            comment_for_signer: Some("Sample comment".into()),
            signer_notification: true,
            signer_language: None,
        },
        signing_status: status,
        signer_comment: Some("Sample reason".into()),
    };
    let signers = vec![
        entry(3, SignerRole::Signer, SigningStatus::Declined),
        entry(4, SignerRole::Approver, SigningStatus::Approved),
        entry(5, SignerRole::Viewer, SigningStatus::WaitingForAction),
        entry(6, SignerRole::Administrator, SigningStatus::NotRequired),
        entry(7, SignerRole::Initiator, SigningStatus::NotRequired),
    ];
    let steps = ProcessOrder::new(1)
        .map(|order| {
            vec![ProcessStep {
                id: StepId::from_uuid(id(2)),
                process_order: order,
                step_status: StepStatus::Started,
                due_date: Some(at + time::Duration::days(3)),
                entries: signers,
            }]
        })
        .unwrap_or_default();
    ProcessData {
        id: ProcessId::from_uuid(id(1)),
        created_at: at,
        header: ProcessHeader {
            process_initiator_email: Email::parse("initiator@example.com").ok(),
            document_id: "sample-document".into(),
            document_name: Some("Sample document".into()),
            initiator: Some("sample".into()),
            comment: Some("Sample comment".into()),
            document_type: Some("contract".into()),
            owner_group: Some("sample".into()),
            initiator_name: Some("Sample Initiator".into()),
        },
        steps,
        status: ProcessStatus::Started,
        completed_at: Some(at),
        version: 1,
        deleted_at: None,
    }
}

/// An intent for the sample process: addressed to an entry of the role when there is one.
pub(crate) fn sample_intent(
    process: &ProcessData,
    event: EventType,
    role: RecipientRole,
) -> Option<NotificationIntent> {
    let entry = process
        .steps
        .iter()
        .flat_map(|s| s.entries.iter().map(move |e| (s, e)))
        .find(|(_, e)| RecipientRole::from(e.role()) == role)
        .or_else(|| {
            process
                .steps
                .first()
                .and_then(|s| s.entries.first().map(|e| (s, e)))
        });
    Some(NotificationIntent {
        event_type: event,
        role,
        to: Email::parse("sample@example.com").ok()?,
        language: None,
        process_id: process.id,
        step_id: entry.map(|(s, _)| s.id),
        signer_id: entry.map(|(_, e)| e.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_language_and_the_time_zone() {
        let at = time::macros::datetime!(2026-03-05 12:00 UTC);
        let riga = TimeZone::get("Europe/Riga").expect("a bundled zone");
        let cases = [
            ("en", "2026-03-05 14:00 (Europe/Riga)"),
            ("lv", "2026-03-05 14:00 (Europe/Riga)"),
            ("lt", "2026-03-05 14:00 (Europe/Riga)"),
            ("et", "05.03.2026 14:00 (Europe/Riga)"),
            ("ru", "05.03.2026 14:00 (Europe/Riga)"),
            ("ru-lv", "05.03.2026 14:00 (Europe/Riga)"),
        ];
        for (language, shown) in cases {
            assert_eq!(format_instant(at, &riga, language), shown, "{language}");
        }
        let fixed = TimeZone::fixed(jiff::tz::offset(3));
        assert_eq!(
            format_instant(at, &fixed, "et"),
            "05.03.2026 15:00 (UTC+03:00)"
        );
    }
}
