//! A tiny in-memory API server behind a `kube::Client` (a tower service, no sockets): core/v1 discovery plus
//! get and list of the ConfigMaps it is given. Shared by the plugin host tests and the dispatch benchmark.

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};

/// A ConfigMap whose `data` holds about `size` bytes.
pub fn config_map(namespace: &str, name: &str, size: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
           "data": {"payload": "x".repeat(size)}})
}

fn respond(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", http::HeaderValue::from_static("application/json"));
    response
}

fn not_found(what: &str) -> Response<Full<Bytes>> {
    respond(
        StatusCode::NOT_FOUND,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
               "message": format!("{what} not found")}),
    )
}

fn route(objects: &[Value], path: &str) -> Response<Full<Bytes>> {
    if path == "/api/v1" {
        return respond(
            StatusCode::OK,
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "configmaps", "singularName": "configmap", "namespaced": true, "kind": "ConfigMap",
                 "verbs": ["get", "list", "create", "update", "patch", "delete"]}
            ]}),
        );
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", "v1", "namespaces", ns, "configmaps"] => {
            let items: Vec<&Value> = objects
                .iter()
                .filter(|o| o["metadata"]["namespace"] == *ns)
                .collect();
            respond(
                StatusCode::OK,
                json!({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {}, "items": items}),
            )
        }
        ["api", "v1", "namespaces", ns, "configmaps", name] => {
            let found = objects
                .iter()
                .find(|o| o["metadata"]["namespace"] == *ns && o["metadata"]["name"] == *name);
            found.map_or_else(
                || not_found(&format!("configmaps {name:?}")),
                |o| respond(StatusCode::OK, o.clone()),
            )
        }
        _ => not_found(path),
    }
}

/// A client answering from `objects`. Needs a tokio runtime context (kube buffers requests in a task).
pub fn client(objects: Vec<Value>) -> kube::Client {
    let objects = Arc::new(objects);
    let service = tower::service_fn(move |request: Request<kube::client::Body>| {
        let objects = objects.clone();
        async move { Ok::<_, Infallible>(route(&objects, request.uri().path())) }
    });
    kube::Client::new(service, "default")
}

/// A configuration whose server nobody listens on, for the kcp admin slot.
pub fn config() -> kube::Config {
    kube::Config::new("http://127.0.0.1:9".parse().expect("static URL"))
}
