//! Emails end to end (PRODUCT.md section 7): the real service, driven over HTTP, delivers
//! through its outbox to a real SMTP server on loopback (mailin-embedded). Each scenario runs
//! on SQLite and on PostgreSQL unless it says PostgreSQL only.
//!
//! Waiting: the inbox is polled with a deadline. To show that an email did NOT come,
//! [`drained`] queues a marker email behind everything queued before and waits for it: the
//! dispatcher claims rows oldest first, so once the marker arrives, every earlier row has
//! been delivered (or suppressed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pas_domain::ports::Outbox;
use pas_e2e::{Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Mail, SmtpServer, free_port, summary};
use time::OffsetDateTime;

const LV_CODE: &str = "161175-19997";
const PORTAL: &str = "https://portal.example.test";
const INITIATOR: &str = "office@example.lv";

/// Starts the service on `backend` sending to `smtp_url`, polling the outbox every 100 ms;
/// `extra` overrides. `None` when PostgreSQL is asked for and `TEST_DATABASE_URL` is unset.
async fn start(
    backend: Backend,
    test: &str,
    smtp_url: &str,
    extra: &[(&str, &str)],
) -> Option<TestApp> {
    let mut pairs = vec![
        ("SMTP_URL", smtp_url),
        ("MAIL_POLL_MS", "100"),
        ("PORTAL_URL", PORTAL),
    ];
    pairs.extend_from_slice(extra);
    TestApp::start_with(backend, test, &pairs).await
}

/// Like `pas_e2e::both!`, with an SMTP server and the service sending to it:
/// `with_smtp!(name, |app, smtp| async move { … })`.
macro_rules! with_smtp {
    ($name:ident, $body:expr) => {
        pas_e2e::each_backend!($name, |backend, test| async move {
            let smtp = SmtpServer::start();
            if let Some(app) = start(backend, test, &smtp.url(), &[]).await {
                ($body)(app, smtp).await;
            }
        });
    };
}

// ---------------------------------------------------------------------------------------
// Processes

/// An entry that must act or view, identified by the Latvian test code.
fn entry(role: &str, email: &str) -> Value {
    json!({"signerRole": role, "signerEmail": email, "signerName": email,
           "signerCountry": "LV", "signerPersonalCode": LV_CODE})
}

/// `entry` with one more field.
fn with(mut entry: Value, key: &str, value: Value) -> Value {
    entry[key] = value;
    entry
}

fn step(order: i32, entries: &[Value]) -> Value {
    json!({"processOrder": order, "processStepSigners": entries})
}

fn process(name: &str, initiator: &str, steps: &[Value]) -> Value {
    json!({"documentId": format!("doc-{name}"), "documentName": name, "ownerGroup": "sales",
           "status": "STARTED", "processInitiatorEmail": initiator, "initiatorName": "Office",
           "signingProcessSteps": steps})
}

fn entry_id(p: &Value, email: &str) -> String {
    p["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["signerEmail"] == email)
        .unwrap_or_else(|| panic!("no entry {email} in {p}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The entry signs (or approves, for `action = "approve"`) with the right identity.
async fn act(app: &TestApp, action: &str, signer: &str) -> Value {
    let done = app
        .post(
            &format!("/process-step-signers/{signer}/{action}"),
            json!({"personalCode": LV_CODE, "country": "LV"}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    done.body
}

/// Every email queued so far has been settled: a marker process (its initiator the only
/// recipient) is created and its email awaited.
async fn drained(app: &TestApp, smtp: &SmtpServer) {
    static MARKERS: AtomicUsize = AtomicUsize::new(0);
    let to = format!(
        "marker{}@example.test",
        MARKERS.fetch_add(1, Ordering::Relaxed)
    );
    let quiet = with(
        entry("SIGNER", "marker-signer@example.test"),
        "signerNotification",
        json!(false),
    );
    app.create_process(process("marker", &to, &[step(1, &[quiet])]))
        .await;
    smtp.wait_to(&to, 1).await;
}

/// The subjects of the emails to `address`, in arrival order.
fn subjects(smtp: &SmtpServer, address: &str) -> Vec<String> {
    smtp.to(address).iter().map(Mail::subject).collect()
}

/// Asserts that no Message-ID (outbox row) arrived twice, and answers how many arrived.
fn distinct_once(inbox: &[Mail]) -> usize {
    let mut seen = HashSet::new();
    let twice: Vec<String> = inbox
        .iter()
        .map(Mail::row_id)
        .filter(|id| !seen.insert(id.clone()))
        .collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    seen.len()
}

/// A due date `days` calendar days from today (UTC, the service's default zone), at noon.
fn due_in(days: i64) -> String {
    let day = OffsetDateTime::now_utc().date() + time::Duration::days(days);
    day.with_hms(12, 0, 0)
        .unwrap()
        .assume_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// 1. TASK_STARTED step by step, PROCESS_COMPLETED at the end (section 7)

with_smtp!(
    task_started_goes_to_each_step_in_turn_and_completion_to_everyone,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: TASK_STARTED to the running step's entries only.
        let p = app
            .create_process(process(
                "Lease",
                INITIATOR,
                &[
                    step(
                        1,
                        &[
                            entry("SIGNER", "anna@example.lv"),
                            entry("VIEWER", "vera@example.lv"),
                        ],
                    ),
                    step(2, &[entry("SIGNER", "dan@example.lv")]),
                ],
            ))
            .await;
        let (anna, dan) = (
            entry_id(&p, "anna@example.lv"),
            entry_id(&p, "dan@example.lv"),
        );
        let task = smtp.wait_to("anna@example.lv", 1).await;
        smtp.wait_to("vera@example.lv", 1).await;
        smtp.wait_to(INITIATOR, 1).await;
        drained(&app, &smtp).await;
        assert_eq!(subjects(&smtp, "anna@example.lv"), ["Please sign: Lease"]);
        assert_eq!(
            subjects(&smtp, "vera@example.lv"),
            ["For your review: Lease"]
        );
        assert_eq!(
            subjects(&smtp, INITIATOR),
            ["Signing process started: Lease"]
        );
        assert!(smtp.to("dan@example.lv").is_empty(), "step 2 not started");
        assert_eq!(task[0].rcpt(), "anna@example.lv");
        let link = format!("{PORTAL}/process/{anna}");
        assert!(task[0].body().contains(&link), "{link} in {}", task[0].data);

        // Step 1 completes: step 2 is asked; SIGNER_SIGNED has no email in the matrix.
        let signed = act(&app, "sign", &anna).await;
        assert_eq!(signed["currentInProgressStep"]["processOrder"], 2);
        smtp.wait_to("dan@example.lv", 1).await;
        drained(&app, &smtp).await;
        assert_eq!(subjects(&smtp, "dan@example.lv"), ["Please sign: Lease"]);
        assert_eq!(subjects(&smtp, "anna@example.lv").len(), 1);
        assert_eq!(subjects(&smtp, INITIATOR).len(), 1);

        // The last step completes the process: PROCESS_COMPLETED to the initiator, and (as
        // the built-in matrix says) to the signers and viewers.
        let completed = act(&app, "sign", &dan).await;
        assert_eq!(completed["status"], "COMPLETED");
        smtp.wait_to(INITIATOR, 2).await;
        drained(&app, &smtp).await;
        assert_eq!(
            subjects(&smtp, INITIATOR),
            ["Signing process started: Lease", "Signing completed: Lease"]
        );
        for who in ["anna@example.lv", "dan@example.lv", "vera@example.lv"] {
            assert_eq!(
                subjects(&smtp, who).last().map(String::as_str),
                Some("Signing completed: Lease"),
                "{who}"
            );
        }
        let inbox = smtp.inbox();
        assert_eq!(distinct_once(&inbox), inbox.len());
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 2. Language (section 7)

with_smtp!(
    signer_language_picks_the_subject_language_and_english_is_the_default,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: the recipient's signerLanguage picks the matrix entry (exactly, then its
        // primary subtag), else the default language.
        app.create_process(process(
            "Līgums 7",
            INITIATOR,
            &[step(
                1,
                &[
                    with(
                        entry("SIGNER", "liga@example.lv"),
                        "signerLanguage",
                        json!("lv"),
                    ),
                    entry("SIGNER", "john@example.com"),
                    with(
                        entry("SIGNER", "inese@example.lv"),
                        "signerLanguage",
                        json!("lv-LV"),
                    ),
                ],
            )],
        ))
        .await;
        let liga = smtp.wait_to("liga@example.lv", 1).await;
        let john = smtp.wait_to("john@example.com", 1).await;
        assert_eq!(liga[0].subject(), "Lūdzu, parakstiet: Līgums 7");
        assert_eq!(john[0].subject(), "Please sign: Līgums 7");
        // A regional tag falls back to its primary subtag.
        let inese = smtp.wait_to("inese@example.lv", 1).await;
        assert_eq!(inese[0].subject(), "Lūdzu, parakstiet: Līgums 7");
        app.stop().await;
    }
);

/// Each built-in language: a signer's `signerLanguage` (with a region where Baltic
/// signers often have one) and the TASK_STARTED subject it gets.
const TASK_STARTED_IN_EVERY_LANGUAGE: [(&str, &str, &str); 5] = [
    ("en@example.lv", "en", "Please sign: Līgums 8"),
    ("lv@example.lv", "lv", "Lūdzu, parakstiet: Līgums 8"),
    ("lt@example.lt", "lt-LT", "Prašome pasirašyti: Līgums 8"),
    ("et@example.ee", "et", "Palun allkirjastage: Līgums 8"),
    ("ru@example.lv", "ru-LV", "Просим подписать: Līgums 8"),
];

/// The `Content-Type` headers of every part of `mail`, lower-cased.
fn content_types(mail: &Mail) -> Vec<String> {
    mail.data
        .split("\r\n")
        .filter(|line| line.to_ascii_lowercase().starts_with("content-type:"))
        .map(str::to_ascii_lowercase)
        .collect()
}

with_smtp!(
    task_started_reaches_each_signer_in_their_language_with_an_encoded_utf8_subject,
    |app: TestApp, smtp: SmtpServer| async move {
        // Issue 16: lt, et and ru join en and lv; a regional tag uses its primary subtag.
        let entries: Vec<Value> = TASK_STARTED_IN_EVERY_LANGUAGE
            .iter()
            .map(|(email, tag, _)| with(entry("SIGNER", email), "signerLanguage", json!(tag)))
            .collect();
        app.create_process(process("Līgums 8", INITIATOR, &[step(1, &entries)]))
            .await;
        for (email, tag, subject) in TASK_STARTED_IN_EVERY_LANGUAGE {
            let mail = smtp.wait_to(email, 1).await;
            assert_eq!(mail[0].subject(), subject, "{tag}");
            // The header on the wire is 7-bit: RFC 2047 encoded words, UTF-8.
            let raw = mail[0].header("Subject").unwrap();
            assert!(raw.is_ascii(), "{tag}: {raw}");
            assert!(
                raw.to_ascii_lowercase().contains("=?utf-8?"),
                "{tag}: {raw}"
            );
            let types = content_types(&mail[0]);
            assert!(
                types
                    .iter()
                    .any(|t| t.starts_with("content-type: text/plain; charset=utf-8")),
                "{tag}: {types:?}"
            );
            assert!(
                types
                    .iter()
                    .any(|t| t.starts_with("content-type: text/html; charset=utf-8")),
                "{tag}: {types:?}"
            );
            // The body is base64 where quoted-printable would be longer (Cyrillic), so the
            // link is checked by the smtp render tests, not here.
        }
        app.stop().await;
    }
);

pas_e2e::each_backend!(
    mail_default_language_is_used_when_the_signer_language_is_absent_or_unknown,
    |backend, test| async move {
        // Issue 16: signerLanguage, then MAIL_DEFAULT_LANGUAGE, then en.
        let smtp = SmtpServer::start();
        let Some(app) = start(
            backend,
            test,
            &smtp.url(),
            &[("MAIL_DEFAULT_LANGUAGE", "et")],
        )
        .await
        else {
            return;
        };
        app.create_process(process(
            "Leping 9",
            INITIATOR,
            &[step(
                1,
                &[
                    entry("SIGNER", "none@example.ee"),
                    with(
                        entry("SIGNER", "de@example.ee"),
                        "signerLanguage",
                        json!("de"),
                    ),
                    with(
                        entry("SIGNER", "ru@example.ee"),
                        "signerLanguage",
                        json!("ru-EE"),
                    ),
                ],
            )],
        ))
        .await;
        for (email, subject) in [
            ("none@example.ee", "Palun allkirjastage: Leping 9"),
            ("de@example.ee", "Palun allkirjastage: Leping 9"),
            ("ru@example.ee", "Просим подписать: Leping 9"),
        ] {
            assert_eq!(
                smtp.wait_to(email, 1).await[0].subject(),
                subject,
                "{email}"
            );
        }
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 3. signerNotification=false (section 7)

with_smtp!(
    an_entry_with_signer_notification_false_gets_no_email_at_all,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: entries with signerNotification=false get none (task nor completion).
        let p = app
            .create_process(process(
                "Quiet",
                INITIATOR,
                &[step(
                    1,
                    &[
                        entry("SIGNER", "loud@example.lv"),
                        with(
                            entry("SIGNER", "quiet@example.lv"),
                            "signerNotification",
                            json!(false),
                        ),
                    ],
                )],
            ))
            .await;
        act(&app, "sign", &entry_id(&p, "loud@example.lv")).await;
        let done = act(&app, "sign", &entry_id(&p, "quiet@example.lv")).await;
        assert_eq!(done["status"], "COMPLETED");
        smtp.wait_to("loud@example.lv", 2).await;
        drained(&app, &smtp).await;
        assert_eq!(
            subjects(&smtp, "loud@example.lv"),
            ["Please sign: Quiet", "Signing completed: Quiet"]
        );
        assert!(smtp.to("quiet@example.lv").is_empty());
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 4. Cancel, with and without messages (section 7, rule 6)

with_smtp!(
    cancel_emails_everyone_reached_but_cancel_true_sends_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: PROCESS_CANCELED to the initiator and the entries already reached.
        let loud = app
            .create_process(process(
                "Loud cancel",
                "first@example.lv",
                &[
                    step(1, &[entry("SIGNER", "a@example.lv")]),
                    step(2, &[entry("SIGNER", "later@example.lv")]),
                ],
            ))
            .await;
        smtp.wait_to("a@example.lv", 1).await;
        let id = loud["id"].as_str().unwrap();
        let canceled = app
            .post(&format!("/processes/{id}/cancel"), json!({}))
            .await;
        assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
        assert_eq!(canceled.body["status"], "CANCELED");
        smtp.wait_to("a@example.lv", 2).await;
        smtp.wait_to("first@example.lv", 2).await;
        assert_eq!(
            subjects(&smtp, "a@example.lv")[1],
            "Signing process canceled: Loud cancel"
        );
        assert_eq!(
            subjects(&smtp, "first@example.lv")[1],
            "Signing process canceled: Loud cancel"
        );

        // `cancel/true`: the same cancel, no PROCESS_CANCELED email.
        let quiet = app
            .create_process(process(
                "Quiet cancel",
                "second@example.lv",
                &[step(1, &[entry("SIGNER", "b@example.lv")])],
            ))
            .await;
        smtp.wait_to("b@example.lv", 1).await;
        smtp.wait_to("second@example.lv", 1).await;
        let id = quiet["id"].as_str().unwrap();
        let canceled = app
            .post(&format!("/processes/{id}/cancel/true"), json!({}))
            .await;
        assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.body);
        assert_eq!(canceled.body["status"], "CANCELED");
        drained(&app, &smtp).await;
        assert!(smtp.to("later@example.lv").is_empty(), "never reached");
        assert_eq!(
            subjects(&smtp, "b@example.lv"),
            ["Please sign: Quiet cancel"]
        );
        assert_eq!(
            subjects(&smtp, "second@example.lv"),
            ["Signing process started: Quiet cancel"]
        );
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 5. Reminders (section 7)

with_smtp!(
    reminders_go_once_per_open_signer_due_in_one_three_or_five_days,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: REMINDER for open SIGNER/APPROVER entries whose step is due in exactly
        // one of REMINDER_DAYS_BEFORE_DUE (1,3,5) days; a second run that day sends nothing.
        for days in [1, 2, 3, 5] {
            let mut entries = vec![entry("SIGNER", &format!("s{days}@example.lv"))];
            if days == 3 {
                entries.push(entry("APPROVER", "a3@example.lv"));
                entries.push(entry("VIEWER", "v3@example.lv"));
            }
            let mut first = step(1, &entries);
            first["dueDate"] = json!(due_in(days));
            app.create_process(process(&format!("Due {days}"), INITIATOR, &[first]))
                .await;
        }
        let reminded = [
            "s1@example.lv",
            "s3@example.lv",
            "a3@example.lv",
            "s5@example.lv",
        ];
        for who in reminded {
            smtp.wait_to(who, 1).await; // TASK_STARTED
        }
        let run = app.post("/messages/reminders", json!({})).await;
        assert_eq!(run.status, StatusCode::OK, "{}", run.body);
        assert_eq!(run.body, json!({"sent": 4}));
        for who in reminded {
            smtp.wait_to(who, 2).await;
        }
        let again = app.post("/messages/reminders", json!({})).await;
        assert_eq!(again.body, json!({"sent": 0}));
        drained(&app, &smtp).await;
        assert_eq!(
            subjects(&smtp, "s3@example.lv"),
            ["Please sign: Due 3", "Reminder: please sign Due 3"]
        );
        assert_eq!(
            subjects(&smtp, "a3@example.lv"),
            ["Please approve: Due 3", "Reminder: please approve Due 3"]
        );
        for (who, n) in [
            ("s1@example.lv", 2),
            ("s5@example.lv", 2),
            ("s2@example.lv", 1),
            ("v3@example.lv", 1),
        ] {
            assert_eq!(smtp.to(who).len(), n, "{who}: {:?}", subjects(&smtp, who));
        }
        let reminders = smtp
            .inbox()
            .iter()
            .filter(|m| m.subject().starts_with("Reminder"))
            .count();
        assert_eq!(reminders, 4);
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 6. SMTP down, then back (section 7: retry with backoff)

pas_e2e::each_backend!(
    emails_queued_while_smtp_refuses_arrive_once_when_it_comes_back,
    |backend, test| async move {
        // Section 7: the outbox keeps emails the server refused and retries with backoff.
        let port = free_port();
        let url = format!("smtp://127.0.0.1:{port}");
        let Some(app) = start(backend, test, &url, &[("MAIL_FIRST_RETRY_SECONDS", "1")]).await
        else {
            return;
        };
        let p = app
            .create_process(process(
                "Offline",
                INITIATOR,
                &[
                    step(1, &[entry("SIGNER", "first@example.lv")]),
                    step(2, &[entry("SIGNER", "second@example.lv")]),
                ],
            ))
            .await;
        let id = p["id"].as_str().unwrap();
        act(&app, "sign", &entry_id(&p, "first@example.lv")).await;
        // At least one failed attempt and one retry: the service keeps answering.
        let until = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < until {
            let trail = app.get(&format!("/processes/{id}/audit-trail")).await;
            assert_eq!(trail.status, StatusCode::OK);
            assert_eq!(trail.body["valid"], true);
            assert_eq!(app.get("/health").await.status, StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        let smtp = SmtpServer::start_on_port(port);
        // PROCESS_STARTED and TASK_STARTED ×2 (first, then second).
        smtp.wait_until("the 3 queued emails", |inbox| inbox.len() >= 3)
            .await;
        drained(&app, &smtp).await;
        let inbox_after = smtp.inbox();
        assert_eq!(distinct_once(&inbox_after), inbox_after.len());
        assert_eq!(inbox_after.len(), 4, "{:#?}", summary(&inbox_after));
        assert_eq!(
            subjects(&smtp, "first@example.lv"),
            ["Please sign: Offline"]
        );
        assert_eq!(
            subjects(&smtp, "second@example.lv"),
            ["Please sign: Offline"]
        );
        assert_eq!(
            subjects(&smtp, INITIATOR),
            ["Signing process started: Offline"]
        );
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 7. sendTestEmail (section 7)

with_smtp!(
    test_email_goes_to_the_role_in_the_posted_process_and_stores_nothing,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: sendTestEmail renders for the role and sends at once; nothing stored.
        let mut body = process(
            "Trial",
            INITIATOR,
            &[
                step(
                    1,
                    &[
                        entry("SIGNER", "t1@example.lv"),
                        entry("APPROVER", "boss@example.lv"),
                    ],
                ),
                step(2, &[entry("SIGNER", "t2@example.lv")]),
            ],
        );
        body["status"] = json!("PENDING");
        let sent = app
            .post("/messages/test/TASK_STARTED?role=SIGNER", body)
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let mut answered: Vec<(String, String)> = sent
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["to"].as_str().unwrap().to_owned(),
                    s["subject"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        answered.sort();
        assert_eq!(
            answered,
            [
                ("t1@example.lv".to_owned(), "Please sign: Trial".to_owned()),
                ("t2@example.lv".to_owned(), "Please sign: Trial".to_owned())
            ]
        );
        smtp.wait_to("t1@example.lv", 1).await;
        smtp.wait_to("t2@example.lv", 1).await;
        let list = app.get("/processes?isAdmin=true").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.body["totalElements"], 0, "{}", list.body);
        drained(&app, &smtp).await;
        assert!(smtp.to("boss@example.lv").is_empty());
        assert!(smtp.to(INITIATOR).is_empty());
        assert_eq!(smtp.to("t1@example.lv").len(), 1);
        app.stop().await;
    }
);

with_smtp!(
    test_email_in_all_languages_sends_one_email_per_language_of_the_entry,
    |app: TestApp, smtp: SmtpServer| async move {
        // Issue 16: language=all renders every language so that an operator can review them.
        let mut body = process(
            "Review",
            INITIATOR,
            &[step(1, &[entry("SIGNER", "reviewer@example.lv")])],
        );
        body["status"] = json!("PENDING");
        let sent = app
            .post(
                "/messages/test/TASK_STARTED?role=SIGNER&language=all",
                body.clone(),
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let mut subjects: Vec<String> = sent
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subject"].as_str().unwrap().to_owned())
            .collect();
        subjects.sort();
        let mut expected = [
            "Please sign: Review",
            "Lūdzu, parakstiet: Review",
            "Prašome pasirašyti: Review",
            "Palun allkirjastage: Review",
            "Просим подписать: Review",
        ]
        .map(str::to_owned);
        expected.sort();
        assert_eq!(subjects, expected);
        assert_eq!(smtp.wait_to("reviewer@example.lv", 5).await.len(), 5);

        let one = app
            .post(
                "/messages/test/TASK_STARTED?role=SIGNER&language=ru-LV",
                body.clone(),
            )
            .await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.body);
        assert_eq!(one.body[0]["subject"], "Просим подписать: Review");
        let bad = app
            .post(
                "/messages/test/TASK_STARTED?role=SIGNER&language=latvian!",
                body,
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 8. sendSignerEmail (section 7)

with_smtp!(
    send_signer_email_resends_task_started_with_a_new_message_id,
    |app: TestApp, smtp: SmtpServer| async move {
        // Section 7: sendSignerEmail sends TASK_STARTED again (409 unless WAITING_FOR_ACTION).
        let p = app
            .create_process(process(
                "Resend",
                INITIATOR,
                &[
                    step(1, &[entry("SIGNER", "r@example.lv")]),
                    step(2, &[entry("SIGNER", "w@example.lv")]),
                ],
            ))
            .await;
        let first = smtp.wait_to("r@example.lv", 1).await;
        let r = entry_id(&p, "r@example.lv");
        let again = app
            .post(&format!("/process-step-signers/{r}/email"), json!({}))
            .await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(again.body["to"], "r@example.lv");
        assert_eq!(again.body["subject"], "Please sign: Resend");
        let both = smtp.wait_to("r@example.lv", 2).await;
        assert_eq!(both[1].subject(), "Please sign: Resend");
        assert_ne!(both[1].message_id(), first[0].message_id());

        let waiting = entry_id(&p, "w@example.lv");
        let refused = app
            .post(&format!("/process-step-signers/{waiting}/email"), json!({}))
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        drained(&app, &smtp).await;
        assert!(smtp.to("w@example.lv").is_empty());
        assert_eq!(smtp.to("r@example.lv").len(), 2);
        app.stop().await;
    }
);

// ---------------------------------------------------------------------------------------
// 9. Two instances on one PostgreSQL (section 7, section 9)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_every_email_exactly_once() {
    // Section 7: several running instances never send one row twice.
    let smtp = SmtpServer::start();
    let test = "two_instances_on_one_postgres_deliver_every_email_exactly_once";
    let fast = [("MAIL_POLL_MS", "20")];
    let Some(app) = start(Backend::Postgres, test, &smtp.url(), &fast).await else {
        return;
    };
    let mut second = app.config().clone();
    second.mail_from = "Second <noreply@second.example.test>".parse().unwrap();
    let second = pas_e2e::start_ready(&second).await;
    let client = reqwest::Client::new();
    let roots = [app.root.clone(), format!("http://{}", second.addr)];
    const PROCESSES: usize = 16;
    for n in 0..PROCESSES {
        let steps = [step(
            1,
            &[
                entry("SIGNER", &format!("p{n}-a@example.lv")),
                entry("SIGNER", &format!("p{n}-b@example.lv")),
                entry("VIEWER", &format!("p{n}-c@example.lv")),
            ],
        )];
        let res = client
            .post(format!("{}/api/v1/processes", roots[n % 2]))
            .json(&process(&format!("P{n}"), INITIATOR, &steps))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    // PROCESS_STARTED plus three TASK_STARTED per process.
    let expected = PROCESSES * 4;
    smtp.wait_until(&format!("{expected} emails"), |inbox| {
        inbox.len() >= expected
    })
    .await;
    drained(&app, &smtp).await;
    let inbox = smtp.inbox();
    assert_eq!(distinct_once(&inbox), expected + 1);
    assert_eq!(inbox.len(), expected + 1);
    // Message-IDs carry the sending instance's MAIL_FROM host: both took part.
    let by_second = inbox
        .iter()
        .filter(|m| m.message_id_host() == "second.example.test")
        .count();
    eprintln!(
        "{test}: first instance sent {}, second {by_second}",
        inbox.len() - by_second
    );
    assert!(
        by_second > 0 && by_second < inbox.len(),
        "one instance sent all"
    );
    // Idle keep-alive connections would hold the graceful stops.
    drop(client);
    second.stop().await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 10. A crash mid-dispatch (section 7)

pas_e2e::each_backend!(
    rows_claimed_by_a_crashed_dispatcher_are_sent_once_after_the_lease,
    |backend, test| async move {
        // Section 7: rows leased to an instance that died are sent by another after the
        // lease, exactly once. The app polls every 2 s, so the "crashed" claim below comes
        // between its first round (at start) and its second.
        let smtp = SmtpServer::start();
        let slow = [("MAIL_POLL_MS", "2000")];
        let Some(app) = start(backend, test, &smtp.url(), &slow).await else {
            return;
        };
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.create_process(process(
            "Crash",
            INITIATOR,
            &[step(
                1,
                &[
                    entry("SIGNER", "c1@example.lv"),
                    entry("APPROVER", "c2@example.lv"),
                ],
            )],
        ))
        .await;
        let db = pas_persistence::Db::connect(app.database_url(), 2)
            .await
            .expect("a second pool on the app's database");
        let now = OffsetDateTime::now_utc();
        let lease = time::Duration::milliseconds(800);
        let claimed = db
            .claim(lease_of("crashed-instance"), 100, now, now + lease)
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(1900),
            "the claim came too late to beat the app's second round"
        );
        assert_eq!(claimed.len(), 3, "PROCESS_STARTED and two TASK_STARTED");
        // The crashed owner never settles them. Another claim inside the lease gets nothing.
        let during = db
            .claim(lease_of("someone-else"), 100, now, now + lease)
            .await
            .unwrap();
        assert!(during.is_empty());

        let inbox = smtp
            .wait_until("the 3 leased emails", |inbox| inbox.len() >= 3)
            .await;
        assert!(
            started.elapsed() >= Duration::from_millis(1000),
            "sent before the lease ran out"
        );
        let ids: HashSet<String> = claimed.iter().map(|m| m.id.to_string()).collect();
        let arrived: HashSet<String> = inbox.iter().map(Mail::row_id).collect();
        assert_eq!(arrived, ids);
        drained(&app, &smtp).await;
        let inbox = smtp.inbox();
        assert_eq!(distinct_once(&inbox), 4);
        assert_eq!(inbox.len(), 4);
        app.stop().await;
    }
);

/// A claim of `owner` under a fresh fencing token.
fn lease_of(owner: &str) -> pas_domain::ports::OutboxLease {
    pas_domain::ports::OutboxLease {
        owner: owner.into(),
        token: uuid::Uuid::now_v7(),
    }
}

// ---------------------------------------------------------------------------------------
// 11. A refused address: FAILURE to ADMIN_EMAIL (section 7)

pas_e2e::each_backend!(
    a_permanently_refused_email_is_given_up_and_failure_goes_to_admin_email,
    |backend, test| async move {
        // Section 7: after the last attempt (a 5xx ends it at once) the row is failed and
        // FAILURE goes to ADMIN_EMAIL. The test server refuses recipients holding "bounce".
        let smtp = SmtpServer::start();
        let admin = [("ADMIN_EMAIL", "admin@example.lv")];
        let Some(app) = start(backend, test, &smtp.url(), &admin).await else {
            return;
        };
        app.create_process(process(
            "Bounce",
            INITIATOR,
            &[step(1, &[entry("SIGNER", "bounce@example.lv")])],
        ))
        .await;
        let failure = smtp.wait_to("admin@example.lv", 1).await;
        assert_eq!(failure[0].subject(), "Email delivery failed: Bounce");
        drained(&app, &smtp).await;
        assert!(smtp.to("bounce@example.lv").is_empty());
        assert_eq!(smtp.to("admin@example.lv").len(), 1);
        assert_eq!(
            subjects(&smtp, INITIATOR),
            ["Signing process started: Bounce"]
        );
        app.stop().await;
    }
);
