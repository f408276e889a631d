//! Applying a toggle's objects and removing the ones it no longer wants. Every applied object carries the label
//! [`TOGGLE_LABEL`] with the toggle's name; that label is how objects are found again when the toggle is switched
//! off or a file leaves its directory.

use platform_mesh_plugin_sdk::{ApplyOptions, ClusterError, Gvk, Host, ObjectRef, Target};
use plugin_common::{Write, unchanged};
use serde_json::{Value, json};

/// The label naming the toggle that applied an object.
pub const TOGGLE_LABEL: &str = "core.platform-mesh.io/feature-toggle";
/// Upstream's field manager for kcp manifests.
pub const FIELD_MANAGER: &str = "platform-mesh-operator";

/// `object` with the toggle label added.
pub fn labelled(mut object: Value, toggle: &str) -> Value {
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    if !object["metadata"]["labels"].is_object() {
        object["metadata"]["labels"] = json!({});
    }
    object["metadata"]["labels"][TOGGLE_LABEL] = json!(toggle);
    object
}

/// Server-side applies `object` in `workspace` unless applying it would change nothing
/// ([`plugin_common::unchanged`]); returns whether it wrote.
pub fn apply(host: &dyn Host, workspace: &str, object: &Value) -> Result<bool, ClusterError> {
    let target = Target::kcp(workspace);
    let reference = ObjectRef::of(object)
        .ok_or_else(|| ClusterError::Invalid("needs apiVersion, kind and metadata.name".into()))?;
    // A kind that is not served yet (its API binding is still coming) is not an error here: the apply below then
    // reports it with the API server's words.
    if let Ok(Some(stored)) = host.get(&target, &reference)
        && unchanged(&stored, object, Write::Apply(FIELD_MANAGER))
    {
        return Ok(false);
    }
    host.apply(&target, object, &ApplyOptions::force(FIELD_MANAGER))?;
    Ok(true)
}

/// One kind in one workspace where a toggle may have objects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub workspace: String,
    pub kind: Gvk,
}

/// Deletes the objects labelled for `toggle` at `place` whose names are not in `keep`; returns the deleted ones.
pub fn prune(
    host: &dyn Host,
    toggle: &str,
    place: &Place,
    keep: &[String],
) -> Result<Vec<String>, ClusterError> {
    let target = Target::kcp(&place.workspace);
    let selector = format!("{TOGGLE_LABEL}={toggle}");
    let items = match host.list(&target, &place.kind, None, Some(&selector)) {
        Ok(items) => items,
        // The kind is not served in that workspace: nothing of it can exist.
        Err(ClusterError::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut deleted = Vec::new();
    for item in items {
        let Some(reference) = ObjectRef::of(&item).or_else(|| {
            let name = item.pointer("/metadata/name")?.as_str()?;
            let namespace = item.pointer("/metadata/namespace").and_then(Value::as_str);
            Some(place.kind.object(namespace, name))
        }) else {
            continue;
        };
        if keep.contains(&reference.name) || item.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        if host.delete(&target, &reference)? {
            deleted.push(format!(
                "{} {} in {}",
                reference.gvk.kind, reference.name, place.workspace
            ));
        }
    }
    Ok(deleted)
}
