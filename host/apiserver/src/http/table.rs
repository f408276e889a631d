//! `meta.k8s.io/v1` Table output for `kubectl get`, with CRD printer columns evaluated by a small JSONPath
//! subset (`.a.b`, `.a[0]`, `.a[*].b`, `.a[?(@.type=="Ready")].status`).

use serde_json::{Value, json};

use crate::resources::ResourceInfo;
use crate::time::{age, now_secs, parse_rfc3339};

/// Evaluates a printer-column JSONPath; multiple matches are joined with commas.
pub fn eval(obj: &Value, path: &str) -> Vec<Value> {
    let path = path
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_start_matches('$');
    let mut cur = vec![obj.clone()];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let field = &r[..end];
            cur = cur.iter().filter_map(|v| v.get(field).cloned()).collect();
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return Vec::new() };
            let sel = &r[..end];
            rest = &r[end + 1..];
            cur = cur.iter().flat_map(|v| index(v, sel)).collect();
        } else {
            return Vec::new();
        }
    }
    cur
}

fn index(v: &Value, sel: &str) -> Vec<Value> {
    let Some(items) = v.as_array() else {
        return Vec::new();
    };
    if sel == "*" {
        return items.clone();
    }
    if let Ok(i) = sel.parse::<i64>() {
        let i = if i < 0 { items.len() as i64 + i } else { i };
        return items.get(i as usize).cloned().into_iter().collect();
    }
    // ?(@.field=="value") or ?(@.field==value)
    let Some(cond) = sel.strip_prefix("?(@.").and_then(|s| s.strip_suffix(')')) else {
        return Vec::new();
    };
    let Some((field, want)) = cond.split_once("==") else {
        return Vec::new();
    };
    let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
    items
        .iter()
        .filter(|i| match i.get(field.trim()) {
            Some(Value::String(s)) => s == want,
            Some(other) => *other == want,
            None => false,
        })
        .cloned()
        .collect()
}

fn cell(values: Vec<Value>, type_: &str, now: i64) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    if type_ == "date"
        && let Some(t) = values[0].as_str().and_then(parse_rfc3339)
    {
        return json!(age(t, now));
    }
    if values.len() == 1 {
        return match &values[0] {
            Value::Object(_) | Value::Array(_) => json!(values[0].to_string()),
            v => v.clone(),
        };
    }
    let parts: Vec<String> = values
        .iter()
        .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
        .collect();
    json!(parts.join(","))
}

/// Renders objects as a Table: Name, the CRD's printer columns, Age (for built-ins: Name, Age, plus Status for
/// namespaces).
pub fn table(
    info: &ResourceInfo,
    objects: &[Value],
    resource_version: &str,
    continue_: Option<&str>,
) -> Value {
    let now = now_secs();
    if info.kind == "Event" && info.columns.is_empty() {
        return event_table(objects, resource_version, continue_, now);
    }
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}),
    ];
    let mut paths: Vec<(String, String)> = Vec::new();
    for c in &info.columns {
        defs.push(
            json!({"name": c.name, "type": c.type_, "format": "", "description": "", "priority": c.priority}),
        );
        paths.push((c.json_path.clone(), c.type_.clone()));
    }
    if info.columns.is_empty() && info.plural == "namespaces" {
        defs.push(
            json!({"name": "Status", "type": "string", "format": "", "description": "", "priority": 0}),
        );
        paths.push((".status.phase".into(), "string".into()));
    }
    let has_age = info.columns.iter().any(|c| c.name == "Age");
    if !has_age {
        defs.push(json!({"name": "Age", "type": "string", "format": "", "description": "", "priority": 0}));
    }
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut cells = vec![o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)];
            for (p, t) in &paths {
                cells.push(cell(eval(o, p), t, now));
            }
            if !has_age {
                cells.push(cell(eval(o, ".metadata.creationTimestamp"), "date", now));
            }
            json!({"cells": cells, "object": o})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta(resource_version, continue_),
           "columnDefinitions": defs, "rows": rows})
}

fn list_meta(resource_version: &str, continue_: Option<&str>) -> Value {
    let mut meta = json!({"resourceVersion": resource_version});
    if let Some(c) = continue_ {
        meta["continue"] = json!(c);
    }
    meta
}

/// Events as `kubectl get events` shows them (last seen, type, reason, object, message), for both Event views.
fn event_table(objects: &[Value], resource_version: &str, continue_: Option<&str>, now: i64) -> Value {
    let column = |name: &str, format: &str| json!({"name": name, "type": "string", "format": format, "description": "", "priority": 0});
    let defs = vec![
        column("Last Seen", ""),
        column("Type", ""),
        column("Reason", ""),
        column("Object", ""),
        column("Message", ""),
        json!({"name": "Name", "type": "string", "format": "name", "description": "", "priority": 1}),
    ];
    let text = |o: &Value, keys: &[&str]| {
        keys.iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
            .unwrap_or_default()
            .to_string()
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let seen = ["lastTimestamp", "deprecatedLastTimestamp", "eventTime"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str).and_then(parse_rfc3339))
                .map(|t| age(t, now))
                .unwrap_or_else(|| "<unknown>".into());
            let about = o
                .get("involvedObject")
                .or_else(|| o.get("regarding"))
                .unwrap_or(&Value::Null);
            let object = format!(
                "{}/{}",
                text(about, &["kind"]).to_lowercase(),
                text(about, &["name"])
            );
            let cells = json!([
                seen,
                text(o, &["type"]),
                text(o, &["reason"]),
                object,
                text(o, &["message", "note"]),
                o.pointer("/metadata/name").cloned().unwrap_or(Value::Null)
            ]);
            json!({"cells": cells, "object": o})
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta(resource_version, continue_),
           "columnDefinitions": defs, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_printer_column_paths() {
        let o = json!({"status": {"phase": "Ready", "conditions": [
            {"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(eval(&o, ".status.phase"), vec![json!("Ready")]);
        assert_eq!(
            eval(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            vec![json!("True")]
        );
        assert_eq!(
            eval(&o, ".status.conditions[*].type"),
            vec![json!("Synced"), json!("Ready")]
        );
        assert_eq!(eval(&o, ".status.conditions[-1].type"), vec![json!("Ready")]);
        assert!(eval(&o, ".spec.missing").is_empty());
    }
}
