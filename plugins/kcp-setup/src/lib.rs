//! `KcpsetupSubroutine` (upstream spec §4.2 and §6): shapes kcp once it runs — workspace types, workspaces,
//! API exports and bindings, the organisations' authentication configuration, the portal content and the
//! admission webhooks — from the Go-template manifests under `manifests/kcp`.
//!
//! One pass:
//! 1. kcp is up: RootShard and FrontProxy `Available`, the cluster-admin Secret written ([`readiness`]);
//! 2. the template data of spec §6.3: identity hashes of the root APIExports, CA bundles (re-read every pass),
//!    exposure, toggles, IdP flags and the sorted audiences of the `welcome` IdP configuration ([`data`]);
//! 3. the whole `manifests/kcp` tree is read ([`tree`]) and rendered ([`plan`]) before anything is applied;
//! 4. objects are applied by dependency, workspace by workspace as they become Ready, skipping objects that are
//!    already up to date ([`converge`], [`apply`]), then `spec.kcp.extraWorkspaces`;
//! 5. `status.kcpWorkspaces` reports the phases observed in kcp.
//!
//! Waiting (kcp not up, a workspace not Ready, an API not served yet) stops the chain and requeues; it never
//! sleeps.

use std::{path::Path, time::Duration};

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Host, HostExt, Plugin, PluginInfo, Reconciled, retire,
};

pub mod apply;
pub mod converge;
pub mod data;
pub mod inventory;
pub mod plan;
pub mod readiness;
pub mod settings;
pub mod tree;

use converge::Progress;
use readiness::NotReady;
use settings::Settings;

/// Subroutine and condition name.
pub const NAME: &str = "KcpsetupSubroutine";
/// This subroutine's own finalizer (spec §11.1 item 1: upstream shared one string with ProviderSecret).
pub const FINALIZER: &str = "platform-mesh.core.platform-mesh.io/kcp-setup";
/// The manifest tree, relative to the workspace directory.
pub const MANIFESTS: &str = "manifests/kcp";
/// Where the operator's workspace directory is mounted inside the sandbox.
pub const SANDBOX_WORKSPACE: &str = "/workspace";
/// Requeue while kcp objects settle (a workspace turning Ready, a binding making its API served).
pub const SETTLE_REQUEUE: Duration = Duration::from_secs(2);
/// At most this many failures or waits are spelled out in the condition message.
const LISTED: usize = 5;

/// The plugin.
pub struct KcpSetup;

impl Plugin for KcpSetup {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        // Upgrade from the shared finalizer (spec §11.1 item 1); ProviderSecret does the same, whichever runs first
        // wins and the other's stale patch is refused harmlessly.
        retire::remove_retired(host, ctx, retire::LEGACY_SHARED_FINALIZER);
        reconcile(host, ctx, Path::new(SANDBOX_WORKSPACE))
    }

    /// Upstream cleans nothing up on deletion (spec §4.2); the finalizer only orders deletion.
    fn finalize(_host: &dyn Host, _ctx: &Context) -> CallResult {
        Ok(Reconciled::ok())
    }
}

platform_mesh_plugin_sdk::export_plugin!(KcpSetup);

/// One pass, reading the manifests from `workspace_dir` (the sandbox mount in wasm, the source tree in tests).
pub fn reconcile(host: &dyn Host, ctx: &Context, workspace_dir: &Path) -> CallResult {
    let settings = Settings::read(ctx).map_err(Failure::new)?;
    let ready = readiness::check(host, &settings).and_then(|()| data::template_data(host, &settings));
    let data = match ready {
        Ok(data) => data,
        Err(NotReady::Wait(outcome)) => return Ok(outcome),
        Err(NotReady::Fail(message)) => return Err(Failure::new(message)),
    };
    let failed = |e: String| Failure::new(format!("Failed to create kcp workspaces: {e}"));
    let dirs = tree::read(workspace_dir, MANIFESTS, converge::ROOT).map_err(failed)?;
    let items = plan::build(host, &dirs, &data, &settings).map_err(failed)?;
    let mut progress = converge::converge(host, &items);
    converge::extra_workspaces(host, &settings.extra_workspaces, &mut progress);
    if progress.applied > 0 {
        host.info(&format!("applied {} objects to kcp", progress.applied));
    }
    outcome(progress)
}

/// The first few entries of `list`, and how many more there are.
fn summary(list: &[String]) -> String {
    let mut text = list.iter().take(LISTED).cloned().collect::<Vec<_>>().join("; ");
    if list.len() > LISTED {
        text.push_str(&format!("; and {} more", list.len() - LISTED));
    }
    text
}

/// Failures first, then waits; the observed workspaces are reported either way.
fn outcome(progress: Progress) -> CallResult {
    let status = progress.status();
    if !progress.errors.is_empty() {
        let message = format!("Failed to create kcp workspaces: {}", summary(&progress.errors));
        return Err(Failure::new(message).with_status(status));
    }
    if !progress.waiting.is_empty() {
        return Ok(Reconciled::stop_after(SETTLE_REQUEUE, summary(&progress.waiting)).with_status(status));
    }
    Ok(Reconciled::ok().with_status(status))
}

#[cfg(test)]
mod tests;
