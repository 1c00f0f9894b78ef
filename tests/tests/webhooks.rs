//! Webhooks end to end (PRODUCT.md section 12), on both databases: a receiver on loopback
//! checks every delivery with its own implementation of Standard Webhooks 1.0 (HMAC-SHA256
//! with the `hmac` crate, checked first against the specification's published test vector,
//! never the service's signing code).
//!
//! Every target is on loopback (127.0.0.1, `localhost`): the refusal of other ranges is
//! tested in the domain with a resolver stub, never by connecting anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use pas_e2e::{TestApp, each_backend};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The Latvian personal code of the signer of [`one_signer`], as sent and as stored.
const CODE: &str = "161175-19997";

/// The loopback flags every delivering test needs, with fast retries.
const LOOPBACK: &[(&str, &str)] = &[
    ("WEBHOOK_ALLOW_HTTP", "true"),
    ("WEBHOOK_ALLOW_PRIVATE", "true"),
    ("MAIL_POLL_MS", "50"),
    ("MAIL_FIRST_RETRY_SECONDS", "1"),
];

// ---------------------------------------------------------------------------------------
// An independent verifier of Standard Webhooks signatures.

/// Whether `header` (`v1,<b64> v1,<b64>…`) holds a valid signature of `id.timestamp.body`
/// under `secret` (`whsec_<b64>`).
fn verifies(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = BASE64.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|sig| sig == expected)
}

#[test]
fn the_verifier_reproduces_the_published_test_vector() {
    // From the Standard Webhooks specification's reference implementations.
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    let body = br#"{"test": 2432232314}"#;
    let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    assert!(verifies(secret, id, "1614265330", body, good));
    assert!(verifies(
        secret,
        id,
        "1614265330",
        body,
        &format!("v1,AAAA {good}")
    ));
    assert!(!verifies(secret, id, "1614265331", body, good));
    assert!(!verifies(
        secret,
        id,
        "1614265330",
        br#"{"test": 2432232315}"#,
        good
    ));
}

// ---------------------------------------------------------------------------------------
// A receiver on loopback.

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or_else(
            || panic!("no {name} header in {:?}", self.headers),
            String::as_str,
        )
    }

    fn id(&self) -> &str {
        self.header("webhook-id")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap().to_owned()
    }

    /// Verified under `secret`, with a timestamp within five minutes of now.
    fn verified_by(&self, secret: &str) -> bool {
        let timestamp = self.header("webhook-timestamp");
        let sent: i64 = timestamp.parse().expect("seconds");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        (now - sent).abs() < 300
            && verifies(
                secret,
                self.id(),
                timestamp,
                &self.body,
                self.header("webhook-signature"),
            )
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// `204 No Content`.
    Accept,
    /// This status, with a long body.
    Status(u16),
    /// Waits this long, then 204.
    Slow(Duration),
}

#[derive(Clone)]
struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    server: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = Self {
            port,
            received: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            server: Arc::default(),
        };
        receiver.serve(listener);
        receiver
    }

    /// A port for a receiver that is not listening yet: [`Receiver::up`] starts it.
    async fn down() -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        Self {
            port,
            received: Arc::default(),
            behaviour: Arc::new(Mutex::new(Behaviour::Accept)),
            server: Arc::default(),
        }
    }

    async fn up(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let (received, behaviour) = (self.received.clone(), self.behaviour.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (received, behaviour) = (received.clone(), behaviour.clone());
                tokio::spawn(async move {
                    let _ = answer(stream, &received, &behaviour).await;
                });
            }
        });
        *self.server.lock().unwrap() = Some(task);
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn behave(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received (at most 20 s).
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never received {what}; got {:?}",
                got.iter().map(Received::event_type).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Reads one HTTP/1.1 request (headers, then `content-length` bytes) and answers it.
async fn answer(
    mut stream: TcpStream,
    received: &Mutex<Vec<Received>>,
    behaviour: &Mutex<Behaviour>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let headers: BTreeMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..].to_vec();
    let now = *behaviour.lock().unwrap();
    let (status, text) = match now {
        Behaviour::Accept => (204, String::new()),
        Behaviour::Status(s) => (s, "x".repeat(5000)),
        Behaviour::Slow(wait) => {
            tokio::time::sleep(wait).await;
            (204, String::new())
        }
    };
    received.lock().unwrap().push(Received { headers, body });
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

// ---------------------------------------------------------------------------------------
// Helpers over the API.

/// A STARTED process of `sales` with one signer step (the signer has [`CODE`]).
fn one_signer(document: &str) -> Value {
    json!({
        "documentId": document,
        "documentName": "Lease",
        "ownerGroup": "sales",
        "status": "STARTED",
        "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
            {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerCountry": "LV",
             "signerPersonalCode": CODE, "signerName": "Client"}
        ]}]
    })
}

fn signer_of(process: &Value) -> String {
    process["signers"][0]["id"].as_str().unwrap().to_owned()
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> Value {
    let created = app
        .post(
            "/webhooks",
            json!({"url": url, "events": events, "ownerGroup": "sales"}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/webhooks/{id}").as_str())
    );
    assert!(
        created.body["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    created.body
}

async fn deliveries(app: &TestApp, subscription: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/webhooks/{subscription}/deliveries?size=200"))
        .await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    page.body["content"].as_array().unwrap().clone()
}

async fn wait_deliveries(
    app: &TestApp,
    subscription: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let log = deliveries(app, subscription).await;
        if done(&log) {
            return log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the delivery log never showed {what}: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn types(got: &[Received]) -> BTreeSet<String> {
    got.iter().map(Received::event_type).collect()
}

// ---------------------------------------------------------------------------------------

each_backend!(
    a_whole_process_is_delivered_signed_without_personal_codes,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let receiver = Receiver::start().await;
        let subscription = subscribe(&app, &receiver.url(), json!([])).await;
        let secret = subscription["secret"].as_str().unwrap().to_owned();
        // Read back, the secret is never shown again.
        let read = app
            .get(&format!(
                "/webhooks/{}",
                subscription["id"].as_str().unwrap()
            ))
            .await;
        assert!(read.body["secret"].is_null(), "{}", read.body);

        // Start, task, sign, complete.
        let process = app.create_process(one_signer("full")).await;
        let process_id = process["id"].as_str().unwrap().to_owned();
        let signed = app
            .post(
                &format!("/process-step-signers/{}/sign", signer_of(&process)),
                json!({"personalCode": "16117519997", "country": "LV"}),
            )
            .await;
        assert_eq!(signed.status.as_u16(), 200, "{}", signed.body);
        let wanted = [
            "PROCESS_UPDATED",
            "PROCESS_STARTED",
            "TASK_STARTED",
            "SIGNER_SIGNED",
            "PROCESS_COMPLETED",
        ];
        let got = receiver
            .wait_for("a whole process", |got| got.len() >= wanted.len())
            .await;
        assert_eq!(
            types(&got),
            wanted.iter().map(|t| (*t).to_owned()).collect()
        );
        let mut sequences = BTreeSet::new();
        for delivery in &got {
            assert!(delivery.verified_by(&secret), "not verified: {delivery:?}");
            assert_eq!(delivery.header("content-type"), "application/json");
            let text = String::from_utf8_lossy(&delivery.body);
            assert!(
                !text.contains("16117519997") && !text.contains(CODE),
                "{text}"
            );
            assert!(!text.contains("client@example.lv"), "{text}");
            let body = delivery.json();
            assert_eq!(body["data"]["processId"], process_id.as_str());
            assert_eq!(body["data"]["ownerGroup"], "sales");
            assert!(body["timestamp"].is_string());
            sequences.insert(body["data"]["sequence"].as_i64().unwrap());
            if body["type"] == "SIGNER_SIGNED" {
                assert_eq!(body["data"]["entryId"], signer_of(&process).as_str());
                assert_eq!(body["data"]["signerRole"], "SIGNER");
            }
        }
        assert_eq!(
            sequences.len(),
            wanted.len(),
            "one audit sequence per event"
        );
        let log = wait_deliveries(
            &app,
            subscription["id"].as_str().unwrap(),
            "5 successes",
            |l| l.iter().filter(|a| a["succeeded"] == true).count() == wanted.len(),
        )
        .await;
        assert!(log.iter().all(|a| a["statusCode"] == 204));

        // A decline, and a cancel.
        let declined = app.create_process(one_signer("decline")).await;
        let answer = app
            .post(
                &format!("/process-step-signers/{}/decline", signer_of(&declined)),
                json!({"personalCode": "16117519997", "country": "LV", "comment": "no"}),
            )
            .await;
        assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
        let canceled = app.create_process(one_signer("cancel")).await;
        let id = canceled["id"].as_str().unwrap();
        let answer = app
            .post(&format!("/processes/{id}/cancel"), json!({}))
            .await;
        assert_eq!(answer.status.as_u16(), 200, "{}", answer.body);
        let got = receiver
            .wait_for("a decline and a cancel", |got| {
                let t = types(got);
                t.contains("SIGNER_DECLINED") && t.contains("PROCESS_CANCELED")
            })
            .await;
        assert!(got.iter().all(|d| d.verified_by(&secret)));

        // A refused command changes nothing and delivers nothing. (Deliveries may arrive in
        // any order: wait until none is pending before counting.)
        let start = Instant::now();
        while app.get("/outbox?channel=WEBHOOK&state=PENDING").await.body["totalElements"] != 0 {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "deliveries stay pending"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let before = receiver.received().len();
        let again = app
            .post(
                &format!("/process-step-signers/{}/sign", signer_of(&process)),
                json!({"personalCode": "16117519997", "country": "LV"}),
            )
            .await;
        assert_eq!(again.status.as_u16(), 409, "{}", again.body);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.received().len(), before);
        app.stop().await;
    }
);

each_backend!(
    only_the_events_and_the_group_subscribed_are_delivered,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let completed = Receiver::start().await;
        let legal = Receiver::start().await;
        subscribe(&app, &completed.url(), json!(["PROCESS_COMPLETED"])).await;
        let other = app
            .post(
                "/webhooks",
                json!({"url": legal.url(), "ownerGroup": "legal"}),
            )
            .await;
        assert_eq!(other.status.as_u16(), 201, "{}", other.body);
        let process = app.create_process(one_signer("filtered")).await;
        app.post(
            &format!("/process-step-signers/{}/sign", signer_of(&process)),
            json!({"personalCode": "16117519997", "country": "LV"}),
        )
        .await;
        let got = completed
            .wait_for("PROCESS_COMPLETED", |g| !g.is_empty())
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            types(&completed.received()),
            BTreeSet::from(["PROCESS_COMPLETED".to_owned()])
        );
        assert_eq!(got.len(), 1);
        assert!(
            legal.received().is_empty(),
            "another group's subscription heard it"
        );
        app.stop().await;
    }
);

each_backend!(
    a_change_that_rolls_back_delivers_nothing,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let receiver = Receiver::start().await;
        subscribe(&app, &receiver.url(), json!([])).await;
        // The database refuses the change's webhook rows, after its state, audit rows and
        // emails were written in the same transaction.
        let postgres = app.database_url().starts_with("postgres");
        if postgres {
            app.execute_sql(
                "CREATE FUNCTION refuse_webhooks() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'no webhooks today'; END $$",
            )
            .await;
            app.execute_sql(
                "CREATE TRIGGER refuse_webhooks BEFORE INSERT ON outbox FOR EACH ROW \
                 WHEN (NEW.kind = 'WEBHOOK_EVENT') EXECUTE FUNCTION refuse_webhooks()",
            )
            .await;
        } else {
            app.execute_sql(
                "CREATE TRIGGER refuse_webhooks BEFORE INSERT ON outbox \
                 WHEN NEW.kind = 'WEBHOOK_EVENT' BEGIN SELECT RAISE(ABORT, 'no webhooks today'); END",
            )
            .await;
        }
        let refused = app.post("/processes", one_signer("rolled-back")).await;
        assert_eq!(refused.status.as_u16(), 500, "{}", refused.body);
        assert_eq!(
            app.count_sql("SELECT COUNT(*) AS n FROM processes").await,
            0
        );
        assert_eq!(app.count_sql("SELECT COUNT(*) AS n FROM outbox").await, 0);
        assert_eq!(
            app.count_sql("SELECT COUNT(*) AS n FROM audit_events")
                .await,
            0
        );

        app.execute_sql(if postgres {
            "DROP TRIGGER refuse_webhooks ON outbox"
        } else {
            "DROP TRIGGER refuse_webhooks"
        })
        .await;
        app.create_process(one_signer("committed")).await;
        let got = receiver
            .wait_for("the committed change", |g| g.len() >= 3)
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(receiver.received().len(), 3, "{:?}", types(&got));
        for delivery in receiver.received() {
            assert_eq!(delivery.json()["data"]["documentId"], "committed");
        }
        app.stop().await;
    }
);

each_backend!(
    a_receiver_down_then_up_gets_each_event_with_the_same_id,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let receiver = Receiver::down().await;
        let subscription = subscribe(&app, &receiver.url(), json!(["PROCESS_STARTED"])).await;
        let id = subscription["id"].as_str().unwrap();
        app.create_process(one_signer("down-up")).await;
        let failed = wait_deliveries(&app, id, "a refused attempt", |l| {
            l.iter().any(|a| a["succeeded"] == false)
        })
        .await;
        let attempt = &failed[0];
        assert!(attempt["statusCode"].is_null(), "{attempt}");
        assert!(attempt["error"].is_string(), "{attempt}");
        let delivery_id = attempt["deliveryId"].as_str().unwrap().to_owned();

        receiver.up().await;
        let got = receiver
            .wait_for("the event once up", |g| !g.is_empty())
            .await;
        assert_eq!(
            got[0].id(),
            delivery_id,
            "webhook-id is stable across retries"
        );
        assert!(got[0].verified_by(subscription["secret"].as_str().unwrap()));
        let log = wait_deliveries(&app, id, "the success", |l| {
            l.iter().any(|a| a["succeeded"] == true)
        })
        .await;
        assert!(log.iter().all(|a| a["deliveryId"] == delivery_id.as_str()));
        // The outbox row is sent, once.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.received().len(), 1);
        let rows = app.get("/outbox?channel=WEBHOOK&state=SENT").await;
        assert_eq!(rows.body["totalElements"], 1, "{}", rows.body);
        assert_eq!(rows.body["content"][0]["id"], delivery_id.as_str());
        assert_eq!(rows.body["content"][0]["subscriptionId"], id);
        app.stop().await;
    }
);

each_backend!(
    a_rotated_secret_signs_beside_the_new_one,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let receiver = Receiver::start().await;
        let subscription = subscribe(&app, &receiver.url(), json!(["PROCESS_STARTED"])).await;
        let id = subscription["id"].as_str().unwrap();
        let old = subscription["secret"].as_str().unwrap().to_owned();
        let rotated = app
            .post(&format!("/webhooks/{id}/rotate-secret"), json!({}))
            .await;
        assert_eq!(rotated.status.as_u16(), 200, "{}", rotated.body);
        let new = rotated.body["secret"].as_str().unwrap().to_owned();
        assert_ne!(old, new);
        app.create_process(one_signer("rotated")).await;
        let got = receiver.wait_for("a delivery", |g| !g.is_empty()).await;
        let signatures = got[0].header("webhook-signature");
        assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
        assert!(got[0].verified_by(&old), "the old secret still verifies");
        assert!(got[0].verified_by(&new), "the new secret verifies");
        app.stop().await;
    }
);

each_backend!(
    slow_failing_and_gone_receivers,
    |backend, test| async move {
        let mut extra = LOOPBACK.to_vec();
        extra.extend([
            ("WEBHOOK_TIMEOUT_MS", "500"),
            ("ADMIN_EMAIL", "admin@example.lv"),
        ]);
        let Some(app) = TestApp::start_with(backend, test, &extra).await else {
            return;
        };
        // Slow: cut off after 500 ms, then retried and delivered.
        let slow = Receiver::start().await;
        slow.behave(Behaviour::Slow(Duration::from_secs(2)));
        let subscription = subscribe(&app, &slow.url(), json!(["PROCESS_STARTED"])).await;
        let id = subscription["id"].as_str().unwrap();
        app.create_process(one_signer("slow")).await;
        let log = wait_deliveries(&app, id, "a timeout", |l| !l.is_empty()).await;
        assert_eq!(log[0]["succeeded"], false, "{:?}", log[0]);
        assert!(
            log[0]["durationMs"].as_u64().unwrap() < 2000,
            "{:?}",
            log[0]
        );
        slow.behave(Behaviour::Accept);
        wait_deliveries(&app, id, "the retry's success", |l| {
            l.iter().any(|a| a["succeeded"] == true)
        })
        .await;

        // 5xx: retried, each answer logged (cut at 1 KiB).
        let failing = Receiver::start().await;
        failing.behave(Behaviour::Status(503));
        let subscription = subscribe(&app, &failing.url(), json!(["PROCESS_STARTED"])).await;
        let failing_id = subscription["id"].as_str().unwrap().to_owned();
        app.create_process(one_signer("failing")).await;
        let log = wait_deliveries(&app, &failing_id, "two failures", |l| l.len() >= 2).await;
        for attempt in &log {
            assert_eq!(attempt["statusCode"], 503);
            assert_eq!(attempt["answer"].as_str().unwrap().len(), 1024);
        }
        let ids: BTreeSet<_> = failing
            .received()
            .iter()
            .map(|r| r.id().to_owned())
            .collect();
        assert_eq!(ids.len(), 1, "every retry has the same webhook-id");
        let read = app.get(&format!("/webhooks/{failing_id}")).await;
        assert!(read.body["failingSince"].is_string(), "{}", read.body);
        assert_eq!(read.body["enabled"], true);

        // 410: disabled at once, the delivery given up, the administrator told.
        let gone = Receiver::start().await;
        gone.behave(Behaviour::Status(410));
        let subscription = subscribe(&app, &gone.url(), json!(["PROCESS_STARTED"])).await;
        let gone_id = subscription["id"].as_str().unwrap().to_owned();
        let process = app.create_process(one_signer("gone")).await;
        wait_deliveries(&app, &gone_id, "the 410", |l| !l.is_empty()).await;
        let start = Instant::now();
        loop {
            let read = app.get(&format!("/webhooks/{gone_id}")).await;
            if read.body["enabled"] == false {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "never disabled");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let failed = app.get("/outbox?channel=WEBHOOK&state=FAILED").await;
        let row = failed.body["content"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["subscriptionId"] == gone_id.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no failed row: {}", failed.body));
        assert!(row["lastError"].as_str().unwrap().contains("410"), "{row}");
        let notices = app.get("/outbox?channel=EMAIL").await;
        assert!(
            notices.body["content"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| { r["eventType"] == "FAILURE" && r["processId"] == process["id"] }),
            "no FAILURE email: {}",
            notices.body
        );
        // Nothing more reaches a disabled subscription, until it is switched on again.
        let before = gone.received().len();
        app.create_process(one_signer("after-gone")).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(gone.received().len(), before);
        gone.behave(Behaviour::Accept);
        let ping = app
            .post(&format!("/webhooks/{gone_id}/ping"), json!({}))
            .await;
        assert_eq!(ping.status.as_u16(), 200, "{}", ping.body);
        assert_eq!(ping.body["succeeded"], true, "{}", ping.body);
        assert!(ping.body["eventType"].is_null());
        let pinged = gone.received().pop().unwrap();
        assert_eq!(pinged.event_type(), "PING");
        assert!(pinged.verified_by(subscription["secret"].as_str().unwrap()));
        let enabled = app
            .put(
                &format!("/webhooks/{gone_id}"),
                json!({"url": gone.url(), "events": ["PROCESS_STARTED"], "ownerGroup": "sales", "enabled": true}),
            )
            .await;
        assert_eq!(enabled.status.as_u16(), 200, "{}", enabled.body);
        assert_eq!(enabled.body["enabled"], true);
        assert!(enabled.body["failingSince"].is_null());
        // The given-up delivery can be sent again by hand.
        let retried = app
            .post(
                &format!(
                    "/webhooks/{gone_id}/deliveries/{}/retry",
                    row["id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await;
        assert_eq!(retried.status.as_u16(), 202, "{}", retried.body);
        let row_id = row["id"].as_str().unwrap().to_owned();
        gone.wait_for("the retried delivery", |g| {
            g.iter().any(|r| r.id() == row_id)
        })
        .await;
        app.stop().await;
    }
);

each_backend!(
    targets_that_are_not_public_or_not_https_are_refused,
    |backend, test| async move {
        let Some(app) = TestApp::start(backend, test).await else {
            return;
        };
        for url in [
            "https://localhost/hook",
            "https://127.0.0.2/hook",
            "https://[::1]/hook",
            "http://127.0.0.1:9/hook",
            "ftp://localhost/hook",
            "https://user:pw@localhost/hook",
            "not a url",
        ] {
            let refused = app
                .post("/webhooks", json!({"url": url, "ownerGroup": "sales"}))
                .await;
            let problem = refused.problem(422);
            assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        }
        assert_eq!(
            app.count_sql("SELECT COUNT(*) AS n FROM webhook_subscriptions")
                .await,
            0
        );
        app.stop().await;
    }
);

each_backend!(
    every_delivery_checks_the_target_again,
    |backend, test| async move {
        let Some(mut app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let receiver = Receiver::start().await;
        let subscription = subscribe(&app, &receiver.url(), json!(["PROCESS_STARTED"])).await;
        let id = subscription["id"].as_str().unwrap();
        // The same service, now without the loopback allowance.
        app.reconfigure(&[("WEBHOOK_ALLOW_PRIVATE", "false")]).await;
        app.create_process(one_signer("rechecked")).await;
        let log = wait_deliveries(&app, id, "a refused attempt", |l| !l.is_empty()).await;
        assert!(
            log[0]["error"].as_str().unwrap().contains("not public"),
            "{:?}",
            log[0]
        );
        assert!(log[0]["statusCode"].is_null());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            receiver.received().is_empty(),
            "the refused target was called"
        );
        app.stop().await;
    }
);

each_backend!(
    two_instances_never_deliver_a_row_twice,
    |backend, test| async move {
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let second = app.another_instance().await;
        let receiver = Receiver::start().await;
        receiver.behave(Behaviour::Slow(Duration::from_millis(20)));
        subscribe(&app, &receiver.url(), json!(["PROCESS_STARTED"])).await;
        let count = 30;
        for n in 0..count {
            let target = if n % 2 == 0 { &app } else { &second };
            target.create_process(one_signer(&format!("doc-{n}"))).await;
        }
        let got = receiver.wait_for("every event", |g| g.len() >= count).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let got_now = receiver.received();
        let ids: BTreeSet<_> = got_now.iter().map(|r| r.id().to_owned()).collect();
        assert_eq!(ids.len(), count, "{} distinct of {}", ids.len(), got.len());
        assert_eq!(got_now.len(), count, "a row was delivered twice");
        second.stop().await;
        app.stop().await;
    }
);

each_backend!(
    subscriptions_are_scoped_by_role_and_group,
    |backend, test| async move {
        use sha2::Digest;
        let dir = tempfile::tempdir().unwrap();
        let mut toml = String::new();
        for (name, role, groups) in [
            ("admin", "pas-admin", "[]"),
            ("sales", "pas-user", "[\"sales\"]"),
            ("legal", "pas-user", "[\"legal\"]"),
            ("auditor", "pas-auditor", "[]"),
        ] {
            let hash = hex::encode(Sha256::digest(
                format!("webhook-token-{name}-0123456789").as_bytes(),
            ));
            toml.push_str(&format!(
                "[[token]]\nname = \"{name}\"\nsha256 = \"{hash}\"\nroles = [\"{role}\"]\ngroups = {groups}\n\n"
            ));
        }
        let tokens = dir.path().join("tokens.toml");
        std::fs::write(&tokens, toml).unwrap();
        let mut extra = LOOPBACK.to_vec();
        extra.extend([
            ("AUTH_MODE", "tokens"),
            ("AUTH_TOKENS_FILE", tokens.to_str().unwrap()),
        ]);
        let Some(app) = TestApp::start_with(backend, test, &extra).await else {
            return;
        };
        let as_ = |who: &'static str| format!("Bearer webhook-token-{who}-0123456789");
        let call = |who: &'static str, method: Method, path: String, body: Option<Value>| {
            let app = &app;
            async move {
                let bearer = as_(who);
                app.call(method, &path, body, &[("Authorization", bearer.as_str())])
                    .await
            }
        };
        let url = "http://127.0.0.1:9/hook";
        // A user subscribes to its group (named, or its only one); not to another group's
        // processes, nor to every process.
        let own = call(
            "sales",
            Method::POST,
            "/webhooks".into(),
            Some(json!({"url": url})),
        )
        .await;
        assert_eq!(own.status.as_u16(), 201, "{}", own.body);
        assert_eq!(own.body["ownerGroup"], "sales");
        let own_id = own.body["id"].as_str().unwrap().to_owned();
        let other = call(
            "sales",
            Method::POST,
            "/webhooks".into(),
            Some(json!({"url": url, "ownerGroup": "legal"})),
        )
        .await;
        other.problem(403);
        let everything = call(
            "admin",
            Method::POST,
            "/webhooks".into(),
            Some(json!({"url": url})),
        )
        .await;
        assert_eq!(everything.status.as_u16(), 201, "{}", everything.body);
        assert!(everything.body["ownerGroup"].is_null());
        let all_id = everything.body["id"].as_str().unwrap().to_owned();
        // Reads: the admin sees both, a user its group's only; outside reach is 404.
        let listed = call("admin", Method::GET, "/webhooks".into(), None).await;
        assert_eq!(listed.body["totalElements"], 2);
        let listed = call("sales", Method::GET, "/webhooks".into(), None).await;
        assert_eq!(listed.body["totalElements"], 1);
        assert_eq!(listed.body["content"][0]["id"], own_id.as_str());
        call("legal", Method::GET, format!("/webhooks/{own_id}"), None)
            .await
            .problem(404);
        call("sales", Method::GET, format!("/webhooks/{all_id}"), None)
            .await
            .problem(404);
        call("legal", Method::DELETE, format!("/webhooks/{own_id}"), None)
            .await
            .problem(404);
        call(
            "legal",
            Method::POST,
            format!("/webhooks/{own_id}/rotate-secret"),
            None,
        )
        .await
        .problem(404);
        // The auditor has no webhook operation at all.
        call("auditor", Method::GET, "/webhooks".into(), None)
            .await
            .problem(403);
        // Bad input: unknown event type, hostile ids and paging.
        let bad = call(
            "sales",
            Method::POST,
            "/webhooks".into(),
            Some(json!({"url": url, "events": ["NOT_AN_EVENT"]})),
        )
        .await;
        assert_eq!(bad.status.as_u16(), 400, "{}", bad.body);
        call("sales", Method::GET, "/webhooks/not-a-uuid".into(), None)
            .await
            .problem(400);
        call(
            "sales",
            Method::GET,
            "/webhooks?sort=secret,asc".into(),
            None,
        )
        .await
        .problem(400);
        call(
            "sales",
            Method::POST,
            format!(
                "/webhooks/{own_id}/deliveries/{}/retry",
                uuid::Uuid::now_v7()
            ),
            None,
        )
        .await
        .problem(404);
        // Deleted: gone for everyone.
        let deleted = call("sales", Method::DELETE, format!("/webhooks/{own_id}"), None).await;
        assert_eq!(deleted.status.as_u16(), 204);
        call("admin", Method::GET, format!("/webhooks/{own_id}"), None)
            .await
            .problem(404);
        app.stop().await;
    }
);

each_backend!(
    the_readme_receiver_verifies_real_deliveries,
    |backend, test| async move {
        if std::process::Command::new("python3")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("python3 not found: skipping {test}");
            return;
        }
        let Some(app) = TestApp::start_with(backend, test, LOOPBACK).await else {
            return;
        };
        let port = Receiver::down().await.port;
        let url = format!("http://127.0.0.1:{port}/hook");
        let subscription = subscribe(&app, &url, json!(["PROCESS_STARTED"])).await;
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/webhook_receiver.py"
        );
        let mut receiver = std::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .env("WEBHOOK_SECRET", subscription["secret"].as_str().unwrap())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs the example");
        app.create_process(one_signer("readme")).await;
        // The example answers 204 only to a delivery whose signature it verified.
        let log = wait_deliveries(&app, subscription["id"].as_str().unwrap(), "a 204", |l| {
            l.iter().any(|a| a["statusCode"] == 204)
        })
        .await;
        assert!(log.iter().all(|a| a["statusCode"] != 401), "{log:?}");
        receiver.kill().unwrap();
        let _ = receiver.wait();
        app.stop().await;
    }
);
