//! `DeploySubroutine` (upstream spec §4.9.5), position 5 of the ManagedProvider chain: each entry of
//! `spec.runtimeDeployments` becomes Flux objects (a Helm chart from an OCI registry or a Helm repository) or OCM
//! objects resolved into a Flux OCI deployment, in the ManagedProvider's namespace.
//!
//! Objects are named as upstream names them (the last `/` segment of `flux.chart`; for OCM `ocm.name`, else
//! `ocm.resourceName` unless `chart`, else the last `referencePath` name, else the last segment of
//! `ocm.component`), so an installation the Go operator created is adopted in place.
//!
//! Fixes of spec §11.4 item 44:
//! - every object carries the label `providers.platform-mesh.io/managed-provider=<name>`; objects of components
//!   no longer listed are deleted, and `finalize` deletes by that label too (not by the current spec) — only
//!   objects this operator labelled are ever deleted;
//! - upstream's names can collide between ManagedProviders of one namespace: an unlabelled object is adopted,
//!   one labelled for another ManagedProvider is left alone and the step fails naming both; two entries of one
//!   ManagedProvider with the same name are refused with a message naming both;
//! - `values` removed from the spec are removed from the HelmRelease;
//! - create-or-update compares values as JSON values (`1 == 1.0`), so a converged component is never rewritten;
//! - OCM Resources carry upstream's `artifact: chart`/`repo: oci` labels, but the Resource subroutine leaves
//!   Resources with the ManagedProvider label alone, so the component's OCIRepository has one writer;
//! - an entry with both or neither of `flux`/`ocm` fails the subroutine with a message naming it (the CRD's CEL
//!   rule rejects such objects already; this guards objects stored before the rule).

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Context, Failure, Host, Plugin, PluginInfo, Reconciled, Target, backoff,
};
use serde_json::{Value, json};

mod components;
mod objects;

pub use components::{Component, components, oci_url, ocm_deployment_name, split_registry};

/// The subroutine (and condition) name.
pub const NAME: &str = "DeploySubroutine";
/// Held until every deployed object is gone.
pub const FINALIZER: &str = "providers.platform-mesh.io/runtime-deployments";
/// Upstream waits 10 s for components.
pub const WAIT: Duration = Duration::from_secs(10);

/// The plugin.
pub struct RuntimeDeploy;

impl Plugin for RuntimeDeploy {
    fn info() -> PluginInfo {
        PluginInfo::new(NAME, env!("CARGO_PKG_VERSION")).with_finalizer(FINALIZER)
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let components = components(ctx).map_err(Failure::new)?;
        let deploy = objects::Deploy::new(ctx);
        let keep: Vec<String> = components.iter().flat_map(|c| deploy.names(c)).collect();
        deploy.prune(host, &keep)?;
        for component in &components {
            let done = deploy.component(host, component)?;
            if done != Reconciled::ok() {
                return Ok(done.with_status(json!({"phase": "Deploying"})));
            }
        }
        Ok(Reconciled::ok().with_status(json!({"phase": "Ready"})))
    }

    fn finalize(host: &dyn Host, ctx: &Context) -> CallResult {
        finalize_at(host, ctx, backoff::now())
    }
}

platform_mesh_plugin_sdk::export_plugin!(RuntimeDeploy);

/// `finalize` at `now`: delete everything this ManagedProvider deployed and wait until it is gone.
pub fn finalize_at(host: &dyn Host, ctx: &Context, now: i64) -> CallResult {
    let deleting = json!({"phase": "Deleting"});
    let deploy = objects::Deploy::new(ctx);
    let remaining = deploy
        .prune(host, &[])
        .map_err(|e| Failure::from(e).with_status(deleting.clone()))?;
    if remaining == 0 {
        return Ok(Reconciled::ok().with_status(deleting));
    }
    let delay = backoff::wait_delay(ctx, &format!("{NAME}Finalize"), now);
    Ok(Reconciled::stop_after(delay, "Waiting for Flux resources to be deleted").with_status(deleting))
}

/// The target all objects go to: the runtime cluster (Flux deploys into a remote cluster through the
/// HelmRelease's `spec.kubeConfig`).
fn target() -> Target {
    Target::Runtime
}

fn ready(object: &Value) -> bool {
    let conditions = object.pointer("/status/conditions").and_then(Value::as_array);
    conditions
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

#[cfg(test)]
mod tests;
