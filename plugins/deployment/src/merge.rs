//! The merge of two value maps (spec §5.4, upstream `MergeMaps(base, overlay)`), used wherever two layers of
//! variables are combined: the overlay wins, maps merge recursively, lists never merge, and an explicit `null` in
//! the overlay removes the base value.

use serde_json::{Map, Value};

/// `overlay` merged over `base`. Both are usually maps; a `null` overlay returns `base` unchanged, any other
/// non-map overlay replaces `base`.
pub fn merge(base: &Value, overlay: &Value) -> Value {
    match (base, overlay) {
        (_, Value::Null) => base.clone(),
        (Value::Object(b), Value::Object(o)) => Value::Object(merge_maps(b, o)),
        _ => overlay.clone(),
    }
}

/// The map form of [`merge`]: a copy of `overlay`, plus every key of `base` that `overlay` lacks; where both
/// hold maps the merge recurses. A map in the overlay replaces a scalar in the base (upstream logs a warning).
pub fn merge_maps(base: &Map<String, Value>, overlay: &Map<String, Value>) -> Map<String, Value> {
    let mut out = overlay.clone();
    for (key, base_value) in base {
        match out.get_mut(key) {
            None => {
                out.insert(key.clone(), base_value.clone());
            }
            Some(Value::Object(over)) => {
                if let Value::Object(b) = base_value {
                    *over = merge_maps(b, over);
                }
            }
            Some(_) => {}
        }
    }
    out
}

/// Merges `overlay` over the value at `key` of `map` (inserting it when absent).
pub fn merge_into(map: &mut Map<String, Value>, key: &str, overlay: &Value) {
    let merged = match map.get(key) {
        Some(base) => merge(base, overlay),
        None => overlay.clone(),
    };
    map.insert(key.to_owned(), merged);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overlay_wins_and_missing_keys_come_from_base() {
        let out = merge(&json!({"a": 1, "b": 2}), &json!({"b": 3, "c": 4}));
        assert_eq!(out, json!({"a": 1, "b": 3, "c": 4}));
    }

    #[test]
    fn nested_maps_merge_recursively_with_overlay_precedence() {
        let base = json!({"x": {"keep": true, "both": "base", "deep": {"a": 1}}});
        let overlay = json!({"x": {"both": "overlay", "deep": {"b": 2}}});
        assert_eq!(
            merge(&base, &overlay),
            json!({"x": {"keep": true, "both": "overlay", "deep": {"a": 1, "b": 2}}})
        );
    }

    #[test]
    fn lists_are_replaced_never_merged() {
        let out = merge(&json!({"l": [1, 2, 3]}), &json!({"l": [9]}));
        assert_eq!(out, json!({"l": [9]}));
    }

    #[test]
    fn explicit_null_in_overlay_removes_the_base_value() {
        let out = merge(&json!({"a": {"b": 1}, "c": 1}), &json!({"a": null}));
        assert_eq!(out, json!({"a": null, "c": 1}));
    }

    #[test]
    fn type_conflicts_keep_the_overlay_value() {
        assert_eq!(
            merge(&json!({"a": "s"}), &json!({"a": {"m": 1}})),
            json!({"a": {"m": 1}})
        );
        assert_eq!(
            merge(&json!({"a": {"m": 1}}), &json!({"a": "s"})),
            json!({"a": "s"})
        );
        assert_eq!(
            merge(&json!({"a": null}), &json!({"a": {"m": 1}})),
            json!({"a": {"m": 1}})
        );
    }

    #[test]
    fn null_overlay_returns_base() {
        assert_eq!(merge(&json!({"a": 1}), &Value::Null), json!({"a": 1}));
    }

    #[test]
    fn merge_into_inserts_or_merges() {
        let mut m = Map::new();
        merge_into(&mut m, "ocm", &json!({"repo": {"name": "r"}}));
        merge_into(&mut m, "ocm", &json!({"component": {"name": "c"}}));
        assert_eq!(
            Value::Object(m),
            json!({"ocm": {"repo": {"name": "r"}, "component": {"name": "c"}}})
        );
    }
}
