//! Server-side apply with field manager `platform-mesh-deployment` and force (spec §4.1.3), skipping objects that
//! are already as rendered, so that a steady state writes nothing. "Already as rendered" is the project's one
//! rule, [`plugin_common::unchanged`] with [`Write::Apply`]: our manager owns exactly the rendered fields (list
//! items included) and every rendered value is stored. Anything uncertain (no managed fields, a read error)
//! applies.

use platform_mesh_plugin_sdk::{ApplyOptions, Host, ObjectRef, Target};
use plugin_common::{Write, unchanged};
use serde_json::Value;

use crate::error::{Error, Result};

/// The field manager of every object this subroutine applies.
pub const FIELD_MANAGER: &str = "platform-mesh-deployment";

/// What [`apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The object was applied.
    Written,
    /// The object was already as rendered; nothing was sent.
    Unchanged,
}

/// Applies `object` to `target` unless it is unchanged.
pub fn apply(host: &dyn Host, target: &Target, object: &Value) -> Result<Applied> {
    let reference = ObjectRef::of(object)
        .ok_or_else(|| Error::Invalid("a rendered object has no apiVersion, kind or metadata.name".into()))?;
    if let Ok(Some(existing)) = host.get(target, &reference)
        && is_unchanged(&existing, object)
    {
        return Ok(Applied::Unchanged);
    }
    host.apply(target, object, &ApplyOptions::force(FIELD_MANAGER))
        .map_err(|e| Error::cluster("applying", target, &reference, e))?;
    Ok(Applied::Written)
}

/// Whether applying `desired` over `existing` would change nothing.
pub fn is_unchanged(existing: &Value, desired: &Value) -> bool {
    unchanged(existing, desired, Write::Apply(FIELD_MANAGER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(fields: Value, spec: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns", "labels": {"l": "1"}, "finalizers": ["f"],
                "managedFields": [{"manager": FIELD_MANAGER, "operation": "Apply", "fieldsV1": fields}]},
            "spec": spec,
        })
    }

    fn fields() -> Value {
        json!({"f:metadata": {"f:labels": {"f:l": {}}, "f:finalizers": {"v:\"f\"": {}}},
               "f:spec": {"f:a": {}, "f:list": {}, "f:empty": {}}})
    }

    fn desired(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "a", "namespace": "ns", "labels": {"l": "1"}, "finalizers": ["f"]},
               "spec": spec})
    }

    #[test]
    fn identical_owned_fields_and_values_are_unchanged() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        assert!(is_unchanged(
            &stored(fields(), spec.clone()),
            &desired(json!({"a": 1.0, "list": [1, 2], "empty": {}}))
        ));
    }

    #[test]
    fn a_changed_value_is_a_change() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        assert!(!is_unchanged(
            &stored(fields(), spec),
            &desired(json!({"a": 2, "list": [1, 2], "empty": {}}))
        ));
    }

    #[test]
    fn a_field_no_longer_rendered_is_a_change() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        assert!(!is_unchanged(
            &stored(fields(), spec),
            &desired(json!({"a": 1, "list": [1, 2]}))
        ));
    }

    #[test]
    fn a_new_field_is_a_change() {
        let spec = json!({"a": 1, "list": [1, 2], "empty": {}});
        let want = desired(json!({"a": 1, "list": [1, 2], "empty": {}, "b": true}));
        assert!(!is_unchanged(&stored(fields(), spec), &want));
    }

    #[test]
    fn without_our_managed_fields_it_applies() {
        let mut object = stored(fields(), json!({"a": 1}));
        object["metadata"]["managedFields"][0]["manager"] = json!("someone-else");
        assert!(!is_unchanged(&object, &desired(json!({"a": 1}))));
    }
}
