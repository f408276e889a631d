//! Server-side apply and field ownership (`metadata.managedFields`).
//!
//! Every write records which manager owns which fields. An apply merges the applied configuration into the live
//! object, takes ownership of the fields it sets, reports conflicts with other managers that own a field with a
//! different value (unless forced), and removes fields the manager applied before, stopped applying, and nobody
//! else owns. An update (PUT or a non-apply patch) gives its manager the fields it changed and takes them from
//! everyone else.

mod fieldset;
mod merge;

pub use fieldset::{FieldSet, ListKind, Shape, paths_of, value_at};
pub use merge::{merge, remove_at};

use serde_json::{Value, json};

use crate::status::Cause;

/// Whether an entry was written by an apply or an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Server-side apply.
    Apply,
    /// Create, update or a non-apply patch.
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Field manager name.
    pub manager: String,
    /// Apply or Update.
    pub operation: Operation,
    /// The API version the manager used.
    pub api_version: String,
    /// When the entry last changed.
    pub time: String,
    /// `status` for status-subresource writes, else empty.
    pub subresource: String,
    /// The owned fields.
    pub fields: FieldSet,
}

impl Entry {
    fn same_owner(&self, manager: &str, op: Operation, subresource: &str) -> bool {
        self.manager == manager && self.operation == op && self.subresource == subresource
    }
}

/// Reads `metadata.managedFields`.
pub fn read_entries(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj.pointer("/metadata/managedFields").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation: if e.get("operation")?.as_str()? == "Apply" {
                    Operation::Apply
                } else {
                    Operation::Update
                },
                api_version: e
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                time: e
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                fields: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
            })
        })
        .collect()
}

/// Writes `metadata.managedFields` (dropping entries that own nothing).
pub fn write_entries(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation.as_str(),
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": e.fields.to_fields_v1(),
            });
            if !e.subresource.is_empty() {
                v["subresource"] = json!(e.subresource);
            }
            v
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Who writes and how.
#[derive(Clone, Debug)]
pub struct Writer<'a> {
    /// Field manager.
    pub manager: &'a str,
    /// `group/version` used.
    pub api_version: &'a str,
    /// `status` or empty.
    pub subresource: &'a str,
    /// The CRD schema of the version, if any.
    pub schema: Option<&'a Value>,
    /// The current time, for changed entries.
    pub now: &'a str,
}

/// Server-side apply of `applied` onto `live` (`None` creates). Returns the new object with managed fields set.
///
/// # Errors
///
/// Conflicts with other managers when `force` is false, as causes naming the manager and the field path.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    w: &Writer<'_>,
    force: bool,
) -> Result<Value, Vec<Cause>> {
    let mut obj = live.cloned().unwrap_or_else(|| json!({"metadata": {}}));
    let mut entries = read_entries(&obj);
    let new_set = paths_of(applied, w.schema);
    let mine = entries
        .iter()
        .position(|e| e.same_owner(w.manager, Operation::Apply, w.subresource));
    let old_set = mine.map(|i| entries[i].fields.clone()).unwrap_or_default();

    let mut conflicts = Vec::new();
    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) == mine || e.manager == w.manager {
            continue;
        }
        let shared = e.fields.intersect(&new_set);
        let differing: Vec<_> = shared
            .0
            .iter()
            .filter(|p| value_at(&obj, p).is_some() && value_at(&obj, p) != value_at(applied, p))
            .cloned()
            .collect();
        if differing.is_empty() {
            continue;
        }
        if force {
            e.fields.retain(|p| !differing.contains(p));
        } else {
            for p in differing {
                let field = render_path(&p);
                conflicts.push(Cause::new(
                    "FieldManagerConflict",
                    format!("conflict with \"{}\" using {}: {field}", e.manager, e.api_version),
                    field,
                ));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(conflicts);
    }

    // Fields this manager stopped applying, unless someone else still owns them (or something below them).
    let others: FieldSet = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != mine)
        .fold(FieldSet::default(), |acc, (_, e)| acc.union(&e.fields));
    let mut removed: Vec<&Vec<String>> = Vec::new();
    for p in old_set.minus(&new_set).0.iter() {
        if removed.iter().any(|r| p.starts_with(r)) || others.covers_prefix(p) || new_set.covers_prefix(p) {
            continue;
        }
        remove_at(&mut obj, p);
        removed.push(p);
    }

    merge(&mut obj, applied, Shape::root(w.schema));
    let entry = Entry {
        manager: w.manager.to_string(),
        operation: Operation::Apply,
        api_version: w.api_version.to_string(),
        time: w.now.to_string(),
        subresource: w.subresource.to_string(),
        fields: new_set,
    };
    match mine {
        Some(i) if entries[i].fields == entry.fields && entries[i].api_version == entry.api_version => {}
        Some(i) => entries[i] = entry,
        None => entries.push(entry),
    }
    write_entries(&mut obj, &entries);
    Ok(obj)
}

/// Records an update from `old` (`None` on create) to `new` by `w.manager`: it owns what it changed, others lose
/// it; sets of every manager are trimmed to fields that still exist. Writes `new`'s managed fields.
pub fn record_update(old: Option<&Value>, new: &mut Value, w: &Writer<'_>) {
    let mut entries = old.map(read_entries).unwrap_or_default();
    let new_all = paths_of(new, w.schema);
    let changed = FieldSet(
        new_all
            .0
            .iter()
            .filter(|p| old.is_none_or(|o| value_at(o, p) != value_at(new, p)))
            .cloned()
            .collect(),
    );
    for e in entries.iter_mut() {
        if !e.same_owner(w.manager, Operation::Update, w.subresource) {
            e.fields = e.fields.minus(&changed);
        }
    }
    finish(&mut entries, &new_all);
    if !changed.is_empty() {
        let pos = entries
            .iter()
            .position(|e| e.same_owner(w.manager, Operation::Update, w.subresource));
        match pos {
            Some(i) => {
                entries[i].fields = entries[i].fields.union(&changed);
                entries[i].time = w.now.to_string();
                entries[i].api_version = w.api_version.to_string();
            }
            None => entries.push(Entry {
                manager: w.manager.to_string(),
                operation: Operation::Update,
                api_version: w.api_version.to_string(),
                time: w.now.to_string(),
                subresource: w.subresource.to_string(),
                fields: changed,
            }),
        }
    }
    write_entries(new, &entries);
}

/// Drops owned paths that no longer exist in the object.
pub fn trim_to_object(obj: &mut Value, schema: Option<&Value>) {
    let mut entries = read_entries(obj);
    let all = paths_of(obj, schema);
    finish(&mut entries, &all);
    write_entries(obj, &entries);
}

fn finish(entries: &mut Vec<Entry>, existing: &FieldSet) {
    for e in entries.iter_mut() {
        e.fields.retain(|p| existing.0.contains(p));
    }
    entries.retain(|e| !e.fields.is_empty());
}

/// `.spec.containers[name="c"].image` style rendering of a path, as the real server prints conflicts.
pub fn render_path(p: &[String]) -> String {
    let mut s = String::new();
    for el in p {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            let inner = serde_json::from_str::<serde_json::Map<String, Value>>(k)
                .map(|m| {
                    m.iter()
                        .map(|(a, b)| format!("{a}={b}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            s.push_str(&format!("[{inner}]"));
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

#[cfg(test)]
mod tests;
