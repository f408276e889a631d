//! The RootShard / FrontProxy readiness check (spec §2.8): both kcp-operator objects must report
//! `Available=True` before anything is read from kcp.

use std::time::Duration;

use platform_mesh_plugin_sdk::{ClusterError, Gvk, Host, Reconciled, Target};
use serde_json::Value;

use crate::settings::Settings;

/// Upstream's requeue for "not ready" stops.
pub const REQUEUE: Duration = Duration::from_secs(5);

fn available(object: &Value) -> bool {
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    conditions
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Available" && c["status"] == "True")
}

/// `Some(stop)` while the RootShard or the FrontProxy is not available. A read error is not an error here, as
/// upstream; a runtime cluster that does not serve the kcp-operator kinds at all says so in the message (the
/// analogue of upstream's "client scheme is nil").
pub fn check(host: &dyn Host, settings: &Settings) -> Option<Reconciled> {
    let objects = [
        ("RootShard", &settings.root_shard),
        ("FrontProxy", &settings.front_proxy),
    ];
    for (kind, name) in objects {
        let reference = Gvk::new("operator.kcp.io", "v1alpha1", kind)
            .object(Some(&settings.kcp_namespace), name.as_str());
        match host.get(&Target::Runtime, &reference) {
            Ok(Some(object)) if available(&object) => continue,
            Err(ClusterError::NotFound(message)) => {
                return Some(Reconciled::stop_after(
                    REQUEUE,
                    format!("{kind} is not ready: the runtime cluster does not serve it ({message})"),
                ));
            }
            _ => return Some(Reconciled::stop_after(REQUEUE, format!("{kind} is not ready"))),
        }
    }
    None
}
