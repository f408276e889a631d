//! Turning a CustomResourceDefinition into a served resource type, and the status the server writes on it.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Column, ResourceInfo};

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The resource a stored CRD defines, or `None` if it is malformed (validation rejects those up front).
pub fn resources_from_crd(crd: &Value) -> Option<ResourceInfo> {
    let spec = crd.get("spec")?;
    let names = spec.get("names")?;
    let plural = names.get("plural")?.as_str()?.to_string();
    let kind = names.get("kind")?.as_str()?.to_string();
    let group = spec.get("group")?.as_str()?.to_string();
    let mut versions = Vec::new();
    let mut status = false;
    let mut columns = Vec::new();
    let mut schemas = HashMap::new();
    let all = spec.get("versions")?.as_array()?;
    // The storage version first, so that it is the preferred one in discovery.
    let mut ordered: Vec<&Value> = all.iter().collect();
    ordered.sort_by_key(|v| !v.get("storage").and_then(Value::as_bool).unwrap_or(false));
    for v in ordered {
        if !v.get("served").and_then(Value::as_bool).unwrap_or(true) {
            continue;
        }
        let name = v.get("name")?.as_str()?.to_string();
        if v.pointer("/subresources/status").is_some() {
            status = true;
        }
        if columns.is_empty() {
            columns = printer_columns(v);
        }
        if let Some(s) = v.pointer("/schema/openAPIV3Schema") {
            schemas.insert(name.clone(), s.clone());
        }
        versions.push(name);
    }
    if versions.is_empty() {
        return None;
    }
    let singular = names
        .get("singular")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    Some(ResourceInfo {
        group,
        versions,
        kind,
        plural,
        singular,
        namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
        status,
        short_names: names.get("shortNames").map(strings).unwrap_or_default(),
        categories: names.get("categories").map(strings).unwrap_or_default(),
        columns,
        schemas,
        view: None,
        review: false,
    })
}

fn printer_columns(version: &Value) -> Vec<Column> {
    let Some(cols) = version.get("additionalPrinterColumns").and_then(Value::as_array) else {
        return Vec::new();
    };
    cols.iter()
        .filter_map(|c| {
            Some(Column {
                name: c.get("name")?.as_str()?.to_string(),
                type_: c
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string(),
                json_path: c.get("jsonPath")?.as_str()?.to_string(),
                priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
            })
        })
        .collect()
}

/// The status a real server writes on an accepted CRD: `acceptedNames`, `storedVersions` and the
/// `NamesAccepted` and `Established` conditions (both True).
pub fn crd_status(crd: &Value, now: &str) -> Value {
    let names = crd.pointer("/spec/names").cloned().unwrap_or_else(|| json!({}));
    let stored: Vec<Value> = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("storage").and_then(Value::as_bool).unwrap_or(false))
                .filter_map(|v| v.get("name").cloned())
                .collect()
        })
        .unwrap_or_default();
    let condition = |type_: &str, reason: &str, message: &str| json!({"type": type_, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    json!({
        "acceptedNames": names,
        "storedVersions": stored,
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
    })
}
