//! Create-or-update with semantic comparison: read the object, let the caller shape it, and write only when the
//! result differs from what is stored ([`crate::unchanged`] with [`Write::Replace`]). This is upstream's
//! `CreateOrUpdate` (get → mutate → update if changed), with one fix (spec §11.4 item 44): values are compared as
//! JSON *values*, so a number the API server returns as `1` equals the `1.0` a plugin computed, and a converged
//! object is never rewritten.
//!
//! ```
//! use plugin_common::converge::{create_or_update, Written};
//! use platform_mesh_plugin_sdk::{testing::FakeHost, Gvk, Target};
//! use serde_json::json;
//!
//! let host = FakeHost::new();
//! let cm = Gvk::new("", "v1", "ConfigMap").object(Some("ns"), "settings");
//! let set = |obj: &mut serde_json::Value| obj["data"] = json!({"replicas": "2"});
//! assert_eq!(create_or_update(&host, &Target::Runtime, &cm, set).unwrap().0, Written::Created);
//! assert_eq!(create_or_update(&host, &Target::Runtime, &cm, set).unwrap().0, Written::Unchanged);
//! ```

use serde_json::{Map, Value, json};

use platform_mesh_plugin_sdk::{ClusterError, Host, ObjectRef, Target};

use crate::unchanged::{Write, unchanged};

/// What [`create_or_update`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The object did not exist and was created.
    Created,
    /// The object differed and was replaced.
    Updated,
    /// The stored object already matched; nothing was written.
    Unchanged,
}

impl Written {
    /// Whether anything was written.
    pub fn changed(self) -> bool {
        self != Written::Unchanged
    }
}

/// A new object's skeleton: apiVersion, kind and metadata name/namespace.
pub fn skeleton(object: &ObjectRef) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(object.name.clone()));
    if let Some(ns) = &object.namespace {
        metadata.insert("namespace".into(), Value::String(ns.clone()));
    }
    json!({"apiVersion": object.gvk.api_version(), "kind": object.gvk.kind, "metadata": metadata})
}

/// Reads `object` from `target` (or starts from its [`skeleton`]), applies `mutate`, and creates or replaces it
/// when the result differs from what is stored. Returns what happened and the object as stored.
///
/// # Errors
/// The first failing cluster call's error.
pub fn create_or_update(
    host: &dyn Host,
    target: &Target,
    object: &ObjectRef,
    mutate: impl FnOnce(&mut Value),
) -> Result<(Written, Value), ClusterError> {
    match host.get(target, object)? {
        None => {
            let mut desired = skeleton(object);
            mutate(&mut desired);
            let stored = host.create(target, &desired)?;
            Ok((Written::Created, stored))
        }
        Some(current) => {
            let mut desired = current.clone();
            mutate(&mut desired);
            if unchanged(&current, &desired, Write::Replace) {
                return Ok((Written::Unchanged, current));
            }
            let stored = host.update(target, &desired)?;
            Ok((Written::Updated, stored))
        }
    }
}

/// Creates `object` unless it exists; an object created concurrently (`AlreadyExists`) counts as existing.
/// Reads first, so an existing object costs no write. Returns whether it was created.
///
/// # Errors
/// The first failing cluster call's error.
pub fn ensure_exists(host: &dyn Host, target: &Target, object: &Value) -> Result<bool, ClusterError> {
    let reference = ObjectRef::of(object)
        .ok_or_else(|| ClusterError::Invalid("the object needs apiVersion, kind and metadata.name".into()))?;
    if host.get(target, &reference)?.is_some() {
        return Ok(false);
    }
    match host.create(target, object) {
        Ok(_) => Ok(true),
        Err(ClusterError::AlreadyExists(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform_mesh_plugin_sdk::{Gvk, testing::FakeHost};

    #[test]
    fn create_then_converge_then_update() {
        let host = FakeHost::new();
        let cm = Gvk::new("", "v1", "ConfigMap").object(Some("ns"), "x");
        let (first, _) =
            create_or_update(&host, &Target::Runtime, &cm, |o| o["data"] = json!({"a": "1"})).unwrap();
        let (second, _) =
            create_or_update(&host, &Target::Runtime, &cm, |o| o["data"] = json!({"a": "1"})).unwrap();
        let (third, stored) =
            create_or_update(&host, &Target::Runtime, &cm, |o| o["data"] = json!({"a": "2"})).unwrap();
        assert_eq!(
            (first, second, third),
            (Written::Created, Written::Unchanged, Written::Updated)
        );
        assert_eq!(stored["data"]["a"], "2");
        let writes = host.calls().iter().filter(|c| c.op != "get").count();
        assert_eq!(writes, 2, "the converged pass wrote nothing");
    }

    #[test]
    fn ensure_exists_reads_before_creating() {
        let host = FakeHost::new();
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}});
        assert!(ensure_exists(&host, &Target::Runtime, &ns).unwrap());
        assert!(!ensure_exists(&host, &Target::Runtime, &ns).unwrap());
        assert_eq!(host.calls().iter().filter(|c| c.op == "create").count(), 1);
    }
}
