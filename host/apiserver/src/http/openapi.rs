//! A minimal OpenAPI v3 surface: the root index and, per group-version, one PATCH operation per resource that
//! declares the `fieldValidation` query parameter. That is what kubectl inspects to decide that the server
//! validates fields itself, so `kubectl apply`/`create` work without client-side schemas. No schemas are served.

use serde_json::{Map, Value, json};

use crate::store::Cluster;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: one entry per served group-version.
pub fn root(c: &Cluster) -> Value {
    let mut paths = Map::new();
    for r in c.resources() {
        for v in &r.versions {
            let p = gv_path(&r.group, v);
            paths.insert(
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}")}),
            );
        }
    }
    json!({"paths": paths})
}

/// `/openapi/v3/<api|apis>/...`: the document of one group-version, or `None` when it is not served.
pub fn group_version(c: &Cluster, rest: &str) -> Option<Value> {
    let mut paths = Map::new();
    for r in c.resources() {
        for v in r.versions.iter().filter(|v| gv_path(&r.group, v) == rest) {
            let base = format!("/{rest}");
            let item = if r.namespaced {
                format!("{base}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
            } else {
                format!("{base}/{}/{{name}}", r.plural)
            };
            let op = json!({
                "x-kubernetes-group-version-kind": {"group": r.group, "version": v, "kind": r.kind},
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
                ],
                "responses": {"200": {"description": "OK"}},
            });
            paths.insert(item, json!({"patch": op}));
        }
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0+embedded"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
