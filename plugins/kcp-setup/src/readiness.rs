//! Spec §4.2 steps 1–2: kcp must be up before anything is applied to it. RootShard and FrontProxy must be
//! `Available` (spec §2.8), and the kcp-operator must have written the cluster-admin Secret the host builds its kcp
//! clients from. Missing objects mean "not yet" (stop and requeue); a Secret of the wrong shape is bad input (error).

use std::time::Duration;

use platform_mesh_plugin_sdk::{ClusterError, Gvk, Host, Reconciled, Target};
use serde_json::Value;

use crate::settings::Settings;

/// Upstream's requeue for "kcp is not ready".
pub const NOT_READY_REQUEUE: Duration = Duration::from_secs(5);

/// Why kcp-setup cannot start this pass (also used for the template data's lookups).
#[derive(Debug, PartialEq)]
pub enum NotReady {
    /// Wait and look again (the outcome to return).
    Wait(Reconciled),
    /// Fail the pass: something exists but cannot be used (e.g. an admin Secret without usable keys).
    Fail(String),
}

/// A condition with exactly this type and status exists (upstream's "condition matches").
pub fn condition_is(object: &Value, type_: &str, status: &str) -> bool {
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    conditions.into_iter().flatten().any(|c| {
        c.get("type").and_then(Value::as_str) == Some(type_)
            && c.get("status").and_then(Value::as_str) == Some(status)
    })
}

fn available(host: &dyn Host, settings: &Settings, kind: &str, name: &str) -> bool {
    let object = Gvk::new("operator.kcp.io", "v1alpha1", kind).object(Some(&settings.kcp_namespace), name);
    // Upstream treats a failed get like a missing condition: not ready, not an error.
    matches!(host.get(&Target::Runtime, &object), Ok(Some(o)) if condition_is(&o, "Available", "True"))
}

/// Checks RootShard, FrontProxy and the admin Secret, in that order.
pub fn check(host: &dyn Host, settings: &Settings) -> Result<(), NotReady> {
    for (kind, name) in [
        ("RootShard", &settings.root_shard_name),
        ("FrontProxy", &settings.front_proxy_name),
    ] {
        if !available(host, settings, kind, name) {
            return Err(NotReady::Wait(Reconciled::stop_after(
                NOT_READY_REQUEUE,
                format!("{kind} is not ready"),
            )));
        }
    }
    check_admin_secret(host, settings)
}

/// Spec §2.8: a non-empty `kubeconfig`, or all of `ca.crt`, `tls.crt`, `tls.key`.
fn check_admin_secret(host: &dyn Host, settings: &Settings) -> Result<(), NotReady> {
    let (namespace, name) = (&settings.kcp_namespace, &settings.admin_secret_name);
    let secret = Gvk::new("", "v1", "Secret").object(Some(namespace), name.clone());
    let wait = |why: String| NotReady::Wait(Reconciled::stop_after(NOT_READY_REQUEUE, why));
    let secret = match host.get(&Target::Runtime, &secret) {
        Ok(Some(secret)) => secret,
        Ok(None) | Err(ClusterError::NotFound(_)) => {
            return Err(wait(format!(
                "kcp admin Secret {namespace}/{name} does not exist yet"
            )));
        }
        Err(e) => return Err(wait(format!("reading kcp admin Secret {namespace}/{name}: {e}"))),
    };
    let invalid = |why: String| {
        NotReady::Fail(format!(
            "Failed to build kubeconfig: Secret {namespace}/{name} {why}"
        ))
    };
    let Some(data) = secret
        .get("data")
        .and_then(Value::as_object)
        .filter(|d| !d.is_empty())
    else {
        return Err(invalid("has no data".into()));
    };
    let present = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    if present("kubeconfig") {
        return Ok(());
    }
    match ["ca.crt", "tls.crt", "tls.key"].into_iter().find(|k| !present(k)) {
        None => Ok(()),
        Some("ca.crt") => Err(invalid("has neither a kubeconfig nor a ca.crt key".into())),
        Some(key) => Err(invalid(format!("has no kubeconfig and no {key} key"))),
    }
}
