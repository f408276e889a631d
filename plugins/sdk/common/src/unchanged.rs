//! The one rule behind a steady state that writes nothing: **would writing `rendered` change the stored object?**
//!
//! Every plugin of this project that skips a write asks [`unchanged`]. What "unchanged" means depends on how the
//! object would be written ([`Write`]):
//!
//! - [`Write::Apply`] — server-side apply by a field manager (forced). The API server merges the applied object
//!   into the stored one: fields the rendered object does not set are left alone (other managers may own them);
//!   maps merge key by key; a list is either *atomic* (replaced as a whole), a *list-map* (items merged by their
//!   key fields) or a *set* (scalars merged by value); and the fields this manager applied before but no longer
//!   applies are **removed** — including list-map items and set members. So the object is unchanged exactly when
//!   (1) the fields the manager owns (its `Apply` entry in `metadata.managedFields`) are the fields the rendered
//!   object sets, item keys included, and (2) every rendered value is already stored. How a list merges is read
//!   from the stored `managedFields` (an entry with `k:` items marks a list-map, with `v:` items a set; anything
//!   else is atomic), so no schema is needed. Without an `Apply` entry of the manager the answer is "changed":
//!   applying takes ownership, which is itself a change.
//! - [`Write::Replace`] — a full update (PUT) of an object derived from the stored one: unchanged when both are
//!   equal.
//! - [`Write::MergePatch`] — an RFC 7386 merge patch: unchanged when every patched field already has the patched
//!   value (maps recursively, everything else — lists included — as a whole), and every `null` (a removal) names
//!   an absent field.
//!
//! Rules common to all modes:
//! - numbers compare by value: `1`, `1.0` and `1e0` are equal (the API server stores integers, templates and
//!   plugins may produce floats);
//! - lists compare as lists: same length, same order, equal items (an atomic list with an item removed is a change);
//!   list-map items and set members compare by key or value, as the server merges them, so their order does not
//!   matter;
//! - `null` and absent: a rendered `null` asks for the field to be absent (or null). It is unchanged when the
//!   stored object lacks the field or holds `null`; a stored `null` is owned like any value, a missing one is not
//!   (a typed, non-nullable field's `null` is dropped by the server on every write). A stored value where `null`
//!   is rendered is a change. Known blind spot: adding a `null` to a schemaless field (Helm values) that is absent
//!   in the stored object counts as unchanged, although a server that keeps such nulls would store one.
//! - `status` and the server's metadata (`uid`, `resourceVersion`, `generation`, `managedFields`, ...) are never
//!   compared for [`Write::Apply`]: an apply of the main resource does not write them.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// How the object would be written; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write<'a> {
    /// Server-side apply with this field manager.
    Apply(&'a str),
    /// A full update of the object.
    Replace,
    /// An RFC 7386 merge patch.
    MergePatch,
}

/// Whether writing `rendered` over `stored` the way `write` says would leave `stored` as it is.
///
/// ```
/// use plugin_common::unchanged::{Write, unchanged};
/// use serde_json::json;
///
/// let stored = json!({"apiVersion": "v1", "kind": "ConfigMap",
///     "metadata": {"name": "a", "managedFields": [{"manager": "me", "operation": "Apply",
///         "fieldsV1": {"f:data": {"f:x": {}}}}]},
///     "data": {"x": "1", "y": "set by someone else"}});
/// let rendered = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}});
/// assert!(unchanged(&stored, &rendered, Write::Apply("me")));
/// assert!(!unchanged(&stored, &rendered, Write::Apply("someone")));
/// assert!(!unchanged(&stored, &rendered, Write::Replace));
/// assert!(unchanged(&stored, &json!({"data": {"x": "1"}, "gone": null}), Write::MergePatch));
/// assert!(!unchanged(&stored, &json!({"data": {"y": null}}), Write::MergePatch));
/// ```
pub fn unchanged(stored: &Value, rendered: &Value, write: Write<'_>) -> bool {
    match write {
        Write::Apply(manager) => apply_unchanged(stored, rendered, manager),
        Write::Replace => same_value(stored, rendered, true),
        Write::MergePatch => patch_unchanged(stored, rendered),
    }
}

/// Equality of JSON values with numbers compared by value; with `null_is_absent`, an object key holding `null`
/// equals a missing key.
pub fn same_value(a: &Value, b: &Value, null_is_absent: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => same_number(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y, null_is_absent))
        }
        (Value::Object(x), Value::Object(y)) => {
            let covered = |x: &Map<String, Value>, y: &Map<String, Value>| {
                x.iter().all(|(k, v)| match y.get(k) {
                    Some(w) => same_value(v, w, null_is_absent),
                    None => null_is_absent && v.is_null(),
                })
            };
            covered(x, y) && covered(y, x)
        }
        _ => a == b,
    }
}

fn same_number(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => x.as_f64() == y.as_f64(),
    }
}

fn patch_unchanged(stored: &Value, patch: &Value) -> bool {
    match patch {
        Value::Object(fields) => fields.iter().all(|(key, value)| match stored.get(key) {
            _ if value.is_null() => stored.get(key).is_none_or(Value::is_null),
            Some(have) if value.is_object() => have.is_object() && patch_unchanged(have, value),
            Some(have) => same_value(have, value, false),
            None => false,
        }),
        other => same_value(stored, other, false),
    }
}

/// One path into an object in the `fieldsV1` notation: `f:<field>`, `k:<key json>`, `v:<value json>`.
type Path = Vec<String>;

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

fn apply_unchanged(stored: &Value, rendered: &Value, manager: &str) -> bool {
    let entries: Vec<&Value> = stored
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let own = entries.iter().find(|e| {
        e.get("manager").and_then(Value::as_str) == Some(manager)
            && e.get("operation").and_then(Value::as_str) == Some("Apply")
            && e.get("subresource")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
    });
    let Some(own) = own else { return false };
    let owned = decode(own.get("fieldsV1").unwrap_or(&Value::Null));
    // Every manager's fields tell how lists at a path merge (the schema is the same for all of them).
    let hints: BTreeSet<Path> = entries
        .iter()
        .flat_map(|e| decode(e.get("fieldsV1").unwrap_or(&Value::Null)))
        .collect();
    let mut wanted = BTreeSet::new();
    let Some(root) = rendered.as_object() else {
        return false;
    };
    let lookup = Lookup {
        stored,
        hints: &hints,
    };
    for (key, value) in root {
        match key.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                let Some(meta) = value.as_object() else {
                    return false;
                };
                for (field, v) in meta {
                    if !SERVER_METADATA.contains(&field.as_str()) {
                        let path = vec!["f:metadata".to_owned(), format!("f:{field}")];
                        if !lookup.walk(v, path, &mut wanted) {
                            return false;
                        }
                    }
                }
            }
            _ => {
                if !lookup.walk(value, vec![format!("f:{key}")], &mut wanted) {
                    return false;
                }
            }
        }
    }
    let owned: BTreeSet<Path> = owned
        .into_iter()
        .filter(|p| p.first().is_none_or(|f| f != "f:status"))
        .collect();
    owned == wanted
}

/// How a list at some path merges.
enum ListKind {
    Atomic,
    Set,
    Map(Vec<String>),
}

struct Lookup<'a> {
    stored: &'a Value,
    hints: &'a BTreeSet<Path>,
}

impl Lookup<'_> {
    fn list_kind(&self, path: &Path) -> ListKind {
        let below = self
            .hints
            .range(path.clone()..)
            .take_while(|p| p.starts_with(path))
            .filter_map(|p| p.get(path.len()));
        for element in below {
            if let Some(key) = element.strip_prefix("k:")
                && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(key)
            {
                return ListKind::Map(fields.keys().cloned().collect());
            }
            if element.starts_with("v:") {
                return ListKind::Set;
            }
        }
        ListKind::Atomic
    }

    /// Adds the paths `value` sets below `path` to `out`, checking each against the stored object; `false` as
    /// soon as a stored value differs.
    fn walk(&self, value: &Value, path: Path, out: &mut BTreeSet<Path>) -> bool {
        let have = value_at(self.stored, &path);
        match value {
            Value::Null => match have {
                None => true,
                Some(Value::Null) => {
                    out.insert(path);
                    true
                }
                Some(_) => false,
            },
            Value::Object(map) if !map.is_empty() => map.iter().all(|(key, child)| {
                let mut p = path.clone();
                p.push(format!("f:{key}"));
                self.walk(child, p, out)
            }),
            Value::Object(_) => {
                out.insert(path);
                have.is_some_and(Value::is_object)
            }
            Value::Array(items) => self.walk_list(items, path, have, out),
            scalar => {
                out.insert(path);
                have.is_some_and(|h| same_value(h, scalar, false))
            }
        }
    }

    fn walk_list(&self, items: &[Value], path: Path, have: Option<&Value>, out: &mut BTreeSet<Path>) -> bool {
        let kind = if items.is_empty() {
            // An empty list owns the list itself, whatever its kind; a list-map or set keeps others' items.
            match self.list_kind(&path) {
                ListKind::Atomic => ListKind::Atomic,
                _ => {
                    out.insert(path);
                    return have.is_some_and(Value::is_array);
                }
            }
        } else {
            self.list_kind(&path)
        };
        match kind {
            ListKind::Map(keys) if items.iter().all(|i| key_element(i, &keys).is_some()) => {
                items.iter().all(|item| {
                    let mut p = path.clone();
                    p.push(key_element(item, &keys).unwrap_or_default());
                    out.insert(p.clone());
                    value_at(self.stored, &p).is_some() && self.walk_item(item, p, out)
                })
            }
            ListKind::Set if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                let stored = have.and_then(Value::as_array);
                items.iter().all(|item| {
                    let mut p = path.clone();
                    p.push(format!("v:{}", canonical(item)));
                    out.insert(p);
                    stored.is_some_and(|s| s.iter().any(|h| same_value(h, item, false)))
                })
            }
            _ => {
                out.insert(path);
                have.is_some_and(|h| same_value(h, &Value::Array(items.to_vec()), false))
            }
        }
    }

    /// The fields of one list-map item (the item itself is already in `out`).
    fn walk_item(&self, item: &Value, path: Path, out: &mut BTreeSet<Path>) -> bool {
        match item.as_object() {
            Some(fields) => fields.iter().all(|(key, child)| {
                let mut p = path.clone();
                p.push(format!("f:{key}"));
                self.walk(child, p, out)
            }),
            None => true,
        }
    }
}

/// Decodes `fieldsV1` into paths; `"."` marks a list item that is owned itself. Key and value elements are
/// normalised, so both sides of a comparison spell them alike.
fn decode(fields: &Value) -> BTreeSet<Path> {
    fn go(node: &Map<String, Value>, path: &mut Path, out: &mut BTreeSet<Path>) {
        for (key, child) in node {
            if key == "." {
                out.insert(path.clone());
                continue;
            }
            path.push(normalise(key));
            match child.as_object() {
                Some(children) if !children.is_empty() => go(children, path, out),
                _ => {
                    out.insert(path.clone());
                }
            }
            path.pop();
        }
    }
    let mut out = BTreeSet::new();
    if let Some(root) = fields.as_object() {
        go(root, &mut Vec::new(), &mut out);
    }
    out
}

fn normalise(element: &str) -> String {
    for prefix in ["k:", "v:"] {
        if let Some(json) = element.strip_prefix(prefix)
            && let Ok(value) = serde_json::from_str::<Value>(json)
        {
            return format!("{prefix}{}", canonical(&value));
        }
    }
    element.to_owned()
}

/// JSON text with sorted object keys and numbers that are whole written as integers.
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f)
                if n.as_i64().is_none() && n.as_u64().is_none() && f.fract() == 0.0 && f.abs() < 9.0e15 =>
            {
                format!("{}", f as i64)
            }
            _ => n.to_string(),
        },
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// The `k:` element of a list-map item, or `None` when it lacks a key field.
fn key_element(item: &Value, keys: &[String]) -> Option<String> {
    let mut fields = Map::new();
    for key in keys {
        fields.insert(key.clone(), item.get(key)?.clone());
    }
    Some(format!("k:{}", canonical(&Value::Object(fields))))
}

/// The value at a `fieldsV1` path.
fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(object, |current, element| {
        if let Some(field) = element.strip_prefix("f:") {
            return current.get(field);
        }
        let items = current.as_array()?;
        if let Some(key) = element.strip_prefix("k:") {
            let Ok(Value::Object(key)) = serde_json::from_str::<Value>(key) else {
                return None;
            };
            return items.iter().find(|item| {
                key.iter()
                    .all(|(k, v)| item.get(k).is_some_and(|have| same_value(have, v, false)))
            });
        }
        let member: Value = serde_json::from_str(element.strip_prefix("v:")?).ok()?;
        items.iter().find(|item| same_value(item, &member, false))
    })
}

#[cfg(test)]
#[path = "unchanged_tests.rs"]
mod tests;
