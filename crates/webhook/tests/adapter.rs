//! The webhook adapter against loopback targets (127.0.0.1 only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use pas_domain::ports::WebhookSender;
use pas_domain::webhook::{ANSWER_BYTES, Resolver, TIMEOUT};
use pas_webhook::{DnsResolver, HttpSender, USER_AGENT};

use support::{Reply, Target, closed_port, request};

fn sender() -> HttpSender {
    HttpSender::default()
}

#[tokio::test]
async fn the_signed_request_arrives_with_its_headers_and_body() {
    let target = Target::http(Reply::status(200).body("thanks")).await;
    let url = format!("http://127.0.0.1:{}/hooks/pas?tenant=7", target.port());
    let request = request(&url, target.address);

    let answer = sender().send(&request).await;

    assert_eq!(answer.status, Some(200));
    assert!(answer.succeeded());
    assert_eq!(answer.body.as_deref(), Some("thanks"));
    assert_eq!(answer.error, None);
    assert!(answer.duration > Duration::ZERO);
    let got = target.received();
    assert_eq!(got.len(), 1);
    let got = &got[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/hooks/pas?tenant=7");
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("webhook-id"), Some(request.id.as_str()));
    assert_eq!(
        got.header("webhook-timestamp"),
        Some(request.timestamp.to_string().as_str())
    );
    assert_eq!(
        got.header("webhook-signature"),
        Some(request.signature.as_str())
    );
    assert_eq!(got.header("user-agent"), Some(USER_AGENT));
    assert!(USER_AGENT.starts_with("process-and-auditing-service/"));
    assert_eq!(
        got.header("host"),
        Some(format!("127.0.0.1:{}", target.port()).as_str())
    );
    assert_eq!(got.body, request.body.as_bytes(), "the body byte for byte");
}

#[tokio::test]
async fn statuses_are_reported_as_they_come_and_only_2xx_succeeds() {
    for (status, body, succeeded) in [
        (200, "", true),
        (204, "", true),
        (500, "internal error", false),
        (410, "gone", false),
        (404, "", false),
    ] {
        let target = Target::http(Reply::status(status).body(body)).await;
        let url = format!("http://127.0.0.1:{}/hook", target.port());
        let answer = sender().send(&request(&url, target.address)).await;
        assert_eq!(answer.status, Some(status));
        assert_eq!(answer.succeeded(), succeeded, "{status}");
        assert_eq!(answer.gone(), status == 410);
        assert_eq!(answer.error, None, "{status}: an answer is no error");
        let expected = (!body.is_empty()).then(|| body.to_owned());
        assert_eq!(answer.body, expected, "{status}");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let elsewhere = Target::http(Reply::status(200)).await;
    let location = format!("http://127.0.0.1:{}/elsewhere", elsewhere.port());
    let target = Target::http(Reply::status(302).header("location", &location)).await;
    let url = format!("http://127.0.0.1:{}/hook", target.port());

    let answer = sender().send(&request(&url, target.address)).await;

    assert_eq!(answer.status, Some(302));
    assert!(!answer.succeeded());
    assert_eq!(answer.error, None);
    assert_eq!(target.received().len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        elsewhere.received().is_empty(),
        "the Location target got no request"
    );
}

#[tokio::test]
async fn a_slow_target_hits_the_timeout_and_gets_no_status() {
    let target = Target::http(Reply::status(200).after(Duration::from_secs(3))).await;
    let url = format!("http://127.0.0.1:{}/hook", target.port());
    let short = HttpSender::new(Duration::from_millis(300));
    assert_eq!(short.timeout(), Duration::from_millis(300));
    assert_eq!(sender().timeout(), TIMEOUT, "10 s unless shortened");

    let answer = short.send(&request(&url, target.address)).await;

    assert_eq!(answer.status, None);
    assert!(!answer.succeeded());
    assert_eq!(answer.body, None);
    assert_eq!(answer.error.as_deref(), Some("no answer within 300 ms"));
    assert!(
        answer.duration >= Duration::from_millis(290) && answer.duration < Duration::from_secs(2),
        "{:?}",
        answer.duration
    );
}

#[tokio::test]
async fn a_large_answer_is_cut_to_answer_bytes() {
    let big = vec![b'a'; 100 * 1024];
    let target = Target::http(Reply::status(200).body(big)).await;
    let url = format!("http://127.0.0.1:{}/hook", target.port());

    let answer = sender().send(&request(&url, target.address)).await;

    assert_eq!(answer.status, Some(200));
    assert_eq!(answer.body.as_deref().map(str::len), Some(ANSWER_BYTES));
    assert_eq!(ANSWER_BYTES, 1024);
    assert!(answer.body.unwrap().bytes().all(|b| b == b'a'));
}

/// A body that never ends: only its head is read, well before the timeout (reading it all
/// would take until the deadline, or for ever).
#[tokio::test]
async fn an_endless_answer_is_not_read_past_answer_bytes() {
    let target = Target::http(Reply::status(200).endless()).await;
    let url = format!("http://127.0.0.1:{}/hook", target.port());
    let sender = HttpSender::new(Duration::from_secs(5));

    let answer = sender.send(&request(&url, target.address)).await;

    assert_eq!(answer.status, Some(200));
    assert_eq!(answer.error, None);
    assert_eq!(answer.body.as_deref().map(str::len), Some(ANSWER_BYTES));
    assert!(
        answer.duration < Duration::from_secs(2),
        "{:?}",
        answer.duration
    );
}

#[tokio::test]
async fn an_answer_that_is_not_utf8_is_kept_lossily() {
    let target = Target::http(Reply::status(500).body(vec![b'o', b'k', 0xff, b'!'])).await;
    let url = format!("http://127.0.0.1:{}/hook", target.port());
    let answer = sender().send(&request(&url, target.address)).await;
    assert_eq!(answer.body.as_deref(), Some("ok\u{fffd}!"));
}

/// The URL's host is a name that resolves nowhere: the request still reaches the checked
/// address, since the sender never looks the host up, and `Host` keeps the name.
#[tokio::test]
async fn the_request_goes_to_the_checked_address_not_to_the_host_of_the_url() {
    let target = Target::http(Reply::status(204)).await;
    let url = format!("http://pinned.invalid:{}/hook", target.port());

    let answer = sender().send(&request(&url, target.address)).await;

    assert_eq!(answer.error, None);
    assert_eq!(answer.status, Some(204));
    let got = target.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("host"),
        Some(format!("pinned.invalid:{}", target.port()).as_str())
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_error_without_a_status() {
    let nowhere = closed_port().await;
    let url = format!("http://127.0.0.1:{}/hook", nowhere.port());

    let answer = sender().send(&request(&url, nowhere)).await;

    assert_eq!(answer.status, None);
    assert!(!answer.succeeded());
    assert_eq!(answer.body, None);
    assert_eq!(answer.error.as_deref(), Some("connection refused"));
}

/// HTTPS to the checked address: the TLS server name (and the name the certificate is
/// checked against) is the URL's host, not the address connected to.
#[tokio::test]
async fn https_uses_the_url_host_as_server_name_at_the_checked_address() {
    let target = Target::https(Reply::status(200).body("ok")).await;
    let url = format!("https://pinned.invalid:{}/hook", target.port());
    let trusting = sender()
        .with_root_certificates(support::CA_PEM)
        .expect("the fixture CA");

    let answer = trusting.send(&request(&url, target.address)).await;

    assert_eq!(answer.error, None);
    assert_eq!(answer.status, Some(200));
    let got = target.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].server_name.as_deref(), Some("pinned.invalid"));
    assert_eq!(
        got[0].header("host"),
        Some(format!("pinned.invalid:{}", target.port()).as_str())
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error_without_a_status() {
    let target = Target::https(Reply::status(200)).await;
    let url = format!("https://pinned.invalid:{}/hook", target.port());

    // The built-in roots do not know the fixture CA.
    let answer = sender().send(&request(&url, target.address)).await;

    assert_eq!(answer.status, None);
    let error = answer.error.unwrap_or_default();
    assert!(error.starts_with("TLS failed: "), "{error}");
    assert!(error.contains("certificate"), "{error}");
    assert!(target.received().is_empty());
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let target = Target::https(Reply::status(200)).await;
    // The certificate names pinned.invalid; the URL another host at the same address.
    let url = format!("https://other.invalid:{}/hook", target.port());
    let trusting = sender().with_root_certificates(support::CA_PEM).unwrap();

    let answer = trusting.send(&request(&url, target.address)).await;

    assert_eq!(answer.status, None);
    let error = answer.error.unwrap_or_default();
    assert!(error.starts_with("TLS failed: "), "{error}");
    assert!(target.received().is_empty());
}

#[test]
fn root_certificates_must_hold_a_certificate() {
    assert!(sender().with_root_certificates(b"not pem").is_err());
}

#[test]
fn the_resolver_is_bounded_by_the_timeout_it_is_given() {
    assert_eq!(
        DnsResolver::default().timeout(),
        TIMEOUT,
        "10 s unless shortened"
    );
    assert_eq!(DnsResolver::default(), DnsResolver::new(TIMEOUT));
    let short = DnsResolver::new(Duration::from_millis(1_500));
    assert_eq!(short.timeout(), Duration::from_millis(1_500));
}

#[tokio::test]
async fn the_resolver_finds_localhost_on_loopback() {
    let addresses = DnsResolver::default().resolve("localhost").await;
    assert!(!addresses.is_empty());
    assert!(addresses.iter().all(|a| a.is_loopback()), "{addresses:?}");
    let mut unique = addresses.clone();
    unique.dedup();
    assert_eq!(unique.len(), addresses.len(), "each address once");
}

#[tokio::test]
async fn the_resolver_reads_an_address_literal_without_a_lookup() {
    // A bound too short for any lookup: a literal needs none.
    let addresses = DnsResolver::new(Duration::ZERO).resolve("127.0.0.1").await;
    assert_eq!(
        addresses,
        vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
    );
}
