//! Rendering intents into emails with the built-in matrix.

use pas_domain::ports::OutboxMessage;
use pas_domain::prelude::*;
use pas_smtp::{Matrix, Renderer};
use serde_json::json;
use uuid::Uuid;

use crate::support::*;

#[test]
fn task_started_email_has_the_portal_link_and_the_due_date_in_the_service_time_zone() {
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::TaskStarted, "anna@example.lv");
    let signer = intent.signer_id.unwrap();
    let email = renderer()
        .render(&intent, &process)
        .unwrap()
        .expect("an email");

    let link = format!("https://portal.example.lv/process/{signer}");
    // 12:00 UTC is 14:00 in Riga in March (EET, UTC+2).
    let due = "2026-03-05 14:00 (Europe/Riga)";
    let html = email.html.as_ref().unwrap();
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
    for body in [&email.text, html] {
        assert!(body.contains(&link), "{body}");
        assert!(body.contains(due), "{body}");
        assert!(body.contains("See page 3"), "commentForSigner: {body}");
    }
    assert_eq!(email.language, "lv");
    assert_eq!(email.subject, "Lūdzu, parakstiet: Lease 17");
    assert_eq!(email.to.as_str(), "anna@example.lv");
    assert_eq!(email.to_name.as_deref(), Some("Anna Bērziņa"));
    assert!(
        email.text.starts_with("Labdien, Anna Bērziņa!"),
        "{}",
        email.text
    );
}

#[test]
fn en_gb_recipient_gets_english_and_unknown_language_gets_the_default() {
    let process = started(standard_input());
    let r = renderer();
    let approver = entry_intent(&process, EventType::TaskStarted, "boss@example.co.uk");
    let email = r.render(&approver, &process).unwrap().unwrap();
    assert_eq!(email.language, "en");
    assert_eq!(email.subject, "Please approve: Lease 17");

    let viewer = entry_intent(&process, EventType::TaskStarted, "claire@example.fr");
    let email = r.render(&viewer, &process).unwrap().unwrap();
    assert_eq!(email.language, "en");
    assert_eq!(email.subject, "For your review: Lease 17");
}

#[test]
fn html_part_escapes_a_script_in_the_document_name_and_text_part_keeps_it() {
    let mut input = standard_input();
    input["documentName"] = json!("<script>alert('x')</script> & Co");
    let process = started(input);
    let intent = entry_intent(&process, EventType::TaskStarted, "boss@example.co.uk");
    let email = renderer().render(&intent, &process).unwrap().unwrap();
    let html = email.html.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(html.contains("&amp; Co"), "{html}");
    assert!(email.text.contains("<script>alert('x')</script> & Co"));
    assert_eq!(
        email.subject,
        "Please approve: <script>alert('x')</script> & Co"
    );
}

#[test]
fn reply_to_is_the_initiator_only_when_configured() {
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::TaskStarted, "anna@example.lv");
    let plain = renderer().render(&intent, &process).unwrap().unwrap();
    assert_eq!(plain.reply_to, None);

    let mut s = settings();
    s.reply_to_initiator = true;
    let r = Renderer::new(Matrix::builtin().unwrap(), s);
    let email = r.render(&intent, &process).unwrap().unwrap();
    assert_eq!(
        email.reply_to.as_ref().map(|e| e.as_str()),
        Some("office@example.lv")
    );
    let raw = String::from_utf8(
        r.message(&email, "<x@signing.example.lv>")
            .unwrap()
            .formatted(),
    )
    .unwrap();
    assert!(raw.contains("Reply-To: office@example.lv"), "{raw}");
}

#[test]
fn message_has_from_to_stable_message_id_and_multipart_alternative_body() {
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::TaskStarted, "boss@example.co.uk");
    let r = renderer();
    let row = OutboxMessage {
        id: Uuid::now_v7(),
        intent: intent.clone(),
        attempts: 3,
        created_at: T0,
    };
    let email = r.render(&intent, &process).unwrap().unwrap();
    let id = row.message_id(r.message_id_host());
    assert_eq!(id, format!("<{}@signing.example.lv>", row.id));
    let first = String::from_utf8(r.message(&email, &id).unwrap().formatted()).unwrap();
    let again = String::from_utf8(r.message(&email, &id).unwrap().formatted()).unwrap();
    for raw in [&first, &again] {
        assert!(raw.contains(&format!("Message-ID: {id}")), "{raw}");
    }
    assert!(
        first.contains("From: \"Signing Service\" <noreply@signing.example.lv>"),
        "{first}"
    );
    assert!(
        first.contains("To: \"Ben Boss\" <boss@example.co.uk>"),
        "{first}"
    );
    assert!(
        first.contains("Subject: Please approve: Lease 17"),
        "{first}"
    );
    assert!(
        first.contains("Content-Type: multipart/alternative"),
        "{first}"
    );
    assert!(
        first.contains("Content-Type: text/plain; charset=utf-8"),
        "{first}"
    );
    assert!(
        first.contains("Content-Type: text/html; charset=utf-8"),
        "{first}"
    );
}

#[test]
fn decline_email_to_the_initiator_names_the_decliner_and_the_reason() {
    let mut process = started(standard_input());
    let anna = entry_id(&process, "anna@example.lv");
    let change = process
        .act(anna, Action::Decline, Some("Wrong amount".into()), T0)
        .unwrap();
    let to_initiator = change
        .notifications
        .iter()
        .find(|n| n.role == pas_domain::notify::RecipientRole::Initiator)
        .expect("the initiator is told");
    let email = renderer().render(to_initiator, &process).unwrap().unwrap();
    assert_eq!(email.subject, "Signing declined: Lease 17");
    assert!(
        email.text.contains("Anna Bērziņa declined to sign"),
        "{}",
        email.text
    );
    assert!(
        email.text.contains("Reason: Wrong amount"),
        "{}",
        email.text
    );

    let to_anna = change
        .notifications
        .iter()
        .find(|n| {
            n.signer_id == Some(anna) && n.role != pas_domain::notify::RecipientRole::Initiator
        })
        .expect("the decliner is told");
    let email = renderer().render(to_anna, &process).unwrap().unwrap();
    assert_eq!(email.language, "lv");
    assert!(
        email.text.contains("Jūs atteicāties parakstīt"),
        "{}",
        email.text
    );
    assert!(email.text.contains("Wrong amount"), "{}", email.text);
}

#[test]
fn every_builtin_email_renders_for_a_real_process_in_both_languages() {
    let mut process = started(standard_input());
    let boss = entry_id(&process, "boss@example.co.uk");
    let _ = process.act(boss, Action::Approve, None, T0).unwrap();
    let r = renderer();
    for (event, role, language) in r.matrix().emails() {
        let mut intent = match role {
            pas_domain::notify::RecipientRole::Initiator => initiator_intent(&process, event),
            _ => entry_intent(&process, EventType::TaskStarted, "anna@example.lv"),
        };
        intent.event_type = event;
        intent.role = role;
        intent.language = Some(pas_domain::language::Language::parse(&language).unwrap());
        let email = r.render(&intent, &process).unwrap().expect("an email");
        assert!(!email.subject.is_empty() && !email.subject.contains('\n'));
        assert!(
            email.text.contains("Lease 17"),
            "{event}.{role}.{language}: {}",
            email.text
        );
        assert!(!email.text.contains("{{"), "{event}.{role}.{language}");
        assert!(email.html.is_some(), "{event}.{role}.{language} has HTML");
    }
}

#[test]
fn a_suppressed_role_renders_nothing_and_has_no_subject() {
    let process = started(standard_input());
    let intent = initiator_intent(&process, EventType::SignerSigned);
    assert_eq!(renderer().render(&intent, &process).unwrap(), None);
    assert_eq!(renderer().subject(&intent, &process).unwrap(), None);
}

#[test]
fn process_started_email_to_the_initiator_shows_the_first_step_due_date() {
    let process = started(standard_input());
    let intent = initiator_intent(&process, EventType::ProcessStarted);
    let email = renderer().render(&intent, &process).unwrap().unwrap();
    assert_eq!(email.to_name.as_deref(), Some("Office Manager"));
    assert!(
        email
            .text
            .contains("First step due: 2026-03-05 14:00 (Europe/Riga)"),
        "{}",
        email.text
    );
    assert!(
        email.text.contains("Participants who sign or approve: 3"),
        "{}",
        email.text
    );
}

#[test]
fn the_default_mail_from_with_a_localhost_domain_builds_a_message() {
    let mut s = settings();
    s.from = "Signing Service <noreply@localhost>"
        .parse()
        .expect("the default MAIL_FROM parses");
    let r = Renderer::new(Matrix::builtin().unwrap(), s);
    assert_eq!(r.message_id_host(), "localhost");
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::TaskStarted, "dan@example.lv");
    let email = r.render(&intent, &process).unwrap().unwrap();
    let raw = String::from_utf8(r.message(&email, "<1@localhost>").unwrap().formatted()).unwrap();
    assert!(
        raw.contains("From: \"Signing Service\" <noreply@localhost>"),
        "{raw}"
    );
}

#[test]
fn due_date_uses_the_configured_time_zone_utc_too() {
    let mut s = settings();
    s.timezone = jiff::tz::TimeZone::UTC;
    let r = Renderer::new(Matrix::builtin().unwrap(), s);
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::Reminder, "boss@example.co.uk");
    let email = r.render(&intent, &process).unwrap().unwrap();
    assert_eq!(email.subject, "Reminder: please approve Lease 17");
    assert!(
        email.text.contains("Due: 2026-03-05 12:00 (UTC)"),
        "{}",
        email.text
    );
}
