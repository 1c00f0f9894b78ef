//! The middleware that authenticates every request of the scope it wraps, and the
//! development principal of `AUTH_MODE=off`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderName, USER_AGENT};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, ResponseError, web};
use pas_domain::auth::Principal;

use super::{AuthError, Authenticator};
use crate::metrics::AuthFailure;
use crate::problem::ApiError;

/// The acting user of `AUTH_MODE=off` when the request names none.
pub const DEFAULT_USER: &str = "api";

/// Longest header value kept, in characters (longer ones are cut, never refused).
const MAX_LEN: usize = 255;

/// The principal of `AUTH_MODE=off`: [`Principal::development`] named by `X-User` (absent:
/// `api`), its client `X-Client-App`, else `User-Agent`. Values are trimmed, read as UTF-8
/// (names with diacritics survive) and cut at 255 characters.
pub fn development_principal(req: &HttpRequest) -> Principal {
    let user = header_text(req, &HeaderName::from_static("x-user"))
        .unwrap_or_else(|| DEFAULT_USER.to_owned());
    let client = header_text(req, &HeaderName::from_static("x-client-app"))
        .or_else(|| header_text(req, &USER_AGENT));
    Principal::development(user, client)
}

/// A header as trimmed UTF-8, cut at 255 characters; `None` when absent, blank or not
/// UTF-8.
pub(crate) fn header_text(req: &HttpRequest, name: &HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.chars().take(MAX_LEN).collect())
}

/// Authenticates a request with the app's `web::Data<Authenticator>` (none registered:
/// `AUTH_MODE=off`) and puts its [`Principal`] into the request's extensions, where
/// handlers and extractors find it (`req.extensions().get::<Principal>()`). A request that
/// cannot be authenticated is answered here: 401 with `WWW-Authenticate`, or 503 with
/// `Retry-After` while the provider's keys are not loaded.
///
/// ```no_run
/// use actix_web::{App, middleware::from_fn, web};
/// use pas_http::authn::{Authenticator, authenticate};
/// let app = App::new()
///     .app_data(web::Data::new(Authenticator::off()))
///     .service(web::scope("/api").wrap(from_fn(authenticate)));
/// ```
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let authenticator = req.app_data::<web::Data<Authenticator>>().cloned();
    let principal = match authenticator {
        Some(auth) if !auth.is_off() => {
            // A value that is not visible ASCII cannot be a bearer token.
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match auth.authenticate(header).await {
                Ok(principal) => principal,
                Err(e) => {
                    match &e {
                        AuthError::Missing => {
                            crate::metrics::auth_failed(AuthFailure::MissingToken);
                            tracing::debug!("request without a bearer token");
                        }
                        AuthError::Invalid(reason) => {
                            crate::metrics::auth_failed(AuthFailure::InvalidToken);
                            tracing::info!(reason = %reason, "bearer token refused");
                        }
                        AuthError::Unavailable => {
                            tracing::warn!(
                                "bearer token not checked: the identity provider's keys are not loaded"
                            );
                        }
                    }
                    let response = ApiError::from(e).error_response();
                    return Ok(req.into_response(response));
                }
            }
        }
        _ => development_principal(req.request()),
    };
    req.extensions_mut().insert(principal);
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
