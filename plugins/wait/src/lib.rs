//! `WaitSubroutine` (upstream spec §8): the last step of the PlatformMesh chain. It stops the chain, requeueing
//! every 5 s, until every configured resource in the infra cluster reports its condition, and then until kcp's
//! `orgs-authentication` WorkspaceAuthenticationConfiguration has a real audience. Beyond upstream: an entry may
//! check a status field value instead of a condition, may use the documented nested shape, and the default entry
//! looks in the PlatformMesh's namespace, where the HelmReleases are.

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Context, Gvk, Host, Plugin, PluginInfo, Reconciled, Target, selector::LabelSelector,
};
use serde::Deserialize;
use serde_json::Value;

mod config;

pub use config::{ResourceType, StatusField};

/// Upstream requeues every wait result after five seconds.
const REQUEUE: Duration = Duration::from_secs(5);

/// The placeholder KcpSetup renders until the welcome OIDC client exists.
const PLACEHOLDER: &str = "<placeholder>";

/// The plugin.
pub struct Wait;

impl Plugin for Wait {
    fn info() -> PluginInfo {
        // A build may report another version (the e2e test builds a second version of this plugin with it).
        let version = option_env!("PLATFORM_MESH_PLUGIN_VERSION").unwrap_or(env!("CARGO_PKG_VERSION"));
        PluginInfo::new("WaitSubroutine", version)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        for entry in config::resource_types(ctx) {
            let stop = match entry {
                Ok(entry) => check_entry(host, &entry),
                Err(problem) => Some(Reconciled::stop_after(REQUEUE, problem)),
            };
            if let Some(stop) = stop {
                return Ok(stop);
            }
        }
        Ok(check_audience(host).unwrap_or_else(Reconciled::ok))
    }
}

platform_mesh_plugin_sdk::export_plugin!(Wait);

fn not_ready(namespace: &str, name: &str, kind: &str) -> Reconciled {
    Reconciled::stop_after(
        REQUEUE,
        format!("resource {namespace}/{name} of type {kind} is not ready yet"),
    )
}

/// Checks one entry; `Some(stop)` if the chain has to wait.
fn check_entry(host: &dyn Host, entry: &ResourceType) -> Option<Reconciled> {
    let gvk = Gvk::new(&entry.group, &entry.version, &entry.kind);
    let namespace = (!entry.namespace.is_empty()).then_some(entry.namespace.as_str());
    if !entry.name.is_empty() {
        let object = match host.get(&Target::Infra, &gvk.object(namespace, entry.name.clone())) {
            Ok(Some(object)) => object,
            Ok(None) | Err(_) => return Some(Reconciled::stop_after(REQUEUE, "get resource")),
        };
        return (!ready(&object, entry)).then(|| not_ready(&entry.namespace, &entry.name, &entry.kind));
    }
    let selector = LabelSelector {
        match_labels: entry.match_labels.clone(),
        match_expressions: entry.match_expressions.clone(),
    };
    let Ok(query) = selector.to_query() else {
        return Some(Reconciled::stop_after(REQUEUE, "label selector"));
    };
    let Ok(items) = host.list(&Target::Infra, &gvk, namespace, query.as_deref()) else {
        return Some(Reconciled::stop_after(REQUEUE, "list resources"));
    };
    items.iter().find(|item| !ready(item, entry)).map(|item| {
        let field = |p: &str| item.pointer(p).and_then(Value::as_str).unwrap_or_default();
        not_ready(field("/metadata/namespace"), field("/metadata/name"), &entry.kind)
    })
}

/// The status field has its value when the entry names one; otherwise the condition check decides.
fn ready(object: &Value, entry: &ResourceType) -> bool {
    match &entry.status_field {
        Some(field) => field.matches(object),
        None => condition_matches(object, entry),
    }
}

/// A condition with exactly the wanted type and status exists. Empty wanted strings never match, like upstream.
fn condition_matches(object: &Value, entry: &ResourceType) -> bool {
    if entry.condition_type.is_empty() || entry.condition_status.is_empty() {
        return false;
    }
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    conditions.into_iter().flatten().any(|c| {
        c.get("type").and_then(Value::as_str) == Some(entry.condition_type.as_str())
            && c.get("status").and_then(Value::as_str) == Some(entry.condition_status.as_str())
    })
}

#[derive(Deserialize)]
struct Issuer {
    audiences: Vec<String>,
}

/// Spec §8.3: any failure to read the configuration skips the check; `Some(stop)` while the audience is unset.
fn check_audience(host: &dyn Host) -> Option<Reconciled> {
    let wac = Gvk::new(
        "tenancy.kcp.io",
        "v1alpha1",
        "WorkspaceAuthenticationConfiguration",
    );
    let object = host
        .get(&Target::kcp("root"), &wac.object(None, "orgs-authentication"))
        .ok()??;
    let issuer = object.pointer("/spec/jwt/0/issuer")?;
    let audiences = Issuer::deserialize(issuer).ok()?.audiences;
    match audiences.as_slice() {
        [] => Some(Reconciled::stop_after(
            REQUEUE,
            "WorkspaceAuthenticationConfiguration audience is not yet set",
        )),
        [only] if only == PLACEHOLDER => Some(Reconciled::stop_after(
            REQUEUE,
            format!("audiences is set to {PLACEHOLDER:?}"),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
