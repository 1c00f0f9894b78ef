//! TLS to PostgreSQL (PRODUCT.md section 13) against a real cluster that accepts TLS
//! connections only, made by `tests/scripts/pg-tls.sh` (which sets `TEST_TLS_PORT`,
//! `TEST_TLS_CA` and `TEST_TLS_OTHER_CA`); skipped, saying so, without it. The server's
//! certificate names `localhost` and is signed by the CA of `TEST_TLS_CA`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pas_persistence::Db;

struct Cluster {
    port: String,
    ca: String,
    other_ca: String,
}

fn cluster() -> Option<Cluster> {
    match (
        std::env::var("TEST_TLS_PORT"),
        std::env::var("TEST_TLS_CA"),
        std::env::var("TEST_TLS_OTHER_CA"),
    ) {
        (Ok(port), Ok(ca), Ok(other_ca)) => Some(Cluster { port, ca, other_ca }),
        _ => {
            eprintln!("TEST_TLS_PORT unset: skipping the TLS tests (run tests/scripts/pg-tls.sh)");
            None
        }
    }
}

impl Cluster {
    fn url(&self, host: &str, query: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{query}", self.port)
    }
}

async fn connects(url: &str) -> Result<(), String> {
    let db = Db::connect(url, 1).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_connects_to_the_named_host_with_the_right_ca_only() {
    let Some(c) = cluster() else { return };
    let ca = format!("sslmode=verify-full&sslrootcert={}", c.ca);
    connects(&c.url("localhost", &ca))
        .await
        .expect("verify-full to localhost");
    // The certificate names localhost, not 127.0.0.1.
    let e = connects(&c.url("127.0.0.1", &ca)).await.unwrap_err();
    assert!(e.contains("TLS"), "{e}");
    let other = format!("sslmode=verify-full&sslrootcert={}", c.other_ca);
    let e = connects(&c.url("localhost", &other)).await.unwrap_err();
    assert!(e.contains("TLS"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_ca_checks_the_chain_but_not_the_name() {
    let Some(c) = cluster() else { return };
    connects(&c.url(
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={}", c.ca),
    ))
    .await
    .expect("verify-ca to 127.0.0.1");
    // `require` with a root certificate is verify-ca, as in libpq.
    assert!(
        connects(&c.url(
            "127.0.0.1",
            &format!("sslmode=require&sslrootcert={}", c.other_ca)
        ))
        .await
        .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_encrypts_and_a_plain_connection_is_refused_by_the_server() {
    let Some(c) = cluster() else { return };
    connects(&c.url("127.0.0.1", "sslmode=require"))
        .await
        .expect("require without a root certificate");
    // The cluster accepts `hostssl` only: without TLS nothing gets in, so every success
    // above was over TLS.
    assert!(
        connects(&c.url("127.0.0.1", "sslmode=disable"))
            .await
            .is_err()
    );
    assert!(connects(&c.url("127.0.0.1", "")).await.is_err());
}
