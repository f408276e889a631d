//! Field sets: which fields of an object a manager owns, in the `fieldsV1` encoding.
//!
//! A set is a collection of paths. Each path element is `f:<field>` (a map key), `k:<json>` (the item of a
//! list-map with those key values), `v:<json>` (a member of a set list) or `i:<n>` (a list index). A path names
//! either a leaf value or, for list items, the item itself; in `fieldsV1` the latter is written with a `"."` child.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// One path into an object.
pub type Path = Vec<String>;

/// A set of owned paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(pub BTreeSet<Path>);

/// How a list is merged and tracked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Replaced as a whole; owned as one leaf.
    Atomic,
    /// Items are scalars, merged as a set.
    Set,
    /// Items are maps identified by these key fields.
    Map(Vec<String>),
}

/// The schema context of a value: the structural schema node (if any) and the field name it sits under.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    schema: Option<&'a Value>,
    field: Option<&'a str>,
    depth: usize,
}

impl<'a> Shape<'a> {
    /// The root of an object, described by an optional openAPIV3Schema.
    pub fn root(schema: Option<&'a Value>) -> Self {
        Self {
            schema,
            field: None,
            depth: 0,
        }
    }

    /// The shape of map key `key` below this one.
    pub fn child(&self, key: &'a str) -> Self {
        // metadata is never described by a CRD schema; it follows ObjectMeta's own rules.
        let schema = if self.depth == 0 && key == "metadata" {
            None
        } else {
            self.schema.and_then(|s| {
                s.get("properties")
                    .and_then(|p| p.get(key))
                    .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()))
            })
        };
        Self {
            schema,
            field: Some(key),
            depth: self.depth + 1,
        }
    }

    /// The shape of the items of a list at this node.
    pub fn items(&self) -> Self {
        Self {
            schema: self.schema.and_then(|s| s.get("items")),
            field: None,
            depth: self.depth + 1,
        }
    }

    /// How the list at this node merges.
    pub fn list_kind(&self) -> ListKind {
        if let Some(s) = self.schema {
            return match s.get("x-kubernetes-list-type").and_then(Value::as_str) {
                Some("map") => ListKind::Map(
                    s.get("x-kubernetes-list-map-keys")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                ),
                Some("set") => ListKind::Set,
                _ => ListKind::Atomic,
            };
        }
        // Without a schema (built-in types, metadata), the well-known associative lists of the core API.
        let keys: &[&str] = match self.field {
            Some("finalizers") if self.depth == 2 => return ListKind::Set,
            Some("ownerReferences") => &["uid"],
            Some("conditions") => &["type"],
            Some("containers" | "initContainers" | "ephemeralContainers" | "volumes" | "env") => &["name"],
            Some("volumeMounts") => &["mountPath"],
            _ => return ListKind::Atomic,
        };
        ListKind::Map(keys.iter().map(|k| k.to_string()).collect())
    }
}

/// The `k:` element for a list-map item, or `None` if the item lacks a key field.
pub fn key_element(item: &Value, keys: &[String]) -> Option<String> {
    let mut m = Map::new();
    for k in keys {
        m.insert(k.clone(), item.get(k)?.clone());
    }
    Some(format!("k:{}", Value::Object(m)))
}

/// Whether every item of a list-map list carries all key fields (otherwise it is treated as atomic).
pub fn keyed(items: &[Value], keys: &[String]) -> bool {
    !keys.is_empty() && items.iter().all(|i| key_element(i, keys).is_some())
}

/// Metadata fields the server owns; they never appear in a manager's set.
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

/// The set of paths an object (or applied configuration) sets, excluding identity and server fields.
pub fn paths_of(obj: &Value, schema: Option<&Value>) -> FieldSet {
    let mut out = BTreeSet::new();
    if let Value::Object(m) = obj {
        let root = Shape::root(schema);
        for (k, v) in m {
            if k == "apiVersion" || k == "kind" {
                continue;
            }
            let shape = root.child(k);
            if k == "metadata" {
                if let Value::Object(meta) = v {
                    for (mk, mv) in meta {
                        if !SERVER_METADATA.contains(&mk.as_str()) {
                            walk(
                                mv,
                                shape.child(mk),
                                vec![format!("f:{k}"), format!("f:{mk}")],
                                &mut out,
                            );
                        }
                    }
                }
                continue;
            }
            walk(v, shape, vec![format!("f:{k}")], &mut out);
        }
    }
    FieldSet(out)
}

fn walk(v: &Value, shape: Shape<'_>, path: Path, out: &mut BTreeSet<Path>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                let mut p = path.clone();
                p.push(format!("f:{k}"));
                walk(child, shape.child(k), p, out);
            }
        }
        Value::Array(items) => match shape.list_kind() {
            ListKind::Map(keys) if keyed(items, &keys) => {
                for item in items {
                    let mut p = path.clone();
                    p.push(key_element(item, &keys).unwrap_or_default());
                    out.insert(p.clone());
                    walk(item, shape.items(), p, out);
                }
                if items.is_empty() {
                    out.insert(path);
                }
            }
            ListKind::Set if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                for item in items {
                    let mut p = path.clone();
                    p.push(format!("v:{item}"));
                    out.insert(p);
                }
                if items.is_empty() {
                    out.insert(path);
                }
            }
            _ => {
                out.insert(path);
            }
        },
        _ => {
            out.insert(path);
        }
    }
}

/// The value at `path`, if present.
pub fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = obj;
    for el in path {
        cur = step(cur, el)?;
    }
    Some(cur)
}

fn step<'a>(cur: &'a Value, el: &str) -> Option<&'a Value> {
    if let Some(f) = el.strip_prefix("f:") {
        return cur.get(f);
    }
    let items = cur.as_array()?;
    if let Some(k) = el.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items
            .iter()
            .find(|i| key.iter().all(|(kk, kv)| i.get(kk) == Some(kv)));
    }
    if let Some(v) = el.strip_prefix("v:") {
        let want: Value = serde_json::from_str(v).ok()?;
        return items.iter().find(|i| **i == want);
    }
    items.get(el.strip_prefix("i:")?.parse::<usize>().ok()?)
}

impl FieldSet {
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Paths in `self` but not in `other`.
    pub fn minus(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.difference(&other.0).cloned().collect())
    }

    /// Paths in both.
    pub fn intersect(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.intersection(&other.0).cloned().collect())
    }

    /// Paths in either.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet(self.0.union(&other.0).cloned().collect())
    }

    /// Whether `path` or anything below it is in the set.
    pub fn covers_prefix(&self, path: &[String]) -> bool {
        self.0
            .range(path.to_vec()..)
            .next()
            .is_some_and(|p| p.starts_with(path))
    }

    /// Keeps only paths for which `keep` holds.
    pub fn retain(&mut self, keep: impl Fn(&Path) -> bool) {
        self.0.retain(|p| keep(p));
    }

    /// The `fieldsV1` encoding.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Map::new();
        for path in &self.0 {
            let mut node = &mut root;
            for el in path {
                node = node
                    .entry(el.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .unwrap_or_else(|| unreachable!("fieldsV1 nodes are objects"));
            }
            // A node that is a member and also has children is marked with ".".
            if !node.is_empty() {
                node.insert(".".into(), Value::Object(Map::new()));
            }
        }
        mark_members(&mut root, &self.0, &mut Vec::new());
        Value::Object(root)
    }

    /// Decodes `fieldsV1`.
    pub fn from_fields_v1(v: &Value) -> FieldSet {
        let mut out = BTreeSet::new();
        if let Value::Object(m) = v {
            decode(m, &mut Vec::new(), &mut out);
        }
        FieldSet(out)
    }
}

fn mark_members(node: &mut Map<String, Value>, set: &BTreeSet<Path>, path: &mut Path) {
    for (k, child) in node.iter_mut() {
        if k == "." {
            continue;
        }
        path.push(k.clone());
        if let Value::Object(cm) = child {
            if !cm.is_empty() && set.contains(path) {
                cm.insert(".".into(), Value::Object(Map::new()));
            }
            mark_members(cm, set, path);
        }
        path.pop();
    }
}

fn decode(m: &Map<String, Value>, path: &mut Path, out: &mut BTreeSet<Path>) {
    for (k, v) in m {
        if k == "." {
            out.insert(path.clone());
            continue;
        }
        path.push(k.clone());
        match v.as_object() {
            Some(cm) if !cm.is_empty() => decode(cm, path, out),
            _ => {
                out.insert(path.clone());
            }
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_maps_and_sets_are_tracked_per_item() {
        let obj = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x"]},
            "spec": {"containers": [{"name": "c", "image": "i"}], "args": ["1", "2"]},
        });
        let set = paths_of(&obj, None);
        let v1 = set.to_fields_v1();
        assert_eq!(
            v1,
            json!({
                "f:metadata": {"f:labels": {"f:a": {}}, "f:finalizers": {"v:\"x\"": {}}},
                "f:spec": {"f:args": {}, "f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}},
            })
        );
        assert_eq!(FieldSet::from_fields_v1(&v1), set);
        let item = vec![
            "f:spec".to_string(),
            "f:containers".into(),
            "k:{\"name\":\"c\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(value_at(&obj, &item), Some(&json!("i")));
        assert!(set.covers_prefix(&item[..3]));
    }
}
