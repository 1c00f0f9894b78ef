//! What answers a request no route took: 405 (with `Allow`) when the path is one of the API's
//! with another method, 404 otherwise; both as problems. The path templates come from the
//! OpenAPI document, which is collected from the registered handlers themselves.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use utoipa::openapi::OpenApi;

use crate::problem::ApiError;

/// Every path template and the methods it has.
pub(crate) struct KnownRoutes(Vec<(ResourceDef, Vec<Method>)>);

impl KnownRoutes {
    pub(crate) fn from_openapi(doc: &OpenApi) -> Self {
        let mut routes: Vec<(ResourceDef, Vec<Method>)> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (item.get.is_some(), Method::GET),
                    (item.put.is_some(), Method::PUT),
                    (item.post.is_some(), Method::POST),
                    (item.delete.is_some(), Method::DELETE),
                    (item.patch.is_some(), Method::PATCH),
                ]
                .into_iter()
                .filter_map(|(has, m)| has.then_some(m))
                .collect();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        for path in ["/openapi.json", "/docs", "/docs/{tail}*"] {
            routes.push((ResourceDef::new(path), vec![Method::GET]));
        }
        Self(routes)
    }

    /// The methods of every template matching `path` (empty: unknown path).
    fn allowed(&self, path: &str) -> Vec<Method> {
        let mut methods: Vec<Method> = self
            .0
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, m)| m.iter().cloned())
            .collect();
        methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        methods.dedup();
        methods
    }
}

/// The default service of the app and of the API scope.
pub(crate) async fn unmatched(
    req: HttpRequest,
    known: Option<web::Data<KnownRoutes>>,
) -> HttpResponse {
    let allowed = known.map(|k| k.allowed(req.path())).unwrap_or_default();
    let error = if allowed.is_empty() {
        ApiError::RouteNotFound
    } else {
        ApiError::MethodNotAllowed(allowed)
    };
    error.error_response()
}
