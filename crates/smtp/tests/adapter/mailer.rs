//! The `Mailer` port: test emails and subjects.

use std::sync::Arc;

use pas_domain::language::Language;
use pas_domain::notify::RecipientRole;
use pas_domain::ports::{MailError, Mailer, SentEmail, TestLanguages};
use pas_domain::prelude::*;

use crate::support::*;

#[tokio::test]
async fn send_test_sends_to_every_address_of_the_role_and_stores_nothing() {
    let server = SmtpServer::start();
    let mailer = mailer(smtp(&server.url()));
    // A posted process, never stored: a draft is enough.
    let process = create(standard_input()).into_data();
    let sent = mailer
        .send_test(
            process,
            EventType::TaskStarted,
            RecipientRole::Signer,
            TestLanguages::Recipients,
        )
        .await
        .unwrap();
    assert_eq!(
        sent,
        vec![
            SentEmail {
                to: "anna@example.lv".into(),
                subject: "Lūdzu, parakstiet: Lease 17".into()
            },
            SentEmail {
                to: "dan@example.lv".into(),
                subject: "Please sign: Lease 17".into()
            },
        ]
    );
    let got = server.wait_for(2);
    let mut to: Vec<_> = got.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["anna@example.lv", "dan@example.lv"]);
}

#[tokio::test]
async fn send_test_to_the_initiator_uses_process_initiator_email() {
    let server = SmtpServer::start();
    let mailer = mailer(smtp(&server.url()));
    let process = create(standard_input()).into_data();
    let sent = mailer
        .send_test(
            process,
            EventType::ProcessCompleted,
            RecipientRole::Initiator,
            TestLanguages::Recipients,
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "office@example.lv");
    assert_eq!(
        server.wait_for(1)[0].to,
        vec!["office@example.lv".to_owned()]
    );
}

#[tokio::test]
async fn send_test_without_a_template_or_without_a_recipient_is_an_error_and_sends_nothing() {
    let server = SmtpServer::start();
    let mailer = mailer(smtp(&server.url()));
    let process = create(standard_input()).into_data();
    let err = mailer
        .send_test(
            process.clone(),
            EventType::SignerSigned,
            RecipientRole::Initiator,
            TestLanguages::Recipients,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        MailError::NoTemplate {
            event: EventType::SignerSigned,
            role: RecipientRole::Initiator
        }
    );
    let err = mailer
        .send_test(
            process,
            EventType::ProcessCanceled,
            RecipientRole::Administrator,
            TestLanguages::Recipients,
        )
        .await
        .unwrap_err();
    assert_eq!(err, MailError::NoRecipient(RecipientRole::Administrator));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn send_test_reports_a_transport_failure() {
    let mailer = mailer(smtp(&format!("smtp://127.0.0.1:{}", free_port())));
    let process = create(standard_input()).into_data();
    let err = mailer
        .send_test(
            process,
            EventType::TaskStarted,
            RecipientRole::Viewer,
            TestLanguages::Recipients,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn send_test_in_all_languages_sends_each_address_one_email_per_language_of_the_entry() {
    let server = SmtpServer::start();
    let mailer = mailer(smtp(&server.url()));
    let process = create(standard_input()).into_data();
    let sent = mailer
        .send_test(
            process,
            EventType::TaskStarted,
            RecipientRole::Approver,
            TestLanguages::All,
        )
        .await
        .unwrap();
    let subjects: Vec<&str> = sent.iter().map(|s| s.subject.as_str()).collect();
    // Tag order: en, et, lt, lv, ru.
    assert_eq!(
        subjects,
        [
            "Please approve: Lease 17",
            "Palun kinnitage: Lease 17",
            "Prašome patvirtinti: Lease 17",
            "Lūdzu, apstipriniet: Lease 17",
            "Просим утвердить: Lease 17",
        ]
    );
    assert!(
        sent.iter().all(|s| s.to == "boss@example.co.uk"),
        "{sent:?}"
    );
    assert_eq!(server.wait_for(5).len(), 5);
}

#[tokio::test]
async fn send_test_in_one_language_follows_the_fallback_chain() {
    let server = SmtpServer::start();
    let mailer = mailer(smtp(&server.url()));
    let process = create(standard_input()).into_data();
    let send = |tag: &str| {
        let process = process.clone();
        let languages = TestLanguages::Only(Language::parse(tag).unwrap());
        let mailer = mailer.clone();
        async move {
            mailer
                .send_test(
                    process,
                    EventType::TaskStarted,
                    RecipientRole::Approver,
                    languages,
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(send("ru-LV").await[0].subject, "Просим утвердить: Lease 17");
    assert_eq!(send("de").await[0].subject, "Please approve: Lease 17");
    server.wait_for(2);
}

#[test]
fn subject_of_an_intent_is_rendered_and_none_when_suppressed() {
    let transport =
        Arc::new(pas_smtp::Transport::file(tempfile::tempdir().unwrap().path()).unwrap());
    let mailer = mailer(transport);
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::TaskStarted, "dan@example.lv");
    assert_eq!(
        mailer.subject(&intent, &process).unwrap().as_deref(),
        Some("Please sign: Lease 17")
    );
    let intent = initiator_intent(&process, EventType::SignerSigned);
    assert_eq!(mailer.subject(&intent, &process).unwrap(), None);
}
