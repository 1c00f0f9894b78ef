//! Who is calling: the one place that turns a request into the domain's [`Caller`] (the
//! acting user, the client application and the address recorded on every audit row).
//!
//! Until authentication lands the user is the `X-User` header (absent: `api`) and the client
//! application is `X-Client-App`, else `User-Agent` (PRODUCT.md section 4). A token-based
//! principal will replace the body of [`RequestCaller::from_request`]; handlers take a
//! `RequestCaller` and never read these headers themselves.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderName, USER_AGENT};
use actix_web::{FromRequest, HttpRequest};
use pas_domain::audit::Caller;

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
    /// Reads the caller from a request's headers and peer address.
    pub fn of(req: &HttpRequest) -> Self {
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
        Self(Caller {
            user,
            ip_address: req.peer_addr().map(|a| a.ip().to_string()),
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
}
