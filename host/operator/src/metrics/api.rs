//! Counting Kubernetes API requests per verb: a client wrapper that classifies each request by method, path and
//! query, forwards it to the wrapped client (which keeps its own retries of 429/503) and counts the final answer.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use http::{Method, Request, Response};
use kube::{Client, client::Body};

/// A client that counts its requests into [`super::global`]'s `api_requests`.
pub fn instrument(client: Client) -> Client {
    let namespace = client.default_namespace().to_owned();
    Client::new(Counting { inner: client }, namespace)
}

#[derive(Clone)]
struct Counting {
    inner: Client,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, kube::Error>> + Send>>;

impl tower::Service<Request<Body>> for Counting {
    type Response = Response<Body>;
    type Error = kube::Error;
    type Future = BoxFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let verb = verb_of(request.method(), request.uri(), content_type);
        let inner = self.inner.clone();
        Box::pin(async move {
            let response = inner.send(request).await;
            let code = match &response {
                Ok(r) => r.status().as_u16().to_string(),
                Err(kube::Error::Api(status)) => status.code.to_string(),
                Err(_) => "error".to_owned(),
            };
            super::global()
                .api_requests
                .get_or_create(&super::ApiRequest { verb, code })
                .inc();
            response
        })
    }
}

/// The Kubernetes verb of a request: collection or object path, method, `watch` query and patch content type.
pub fn verb_of(method: &Method, uri: &http::Uri, content_type: &str) -> &'static str {
    let watch = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
    let object = names_an_object(uri.path());
    match *method {
        Method::GET if watch => "watch",
        Method::GET if object => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH if content_type.starts_with("application/apply-patch") => "apply",
        Method::PATCH => "patch",
        Method::DELETE if object => "delete",
        Method::DELETE => "deletecollection",
        _ => "other",
    }
}

/// Whether a path names one object (`.../<resource>/<name>[/<subresource>]`) rather than a collection.
fn names_an_object(path: &str) -> bool {
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.first() == Some(&"clusters") {
        segments.drain(..segments.len().min(2));
    }
    let rest = match segments.as_slice() {
        ["api", _version, rest @ ..] => rest,
        ["apis", _group, _version, rest @ ..] => rest,
        _ => return false,
    };
    let rest = match rest {
        // `namespaces/<ns>/<resource>...` addresses namespaced resources; `namespaces/<name>` is a namespace.
        ["namespaces", _ns, resource, tail @ ..] => std::iter::once(resource).chain(tail).count(),
        other => other.len(),
    };
    rest >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verb(method: Method, uri: &str) -> &'static str {
        verb_of(&method, &uri.parse().unwrap(), "application/json")
    }

    #[test]
    fn verbs_follow_paths_and_queries() {
        assert_eq!(verb(Method::GET, "/api/v1/namespaces/a/secrets/s"), "get");
        assert_eq!(verb(Method::GET, "/api/v1/namespaces/a/secrets"), "list");
        assert_eq!(verb(Method::GET, "/api/v1/namespaces/a"), "get");
        assert_eq!(verb(Method::GET, "/api/v1/namespaces"), "list");
        assert_eq!(
            verb(
                Method::GET,
                "/apis/core.platform-mesh.io/v1alpha1/platformmeshes?watch=true&rv=1"
            ),
            "watch"
        );
        assert_eq!(
            verb(
                Method::GET,
                "/clusters/root:orgs/apis/tenancy.kcp.io/v1alpha1/workspaces/w"
            ),
            "get"
        );
        assert_eq!(
            verb(Method::PATCH, "/apis/g/v1/namespaces/a/things/t/status"),
            "patch"
        );
        assert_eq!(
            verb_of(
                &Method::PATCH,
                &"/apis/g/v1/namespaces/a/things/t".parse().unwrap(),
                "application/apply-patch+yaml"
            ),
            "apply"
        );
        assert_eq!(
            verb(Method::DELETE, "/api/v1/namespaces/a/pods"),
            "deletecollection"
        );
        assert_eq!(verb(Method::DELETE, "/api/v1/namespaces/a/pods/p"), "delete");
        assert_eq!(
            verb(Method::POST, "/api/v1/namespaces/a/serviceaccounts/s/token"),
            "create"
        );
    }
}
