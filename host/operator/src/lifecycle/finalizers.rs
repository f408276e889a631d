//! Finalizer bookkeeping on the in-memory object (`metadata.finalizers`).

use serde_json::{Value, json};

/// The finalizers currently on the object.
pub fn current(object: &Value) -> Vec<String> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The finalizers the chain wants that are not on the object yet, each once, in chain order. (Upstream appends a
/// string twice when two subroutines declare it; we de-duplicate.)
pub fn missing<'a>(object: &Value, wanted: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let present = current(object);
    let mut out: Vec<String> = Vec::new();
    for finalizer in wanted {
        if !present.contains(finalizer) && !out.contains(finalizer) {
            out.push(finalizer.clone());
        }
    }
    out
}

/// Whether any of `finalizers` is on the object.
pub fn any_present(object: &Value, finalizers: &[String]) -> bool {
    let present = current(object);
    finalizers.iter().any(|f| present.contains(f))
}

/// Removes every occurrence of each of `finalizers` from the object.
pub fn remove(object: &mut Value, finalizers: &[String]) {
    let remaining: Vec<String> = current(object)
        .into_iter()
        .filter(|f| !finalizers.contains(f))
        .collect();
    set(object, remaining);
}

/// Replaces the object's finalizer list.
pub fn set(object: &mut Value, finalizers: Vec<String>) {
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        if finalizers.is_empty() {
            metadata.remove("finalizers");
        } else {
            metadata.insert("finalizers".into(), json!(finalizers));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_deduplicated_and_ordered() {
        let obj = json!({"metadata": {"finalizers": ["a"]}});
        let wanted = ["a", "b", "c", "b"].map(String::from);
        assert_eq!(missing(&obj, wanted.iter()), ["b", "c"]);
    }

    #[test]
    fn remove_drops_every_occurrence() {
        let mut obj = json!({"metadata": {"finalizers": ["x", "a", "x"]}});
        remove(&mut obj, &["x".to_owned()]);
        assert_eq!(current(&obj), ["a"]);
        remove(&mut obj, &["a".to_owned()]);
        assert!(obj["metadata"].get("finalizers").is_none());
    }
}
