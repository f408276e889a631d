//! Compare before applying, so that a steady state writes nothing to kcp.
//!
//! An object is left alone when server-side applying it would change nothing: the project's one rule,
//! [`plugin_common::unchanged`] with [`Write::Apply`] and the apply's field manager. Our manager's
//! `managedFields` entry says which fields the last apply set, so a field the manifests stopped setting (an apply
//! then removes it) and drift made by someone else are both seen; objects the Go operator applied with the same
//! manager and content are taken over without a write. Anything else is server-side applied.

use platform_mesh_plugin_sdk::{ApplyOptions, ClusterError, Host, ObjectRef, Target};
use plugin_common::{Write, unchanged};
use serde_json::Value;

/// What [`ensure`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensured {
    /// The object as stored afterwards.
    pub object: Value,
    /// Whether an apply was sent.
    pub applied: bool,
}

/// Reads the object and server-side applies `object` only if that would change the stored one.
pub fn ensure(
    host: &dyn Host,
    target: &Target,
    object: &Value,
    options: &ApplyOptions,
) -> Result<Ensured, ClusterError> {
    let reference = ObjectRef::of(object)
        .ok_or_else(|| ClusterError::Invalid("object needs apiVersion, kind and name".into()))?;
    if let Some(stored) = host.get(target, &reference)?
        && unchanged(&stored, object, Write::Apply(&options.field_manager))
    {
        return Ok(Ensured {
            object: stored,
            applied: false,
        });
    }
    let stored = host.apply(target, object, options)?;
    Ok(Ensured {
        object: stored,
        applied: true,
    })
}
