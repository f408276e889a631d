//! Writes that are skipped when the cluster already holds what would be written, so that reconciling an
//! unchanged Resource makes no write request at all (the upstream operator re-applies every source on every pass).

use platform_mesh_plugin_sdk::{ApplyOptions, ClusterError, Host, ObjectRef, Target};
use serde_json::Value;

/// Whether every field of `wanted` has the same value in `actual` (maps compared key by key, everything else by
/// equality).
pub fn contains(actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::Object(actual), Value::Object(wanted)) => wanted
            .iter()
            .all(|(key, value)| actual.get(key).is_some_and(|a| contains(a, value))),
        _ => actual == wanted,
    }
}

/// Whether `manager` holds fields of `object` through server-side apply.
fn applied_by(object: &Value, manager: &str) -> bool {
    let entries = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array);
    entries.into_iter().flatten().any(|entry| {
        entry.get("manager").and_then(Value::as_str) == Some(manager)
            && entry.get("operation").and_then(Value::as_str) == Some("Apply")
    })
}

/// What [`apply_owned`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The object was applied.
    Written,
    /// The object already had this content, applied by this manager.
    Unchanged,
}

/// Server-side applies `object` (forced, as `manager`) to the infra cluster unless it exists with the same `spec`
/// and `manager` already applied it. Requiring the manager's own apply keeps the upstream guarantee that the
/// subroutine owns the source's fields, even if someone else wrote identical values first.
pub fn apply_owned(host: &dyn Host, object: &Value, manager: &str) -> Result<Applied, ClusterError> {
    let reference = ObjectRef::of(object)
        .ok_or_else(|| ClusterError::Invalid("the object needs apiVersion, kind and metadata.name".into()))?;
    if let Some(existing) = host.get(&Target::Infra, &reference)? {
        let same_spec = contains(&existing["spec"], &object["spec"]);
        if same_spec && applied_by(&existing, manager) {
            return Ok(Applied::Unchanged);
        }
    }
    host.apply(&Target::Infra, object, &ApplyOptions::force(manager))?;
    Ok(Applied::Written)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn containment_compares_wanted_fields_only() {
        let actual = json!({"url": "u", "ref": {"tag": "1", "semver": "x"}, "list": [1, 2]});
        assert!(contains(&actual, &json!({"ref": {"tag": "1"}})));
        assert!(contains(&actual, &json!({"list": [1, 2]})));
        assert!(!contains(&actual, &json!({"list": [1]})));
        assert!(!contains(&actual, &json!({"ref": {"tag": "2"}})));
        assert!(!contains(&actual, &json!({"missing": null})));
        assert!(contains(&actual, &json!({})));
    }

    #[test]
    fn ownership_needs_an_apply_entry_of_the_manager() {
        let object = |operation: &str| json!({"metadata": {"managedFields": [{"manager": "platform-mesh-resource", "operation": operation}]}});
        assert!(applied_by(&object("Apply"), "platform-mesh-resource"));
        assert!(!applied_by(&object("Update"), "platform-mesh-resource"));
        assert!(!applied_by(&object("Apply"), "someone-else"));
        assert!(!applied_by(&json!({}), "platform-mesh-resource"));
    }
}
