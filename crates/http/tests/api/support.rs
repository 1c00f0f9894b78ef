//! Test fixtures: an app over mock ports, real domain processes, and a one-call client.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test};
use pas_domain::input::ProcessInput;
use pas_domain::ports::{
    FixedClock, MockAuditStore, MockCatalogStore, MockContactStore, MockMailer,
    MockProcessRepository, MockTemplateStore, SequentialIds,
};
use pas_domain::process::SigningProcess;
use pas_domain::service::{
    AuditService, CatalogService, DirectoryService, MessageService, ProcessService, ReadAudit,
};
use pas_http::{ApiState, AuthThrottle, Limits, NetworkSettings, ReminderSettings};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// The fixed "now" of every test.
pub const NOW: OffsetDateTime = datetime!(2026-03-02 8:00 UTC);

/// The personal code and country of the signer in [`process_json`].
pub const CODE: &str = "161175-19997";

/// Mock ports, configured by each test before [`Mocks::call`].
#[derive(Default)]
pub struct Mocks {
    pub repo: MockProcessRepository,
    pub catalog: MockCatalogStore,
    pub contacts: MockContactStore,
    pub templates: MockTemplateStore,
    pub audit: MockAuditStore,
    pub mailer: MockMailer,
    pub not_ready: bool,
    pub limits: Option<Limits>,
    pub network: NetworkSettings,
    pub read_audit: ReadAudit,
    /// `AUTH_FAILURES_PER_MINUTE`; `None` is the default (10).
    pub auth_failures_per_minute: Option<u32>,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts an RFC 9457 problem with `status`, and returns its JSON.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let p = self.json();
        assert_eq!(p["status"], status);
        for key in ["type", "title", "detail"] {
            assert!(p[key].is_string(), "problem without {key}: {p}");
        }
        p
    }
}

impl Mocks {
    pub fn state(self) -> ApiState {
        let clock = Arc::new(FixedClock(NOW));
        let ids = Arc::new(SequentialIds::default());
        let ready = !self.not_ready;
        ApiState {
            messages: MessageService::new(Arc::new(self.mailer), clock.clone(), ids.clone()),
            processes: ProcessService::new(Arc::new(self.repo), clock.clone(), ids.clone())
                .with_read_audit(self.read_audit),
            catalog: CatalogService::new(Arc::new(self.catalog), clock.clone(), ids.clone()),
            directory: DirectoryService::new(
                Arc::new(self.contacts),
                Arc::new(self.templates),
                clock.clone(),
                ids.clone(),
            ),
            audit: AuditService::new(
                Arc::new(self.audit),
                Arc::new(MockProcessRepository::new()),
                clock,
                ids,
            ),
            reminders: ReminderSettings::utc(vec![1, 3, 5]),
            limits: self.limits.unwrap_or_default(),
            network: self.network,
            auth_throttle: self
                .auth_failures_per_minute
                .map_or_else(AuthThrottle::default, AuthThrottle::per_minute),
            readiness: Arc::new(move || Box::pin(async move { ready })),
            authenticator: pas_http::authn::Authenticator::off(),
        }
    }

    /// Builds the app and sends one request.
    pub async fn call(self, req: test::TestRequest) -> Reply {
        let mut replies = self.call_all(vec![req]).await;
        replies.remove(0)
    }

    /// Builds the app once and sends the requests one after another (state such as the
    /// limiter of failed authorizations carries over).
    pub async fn call_all(self, reqs: Vec<test::TestRequest>) -> Vec<Reply> {
        let app = test::init_service(App::new().configure(pas_http::configure(self.state()))).await;
        let mut replies = Vec::with_capacity(reqs.len());
        for req in reqs {
            let res = test::call_service(&app, req.to_request()).await;
            let status = res.status();
            let headers = res.headers().clone();
            let body = test::read_body(res).await.to_vec();
            replies.push(Reply {
                status,
                headers,
                body,
            });
        }
        replies
    }
}

/// A process as a client writes it: an approver step, then a signer with a personal code.
pub fn process_json() -> Value {
    json!({
        "documentId": "lease-2026-17",
        "documentName": "Lease",
        "ownerGroup": "sales",
        "processInitiatorEmail": "office@example.lv",
        "signingProcessSteps": [
            {"processOrder": 1, "processStepSigners": [
                {"signerRole": "APPROVER", "signerEmail": "boss@example.lv", "signerName": "Boss"}
            ]},
            {"processOrder": 2, "dueDate": "2026-03-10T12:00:00Z", "processStepSigners": [
                {"signerRole": "SIGNER", "signerEmail": "client@example.lv", "signerCountry": "LV",
                 "signerPersonalCode": CODE, "signerName": "Client", "signerLanguage": "lv"}
            ]}
        ]
    })
}

/// A PENDING process built by the domain.
pub fn pending() -> SigningProcess {
    let input: ProcessInput = serde_json::from_value(process_json()).expect("input");
    let draft = input.validate().expect("valid");
    SigningProcess::create(draft, &SequentialIds::default(), NOW)
        .expect("created")
        .0
}

/// A STARTED process (version 2).
pub fn started() -> SigningProcess {
    let mut p = pending();
    let _ = p.start(NOW).expect("started");
    p
}

/// A CANCELED process.
pub fn canceled() -> SigningProcess {
    let mut p = started();
    let _ = p.cancel(false, NOW).expect("canceled");
    p
}

/// The id of the entry of `role` in a process.
pub fn entry(p: &SigningProcess, role: pas_domain::status::SignerRole) -> uuid::Uuid {
    p.entries()
        .find(|e| e.role() == role)
        .expect("entry of that role")
        .id
        .as_uuid()
}
