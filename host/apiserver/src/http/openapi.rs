//! OpenAPI documents for kubectl: `/openapi/v3` (the index), `/openapi/v3/<api|apis>/...` (one group-version) and
//! `/openapi/v2` (everything at once).
//!
//! Each group-version document has one PATCH operation per resource that declares the `fieldValidation` query
//! parameter (kubectl reads that to leave field validation to the server) and a schema per kind tagged with
//! `x-kubernetes-group-version-kind`, which is how `kubectl explain` finds a kind's schema. CRD kinds carry their
//! `openAPIV3Schema`; built-in kinds their Kubernetes schemas ([`builtin_schemas`]), with what they reference;
//! kcp's kinds an open object schema.

use serde_json::{Map, Value, json};

use super::builtin_schemas::{self, Schemas};
use crate::resources::ResourceInfo;
use crate::store::Cluster;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The schema name Kubernetes uses for a kind: the group's reversed DNS name, version and kind
/// (`io.example.v1.Widget`); built-in core kinds are `io.k8s.api.core.v1.<Kind>`.
pub fn schema_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = if group.is_empty() {
        vec!["io", "k8s", "api", "core"]
    } else {
        group.split('.').rev().collect()
    };
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// The schema of one kind in one version, tagged with its group-version-kind.
fn kind_schema(r: &ResourceInfo, version: &str) -> Value {
    let mut schema = r
        .schema(version)
        .cloned()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    if !schema.get("properties").is_some_and(Value::is_object) {
        schema["properties"] = json!({});
    }
    let props = &mut schema["properties"];
    let defaults = [
        (
            "apiVersion",
            json!({"type": "string", "description": "The versioned schema of this representation of an object."}),
        ),
        (
            "kind",
            json!({"type": "string", "description": "The REST resource this object represents."}),
        ),
        (
            "metadata",
            json!({"type": "object", "description": "The object's metadata: name, namespace, labels, annotations, ..."}),
        ),
    ];
    for (k, v) in defaults {
        if props
            .get(k)
            .is_none_or(|p| p.as_object().is_some_and(|o| o.len() <= 1))
        {
            props[k] = v;
        }
    }
    schema["x-kubernetes-group-version-kind"] =
        json!([{"group": r.group, "version": version, "kind": r.kind}]);
    schema
}

/// The built-in schema of a kind (never for CRD-defined kinds, whose own schema wins).
fn builtin_name<'a>(builtins: &'a Schemas, r: &ResourceInfo, version: &str) -> Option<&'a str> {
    if r.schema(version).is_some() {
        return None;
    }
    builtins.name_of(&r.group, version, &r.kind)
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

fn item_path(r: &ResourceInfo, base: &str) -> String {
    if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
    } else {
        format!("{base}/{}/{{name}}", r.plural)
    }
}

/// `/openapi/v3/<api|apis>/...`: the document of one group-version, or `None` when it is not served.
pub fn group_version(c: &Cluster, rest: &str) -> Option<Value> {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let builtins = builtin_schemas::v3();
    let mut builtin_roots: Vec<&str> = Vec::new();
    for r in c.resources().filter(|r| !r.review) {
        for v in r.versions.iter().filter(|v| gv_path(&r.group, v) == rest) {
            let name = match builtin_name(builtins, r, v) {
                Some(n) => {
                    builtin_roots.push(n);
                    n.to_string()
                }
                None => schema_name(&r.group, v, &r.kind),
            };
            let op = json!({
                "x-kubernetes-group-version-kind": {"group": r.group, "version": v, "kind": r.kind},
                "parameters": [
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}},
                ],
                "responses": {"200": {"description": "OK", "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{name}")},
                }}}},
            });
            paths.insert(item_path(r, &format!("/{rest}")), json!({"patch": op}));
            if !builtin_roots.contains(&name.as_str()) {
                schemas.insert(name, kind_schema(r, v));
            }
        }
    }
    if paths.is_empty() {
        return None;
    }
    schemas.extend(builtins.closure(builtin_roots));
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0+embedded"},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// `/openapi/v2`: every kind's schema as a Swagger 2.0 definition.
pub fn v2(c: &Cluster) -> Value {
    let mut paths = Map::new();
    let mut definitions = Map::new();
    let builtins = builtin_schemas::v2();
    let mut builtin_roots: Vec<&str> = Vec::new();
    for r in c.resources().filter(|r| !r.review) {
        for v in &r.versions {
            let name = match builtin_name(builtins, r, v) {
                Some(n) => {
                    builtin_roots.push(n);
                    n.to_string()
                }
                None => schema_name(&r.group, v, &r.kind),
            };
            let op = json!({
                "x-kubernetes-group-version-kind": {"group": r.group, "version": v, "kind": r.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "type": "string", "uniqueItems": true}],
                "responses": {"200": {"description": "OK", "schema": {"$ref": format!("#/definitions/{name}")}}},
            });
            paths.insert(
                item_path(r, &format!("/{}", gv_path(&r.group, v))),
                json!({"patch": op}),
            );
            if !builtin_roots.contains(&name.as_str()) {
                definitions.insert(name, kind_schema(r, v));
            }
        }
    }
    definitions.extend(builtins.closure(builtin_roots));
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.35.0+embedded"},
        "paths": paths,
        "definitions": definitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_follow_the_kubernetes_convention() {
        assert_eq!(schema_name("example.io", "v1", "Widget"), "io.example.v1.Widget");
        assert_eq!(schema_name("", "v1", "ConfigMap"), "io.k8s.api.core.v1.ConfigMap");
        assert_eq!(
            schema_name("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
            "io.platform-mesh.core.v1alpha1.PlatformMesh"
        );
    }
}
