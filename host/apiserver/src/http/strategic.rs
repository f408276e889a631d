//! Strategic merge patches for the built-in kinds: objects merge field by field, lists of objects with merge keys
//! (containers by `name`, ports by `containerPort`, conditions by `type`, ...) merge item by item, other lists are
//! replaced, `null` deletes. The directives kubectl sends are honoured: `$patch: replace|delete|merge`,
//! `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (used for the order of merged
//! lists). Merge keys come from the generated schema ([`crate::proto`]); kinds without one (custom resources) get
//! a JSON merge patch.

use serde_json::{Map, Value};

use crate::proto::{Label, Schema, Ty, schema};

const OBJECT_META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Deepest patch nesting followed.
const MAX_DEPTH: usize = 64;

/// Applies strategic merge patch `patch` to `target`, an object of `kind` in `api_version`.
///
/// # Errors
///
/// A message for a malformed patch (a directive of the wrong type, an unknown `$patch`).
pub fn apply(target: &mut Value, patch: &Value, api_version: &str, kind: &str) -> Result<(), String> {
    let s = schema();
    match s.message_for(api_version, kind) {
        Some(message) => merge_object(s, Some(&message), target, patch, 0),
        None => {
            json_patch::merge(target, patch);
            Ok(())
        }
    }
}

fn merge_object(
    s: &Schema,
    message: Option<&str>,
    target: &mut Value,
    patch: &Value,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("the patch is nested too deeply".into());
    }
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return Ok(());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut replaced = p.clone();
            replaced.remove("$patch");
            *target = Value::Object(strip_directives(replaced));
            return Ok(());
        }
        Some("delete") => {
            *target = Value::Object(Map::new());
            return Ok(());
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown $patch directive {other:?}")),
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let fields = message.and_then(|m| s.fields(m));
    let retain: Option<Vec<String>> = p.get("$retainKeys").and_then(Value::as_array).map(|keys| {
        keys.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    });
    for (key, value) in p {
        if key == "$patch" || key == "$retainKeys" || key.starts_with("$setElementOrder/") {
            continue;
        }
        let Some(t) = target.as_object_mut() else { break };
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            let remove: Vec<&Value> = value.as_array().map(|a| a.iter().collect()).unwrap_or_default();
            if let Some(list) = t.get_mut(field).and_then(Value::as_array_mut) {
                list.retain(|v| !remove.contains(&v));
            }
            continue;
        }
        if value.is_null() {
            t.remove(key);
            continue;
        }
        let def = fields.and_then(|f| f.iter().find(|d| d.json == *key));
        let child_message = def.and_then(|d| match &d.ty {
            Ty::Message(m) => Some(m.as_str()),
            _ => None,
        });
        let current = t.entry(key.clone()).or_insert(Value::Null);
        match def.map(|d| &d.label) {
            Some(Label::Repeated) if def.is_some_and(|d| !d.keys.is_empty()) && value.is_array() => {
                let keys = def.map(|d| d.keys.clone()).unwrap_or_default();
                let order = p.get(&format!("$setElementOrder/{key}"));
                merge_keyed_list(s, child_message, &keys, current, value, order, depth)?;
            }
            Some(Label::Map(Ty::Message(m))) if value.is_object() => {
                if !current.is_object() {
                    *current = Value::Object(Map::new());
                }
                for (k, v) in value.as_object().into_iter().flatten() {
                    let Some(cur) = current.as_object_mut() else { break };
                    if v.is_null() {
                        cur.remove(k);
                    } else {
                        let entry = cur.entry(k.clone()).or_insert(Value::Null);
                        merge_object(s, Some(m), entry, v, depth + 1)?;
                    }
                }
            }
            _ if value.is_object() && (current.is_object() || current.is_null()) => {
                merge_object(s, child_message, current, value, depth + 1)?;
            }
            // `metadata.finalizers` is the one primitive list Kubernetes merges as a set.
            _ if key == "finalizers" && message == Some(OBJECT_META) && value.is_array() => {
                let mut merged: Vec<Value> = current.as_array().cloned().unwrap_or_default();
                for f in value.as_array().into_iter().flatten() {
                    if !merged.contains(f) {
                        merged.push(f.clone());
                    }
                }
                *current = Value::Array(merged);
            }
            _ => *current = strip_value(value.clone()),
        }
    }
    if let (Some(keep), Some(t)) = (retain, target.as_object_mut()) {
        t.retain(|k, _| keep.contains(k));
    }
    Ok(())
}

fn key_of<'a>(item: &'a Value, keys: &'a [String]) -> Vec<(&'a str, &'a Value)> {
    keys.iter()
        .filter_map(|k| item.get(k).map(|v| (k.as_str(), v)))
        .collect()
}

fn same_item(live: &Value, patch_key: &[(&str, &Value)]) -> bool {
    !patch_key.is_empty() && patch_key.iter().all(|(k, v)| live.get(*k) == Some(*v))
}

fn merge_keyed_list(
    s: &Schema,
    item_message: Option<&str>,
    keys: &[String],
    current: &mut Value,
    patch: &Value,
    order: Option<&Value>,
    depth: usize,
) -> Result<(), String> {
    let patch_items = patch.as_array().map(Vec::as_slice).unwrap_or_default();
    if patch_items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        let kept: Vec<Value> = patch_items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .cloned()
            .map(strip_value)
            .collect();
        *current = Value::Array(kept);
        return Ok(());
    }
    let mut items: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    for p in patch_items {
        let pk = key_of(p, keys);
        let position = items.iter().position(|l| same_item(l, &pk));
        if p.get("$patch").and_then(Value::as_str) == Some("delete") {
            if let Some(i) = position {
                items.remove(i);
            }
            continue;
        }
        match position {
            Some(i) => merge_object(s, item_message, &mut items[i], p, depth + 1)?,
            None => {
                let mut fresh = Value::Object(Map::new());
                merge_object(s, item_message, &mut fresh, p, depth + 1)?;
                items.push(fresh);
            }
        }
    }
    if let Some(order) = order.and_then(Value::as_array) {
        let rank = |item: &Value| {
            order
                .iter()
                .position(|o| same_item(item, &key_of(o, keys)))
                .unwrap_or(usize::MAX)
        };
        items.sort_by_key(rank);
    }
    *current = Value::Array(items);
    Ok(())
}

fn strip_directives(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(k, _)| !k.starts_with('$'))
        .map(|(k, v)| (k, strip_value(v)))
        .collect()
}

fn strip_value(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(strip_directives(m)),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_value).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"a": "1"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}], "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "side:1"}]}}}})
    }

    #[test]
    fn containers_merge_by_name_and_other_fields_survive() {
        let mut d = deployment();
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "app:2", "env": [{"name": "B", "value": "2"}]}]}}}});
        apply(&mut d, &patch, "apps/v1", "Deployment").unwrap();
        let containers = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2, "the sidecar stays");
        assert_eq!(containers[0]["image"], "app:2");
        assert_eq!(
            containers[0]["ports"][0]["containerPort"], 80,
            "unpatched fields stay"
        );
        assert_eq!(
            containers[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
    }

    #[test]
    fn directives_delete_replace_order_and_retain() {
        let mut d = deployment();
        let patch = json!({"metadata": {"labels": {"a": null, "b": "2"}}, "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
            "containers": [{"name": "app", "$patch": "delete"}, {"name": "sidecar", "image": "side:2"},
                           {"name": "new", "image": "new:1"}]}}}});
        apply(&mut d, &patch, "apps/v1", "Deployment").unwrap();
        assert_eq!(d["metadata"]["labels"], json!({"b": "2"}));
        let names: Vec<&str> = d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["sidecar", "new"]);
        let replace = json!({"spec": {"template": {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}}}});
        apply(&mut d, &replace, "apps/v1", "Deployment").unwrap();
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "x"}])
        );
        let retain = json!({"spec": {"$retainKeys": ["template"], "replicas": 3}});
        apply(&mut d, &retain, "apps/v1", "Deployment").unwrap();
        assert!(
            d["spec"].get("replicas").is_none(),
            "$retainKeys drops the fields it does not list"
        );
        let bad = json!({"spec": {"$patch": "explode"}});
        assert!(apply(&mut d, &bad, "apps/v1", "Deployment").is_err());
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let mut cm =
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a"]}});
        apply(
            &mut cm,
            &json!({"metadata": {"finalizers": ["b", "a"]}}),
            "v1",
            "ConfigMap",
        )
        .unwrap();
        assert_eq!(cm["metadata"]["finalizers"], json!(["a", "b"]));
    }

    #[test]
    fn primitive_lists_are_replaced_and_custom_kinds_get_a_merge_patch() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b"]},
            "data": {"x": "1"}});
        apply(
            &mut cm,
            &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}, "data": {"y": "2"}}),
            "v1",
            "ConfigMap",
        )
        .unwrap();
        assert_eq!(cm["metadata"]["finalizers"], json!(["b"]));
        assert_eq!(cm["data"], json!({"x": "1", "y": "2"}));
        let mut w = json!({"spec": {"items": [{"name": "a", "v": 1}]}});
        apply(
            &mut w,
            &json!({"spec": {"items": [{"name": "a"}]}}),
            "example.io/v1",
            "Widget",
        )
        .unwrap();
        assert_eq!(
            w["spec"]["items"],
            json!([{"name": "a"}]),
            "no merge keys for custom kinds: lists replace"
        );
    }
}
