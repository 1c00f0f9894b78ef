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
        payload: pas_domain::outbox::OutboxPayload::Notification(intent.clone()),
        attempts: 3,
        created_at: T0,
        queued_at: T0,
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

/// Every language of the built-in matrix, English first.
const LANGUAGES: [&str; 5] = ["en", "lv", "lt", "et", "ru"];

/// A process past its first approval (so every event has something to tell) and an intent
/// of `event` to `role` in `language`: to the initiator, or to Anna's entry.
fn builtin_intent(
    process: &ProcessData,
    event: EventType,
    role: pas_domain::notify::RecipientRole,
    language: &str,
) -> pas_domain::notify::NotificationIntent {
    let mut intent = match role {
        pas_domain::notify::RecipientRole::Initiator => initiator_intent(process, event),
        _ => entry_intent(process, EventType::TaskStarted, "anna@example.lv"),
    };
    intent.event_type = event;
    intent.role = role;
    intent.language = Some(pas_domain::language::Language::parse(language).unwrap());
    intent
}

fn approved_process() -> SigningProcess {
    let mut process = started(standard_input());
    let boss = entry_id(&process, "boss@example.co.uk");
    let _ = process.act(boss, Action::Approve, None, T0).unwrap();
    process
}

/// The paragraphs of a plain-text body: blocks between blank lines, trimmed.
fn text_paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The paragraphs of an HTML body: the contents of its `<p …>…</p>` elements, trimmed.
fn html_paragraphs(html: &str) -> Vec<String> {
    html.split("<p")
        .skip(1)
        .filter_map(|rest| {
            let (_, inner) = rest.split_once('>')?;
            let (inner, _) = inner.split_once("</p>")?;
            Some(inner.trim().to_owned())
        })
        .filter(|p| !p.is_empty())
        .collect()
}

#[test]
fn every_builtin_email_renders_for_a_real_process_in_every_language() {
    let process = approved_process();
    let r = renderer();
    for (event, role, language) in r.matrix().emails() {
        let intent = builtin_intent(&process, event, role, &language);
        let email = r.render(&intent, &process).unwrap().expect("an email");
        assert_eq!(email.language, language);
        assert!(!email.subject.is_empty() && !email.subject.contains('\n'));
        assert!(
            email.subject.contains("Lease 17"),
            "{event}.{role}.{language}: {}",
            email.subject
        );
        assert!(
            email.text.contains("Lease 17"),
            "{event}.{role}.{language}: {}",
            email.text
        );
        assert!(!email.text.contains("{{"), "{event}.{role}.{language}");
        let html = email.html.expect("every built-in entry has HTML");
        assert!(
            html.contains(&format!("<html lang=\"{language}\">")),
            "{event}.{role}.{language}: {html}"
        );
    }
}

#[test]
fn every_event_and_role_has_every_language_and_no_paragraph_is_left_in_english() {
    let process = approved_process();
    let r = renderer();
    let pairs: std::collections::BTreeSet<_> = r
        .matrix()
        .emails()
        .into_iter()
        .map(|(event, role, _)| (event, role))
        .collect();
    assert_eq!(pairs.len(), 20, "the entries of PRODUCT.md section 7");
    let link = "https://portal.example.lv/process/";
    for (event, role) in pairs {
        let mut languages = r.matrix().email_languages(event, role);
        languages.sort_unstable();
        let mut expected = LANGUAGES;
        expected.sort_unstable();
        assert_eq!(languages, expected, "{event}.{role}");

        let render = |language: &str| {
            let intent = builtin_intent(&process, event, role, language);
            r.render(&intent, &process).unwrap().expect("an email")
        };
        let english = render("en");
        let english_text = text_paragraphs(&english.text);
        let english_html = html_paragraphs(english.html.as_deref().unwrap_or_default());
        for language in &LANGUAGES[1..] {
            let email = render(language);
            let at = format!("{event}.{role}.{language}");
            assert_eq!(email.language, *language, "{at}");
            assert_ne!(email.subject, english.subject, "{at}: subject");
            let html = email.html.as_deref().unwrap_or_default();
            let paragraphs = text_paragraphs(&email.text);
            assert_eq!(
                paragraphs.len(),
                english_text.len(),
                "{at}: as many paragraphs as English\n{}",
                email.text
            );
            for paragraph in &paragraphs {
                assert!(
                    !english_text.contains(paragraph),
                    "{at}: untranslated paragraph {paragraph:?}"
                );
            }
            let html_paragraphs = html_paragraphs(html);
            assert_eq!(html_paragraphs.len(), english_html.len(), "{at}: {html}");
            for paragraph in &html_paragraphs {
                assert!(
                    !english_html.contains(paragraph),
                    "{at}: untranslated HTML paragraph {paragraph:?}"
                );
            }
            // The portal link wherever English has it.
            assert_eq!(
                email.text.contains(link),
                english.text.contains(link),
                "{at}"
            );
            assert_eq!(
                html.contains(link),
                english.html.as_deref().unwrap_or_default().contains(link),
                "{at}"
            );
        }
    }
}

#[test]
fn due_dates_are_written_as_each_language_writes_them() {
    let process = started(standard_input());
    let r = renderer();
    for (language, due, label) in [
        ("en", "2026-03-05 14:00 (Europe/Riga)", "Due: "),
        ("lv", "2026-03-05 14:00 (Europe/Riga)", "Termiņš: "),
        ("lt", "2026-03-05 14:00 (Europe/Riga)", "Terminas: "),
        ("et", "05.03.2026 14:00 (Europe/Riga)", "Tähtaeg: "),
        ("ru", "05.03.2026 14:00 (Europe/Riga)", "Срок: "),
    ] {
        let mut intent = entry_intent(&process, EventType::Reminder, "boss@example.co.uk");
        intent.language = Some(pas_domain::language::Language::parse(language).unwrap());
        let email = r.render(&intent, &process).unwrap().expect("an email");
        let line = format!("{label}{due}");
        assert!(email.text.contains(&line), "{language}: {}", email.text);
        assert!(email.html.unwrap_or_default().contains(&line), "{language}");
    }
}

#[test]
fn greetings_and_subjects_are_formal_in_each_language() {
    let process = started(standard_input());
    let r = renderer();
    for (language, subject, greeting) in [
        ("lt", "Prašome pasirašyti: Lease 17", "Gerb. Dan,"),
        ("et", "Palun allkirjastage: Lease 17", "Tere, Dan!"),
        ("ru", "Просим подписать: Lease 17", "Здравствуйте, Dan!"),
    ] {
        let mut intent = entry_intent(&process, EventType::TaskStarted, "dan@example.lv");
        intent.language = Some(pas_domain::language::Language::parse(language).unwrap());
        let email = r.render(&intent, &process).unwrap().expect("an email");
        assert_eq!(email.subject, subject);
        assert!(email.text.starts_with(greeting), "{}", email.text);
    }
}

#[test]
fn mail_default_language_comes_after_the_recipient_language_and_before_english() {
    let process = started(standard_input());
    let mut s = settings();
    s.default_language = pas_domain::language::Language::parse("lt").unwrap();
    let r = Renderer::new(Matrix::builtin().unwrap(), s);
    let subject = |email: &str, language: Option<&str>| {
        let mut intent = entry_intent(&process, EventType::TaskStarted, email);
        if let Some(tag) = language {
            intent.language = Some(pas_domain::language::Language::parse(tag).unwrap());
        }
        let rendered = r.render(&intent, &process).unwrap().expect("an email");
        (rendered.language, rendered.subject)
    };
    // Dan has no signerLanguage: MAIL_DEFAULT_LANGUAGE.
    assert_eq!(
        subject("dan@example.lv", None),
        ("lt".into(), "Prašome pasirašyti: Lease 17".into())
    );
    // Anna's lv wins over it; a region falls back to its language; an unknown one to lt.
    assert_eq!(subject("anna@example.lv", None).0, "lv");
    assert_eq!(subject("dan@example.lv", Some("ru-LV")).0, "ru");
    assert_eq!(subject("dan@example.lv", Some("et-EE")).0, "et");
    assert_eq!(subject("dan@example.lv", Some("fr")).0, "lt");
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

/// The FAILURE notice about a webhook delivery (PRODUCT.md section 12) names the process
/// only: no step, no entry. It renders in every language, without an entry line, and says
/// that an email or a webhook failed; the notice about an entry's email keeps its wording.
#[test]
fn a_failure_notice_without_an_entry_renders_in_every_language() {
    let process = approved_process();
    let r = renderer();
    let notice = |language: &str, entry: bool| {
        let mut intent = if entry {
            entry_intent(&process, EventType::TaskStarted, "anna@example.lv")
        } else {
            initiator_intent(&process, EventType::TaskStarted)
        };
        intent.event_type = EventType::Failure;
        intent.role = pas_domain::notify::RecipientRole::Administrator;
        intent.to = email("admin@example.lv");
        intent.language = Some(pas_domain::language::Language::parse(language).unwrap());
        if !entry {
            assert_eq!((intent.step_id, intent.signer_id), (None, None));
        }
        r.render(&intent, &process).unwrap().expect("an email")
    };
    let english = notice("en", false);
    assert_eq!(english.subject, "Delivery failed: Lease 17");
    assert!(
        english
            .text
            .contains("An email or a webhook about the signing process"),
        "{}",
        english.text
    );
    assert!(english.text.contains("webhook subscription's deliveries"));
    assert_eq!(
        notice("en", true).subject,
        "Email delivery failed: Lease 17"
    );
    assert!(notice("en", true).text.contains("Entry concerned: Anna"));
    for language in LANGUAGES {
        let email = notice(language, false);
        let at = format!("FAILURE without an entry, {language}");
        assert!(
            email.subject.ends_with(": Lease 17"),
            "{at}: {}",
            email.subject
        );
        assert_ne!(email.subject, notice(language, true).subject, "{at}");
        assert!(
            !email.text.contains("{{") && !email.text.contains("{%"),
            "{at}"
        );
        assert!(email.text.contains(&process.id.to_string()), "{at}");
        assert!(!email.text.contains("Anna"), "{at}: no entry line");
        assert!(email.text.contains("webhook"), "{at}: {}", email.text);
        let html = email.html.expect("HTML");
        assert!(html.contains("webhook"), "{at}: {html}");
        if language != "en" {
            assert_ne!(email.subject, english.subject, "{at}");
            // The sentences are translated ("Process: <id>" is Latvian too).
            let (ours, theirs) = (text_paragraphs(&email.text), text_paragraphs(&english.text));
            assert_eq!(ours.len(), theirs.len(), "{at}");
            for (paragraph, english) in ours.iter().zip(&theirs) {
                if paragraph.contains("webhook") {
                    assert_ne!(paragraph, english, "{at}: untranslated paragraph");
                }
            }
        }
    }
}
