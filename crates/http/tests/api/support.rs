//! Test fixtures: an app over mock ports, a real domain process, and a one-call client.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test};
use pas_domain::input::ProcessInput;
use pas_domain::ports::{
    FixedClock, MockAuditStore, MockCatalogStore, MockContactStore, MockErasureStore, MockMailer,
    MockOutbox, MockProcessRepository, MockTemplateStore, MockWebhookSender, MockWebhookStore,
    SequentialIds,
};
use pas_domain::process::SigningProcess;
use pas_domain::pseudonym::PiiKey;
use pas_domain::service::{
    AuditService, CatalogService, DirectoryService, ErasureService, MessageService, OutboxService,
    ProcessService, WebhookService,
};
use pas_domain::webhook::{Resolver, TargetPolicy};
use pas_http::{ApiState, AuthThrottle, Limits, NetworkSettings, ReminderSettings};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// The fixed "now" of every test.
pub const NOW: OffsetDateTime = datetime!(2026-03-02 8:00 UTC);

/// The process repository, configured by each test before [`Mocks::call`]; the other ports
/// are mocks that expect nothing.
#[derive(Default)]
pub struct Mocks {
    pub repo: MockProcessRepository,
    pub erasure: MockErasureStore,
    pub not_ready: bool,
}

/// A resolver that knows no names: handler tests never deliver webhooks.
struct NoNames;

#[async_trait::async_trait]
impl Resolver for NoNames {
    async fn resolve(&self, _host: &str) -> Vec<std::net::IpAddr> {
        Vec::new()
    }
}

/// The key of pseudonyms in handler tests.
pub fn pii_key() -> PiiKey {
    PiiKey::new(vec![7; 32]).expect("a 32-byte key")
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
            messages: MessageService::new(Arc::new(MockMailer::new()), clock.clone(), ids.clone()),
            outbox: OutboxService::new(Arc::new(MockOutbox::new()), clock.clone()),
            processes: ProcessService::new(
                Arc::new(self.repo),
                clock.clone(),
                ids.clone(),
                pii_key(),
            ),
            catalog: CatalogService::new(
                Arc::new(MockCatalogStore::new()),
                clock.clone(),
                ids.clone(),
            ),
            directory: DirectoryService::new(
                Arc::new(MockContactStore::new()),
                Arc::new(MockTemplateStore::new()),
                clock.clone(),
                ids.clone(),
            ),
            audit: AuditService::new(
                Arc::new(MockAuditStore::new()),
                Arc::new(MockProcessRepository::new()),
                Arc::new(MockOutbox::new()),
                clock.clone(),
                ids.clone(),
                pii_key(),
            ),
            webhooks: WebhookService::new(
                Arc::new(MockWebhookStore::new()),
                Arc::new(NoNames),
                Arc::new(MockWebhookSender::new()),
                clock.clone(),
                ids.clone(),
                TargetPolicy::default(),
            ),
            erasure: ErasureService::new(Arc::new(self.erasure), clock, ids, pii_key()),
            reminders: ReminderSettings::utc(vec![1, 3, 5]),
            limits: Limits::default(),
            network: NetworkSettings::default(),
            auth_throttle: AuthThrottle::default(),
            readiness: Arc::new(move || Box::pin(async move { ready })),
            authenticator: pas_http::authn::Authenticator::off(),
        }
    }

    /// Builds the app and sends one request.
    pub async fn call(self, req: test::TestRequest) -> Reply {
        let app = test::init_service(App::new().configure(pas_http::configure(self.state()))).await;
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = test::read_body(res).await.to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }
}

/// A STARTED process built by the domain (version 2).
pub fn started() -> SigningProcess {
    let input: ProcessInput = serde_json::from_value(json!({
        "documentId": "lease-2026-17",
        "ownerGroup": "sales",
        "signingProcessSteps": [{"processOrder": 1, "processStepSigners": [
            {"signerRole": "SIGNER", "signerEmail": "client@example.lv"}
        ]}]
    }))
    .expect("input");
    let draft = input.validate().expect("valid");
    let mut p = SigningProcess::create(draft, &SequentialIds::default(), NOW)
        .expect("created")
        .0;
    let _ = p.start(NOW).expect("started");
    p
}
