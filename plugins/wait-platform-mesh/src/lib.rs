//! `WaitPlatformMeshSubroutine` (upstream spec §4.9.1), position 1 of the ManagedProvider chain, no finalizer:
//! the PlatformMesh named by `spec.platformMeshRef.name` (same namespace) must be Ready before anything else.

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Gvk, Host, Plugin, PluginInfo, Reconciled, Target,
};
use serde_json::{Value, json};

/// The subroutine (and condition) name.
pub const NAME: &str = "WaitPlatformMeshSubroutine";
const WAIT: Duration = Duration::from_secs(10);

/// The plugin.
pub struct WaitPlatformMesh;

fn ready(object: &Value) -> bool {
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    conditions
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

impl Plugin for WaitPlatformMesh {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION"))
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let phase_empty = ctx
            .field("/status/phase")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        let name = ctx
            .field("/spec/platformMeshRef/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let waiting = |message: &str| {
            Ok(Reconciled::stop_after(WAIT, message).with_status(json!({"phase": "WaitingForPlatformMesh"})))
        };
        let pm =
            Gvk::new("core.platform-mesh.io", "v1alpha1", "PlatformMesh").object(Some(ctx.namespace()), name);
        let found = host
            .get(&Target::Runtime, &pm)
            .map_err(|e| Failure::new(format!("failed to get PlatformMesh {name}: {e}")))?;
        match found {
            None => waiting("PlatformMesh not found yet"),
            Some(pm) if !ready(&pm) => waiting("waiting for PlatformMesh to become Ready"),
            Some(_) if phase_empty => Ok(Reconciled::ok().with_status(json!({"phase": "Pending"}))),
            Some(_) => Ok(Reconciled::ok()),
        }
    }
}

platform_mesh_plugin_sdk::export_plugin!(WaitPlatformMesh);

#[cfg(test)]
mod tests {
    use platform_mesh_plugin_sdk::{ClusterError, Outcome, testing::FakeHost};

    use super::*;

    fn mp() -> Context {
        Context::for_object(
            "managedprovider",
            json!({"metadata": {"name": "cowboys", "namespace": "pm"}, "spec": {"platformMeshRef": {"name": "mesh"}}}),
        )
    }

    fn pm(conditions: Value) -> Value {
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "mesh", "namespace": "pm"}, "status": {"conditions": conditions}})
    }

    fn stop_message(done: &Reconciled) -> &str {
        match &done.outcome {
            Outcome::Stop { message, .. } => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn not_found_not_ready_and_no_conditions_wait() {
        let done = WaitPlatformMesh::process(&FakeHost::new(), &mp()).unwrap();
        assert_eq!(stop_message(&done), "PlatformMesh not found yet");
        assert_eq!(
            done.status_patch,
            Some(json!({"phase": "WaitingForPlatformMesh"}))
        );
        for conditions in [json!([{"type": "Ready", "status": "False"}]), json!([])] {
            let host = FakeHost::new().with_object(Target::Runtime, pm(conditions));
            let done = WaitPlatformMesh::process(&host, &mp()).unwrap();
            assert_eq!(stop_message(&done), "waiting for PlatformMesh to become Ready");
        }
    }

    #[test]
    fn ready_is_ok_with_pending_phase() {
        let host =
            FakeHost::new().with_object(Target::Runtime, pm(json!([{"type": "Ready", "status": "True"}])));
        let done = WaitPlatformMesh::process(&host, &mp()).unwrap();
        assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Pending"})));
    }

    #[test]
    fn get_failure_is_an_error() {
        let host = FakeHost::new().with_error("get", None, ClusterError::Unavailable("down".into()));
        let failure = WaitPlatformMesh::process(&host, &mp()).unwrap_err();
        assert!(failure.message.starts_with("failed to get PlatformMesh mesh"));
    }
}
