//! `ResourceSubroutine` (upstream spec §4.6): the only step of the Resource controller's chain. For an OCM
//! `delivery.ocm.software/v1alpha1` `Resource` that OCM has resolved, it keeps the deployment in step with the
//! resolved version:
//!
//! - Flux (§4.6.4): chart Resources become the `OCIRepository`, `GitRepository` or `HelmRepository` the
//!   HelmRelease pulls its chart from (and set the HelmRelease's chart version); image Resources write their
//!   version into the HelmRelease's values;
//! - Argo CD (§4.6.3): chart Resources set the Application's `repoURL`/`targetRevision`; image Resources write
//!   their version into the Application's Helm values.
//!
//! Which one is chosen by the deployment technology of the PlatformMesh profile in the Resource's namespace
//! (§4.6.2); what a Resource stands for is read from its annotations and labels (§4.6.1). Image versions are
//! recorded in the host's image version store (§4.7), from which the Deployment subroutine re-applies them, so the
//! two writers of a release converge instead of fighting.
//!
//! A Resource carrying the label [`MANAGED_PROVIDER_LABEL`] belongs to a ManagedProvider's Deploy subroutine,
//! which writes that component's OCIRepository and HelmRelease itself; it is left alone here, so those objects
//! have one writer (upstream processes it too and applies the same OCIRepository a second time).
//!
//! A Resource OCM has not resolved yet (no `status.resource` and no `status.component`) is left alone until its
//! status arrives. The controller is read-only: the Resource itself is never written. Every write to the infra cluster is skipped
//! when the cluster already holds what would be written, so an unchanged Resource costs reads only.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, HostExt, Plugin, PluginInfo, Reconciled};

mod apply;
mod argocd;
mod flux;
mod kinds;
mod metadata;
mod oci;
mod technology;

pub use metadata::{ResourceMeta, Target as ReleaseTarget, trimmed_name};
pub use oci::{argo_repo_url, flux_oci_url};
pub use technology::deployment_technology;

/// The plugin.
pub struct Resource;

/// The label the ManagedProvider Deploy subroutine puts on the objects it writes.
pub const MANAGED_PROVIDER_LABEL: &str = "providers.platform-mesh.io/managed-provider";

impl Plugin for Resource {
    fn info() -> PluginInfo {
        // No finalizer: the Resource controller never writes the Resource (spec §3.5).
        PluginInfo::new("ResourceSubroutine", env!("CARGO_PKG_VERSION"))
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        if ctx
            .field("/metadata/labels")
            .and_then(|labels| labels.get(MANAGED_PROVIDER_LABEL))
            .is_some()
        {
            return Ok(
                Reconciled::ok().with_message("deployed by a ManagedProvider, which writes its Flux objects")
            );
        }
        let resource = ResourceMeta::read(&ctx.object);
        if !resource.resolved() {
            // OCM's status update starts the next pass (the controller watches Resources), so this is no error
            // and needs no requeue: upstream would fail and back off until OCM is done.
            host.debug("the Resource is not resolved by OCM yet");
            return Ok(Reconciled::ok().with_message("waiting for OCM to resolve the Resource"));
        }
        let technology = deployment_technology(host, &resource.namespace)?;
        if technology == "argocd" {
            argocd::process(host, &resource)
        } else {
            flux::process(host, &resource)
        }
    }

    fn finalize(_host: &dyn Host, _ctx: &Context) -> CallResult {
        Ok(Reconciled::ok())
    }
}

platform_mesh_plugin_sdk::export_plugin!(Resource);

#[cfg(test)]
mod tests;
