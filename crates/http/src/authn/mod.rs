//! Authentication: how a request proves who it is (PRODUCT.md section 10).

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderName, USER_AGENT};
use pas_domain::auth::Principal;

/// The acting user when the request names none.
pub const DEFAULT_USER: &str = "api";

/// Longest header value kept, in characters (longer ones are cut, never refused).
const MAX_LEN: usize = 255;

/// The principal of `AUTH_MODE=off`: named by `X-User` (absent: `api`), its client the
/// `X-Client-App` header, else `User-Agent`.
pub fn development_principal(req: &HttpRequest) -> Principal {
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
    let client = header(&HeaderName::from_static("x-client-app")).or_else(|| header(&USER_AGENT));
    Principal::development(user, client)
}
