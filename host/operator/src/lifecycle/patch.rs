//! RFC 7386 JSON merge patches: computing one from two documents (applying is `json_patch::merge`).

use serde_json::{Map, Value};

/// The merge patch that turns `from` into `to`: changed keys carry the new value, removed keys `null`, nested
/// objects recurse, anything else (lists included) is replaced whole. `None` when the documents are equal.
pub fn merge_diff(from: &Value, to: &Value) -> Option<Value> {
    if from == to {
        return None;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (key, old) in a {
                match b.get(key) {
                    None => {
                        patch.insert(key.clone(), Value::Null);
                    }
                    Some(new) => {
                        if let Some(inner) = merge_diff(old, new) {
                            patch.insert(key.clone(), inner);
                        }
                    }
                }
            }
            for (key, new) in b {
                if !a.contains_key(key) {
                    patch.insert(key.clone(), new.clone());
                }
            }
            Some(Value::Object(patch))
        }
        _ => Some(to.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_then_merge_reproduces_target() {
        let from = json!({"a": 1, "b": {"c": [1, 2], "d": "x"}, "e": true});
        let to = json!({"a": 1, "b": {"c": [3], "f": null}, "g": {"h": 1}});
        let patch = merge_diff(&from, &to).unwrap();
        assert_eq!(
            patch,
            json!({"b": {"c": [3], "d": null, "f": null}, "e": null, "g": {"h": 1}})
        );
        let mut applied = from.clone();
        json_patch::merge(&mut applied, &patch);
        // A merge patch cannot express an explicit null value; it removes the key instead.
        assert_eq!(applied, json!({"a": 1, "b": {"c": [3]}, "g": {"h": 1}}));
        assert_eq!(merge_diff(&to, &to), None);
    }
}
