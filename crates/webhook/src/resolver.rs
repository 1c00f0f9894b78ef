//! [`DnsResolver`]: a target's addresses from the system's resolver.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use pas_domain::webhook::{Resolver, TIMEOUT};

/// The [`Resolver`] of webhook targets: `tokio::net::lookup_host` (the system's resolver,
/// `/etc/hosts` included), each address once, in the order given. A name that does not
/// resolve, or not within the resolver's timeout ([`DnsResolver::new`]; [`TIMEOUT`] by
/// default), has no addresses (and the domain refuses the target as unresolved).
///
/// The timeout bounds the lookup only: a delivery's attempt can take it plus the
/// [`HttpSender`](crate::HttpSender)'s. The service gives both `WEBHOOK_TIMEOUT_MS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsResolver {
    timeout: Duration,
}

impl Default for DnsResolver {
    /// [`DnsResolver::new`] with the [`TIMEOUT`] of PRODUCT.md section 12 (10 s).
    fn default() -> Self {
        Self::new(TIMEOUT)
    }
}

impl DnsResolver {
    /// A resolver giving up on a lookup after `timeout`: `WEBHOOK_TIMEOUT_MS`, [`TIMEOUT`]
    /// (10 s) unless tests shorten it. A lookup still running then answers no addresses
    /// (the blocking `getaddrinfo` behind it finishes on its own in the background).
    pub const fn new(timeout: Duration) -> Self {
        Self { timeout }
    }

    /// The bound on each lookup.
    pub const fn timeout(&self) -> Duration {
        self.timeout
    }
}

#[async_trait]
impl Resolver for DnsResolver {
    async fn resolve(&self, host: &str) -> Vec<IpAddr> {
        let lookup = tokio::net::lookup_host((host, 0));
        match tokio::time::timeout(self.timeout, lookup).await {
            Ok(Ok(found)) => {
                let mut addresses: Vec<IpAddr> = Vec::new();
                for address in found.map(|a| a.ip()) {
                    if !addresses.contains(&address) {
                        addresses.push(address);
                    }
                }
                addresses
            }
            Ok(Err(e)) => {
                tracing::debug!(host, error = %e, "webhook target does not resolve");
                Vec::new()
            }
            Err(_) => {
                tracing::debug!(
                    host,
                    timeout_ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
                    "webhook target lookup timed out"
                );
                Vec::new()
            }
        }
    }
}
