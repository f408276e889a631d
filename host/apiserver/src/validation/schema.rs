//! Structural-schema checks, defaulting and pruning.

use serde_json::{Map, Value};

use super::cel;
use crate::status::Cause;

/// Reason of the notes recorded for pruned fields; they only fail a request under `fieldValidation=Strict`.
pub const UNKNOWN_FIELD: &str = "FieldValueUnknown";

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Object(_) => "\"object\"".into(),
        Value::Array(_) => "\"array\"".into(),
        other => other.to_string(),
    }
}

fn flag(s: &Value, k: &str) -> bool {
    s.get(k).and_then(Value::as_bool).unwrap_or(false)
}

/// Checks the whole object: `apiVersion`, `kind` and `metadata` are the server's, the rest follows the schema.
pub fn check_root(schema: &Value, obj: &mut Value, old: Option<&Value>, causes: &mut Vec<Cause>) {
    let Some(map) = obj.as_object_mut() else { return };
    let props = schema.get("properties").and_then(Value::as_object);
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        match props.and_then(|p| p.get(&k)) {
            Some(sub) => {
                let old_child = old.and_then(|o| o.get(&k));
                if map.get(&k).is_some_and(Value::is_null) && !flag(sub, "nullable") {
                    map.remove(&k);
                    continue;
                }
                if let Some(v) = map.get_mut(&k) {
                    check(sub, v, old_child, &k, causes);
                }
            }
            None if !preserve => {
                map.remove(&k);
                causes.push(Cause::new(UNKNOWN_FIELD, "unknown field", k.clone()));
            }
            None => {}
        }
    }
    default_and_require(schema, map, "", causes);
    cel::rules(schema, obj, old, "", causes);
}

fn default_and_require(schema: &Value, map: &mut Map<String, Value>, path: &str, causes: &mut Vec<Cause>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, sub) in props {
            if !map.contains_key(k)
                && let Some(d) = sub.get("default")
            {
                map.insert(k.clone(), d.clone());
            }
        }
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                causes.push(Cause::new("FieldValueRequired", "Required value", join(path, r)));
            }
        }
    }
}

fn join(path: &str, k: &str) -> String {
    if path.is_empty() {
        k.to_string()
    } else {
        format!("{path}.{k}")
    }
}

fn invalid(causes: &mut Vec<Cause>, path: &str, v: &Value, why: String) {
    causes.push(Cause::new(
        "FieldValueInvalid",
        format!("Invalid value: {}: {why}", shown(v)),
        path,
    ));
}

/// Checks `v` at `path` against `s`, applying defaults and pruning below it.
pub fn check(s: &Value, v: &mut Value, old: Option<&Value>, path: &str, causes: &mut Vec<Cause>) {
    if v.is_null() {
        if !flag(s, "nullable") {
            causes.push(Cause::new(
                "FieldValueRequired",
                "Required value: must not be null",
                path,
            ));
        }
        return;
    }
    let int_or_string = flag(s, "x-kubernetes-int-or-string");
    let want = s.get("type").and_then(Value::as_str).unwrap_or("");
    let have = type_name(v);
    let type_ok = match want {
        "" => true,
        _ if int_or_string => matches!(have, "integer" | "string"),
        "number" => matches!(have, "number" | "integer"),
        w => w == have,
    };
    if !type_ok {
        causes.push(Cause::new(
            "FieldValueTypeInvalid",
            format!(
                "Invalid value: {}: {path} in body must be of type {want}: {}",
                shown(v),
                shown(&Value::String(have.into()))
            ),
            path,
        ));
        return;
    }
    if let Some(allowed) = s.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(shown).collect();
        causes.push(Cause::new(
            "FieldValueNotSupported",
            format!(
                "Unsupported value: {}: supported values: {}",
                shown(v),
                list.join(", ")
            ),
            path,
        ));
    }
    match v {
        Value::String(st) => check_string(s, st, path, causes),
        Value::Number(n) => check_number(s, n.as_f64().unwrap_or(0.0), v.clone(), path, causes),
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(min) = s.get("minItems").and_then(Value::as_u64).filter(|m| n < *m) {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    format!("Invalid value: {n}: {path} in body should have at least {min} items"),
                    path,
                ));
            }
            if let Some(max) = s.get("maxItems").and_then(Value::as_u64).filter(|m| n > *m) {
                causes.push(Cause::new(
                    "TooMany",
                    format!("Too many: {n}: must have at most {max} items"),
                    path,
                ));
            }
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    check(item_schema, item, None, &format!("{path}[{i}]"), causes);
                }
            }
        }
        Value::Object(map) => check_object(s, map, old, path, causes),
        _ => {}
    }
    cel::rules(s, v, old, path, causes);
}

fn check_string(s: &Value, st: &str, path: &str, causes: &mut Vec<Cause>) {
    let len = st.chars().count() as u64;
    let v = Value::String(st.to_string());
    if let Some(min) = s.get("minLength").and_then(Value::as_u64).filter(|m| len < *m) {
        invalid(
            causes,
            path,
            &v,
            format!("{path} in body should be at least {min} chars long"),
        );
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64).filter(|m| len > *m) {
        causes.push(Cause::new(
            "FieldValueTooLong",
            format!("Too long: may not be more than {max} bytes"),
            path,
        ));
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(p) {
            Ok(re) if !re.is_match(st) => {
                invalid(causes, path, &v, format!("{path} in body should match '{p}'"))
            }
            _ => {}
        }
    }
}

fn check_number(s: &Value, n: f64, v: Value, path: &str, causes: &mut Vec<Cause>) {
    if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
        let excl = flag(s, "exclusiveMinimum");
        if n < min || (excl && n == min) {
            let op = if excl {
                "greater than"
            } else {
                "greater than or equal to"
            };
            invalid(causes, path, &v, format!("{path} in body should be {op} {min}"));
        }
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
        let excl = flag(s, "exclusiveMaximum");
        if n > max || (excl && n == max) {
            let op = if excl {
                "less than"
            } else {
                "less than or equal to"
            };
            invalid(causes, path, &v, format!("{path} in body should be {op} {max}"));
        }
    }
}

fn check_object(
    s: &Value,
    map: &mut Map<String, Value>,
    old: Option<&Value>,
    path: &str,
    causes: &mut Vec<Cause>,
) {
    let props = s.get("properties").and_then(Value::as_object);
    let additional = s.get("additionalProperties");
    let preserve = flag(s, "x-kubernetes-preserve-unknown-fields") || additional == Some(&Value::Bool(true));
    let embedded = flag(s, "x-kubernetes-embedded-resource");
    let keys: Vec<String> = map.keys().cloned().collect();
    for k in keys {
        let sub = props
            .and_then(|p| p.get(&k))
            .or_else(|| additional.filter(|a| a.is_object()));
        let child_path = join(path, &k);
        match sub {
            Some(sub) => {
                if map.get(&k).is_some_and(Value::is_null) && !flag(sub, "nullable") {
                    map.remove(&k);
                    continue;
                }
                let old_child = old.and_then(|o| o.get(&k));
                if let Some(v) = map.get_mut(&k) {
                    check(sub, v, old_child, &child_path, causes);
                }
            }
            None if preserve || (embedded && matches!(k.as_str(), "apiVersion" | "kind" | "metadata")) => {}
            None => {
                map.remove(&k);
                causes.push(Cause::new(UNKNOWN_FIELD, "unknown field", child_path));
            }
        }
    }
    default_and_require(s, map, path, causes);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(schema: Value, mut obj: Value) -> (Value, Vec<Cause>) {
        let mut causes = Vec::new();
        check_root(&schema, &mut obj, None, &mut causes);
        causes.retain(|c| c.reason != UNKNOWN_FIELD);
        (obj, causes)
    }

    fn spec_schema(spec: Value) -> Value {
        json!({"type": "object", "properties": {"spec": spec}})
    }

    #[test]
    fn defaults_prunes_and_checks_types() {
        let schema = spec_schema(json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"},
            "replicas": {"type": "integer", "default": 1, "minimum": 0, "maximum": 5},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
        }}));
        let (obj, causes) = run(
            schema.clone(),
            json!({"metadata": {"name": "x"}, "spec": {"name": "ok", "junk": 1, "free": {"any": 1}}, "extra": true}),
        );
        assert!(causes.is_empty(), "{causes:?}");
        assert_eq!(
            obj,
            json!({"metadata": {"name": "x"}, "spec": {"name": "ok", "replicas": 1, "free": {"any": 1}}})
        );
        let (_, causes) = run(schema, json!({"spec": {"name": "A", "replicas": 9, "mode": "c"}}));
        let fields: Vec<&str> = causes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["spec.mode", "spec.name", "spec.name", "spec.replicas"]
        );
        assert_eq!(causes[0].reason, "FieldValueNotSupported");
    }

    #[test]
    fn reports_missing_required_and_wrong_types() {
        let schema = spec_schema(json!({"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "items": {"type": "array", "maxItems": 1, "items": {"type": "integer"}}}}));
        let (_, causes) = run(schema, json!({"spec": {"items": [1, "x"]}}));
        let got: Vec<(&str, &str)> = causes
            .iter()
            .map(|c| (c.reason.as_str(), c.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("TooMany", "spec.items"),
                ("FieldValueTypeInvalid", "spec.items[1]"),
                ("FieldValueRequired", "spec.name")
            ]
        );
    }
}
