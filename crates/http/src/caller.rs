//! Who is calling: the one place that turns a request into the domain's [`Caller`] (the
//! acting user, the client application and the address recorded on every audit row).
//!
//! Until authentication lands the user is the `X-User` header (absent: `api`) and the client
//! application is `X-Client-App`, else `User-Agent` (PRODUCT.md section 4). A token-based
//! principal will replace the body of [`RequestCaller::from_request`]; handlers take a
//! `RequestCaller` and never read these headers themselves.
//!
//! The address is the peer's, or, when the peer is a trusted proxy (`TRUSTED_PROXIES`), the
//! first `X-Forwarded-For` hop ([`NetworkSettings::client_ip`]).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderName, USER_AGENT};
use actix_web::{FromRequest, HttpRequest, web};
use pas_domain::audit::Caller;

use crate::ApiState;
use crate::network::NetworkSettings;
use crate::problem::ApiError;

/// The acting user when the request names none.
pub const DEFAULT_USER: &str = "api";

/// Longest header value kept, in characters (longer ones are cut, never refused). Values
/// are read as UTF-8, so user names with diacritics survive.
const MAX_LEN: usize = 255;

/// The caller of a request; every mutating handler takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCaller(pub Caller);

impl RequestCaller {
    /// Reads the caller from a request's headers and peer address, with the network
    /// settings of the app's [`ApiState`] (none registered: no proxy is trusted).
    pub fn of(req: &HttpRequest) -> Self {
        match req.app_data::<web::Data<ApiState>>() {
            Some(state) => Self::resolve(req, &state.network),
            None => Self::resolve(req, &NetworkSettings::default()),
        }
    }

    /// Reads the caller from a request's headers and peer address, believing
    /// `X-Forwarded-For` only from the trusted proxies of `network`.
    pub fn resolve(req: &HttpRequest, network: &NetworkSettings) -> Self {
        let header = |name: &HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| v.chars().take(MAX_LEN).collect::<String>())
        };
        let user =
            header(&HeaderName::from_static("x-user")).unwrap_or_else(|| DEFAULT_USER.to_owned());
        let client_app =
            header(&HeaderName::from_static("x-client-app")).or_else(|| header(&USER_AGENT));
        let forwarded_for = req
            .headers()
            .get_all(HeaderName::from_static("x-forwarded-for"))
            .filter_map(|v| v.to_str().ok());
        let ip = network.client_ip(req.peer_addr().map(|a| a.ip()), forwarded_for);
        Self(Caller {
            user,
            ip_address: ip.map(|ip| ip.to_string()),
            client_app,
        })
    }
}

impl FromRequest for RequestCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_caller_defaults_to_api_without_headers() {
        let req = TestRequest::default().to_http_request();
        let caller = RequestCaller::of(&req).0;
        assert_eq!(caller.user, "api");
        assert_eq!(caller.client_app, None);
    }

    #[test]
    fn x_client_app_wins_over_user_agent_and_the_peer_ip_is_kept() {
        let req = TestRequest::default()
            .insert_header((
                "X-User",
                actix_web::http::header::HeaderValue::from_bytes(" Jānis ".as_bytes())
                    .expect("utf-8 header"),
            ))
            .insert_header(("User-Agent", "curl/8"))
            .insert_header(("X-Client-App", "portal"))
            .peer_addr("10.1.2.3:4567".parse().expect("addr"))
            .to_http_request();
        let caller = RequestCaller::of(&req).0;
        assert_eq!(caller.user, "Jānis");
        assert_eq!(caller.client_app.as_deref(), Some("portal"));
        assert_eq!(caller.ip_address.as_deref(), Some("10.1.2.3"));

        let req = TestRequest::default()
            .insert_header(("User-Agent", "curl/8"))
            .to_http_request();
        assert_eq!(
            RequestCaller::of(&req).0.client_app.as_deref(),
            Some("curl/8")
        );
    }

    fn behind_proxy() -> NetworkSettings {
        NetworkSettings {
            trusted_proxies: crate::network::parse_ip_blocks("10.0.0.0/8").expect("blocks"),
        }
    }

    fn request(peer: &str, forwarded_for: Option<&str>) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().expect("addr"));
        if let Some(xff) = forwarded_for {
            req = req.insert_header(("X-Forwarded-For", xff));
        }
        req.to_http_request()
    }

    #[test]
    fn an_untrusted_peer_ignores_x_forwarded_for() {
        let req = request("192.0.2.9:5000", Some("198.51.100.1"));
        let caller = RequestCaller::resolve(&req, &behind_proxy()).0;
        assert_eq!(caller.ip_address.as_deref(), Some("192.0.2.9"));
        let caller = RequestCaller::of(&req).0;
        assert_eq!(
            caller.ip_address.as_deref(),
            Some("192.0.2.9"),
            "without settings no proxy is trusted"
        );
    }

    #[test]
    fn a_trusted_peer_gives_the_first_forwarded_hop() {
        let req = request("10.0.0.1:5000", Some("198.51.100.1, 10.0.0.7"));
        let caller = RequestCaller::resolve(&req, &behind_proxy()).0;
        assert_eq!(caller.ip_address.as_deref(), Some("198.51.100.1"));
    }

    #[test]
    fn a_malformed_forwarded_header_falls_back_to_the_peer() {
        for xff in [Some("garbage, also-garbage"), Some(""), None] {
            let req = request("10.0.0.1:5000", xff);
            let caller = RequestCaller::resolve(&req, &behind_proxy()).0;
            assert_eq!(caller.ip_address.as_deref(), Some("10.0.0.1"), "{xff:?}");
        }
    }
}
