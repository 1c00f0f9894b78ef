//! Who is calling: the one place that turns a request into the domain's [`Caller`] (the
//! authenticated principal and the address recorded on every audit row), and that checks
//! the principal's role for the route's operation before any body is read (PRODUCT.md
//! section 10: the role first, then the object, then the body).
//!
//! The principal is put into the request by the authentication middleware
//! ([`crate::authn`]); without one (an app mounted without it) the request is treated as
//! `AUTH_MODE=off`. The address is the peer's, or, when the peer is a trusted proxy
//! (`TRUSTED_PROXIES`), the first `X-Forwarded-For` hop ([`NetworkSettings::client_ip`]).

use std::collections::HashMap;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::http::header::HeaderName;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use pas_domain::audit::Caller;
use pas_domain::auth::{Operation, Principal};
use utoipa::openapi::OpenApi;

use crate::ApiState;
use crate::network::NetworkSettings;
use crate::problem::ApiError;

/// The caller of a request; every handler of the API takes one, first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCaller(pub Caller);

impl RequestCaller {
    /// The caller of a request, with the network settings of the app's [`ApiState`] (none
    /// registered: no proxy is trusted).
    pub fn of(req: &HttpRequest) -> Self {
        match req.app_data::<web::Data<ApiState>>() {
            Some(state) => Self::resolve(req, &state.network),
            None => Self::resolve(req, &NetworkSettings::default()),
        }
    }

    /// The caller of a request, believing `X-Forwarded-For` only from the trusted proxies of
    /// `network`.
    pub fn resolve(req: &HttpRequest, network: &NetworkSettings) -> Self {
        let principal = req
            .extensions()
            .get::<Principal>()
            .cloned()
            .unwrap_or_else(|| crate::authn::development_principal(req));
        let forwarded_for = req
            .headers()
            .get_all(HeaderName::from_static("x-forwarded-for"))
            .filter_map(|v| v.to_str().ok());
        let ip = network.client_ip(req.peer_addr().map(|a| a.ip()), forwarded_for);
        Self(Caller::new(principal, ip.map(|ip| ip.to_string())))
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }
}

impl FromRequest for RequestCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    /// Resolves the caller and checks its role for the matched route's operation: a caller
    /// without the role gets 403 before its body or parameters are looked at.
    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let caller = Self::of(req);
        let operation = req
            .app_data::<web::Data<Operations>>()
            .and_then(|ops| ops.of(req));
        let checked = match operation {
            Some(op) => caller
                .principal()
                .require(op)
                .map(|()| caller)
                .map_err(ApiError::from),
            None => Ok(caller),
        };
        ready(checked)
    }
}

/// The operation of every route (method and path template), from the OpenAPI document,
/// which is collected from the handlers themselves.
pub(crate) struct Operations(HashMap<(Method, String), Operation>);

impl Operations {
    pub(crate) fn from_openapi(doc: &OpenApi) -> Self {
        let mut table = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let by_method = [
                (Method::GET, &item.get),
                (Method::PUT, &item.put),
                (Method::POST, &item.post),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, op) in by_method {
                let found = op
                    .as_ref()
                    .and_then(|o| o.operation_id.as_deref())
                    .and_then(Operation::from_id);
                if let Some(found) = found {
                    table.insert((method, path.clone()), found);
                }
            }
        }
        Self(table)
    }

    /// The operation of the route a request matched.
    fn of(&self, req: &HttpRequest) -> Option<Operation> {
        let pattern = req.match_pattern()?;
        self.0.get(&(req.method().clone(), pattern)).copied()
    }

    /// Every operation that has a route.
    #[cfg(test)]
    pub(crate) fn operations(&self) -> impl Iterator<Item = Operation> + '_ {
        self.0.values().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section10_every_operation_of_the_role_table_has_exactly_one_route_and_back() {
        let doc = crate::openapi();
        let table = Operations::from_openapi(&doc);
        let mut routed: Vec<Operation> = table.operations().collect();
        routed.sort();
        assert_eq!(routed, Operation::ALL.to_vec());
        // Every documented operation but the public probes is in the role table.
        let unknown: Vec<String> = doc
            .paths
            .paths
            .values()
            .flat_map(|item| [&item.get, &item.put, &item.post, &item.delete, &item.patch])
            .filter_map(|op| op.as_ref()?.operation_id.clone())
            .filter(|id| Operation::from_id(id).is_none())
            .collect();
        assert_eq!(unknown, ["health", "ready"]);
    }
    use actix_web::test::TestRequest;

    #[test]
    fn the_caller_defaults_to_api_without_headers() {
        let req = TestRequest::default().to_http_request();
        let caller = RequestCaller::of(&req).0;
        assert_eq!(caller.user(), "api");
        assert_eq!(caller.client_app(), None);
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
        assert_eq!(caller.user(), "Jānis");
        assert_eq!(caller.client_app(), Some("portal"));
        assert_eq!(caller.ip_address.as_deref(), Some("10.1.2.3"));

        let req = TestRequest::default()
            .insert_header(("User-Agent", "curl/8"))
            .to_http_request();
        assert_eq!(RequestCaller::of(&req).0.client_app(), Some("curl/8"));
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
