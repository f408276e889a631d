//! Server-side apply with field manager `platform-mesh-deployment` and force (spec §4.1.3), skipping objects that
//! are already as rendered, so that a steady state writes nothing (issue item 6).
//!
//! An object is unchanged when (1) the fields our manager owns (its `Apply` entry in `managedFields`) are exactly
//! the fields of the rendered object — otherwise an apply would add or remove fields — and (2) every rendered value
//! equals the stored one. List fields compare by "each rendered item is present", because set and map lists may
//! carry items of other managers. Anything uncertain (no managed fields, a read error) applies.

use std::collections::BTreeSet;

use platform_mesh_plugin_sdk::{ApplyOptions, Host, ObjectRef, Target};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The field manager of every object this subroutine applies.
pub const FIELD_MANAGER: &str = "platform-mesh-deployment";

/// What [`apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The object was applied.
    Written,
    /// The object was already as rendered; nothing was sent.
    Unchanged,
}

/// Metadata the server owns; never part of a manager's fields.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "generateName",
];

/// Applies `object` to `target` unless it is unchanged.
pub fn apply(host: &dyn Host, target: &Target, object: &Value) -> Result<Applied> {
    let reference = ObjectRef::of(object)
        .ok_or_else(|| Error::Invalid("a rendered object has no apiVersion, kind or metadata.name".into()))?;
    if let Ok(Some(existing)) = host.get(target, &reference)
        && is_unchanged(&existing, object)
    {
        return Ok(Applied::Unchanged);
    }
    host.apply(target, object, &ApplyOptions::force(FIELD_MANAGER))
        .map_err(|e| Error::cluster("applying", target, &reference, e))?;
    Ok(Applied::Written)
}

/// Whether applying `desired` over `existing` would change nothing (see the module docs).
pub fn is_unchanged(existing: &Value, desired: &Value) -> bool {
    let Some(owned) = owned_fields(existing) else {
        return false;
    };
    let mut wanted = BTreeSet::new();
    desired_fields(desired, &mut wanted);
    owned == wanted && wanted.iter().all(|path| value_matches(existing, desired, path))
}

/// The leaf paths our manager's `Apply` entry owns, with lists as leaves.
fn owned_fields(existing: &Value) -> Option<BTreeSet<Vec<String>>> {
    let entry = existing
        .pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|e| {
            e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
                && e.get("operation").and_then(Value::as_str) == Some("Apply")
                && e.get("subresource")
                    .is_none_or(|s| s.as_str().is_none_or(str::is_empty))
        })?;
    let mut out = BTreeSet::new();
    collapse(entry.get("fieldsV1")?.as_object()?, &mut Vec::new(), &mut out);
    Some(out)
}

fn collapse(node: &Map<String, Value>, path: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
    for (key, child) in node {
        let Some(field) = key.strip_prefix("f:") else {
            continue;
        };
        path.push(field.to_owned());
        let children = child.as_object();
        let is_list = children.is_some_and(|c| {
            c.keys()
                .any(|k| k.starts_with("k:") || k.starts_with("v:") || k.starts_with("i:"))
        });
        let has_fields = children.is_some_and(|c| c.keys().any(|k| k.starts_with("f:")));
        match children {
            Some(c) if has_fields && !is_list => collapse(c, path, out),
            _ => {
                out.insert(path.clone());
            }
        }
        path.pop();
    }
}

fn desired_fields(desired: &Value, out: &mut BTreeSet<Vec<String>>) {
    let Some(root) = desired.as_object() else { return };
    for (key, value) in root {
        match key.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                for (field, v) in value.as_object().into_iter().flatten() {
                    if !SERVER_METADATA.contains(&field.as_str()) {
                        walk(v, &mut vec!["metadata".into(), field.clone()], out);
                    }
                }
            }
            _ => walk(value, &mut vec![key.clone()], out),
        }
    }
}

fn walk(value: &Value, path: &mut Vec<String>, out: &mut BTreeSet<Vec<String>>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(key.clone());
                walk(child, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

fn at<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn value_matches(existing: &Value, desired: &Value, path: &[String]) -> bool {
    let want = at(desired, path);
    let have = at(existing, path);
    match (want, have) {
        (Some(Value::Null) | None, None | Some(Value::Null)) => true,
        (Some(Value::Array(want)), Some(Value::Array(have))) => {
            want.iter().all(|w| have.iter().any(|h| same(w, h)))
        }
        (Some(want), Some(have)) => same(want, have),
        _ => false,
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(fields: Value, spec: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns", "labels": {"l": "1"}, "finalizers": ["f"],
                "managedFields": [{"manager": FIELD_MANAGER, "operation": "Apply", "fieldsV1": fields}]},
            "spec": spec,
        })
    }

    fn fields() -> Value {
        json!({"f:metadata": {"f:labels": {"f:l": {}}, "f:finalizers": {"v:\"f\"": {}}},
               "f:spec": {"f:a": {}, "f:list": {}, "f:empty": {}}})
    }

    fn desired(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "a", "namespace": "ns", "labels": {"l": "1"}, "finalizers": ["f"]},
               "spec": spec})
    }

    #[test]
    fn identical_owned_fields_and_values_are_unchanged() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        assert!(is_unchanged(
            &stored(fields(), spec.clone()),
            &desired(json!({"a": 1.0, "list": [1, 2], "empty": {}}))
        ));
    }

    #[test]
    fn a_changed_value_is_a_change() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        assert!(!is_unchanged(
            &stored(fields(), spec),
            &desired(json!({"a": 2, "list": [1, 2], "empty": {}}))
        ));
    }

    #[test]
    fn a_field_no_longer_rendered_is_a_change() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        assert!(!is_unchanged(
            &stored(fields(), spec),
            &desired(json!({"a": 1, "list": [1, 2]}))
        ));
    }

    #[test]
    fn a_new_field_is_a_change() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        let want = desired(json!({"a": 1, "list": [1, 2], "empty": {}, "b": true}));
        assert!(!is_unchanged(&stored(fields(), spec), &want));
    }

    #[test]
    fn without_our_managed_fields_it_applies() {
        let mut object = stored(fields(), json!({"a": 1}));
        object["metadata"]["managedFields"][0]["manager"] = json!("someone-else");
        assert!(!is_unchanged(&object, &desired(json!({"a": 1}))));
    }
}
