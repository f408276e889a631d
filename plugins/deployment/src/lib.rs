//! `DeploymentSubroutine` (upstream spec §4.1): the first step of the PlatformMesh chain. It turns the PlatformMesh
//! and its profile ConfigMap into FluxCD or Argo CD objects on the infra cluster and OCM Resources on the runtime
//! cluster, sets up the kcp authorization-webhook certificate, and waits for cert-manager, istio and kcp.
//!
//! The steps, as in spec §4.1.1:
//!
//! 1. read the profile (§5.5) and compute the exposure variables (§5.6.1);
//! 2. render and apply `gotemplates/infra/infra` with the infra set (§5.6.2);
//! 3. `gotemplates/infra/runtime` with the runtime set (§5.6.3), OCM Resources to the runtime cluster;
//! 4. `gotemplates/components/runtime` with the components set (§5.6.4) — before step 6, so that the Resource
//!    controller can create the sources the releases reference;
//! 5. the infra technology (for the istio check);
//! 6. `gotemplates/components/infra` with the components set;
//! 7. cert-manager CRDs established; 8. webhook Issuer/Certificate/Secret and CA sync (§4.1.4);
//! 9. istio (§4.1.5, with the fix of §11.2 item 13); 10. RootShard and FrontProxy available.
//!
//! Objects are server-side applied with field manager `platform-mesh-deployment` and force, and skipped when
//! unchanged ([`apply`]), so a settled PlatformMesh costs reads only.

use platform_mesh_plugin_sdk::{CallResult, Context, Host, LogLevel, Plugin, PluginInfo, Reconciled};

pub mod apply;
pub mod checks;
pub mod directories;
pub mod error;
pub mod merge;
pub mod postprocess;
pub mod profile;
pub mod remote;
pub mod settings;
pub mod vars;
pub mod webhook;

use directories::{Counts, Directory, deploy};
use error::Result;
use settings::Settings;
use vars::{exposure_of, technology_of};

/// The plugin.
pub struct Deployment;

impl Plugin for Deployment {
    fn info() -> PluginInfo {
        PluginInfo::new("DeploymentSubroutine", env!("CARGO_PKG_VERSION"))
    }

    fn process(host: &dyn Host, ctx: &Context) -> CallResult {
        let settings = Settings::from_context(ctx);
        Ok(reconcile(host, &settings)?)
    }
}

platform_mesh_plugin_sdk::export_plugin!(Deployment);

/// The variable sets of one reconcile.
pub struct VariableSets {
    pub infra: serde_json::Map<String, serde_json::Value>,
    pub runtime: serde_json::Map<String, serde_json::Value>,
    pub components: serde_json::Map<String, serde_json::Value>,
}

impl VariableSets {
    /// Reads the profile and builds the three sets (steps 1–6's inputs).
    pub fn build(host: &dyn Host, settings: &Settings) -> Result<Self> {
        let profile = profile::load(host, settings)?;
        let exposure = exposure_of(settings);
        let destination = remote::destination_server(host, settings)?;
        let infra = vars::infra_set(&profile, settings, &exposure, destination.as_deref());
        let components = vars::components_set(host, &profile, settings, &exposure, destination.as_deref())?;
        let runtime = vars::runtime_set(&infra, &components);
        Ok(VariableSets {
            infra,
            runtime,
            components,
        })
    }
}

/// One pass of the subroutine.
pub fn reconcile(host: &dyn Host, settings: &Settings) -> Result<Reconciled> {
    let sets = VariableSets::build(host, settings)?;
    let infra_technology = technology_of([sets.infra.get("deploymentTechnology")]);
    let components_technology = technology_of([sets.components.get("deploymentTechnology")]);
    let mut total = Counts::default();
    let steps = [
        (Directory::InfraInfra, &sets.infra, infra_technology),
        (Directory::InfraRuntime, &sets.runtime, infra_technology),
        (
            Directory::ComponentsRuntime,
            &sets.components,
            components_technology,
        ),
        (
            Directory::ComponentsInfra,
            &sets.components,
            components_technology,
        ),
    ];
    for (directory, vars, technology) in steps {
        let counts = deploy(host, directory, vars, technology)?;
        total.written += counts.written;
        total.unchanged += counts.unchanged;
    }
    host.log(
        LogLevel::Info,
        "templates deployed",
        &[
            ("written", &total.written.to_string()),
            ("unchanged", &total.unchanged.to_string()),
        ],
    );

    if let Some(stop) = checks::cert_manager_crds(host)? {
        return Ok(stop);
    }
    webhook::ensure_objects(host, settings)?;
    // Upstream discards this step's non-error result (spec §11.2 item 12, kept): a missing CA does not stop.
    if let Some(note) = webhook::sync_ca(host, settings)? {
        host.log(LogLevel::Info, "webhook CA not synced yet", &[("reason", &note)]);
    }
    if settings.enable_istio
        && let Some(stop) = checks::istio(host, settings, infra_technology)?
    {
        return Ok(stop);
    }
    Ok(checks::kcp_ready(host, settings).unwrap_or_else(Reconciled::ok))
}

#[cfg(test)]
mod tests;
