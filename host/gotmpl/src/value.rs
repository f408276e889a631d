//! Go's view of the values that flow through a template.
//!
//! Values are carried as minijinja [`Value`]s so that the translated template can pass them around, but every
//! operation classifies them the way Go's `reflect` would see the decoded JSON: numbers from data are `float64`
//! (minijinja `F64`), template integer literals and `len` results are `int` (minijinja `I64`), a key that is
//! absent is Go's "invalid" value (minijinja `UNDEFINED`) and a JSON `null` is a nil `interface{}` (`NONE`).

use std::sync::Arc;

use minijinja::value::{Object, ObjectRepr, Value, ValueKind};

/// The Go kind of a value, as far as the template language can observe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoKind {
    /// An absent map key or an unset result ("invalid" `reflect.Value`).
    Missing,
    /// A nil `interface{}` (JSON `null`, the `nil` literal).
    Nil,
    /// `bool`.
    Bool,
    /// `int` (literals, `len`, range indexes).
    Int,
    /// `float64` (every number from data, float literals).
    Float,
    /// `complex128` (imaginary literals).
    Complex,
    /// `string`.
    String,
    /// `[]interface {}`.
    List,
    /// `map[string]interface {}`.
    Map,
}

/// An imaginary or complex literal such as `1i`; only printing is supported.
#[derive(Debug, Clone, Copy)]
pub struct Complex {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Object for Complex {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    /// Go's truth, so that translated `if`s can test values natively.
    fn is_true(self: &Arc<Self>) -> bool {
        self.re != 0.0 || self.im != 0.0
    }
}

/// Classifies a value.
pub fn kind(v: &Value) -> GoKind {
    match v.kind() {
        ValueKind::Undefined => GoKind::Missing,
        ValueKind::None => GoKind::Nil,
        ValueKind::Bool => GoKind::Bool,
        ValueKind::Number if v.is_integer() => GoKind::Int,
        ValueKind::Number => GoKind::Float,
        ValueKind::String | ValueKind::Bytes => GoKind::String,
        ValueKind::Seq | ValueKind::Iterable => GoKind::List,
        ValueKind::Map => GoKind::Map,
        _ if v.downcast_object_ref::<Complex>().is_some() => GoKind::Complex,
        _ => GoKind::Nil,
    }
}

/// Go's type name of a value, as `%T` prints it.
pub fn type_name(v: &Value) -> &'static str {
    match kind(v) {
        GoKind::Missing | GoKind::Nil => "<nil>",
        GoKind::Bool => "bool",
        GoKind::Int => "int",
        GoKind::Float => "float64",
        GoKind::Complex => "complex128",
        GoKind::String => "string",
        GoKind::List => "[]interface {}",
        GoKind::Map => "map[string]interface {}",
    }
}

/// The value as `f64` when it is a number.
pub fn as_f64(v: &Value) -> Option<f64> {
    match kind(v) {
        GoKind::Int => v.as_i64().map(|i| i as f64),
        GoKind::Float => f64::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// The value as `i64` when it is a Go `int`.
pub fn as_int(v: &Value) -> Option<i64> {
    if kind(v) == GoKind::Int { v.as_i64() } else { None }
}

/// Go's `if`/`with`/`range` truth (`text/template`'s `isTrue`): zero values and empty collections are false.
pub fn truth(v: &Value) -> bool {
    match kind(v) {
        GoKind::Missing | GoKind::Nil => false,
        GoKind::Bool => v.is_true(),
        GoKind::Int => v.as_i64() != Some(0),
        GoKind::Float => as_f64(v).is_some_and(|f| f != 0.0),
        GoKind::Complex => v
            .downcast_object_ref::<Complex>()
            .is_some_and(|c| c.re != 0.0 || c.im != 0.0),
        GoKind::String | GoKind::List | GoKind::Map => v.len().unwrap_or(0) > 0,
    }
}

/// Upstream's `isZeroValue`: nil, empty string/list/map, or `reflect.Value.IsZero`. Since Go 1.21 `IsZero`
/// counts negative zero (`-0.0`, `-0i`) as zero, so this equals Go's template falsiness for every JSON value.
pub fn is_zero(v: &Value) -> bool {
    !truth(v)
}

/// The entries of a map value in Go's iteration order for templates (keys sorted by bytes).
pub fn map_entries(v: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = match v.try_iter() {
        Ok(keys) => keys
            .map(|k| {
                let val = v.get_item(&k).unwrap_or(Value::UNDEFINED);
                (
                    k.as_str().map(str::to_owned).unwrap_or_else(|| k.to_string()),
                    val,
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out
}

/// Looks a key up in a map value: `None` when absent (a present `null` is `Some(NONE)`).
pub fn map_get(v: &Value, key: &str) -> Option<Value> {
    let val = v.get_item(&Value::from(key)).ok()?;
    if val.is_undefined() { None } else { Some(val) }
}

/// The elements of a list value.
pub fn list_items(v: &Value) -> Vec<Value> {
    v.try_iter().map(|it| it.collect()).unwrap_or_default()
}

/// The deepest value a template can build with `list`/`dict` (levels of lists and maps): the same bound as the
/// YAML reader and `toYaml`, shallow enough for every recursive function (printing, comparison, `toYaml`) to
/// stay well inside a thread's stack.
pub const MAX_DEPTH: usize = crate::yaml::MAX_DEPTH;

/// Whether a value nests lists and maps more than `limit` levels deep. Stops descending at the limit, so the
/// recursion itself is bounded.
pub fn deeper_than(v: &Value, limit: usize) -> bool {
    match kind(v) {
        GoKind::List | GoKind::Map if limit == 0 => true,
        GoKind::List => v
            .try_iter()
            .is_ok_and(|mut items| items.any(|x| deeper_than(&x, limit - 1))),
        GoKind::Map => v.try_iter().is_ok_and(|mut keys| {
            keys.any(|k| deeper_than(&v.get_item(&k).unwrap_or(Value::UNDEFINED), limit - 1))
        }),
        _ => false,
    }
}

/// Converts JSON data into template values: every number becomes a `float64`, as Go's `encoding/json` decodes it.
pub fn from_json(j: &serde_json::Value) -> Value {
    match j {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => Value::from(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(a) => Value::from(a.iter().map(from_json).collect::<Vec<_>>()),
        serde_json::Value::Object(o) => {
            Value::from_pairs(o.iter().map(|(k, v)| (Value::from(k.as_str()), from_json(v))))
        }
    }
}

#[cfg(test)]
/// Converts a template value back to JSON (the reference `toYaml` path that `yaml::to_yaml_value` shortcuts). Integral `float64`s stay floats in JSON,
/// which serialises them without a fraction exactly like Go's `encoding/json`.
pub fn to_json(v: &Value) -> serde_json::Value {
    match kind(v) {
        GoKind::Missing | GoKind::Nil => serde_json::Value::Null,
        GoKind::Bool => serde_json::Value::Bool(v.is_true()),
        GoKind::Int => serde_json::Value::from(v.as_i64().unwrap_or(0)),
        GoKind::Float => {
            let f = as_f64(v).unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 9e18 {
                serde_json::Value::from(f as i64)
            } else {
                serde_json::Number::from_f64(f)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        GoKind::Complex => serde_json::Value::Null,
        GoKind::String => serde_json::Value::String(v.as_str().unwrap_or_default().to_owned()),
        GoKind::List => serde_json::Value::Array(list_items(v).iter().map(to_json).collect()),
        GoKind::Map => serde_json::Value::Object(
            map_entries(v)
                .into_iter()
                .map(|(k, v)| (k, to_json(&v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_are_floats() {
        let v = from_json(&serde_json::json!({"n": 3, "l": [1, "a"]}));
        let n = v.get_item(&Value::from("n")).unwrap();
        assert_eq!(kind(&n), GoKind::Float);
        assert_eq!(type_name(&n), "float64");
        assert_eq!(kind(&Value::from(3i64)), GoKind::Int);
        assert_eq!(map_get(&v, "zz"), None);
    }

    #[test]
    fn depth_counts_lists_and_maps() {
        let v = from_json(&serde_json::json!({"a": [[1]], "b": 2}));
        assert!(!deeper_than(&v, 3));
        assert!(deeper_than(&v, 2));
        assert!(!deeper_than(&Value::from("s"), 0));
        assert!(deeper_than(&from_json(&serde_json::json!([])), 0));
    }

    #[test]
    fn negative_zero_is_false_and_zero() {
        let nz = Value::from(-0.0f64);
        assert!(!truth(&nz));
        assert!(is_zero(&nz));
        assert!(is_zero(&Value::from("")));
        assert!(!truth(&Value::UNDEFINED));
        assert!(truth(&Value::from("false")));
    }
}
