//! `ProviderWorkspaceSubroutine` (upstream spec §4.8.1), position 1 of the Provider chain: every Provider gets
//! a workspace `<provider name>-<logical cluster of the Provider>` of type `root:provider` in `root:providers`,
//! and loses it when the Provider is deleted.
//!
//! Waits (the workspace turning Ready, or going away) requeue with a delay that grows with how long this
//! Provider has been waiting (spec §11.1 item 6, see `platform_mesh_plugin_sdk::backoff`).

use platform_mesh_plugin_sdk::{
    CallResult, ClusterError, Context, Failure, Gvk, Host, ObjectRef, Plugin, PluginInfo, Reconciled, Target,
    backoff,
};
use plugin_common::converge::create_or_update;
use serde_json::{Value, json};

/// The subroutine (and condition) name.
pub const NAME: &str = "ProviderWorkspaceSubroutine";
/// Held until the provider workspace is gone.
pub const FINALIZER: &str = "providers.platform-mesh.io/provider-workspace";
/// Where provider workspaces are created.
pub const PARENT: &str = "root:providers";
/// The annotation kcp puts on every object: the logical cluster it lives in.
pub const CLUSTER_ANNOTATION: &str = "kcp.io/cluster";

/// The plugin.
pub struct ProviderWorkspace;

/// `tenancy.kcp.io/v1alpha1` Workspace.
pub fn workspace_kind() -> Gvk {
    Gvk::new("tenancy.kcp.io", "v1alpha1", "Workspace")
}

/// The provider workspace's name: `<provider name>-<logical cluster of the Provider>`.
pub fn workspace_name(ctx: &Context) -> Result<String, Failure> {
    let cluster = ctx
        .field("/metadata/annotations")
        .and_then(|a| a.get(CLUSTER_ANNOTATION))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            Failure::new(format!(
                "Provider {} has no {CLUSTER_ANNOTATION} annotation; it must be read from kcp",
                ctx.name()
            ))
        })?;
    Ok(format!("{}-{cluster}", ctx.name()))
}

fn workspace_ref(name: &str) -> ObjectRef {
    workspace_kind().object(None, name)
}

fn phase_patch(phase: &str) -> Value {
    json!({"phase": phase})
}

impl Plugin for ProviderWorkspace {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        process_at(host, ctx, backoff::now())
    }

    fn finalize(host: &dyn Host, ctx: &Context) -> CallResult {
        finalize_at(host, ctx, backoff::now())
    }
}

platform_mesh_plugin_sdk::export_plugin!(ProviderWorkspace);

/// `process` at `now` (Unix seconds).
pub fn process_at(host: &dyn Host, ctx: &Context, now: i64) -> CallResult {
    let phase_empty = ctx
        .field("/status/phase")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    let status = phase_empty.then(|| phase_patch("Pending"));
    let name = workspace_name(ctx)?;
    let parent = Target::kcp(PARENT);
    let reference = workspace_ref(&name);
    create_or_update(host, &parent, &reference, |ws| {
        ws["spec"]["type"] = json!({"name": "provider", "path": "root"});
    })
    .map_err(|e| with_status(Failure::from(e), status.clone()))?;
    let workspace = host.get(&parent, &reference).map_err(|e| {
        failed(
            format!("failed to get workspace {PARENT}:{name}: {e}"),
            status.clone(),
        )
    })?;
    let ready = workspace
        .as_ref()
        .and_then(|ws| ws.pointer("/status/phase"))
        .and_then(Value::as_str)
        == Some("Ready");
    if !ready {
        let delay = backoff::wait_delay(ctx, NAME, now);
        return Ok(
            Reconciled::stop_after(delay, "Waiting for workspace to become Ready")
                .with_status(phase_patch("ProvisioningWorkspace")),
        );
    }
    Ok(match status {
        Some(patch) => Reconciled::ok().with_status(patch),
        None => Reconciled::ok(),
    })
}

/// `finalize` at `now` (Unix seconds): delete the workspace and wait until it is gone.
pub fn finalize_at(host: &dyn Host, ctx: &Context, now: i64) -> CallResult {
    let deleting = Some(phase_patch("Deleting"));
    let name = workspace_name(ctx)?;
    let parent = Target::kcp(PARENT);
    let reference = workspace_ref(&name);
    let delete_failed = |e: ClusterError| {
        failed(
            format!("failed to delete provider workspace {PARENT}:{name}: {e}"),
            deleting.clone(),
        )
    };
    // A workspace already on its way out is only waited for: deleting it again would be a pointless write.
    let current = host.get(&parent, &reference).map_err(delete_failed)?;
    let gone = match current {
        None => true,
        Some(ws)
            if ws
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|t| !t.is_null()) =>
        {
            false
        }
        Some(_) => !host.delete(&parent, &reference).map_err(delete_failed)?,
    };
    if gone {
        return Ok(Reconciled::ok().with_status(phase_patch("Deleting")));
    }
    let delay = backoff::wait_delay(ctx, &format!("{NAME}Finalize"), now);
    Ok(
        Reconciled::stop_after(delay, "Waiting for provider workspace to be deleted")
            .with_status(phase_patch("Deleting")),
    )
}

fn failed(message: String, status: Option<Value>) -> Failure {
    with_status(Failure::new(message), status)
}

fn with_status(failure: Failure, status: Option<Value>) -> Failure {
    match status {
        Some(patch) => failure.with_status(patch),
        None => failure,
    }
}

#[cfg(test)]
mod tests;
