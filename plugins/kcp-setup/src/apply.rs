//! Compare before applying, so that a steady state writes nothing to kcp.
//!
//! Every applied object carries the annotation [`HASH_ANNOTATION`], a sha256 of the object as rendered (like
//! kubectl's last-applied annotation, but only a digest). An object is left alone when the stored one carries the
//! same digest **and** still contains every rendered field with the rendered value. The digest catches fields the
//! manifests stopped setting (a server-side apply then removes them); the field check catches drift made by
//! someone else. Anything else is server-side applied.

use platform_mesh_plugin_sdk::{ApplyOptions, ClusterError, Host, ObjectRef, Target};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The annotation holding the digest of the applied object.
pub const HASH_ANNOTATION: &str = "kcp-setup.platform-mesh.io/applied-hash";

/// What [`ensure`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensured {
    /// The object as stored afterwards.
    pub object: Value,
    /// Whether an apply was sent.
    pub applied: bool,
}

/// JSON with object keys sorted, independent of the map type serde_json was built with.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The sha256 hex digest of the canonical form of `object`.
pub fn digest(object: &Value) -> String {
    let mut text = String::new();
    canonical(object, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Whether `stored` holds every field of `wanted` with an equal value. Lists must match element by element;
/// numbers compare by value (`8443` equals `8443.0`); a `null` in `wanted` means "absent".
pub fn contains(stored: &Value, wanted: &Value) -> bool {
    match (wanted, stored) {
        (Value::Object(want), Value::Object(have)) => want.iter().all(|(key, w)| match have.get(key) {
            Some(h) => contains(h, w),
            None => w.is_null(),
        }),
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| contains(h, w))
        }
        (Value::Number(w), Value::Number(h)) => w == h || w.as_f64() == h.as_f64(),
        (w, h) => w == h,
    }
}

/// `object` with [`HASH_ANNOTATION`] set to the digest of `object` itself.
pub fn annotated(object: &Value) -> Value {
    let hash = digest(object);
    let mut out = object.clone();
    if !out["metadata"].is_object() {
        out["metadata"] = Value::Object(Default::default());
    }
    let meta = &mut out["metadata"];
    if !meta["annotations"].is_object() {
        meta["annotations"] = Value::Object(Default::default());
    }
    meta["annotations"][HASH_ANNOTATION] = Value::String(hash);
    out
}

/// Whether `stored` is what applying `desired` (already [`annotated`]) would produce for our fields.
pub fn up_to_date(stored: &Value, desired: &Value) -> bool {
    let stored_hash = stored
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(HASH_ANNOTATION));
    let wanted_hash = desired
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(HASH_ANNOTATION));
    stored_hash.is_some() && stored_hash == wanted_hash && contains(stored, desired)
}

/// Reads the object and server-side applies `object` only if the stored one is not [`up_to_date`].
pub fn ensure(
    host: &dyn Host,
    target: &Target,
    object: &Value,
    options: &ApplyOptions,
) -> Result<Ensured, ClusterError> {
    let desired = annotated(object);
    let reference = ObjectRef::of(&desired)
        .ok_or_else(|| ClusterError::Invalid("object needs apiVersion, kind and name".into()))?;
    if let Some(stored) = host.get(target, &reference)?
        && up_to_date(&stored, &desired)
    {
        return Ok(Ensured {
            object: stored,
            applied: false,
        });
    }
    let stored = host.apply(target, &desired, options)?;
    Ok(Ensured {
        object: stored,
        applied: true,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn digest_ignores_key_order() {
        assert_eq!(
            digest(&json!({"a": 1, "b": {"c": [1, 2]}})),
            digest(&json!({"b": {"c": [1, 2]}, "a": 1}))
        );
        assert_ne!(digest(&json!({"a": 1})), digest(&json!({"a": 2})));
    }

    #[test]
    fn contains_treats_server_additions_as_equal_and_removals_as_drift() {
        let wanted = json!({"spec": {"a": 1, "list": [{"x": "y"}], "gone": null}});
        let stored =
            json!({"spec": {"a": 1.0, "list": [{"x": "y", "defaulted": true}], "extra": 1}, "status": {}});
        assert!(contains(&stored, &wanted));
        assert!(!contains(
            &json!({"spec": {"a": 2, "list": [{"x": "y"}]}}),
            &wanted
        ));
        assert!(!contains(&json!({"spec": {"a": 1, "list": []}}), &wanted));
        assert!(!contains(
            &json!({"spec": {"a": 1, "list": [{"x": "y"}], "gone": 5}}),
            &wanted
        ));
    }

    #[test]
    fn up_to_date_needs_the_same_digest_and_fields() {
        let desired = annotated(&json!({"metadata": {"name": "a"}, "spec": {"b": [1, 2]}}));
        let mut stored = desired.clone();
        stored["metadata"]["resourceVersion"] = json!("7");
        assert!(up_to_date(&stored, &desired));
        // The manifest stopped setting a field: same fields present, but the digest differs.
        let smaller = annotated(&json!({"metadata": {"name": "a"}, "spec": {}}));
        assert!(!up_to_date(&stored, &smaller));
        // Someone edited a field we own.
        stored["spec"]["b"] = json!([1]);
        assert!(!up_to_date(&stored, &desired));
    }
}
