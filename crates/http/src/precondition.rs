//! `If-Match` on process changes: the `ETag` of a process is its version in quotes
//! (`"3"`); `If-Match: "3"` (or `W/"3"`) asks for exactly that version, `*` or no header for
//! any. Anything else is a 400.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::IF_MATCH;
use actix_web::{FromRequest, HttpRequest};
use pas_domain::service::Precondition;

use crate::problem::ApiError;

/// The `If-Match` of a request as the use cases take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Precondition);

/// Parses an `If-Match` value: `"3"`, `W/"3"`, `3` or `*`.
pub fn parse_if_match(value: &str) -> Result<Precondition, ApiError> {
    let v = value.trim();
    if v == "*" {
        return Ok(Precondition::None);
    }
    let v = v.strip_prefix("W/").unwrap_or(v);
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    v.parse::<i64>().map(Precondition::Version).map_err(|_| {
        ApiError::bad_parameter(
            "If-Match",
            "must be one ETag of this API (a quoted version such as \"3\") or *",
        )
    })
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(IF_MATCH) {
            None => Ok(Precondition::None),
            Some(v) => v
                .to_str()
                .map_err(|_| ApiError::bad_parameter("If-Match", "must be ASCII"))
                .and_then(parse_if_match),
        };
        ready(parsed.map(IfMatch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_strong_weak_bare_and_star() {
        assert_eq!(parse_if_match("\"3\"").ok(), Some(Precondition::Version(3)));
        assert_eq!(
            parse_if_match(" W/\"12\" ").ok(),
            Some(Precondition::Version(12))
        );
        assert_eq!(parse_if_match("4").ok(), Some(Precondition::Version(4)));
        assert_eq!(parse_if_match("*").ok(), Some(Precondition::None));
    }

    #[test]
    fn a_malformed_if_match_is_rejected() {
        for bad in ["\"abc\"", "", "\"1\", \"2\"", "W/"] {
            assert!(parse_if_match(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
