//! Writes that are skipped when the cluster already holds what would be written, so that reconciling an
//! unchanged Resource makes no write request at all (the upstream operator re-applies every source on every pass).
//! "Already holds" is the project's one rule, [`plugin_common::unchanged`].

use platform_mesh_plugin_sdk::{ApplyOptions, ClusterError, Host, ObjectRef, Target};
use plugin_common::{Write, unchanged};
use serde_json::Value;

/// What [`apply_owned`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The object was applied.
    Written,
    /// The object already had this content, applied by this manager.
    Unchanged,
}

/// Server-side applies `object` (forced, as `manager`) to the infra cluster unless applying it would change
/// nothing. Our manager must already own exactly these fields, which keeps the upstream guarantee that the
/// subroutine owns the source's fields even if someone else wrote identical values first.
pub fn apply_owned(host: &dyn Host, object: &Value, manager: &str) -> Result<Applied, ClusterError> {
    let reference = ObjectRef::of(object)
        .ok_or_else(|| ClusterError::Invalid("the object needs apiVersion, kind and metadata.name".into()))?;
    if let Some(existing) = host.get(&Target::Infra, &reference)?
        && unchanged(&existing, object, Write::Apply(manager))
    {
        return Ok(Applied::Unchanged);
    }
    host.apply(&Target::Infra, object, &ApplyOptions::force(manager))?;
    Ok(Applied::Written)
}

/// Whether merge-patching `changes` into `current` would change nothing.
pub fn patch_unchanged(current: &Value, changes: &Value) -> bool {
    unchanged(current, changes, Write::MergePatch)
}
