//! [`DnsResolver`]: a target's addresses from the system's resolver.

use async_trait::async_trait;
use pas_domain::webhook::{Resolver, TIMEOUT};
use std::net::IpAddr;

/// The [`Resolver`] of webhook targets: `tokio::net::lookup_host` (the system's resolver,
/// `/etc/hosts` included), each address once, in the order given. A name that does not
/// resolve, or not within [`TIMEOUT`], has no addresses (and the domain refuses the target
/// as unresolved).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsResolver;

#[async_trait]
impl Resolver for DnsResolver {
    async fn resolve(&self, host: &str) -> Vec<IpAddr> {
        let lookup = tokio::net::lookup_host((host, 0));
        match tokio::time::timeout(TIMEOUT, lookup).await {
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
                tracing::debug!(host, "webhook target lookup timed out");
                Vec::new()
            }
        }
    }
}
