//! Upstream's `MergeMaps(base, overlay)` (spec §5.4).

use serde_json::Value;

/// Merges `overlay` over `base`: maps merge recursively with the overlay winning, lists and scalars are
/// replaced, an explicit `null` in the overlay wins, and on a type conflict the overlay value is kept.
/// A `null` overlay returns `base` unchanged.
pub fn merge(base: &Value, overlay: &Value) -> Value {
    match (base, overlay) {
        (_, Value::Null) => base.clone(),
        (Value::Object(b), Value::Object(o)) => Value::Object(merge_maps(b, o)),
        _ => overlay.clone(),
    }
}

fn merge_maps(
    base: &serde_json::Map<String, Value>,
    overlay: &serde_json::Map<String, Value>,
) -> serde_json::Map<String, Value> {
    let mut out = overlay.clone();
    for (k, bv) in base {
        match out.get_mut(k) {
            None => {
                out.insert(k.clone(), bv.clone());
            }
            Some(Value::Object(ov)) => {
                if let Value::Object(bm) = bv {
                    *ov = merge_maps(bm, ov);
                }
            }
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::merge;

    #[test]
    fn follows_merge_maps() {
        let base =
            json!({"a": 1, "m": {"x": 1, "y": {"p": 1}}, "l": [1, 2], "n": 5, "t": {"k": 1}, "s": "x"});
        let overlay =
            json!({"m": {"y": {"q": 2}, "z": 3}, "l": [3], "n": null, "t": "scalar", "s": {"k": 2}});
        assert_eq!(
            merge(&base, &overlay),
            json!({"a": 1, "m": {"x": 1, "y": {"p": 1, "q": 2}, "z": 3}, "l": [3], "n": null, "t": "scalar", "s": {"k": 2}})
        );
        assert_eq!(merge(&base, &serde_json::Value::Null), base);
        assert_eq!(merge(&json!("x"), &json!({"a": 1})), json!({"a": 1}));
    }
}
