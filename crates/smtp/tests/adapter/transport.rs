//! The transports: real SMTP on loopback and `.eml` files.

use pas_domain::prelude::*;
use pas_smtp::{Transport, TransportError};

use crate::support::*;

fn sample_message(subject_suffix: &str) -> lettre::Message {
    let process = started(standard_input());
    let intent = entry_intent(&process, EventType::TaskStarted, "boss@example.co.uk");
    let r = renderer();
    let mut email = r.render(&intent, &process).unwrap().unwrap();
    email.subject.push_str(subject_suffix);
    r.message(&email, "<fixed-id@signing.example.lv>").unwrap()
}

#[tokio::test]
async fn smtp_transport_delivers_to_a_real_server() {
    let server = SmtpServer::start();
    let transport = Transport::smtp(&server.url()).unwrap();
    transport.send(sample_message("")).await.expect("delivered");
    let got = server.wait_for(1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, vec!["boss@example.co.uk".to_owned()]);
    assert_eq!(got[0].from, "noreply@signing.example.lv");
    assert_eq!(
        got[0].header("Message-ID").as_deref(),
        Some("<fixed-id@signing.example.lv>")
    );
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("Please approve: Lease 17")
    );
}

#[tokio::test]
async fn eml_file_is_written_and_the_directory_created_when_smtp_url_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("data").join("mail");
    let transport = Transport::from_config(None, &mail_dir).unwrap();
    assert!(
        transport.describe().contains("mail"),
        "{}",
        transport.describe()
    );
    transport.send(sample_message("")).await.expect("written");
    let files: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().and_then(|e| e.to_str()), Some("eml"));
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(
        raw.contains("Message-ID: <fixed-id@signing.example.lv>"),
        "{raw}"
    );
    assert!(
        raw.contains("To: \"Ben Boss\" <boss@example.co.uk>"),
        "{raw}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_transient_error_that_never_shows_the_password() {
    let port = free_port();
    let transport = Transport::smtp(&format!("smtp://mailer:hunter2%21@127.0.0.1:{port}")).unwrap();
    assert_eq!(
        transport.describe(),
        format!("smtp://mailer:***@127.0.0.1:{port}")
    );
    assert!(!format!("{transport:?}").contains("hunter2"));
    let err = transport.send(sample_message("")).await.unwrap_err();
    assert!(
        matches!(
            err,
            TransportError::Smtp {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_permanent());
    let text = format!("{err} {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn a_rejected_recipient_is_a_permanent_error() {
    let server = SmtpServer::start();
    let transport = Transport::smtp(&server.url()).unwrap();
    let process = started(standard_input());
    let mut intent = entry_intent(&process, EventType::TaskStarted, "boss@example.co.uk");
    intent.to = email("bounce@example.lv");
    let r = renderer();
    let rendered = r.render(&intent, &process).unwrap().unwrap();
    let err = transport
        .send(r.message(&rendered, "<b@signing.example.lv>").unwrap())
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

#[test]
fn invalid_smtp_url_is_refused_without_echoing_the_password() {
    for url in [
        "ftp://user:s3cret@host:21",
        "smtp://user:s3cret@",
        "smtp://user:s3cret@host?tls=maybe",
    ] {
        let err = Transport::smtp(url).unwrap_err();
        assert!(matches!(err, TransportError::Config(_)), "{url}: {err:?}");
        assert!(err.to_string().starts_with("invalid SMTP_URL"), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
