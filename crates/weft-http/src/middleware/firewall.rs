//! `endpoint_firewall` and `resource_firewall`: the request's actor must be allowed an
//! action on the endpoint (or a fixed resource), else 401 / 403 with Wippy's JSON
//! (reference §1.10): `{"details":…,"error":…,"success":false}`, keys sorted, a trailing
//! newline.
//!
//! `endpoint_firewall` needs the matched route: as `post_middleware` in Wippy; in weft the
//! route is known before the router's `middleware` too, so either place works.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderValue, StatusCode, header};
use weft_core::{Decision, Error, Result};

use super::{Layer, MiddlewareContext, option};
use crate::pipeline::{
    Handler, HttpRequest, HttpResponse, RequestFrame, RouteInfo, full, handler_fn,
};

/// What a firewall checks the action on.
#[derive(Clone)]
enum Target {
    /// The matched endpoint's entry id.
    Endpoint,
    /// A fixed resource.
    Resource(String),
}

/// Makes `endpoint_firewall`.
pub(super) fn make_endpoint(
    options: &BTreeMap<String, String>,
    _cx: &MiddlewareContext,
) -> Result<Layer> {
    let action = option(options, "endpoint_firewall.action", "endpoint_action").unwrap_or("access");
    Ok(layer(action.to_string(), Target::Endpoint))
}

/// Makes `resource_firewall`.
pub(super) fn make_resource(
    options: &BTreeMap<String, String>,
    _cx: &MiddlewareContext,
) -> Result<Layer> {
    let action = option(options, "resource_firewall.action", "resource_action").unwrap_or("access");
    let Some(target) = option(options, "resource_firewall.target", "resource_target") else {
        return Err(Error::invalid(
            "option resource_firewall.target: a resource is required",
        ));
    };
    Ok(layer(
        action.to_string(),
        Target::Resource(target.to_string()),
    ))
}

/// The layer checking `action` on `target`.
fn layer(action: String, target: Target) -> Layer {
    let check = Arc::new((action, target));
    Arc::new(move |next: Handler| {
        let check = check.clone();
        handler_fn(move |req| {
            let refused = refusal(&check.0, &check.1, &req);
            let next = next.clone();
            async move {
                match refused {
                    Some(res) => res,
                    None => crate::pipeline::call(next, req).await,
                }
            }
        })
    })
}

/// The answer when the request may not pass; `None` when it may.
fn refusal(action: &str, target: &Target, req: &HttpRequest) -> Option<HttpResponse> {
    let Some(frame) = req.extensions().get::<RequestFrame>() else {
        return Some(deny(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Configuration error",
            "request has no frame",
        ));
    };
    let actor = match frame.cx.actor() {
        Some(actor) if !actor.id().is_empty() => actor,
        _ => {
            return Some(deny(
                StatusCode::UNAUTHORIZED,
                "Authentication required",
                "no authenticated actor",
            ));
        }
    };
    let Some(scope) = frame.cx.scope() else {
        return Some(deny(
            StatusCode::FORBIDDEN,
            "Access denied",
            "no security scope",
        ));
    };
    let resource = match target {
        Target::Resource(resource) => resource.clone(),
        Target::Endpoint => match req.extensions().get::<RouteInfo>() {
            Some(route) => route.endpoint.to_string(),
            None => {
                return Some(deny(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Configuration error",
                    "endpoint_firewall needs a matched route",
                ));
            }
        },
    };
    if scope.evaluate(actor, action, &resource, None) == Decision::Allow {
        return None;
    }
    let details = format!("{} may not {action} {resource}", actor.id());
    Some(deny(StatusCode::FORBIDDEN, "Access denied", &details))
}

/// Wippy's refusal body.
fn deny(status: StatusCode, error: &str, details: &str) -> HttpResponse {
    let body = serde_json::json!({"details": details, "error": error, "success": false});
    let mut res = http::Response::new(full(format!("{body}\n")));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use weft_core::{Actor, EntryId, Map, Policy, Scope};

    use super::*;
    use crate::middleware::testing::{body, header, request, send};
    use crate::mux::Params;
    use crate::pipeline::status_only;

    /// Allows `action` on resources starting with its prefix.
    struct AllowPrefix(&'static str, EntryId);

    impl Policy for AllowPrefix {
        fn id(&self) -> &EntryId {
            &self.1
        }
        fn evaluate(
            &self,
            _actor: &Actor,
            action: &str,
            resource: &str,
            _meta: Option<&Map>,
        ) -> Decision {
            if action == "access" && resource.starts_with(self.0) {
                Decision::Allow
            } else {
                Decision::Undefined
            }
        }
    }

    fn routed(actor: Option<Actor>, scope: Option<Scope>) -> HttpRequest {
        let mut req = request("GET", "/x", &[]);
        let frame = req.extensions_mut().get_mut::<RequestFrame>().unwrap();
        frame.cx = frame.cx.with_actor(actor).with_scope(scope);
        req.extensions_mut().insert(RouteInfo {
            endpoint: EntryId::new("app", "secret.endpoint"),
            func: EntryId::new("app", "secret"),
            pattern: "GET /x".into(),
            params: Params::default(),
        });
        req
    }

    #[tokio::test]
    async fn the_endpoint_firewall_answers_401_403_or_lets_through() {
        let inner = handler_fn(|_req| async { status_only(StatusCode::NO_CONTENT) });
        let fw =
            make_endpoint(&BTreeMap::new(), &crate::middleware::testing::context()).unwrap()(inner);
        let ada = || Some(Actor::new("ada", Map::new()));
        let allow = |p| {
            Some(Scope::new([
                Arc::new(AllowPrefix(p, EntryId::new("test", "allow"))) as Arc<dyn Policy>,
            ]))
        };

        let res = send(&fw, routed(None, allow("app:"))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            header(&res, "content-type").as_deref(),
            Some("application/json")
        );
        let text = String::from_utf8(body(res).await).unwrap();
        assert_eq!(
            text,
            "{\"details\":\"no authenticated actor\",\"error\":\"Authentication required\",\"success\":false}\n"
        );
        assert_eq!(
            send(&fw, routed(ada(), None)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&fw, routed(ada(), allow("other:"))).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            send(&fw, routed(ada(), allow("app:secret"))).await.status(),
            StatusCode::NO_CONTENT
        );
        // Without a route it is a configuration error.
        let mut bare = request("GET", "/x", &[]);
        let frame = bare.extensions_mut().get_mut::<RequestFrame>().unwrap();
        frame.cx = frame.cx.with_actor(ada()).with_scope(allow("app:"));
        assert_eq!(
            send(&fw, bare).await.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn the_resource_firewall_needs_a_target() {
        let cx = crate::middleware::testing::context();
        assert!(make_resource(&BTreeMap::new(), &cx).is_err());
    }
}
