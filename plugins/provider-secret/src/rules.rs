//! The ClusterRole rules a scoped kubeconfig gets, derived from an APIExport (spec §7.3.1).

use serde_json::{Value, json};

const STATUS_VERBS: [&str; 3] = ["get", "update", "patch"];

/// The `(group, resource)` pairs an export serves. `apis.kcp.io/v1alpha2` lists `spec.resources[]`; an export
/// stored as v1alpha1 lists `spec.latestResourceSchemas[]` named `<prefix>.<plural>.<group>`, which kcp converts
/// to the same resources.
fn exported_resources(export: &Value) -> Vec<(String, String)> {
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    if let Some(resources) = export.pointer("/spec/resources").and_then(Value::as_array) {
        return resources
            .iter()
            .map(|r| (str_of(r, "group"), str_of(r, "name")))
            .filter(|(_, name)| !name.is_empty())
            .collect();
    }
    let schemas = export
        .pointer("/spec/latestResourceSchemas")
        .and_then(Value::as_array);
    schemas
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|schema| {
            let mut parts = schema.splitn(3, '.');
            let (_prefix, plural, group) = (parts.next()?, parts.next()?, parts.next()?);
            Some((group.to_owned(), plural.to_owned()))
        })
        .filter(|(_, plural)| !plural.is_empty())
        .collect()
}

/// The rules, in upstream's order.
pub fn from_export(export: &Value) -> Vec<Value> {
    let mut rules = Vec::new();
    for (group, name) in exported_resources(export) {
        rules.push(json!({"apiGroups": [group], "resources": [name], "verbs": ["*"]}));
        rules.push(
            json!({"apiGroups": [group], "resources": [format!("{name}/status")], "verbs": STATUS_VERBS}),
        );
    }
    let claims = export.pointer("/spec/permissionClaims").and_then(Value::as_array);
    for claim in claims.into_iter().flatten() {
        let resource = claim.get("resource").and_then(Value::as_str).unwrap_or_default();
        if resource.is_empty() {
            continue;
        }
        let group = claim.get("group").and_then(Value::as_str).unwrap_or_default();
        let mut verbs: Vec<String> = claim
            .get("verbs")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        if verbs.is_empty() {
            verbs.push("*".into());
        }
        let writes_status = verbs
            .iter()
            .any(|v| matches!(v.as_str(), "*" | "update" | "patch"));
        rules.push(json!({"apiGroups": [group], "resources": [resource], "verbs": verbs}));
        if writes_status {
            rules.push(
                json!({"apiGroups": [group], "resources": [format!("{resource}/status")], "verbs": STATUS_VERBS}),
            );
        }
    }
    if let Some(name) = export
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        rules.push(
            json!({"apiGroups": ["apis.kcp.io"], "resources": ["apiexports/content"],
                          "resourceNames": [name], "verbs": ["*"]}),
        );
    }
    rules.push(
        json!({"apiGroups": ["apis.kcp.io"], "resources": ["apiexportendpointslices"],
                      "verbs": ["get", "list", "watch"]}),
    );
    rules.push(json!({"apiGroups": ["apis.kcp.io"], "resources": ["apibindings"],
                      "verbs": ["get", "list", "watch"]}));
    rules.push(
        json!({"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/clusters/*", "/services",
                                          "/services/*"], "verbs": ["get"]}),
    );
    rules
}
