//! A small model of server-side apply's field ownership for [`super::FakeHost`]: the applying manager owns the
//! leaves of what it applies (maps recursively, lists as a whole), an `Apply` entry in `metadata.managedFields`
//! records them, and leaves it applied before but no longer applies are removed.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

type Path = Vec<String>;

const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
];

fn leaves(value: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(format!("f:{key}"));
                leaves(child, path, out);
                path.pop();
            }
        }
        _ => {
            out.insert(path.clone());
        }
    }
}

fn applied_fields(request: &Value) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    for (key, value) in request.as_object().into_iter().flatten() {
        match key.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                for (field, v) in value.as_object().into_iter().flatten() {
                    if !SERVER_METADATA.contains(&field.as_str()) {
                        leaves(v, &mut vec!["f:metadata".into(), format!("f:{field}")], &mut out);
                    }
                }
            }
            _ => leaves(value, &mut vec![format!("f:{key}")], &mut out),
        }
    }
    out
}

fn decode(node: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
    match node.as_object() {
        Some(children) if !children.is_empty() => {
            for (key, child) in children {
                path.push(key.clone());
                decode(child, path, out);
                path.pop();
            }
        }
        _ if !path.is_empty() => {
            out.insert(path.clone());
        }
        _ => {}
    }
}

fn encode(paths: &BTreeSet<Path>) -> Value {
    let mut root = Map::new();
    for path in paths {
        let mut node = &mut root;
        for element in path {
            let child = node.entry(element.clone()).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            let Value::Object(next) = child else { break };
            node = next;
        }
    }
    Value::Object(root)
}

fn remove(object: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = object;
    for element in parents {
        let Some(next) = element.strip_prefix("f:").and_then(|f| node.get_mut(f)) else {
            return;
        };
        node = next;
    }
    if let (Some(field), Some(map)) = (last.strip_prefix("f:"), node.as_object_mut()) {
        map.remove(field);
    }
}

fn is_own_entry(entry: &Value, manager: &str) -> bool {
    entry.get("manager").and_then(Value::as_str) == Some(manager)
        && entry.get("operation").and_then(Value::as_str) == Some("Apply")
}

/// Records `manager`'s apply of `request` in `stored`'s managed fields and removes the fields it gave up.
pub fn apply(stored: &mut Value, request: &Value, manager: &str) {
    let wanted = applied_fields(request);
    let entries: Vec<Value> = stored
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut before = BTreeSet::new();
    if let Some(own) = entries.iter().find(|e| is_own_entry(e, manager)) {
        decode(
            own.get("fieldsV1").unwrap_or(&Value::Null),
            &mut Vec::new(),
            &mut before,
        );
    }
    for gone in before.difference(&wanted) {
        remove(stored, gone);
    }
    let mut entries: Vec<Value> = entries
        .into_iter()
        .filter(|e| !is_own_entry(e, manager))
        .collect();
    entries.push(
        json!({"manager": manager, "operation": "Apply", "fieldsType": "FieldsV1",
        "fieldsV1": encode(&wanted)}),
    );
    if !stored.is_object() {
        *stored = json!({});
    }
    if !stored["metadata"].is_object() {
        stored["metadata"] = json!({});
    }
    stored["metadata"]["managedFields"] = Value::Array(entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_ownership_and_removes_given_up_fields() {
        let mut stored = json!({"metadata": {"name": "a"}, "data": {"x": "1", "y": "2"}});
        apply(
            &mut stored,
            &json!({"metadata": {"name": "a"}, "data": {"x": "1", "y": "2"}}),
            "me",
        );
        assert_eq!(
            stored["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:x": {}, "f:y": {}}})
        );
        apply(&mut stored, &json!({"data": {"x": "1"}}), "me");
        assert_eq!(stored["data"], json!({"x": "1"}));
        assert_eq!(
            stored["metadata"]["managedFields"].as_array().map(Vec::len),
            Some(1)
        );
    }
}
