//! The chains of the Provider and ManagedProvider controllers, read from the plugin set in service at the start
//! of every pass: the chain the plugin configuration declares for `provider` / `managedprovider`, or — when it
//! declares none — the upstream order ([`PROVIDER_ORDER`], [`MANAGED_PROVIDER_ORDER`]) looked up by plugin
//! name. Either way the `--subroutines-providers-*` and `--subroutines-managed-provider-*` flags switch upstream
//! steps off, and only plugins named there (or configured for the controller) ever join: a PlatformMesh plugin
//! never runs on a Provider and these never run on a PlatformMesh.

use std::sync::Arc;

use super::chain::{ChainEntry, MANAGED_PROVIDER_ORDER, PROVIDER_ORDER, enabled_provider_entries};
use crate::{
    config::SubroutinesConfig,
    lifecycle::{ChainSource, Subroutine},
    plugin::{ActivePlugins, PluginSetHandle},
};

/// The upstream order of `controller` (`provider` or `managedprovider`).
pub fn upstream_order(controller: &str) -> &'static [ChainEntry] {
    match controller {
        "provider" => &PROVIDER_ORDER,
        "managedprovider" => &MANAGED_PROVIDER_ORDER,
        _ => &[],
    }
}

/// Whether the flags switch off the upstream step that `plugin` (reporting `subroutine`) stands for.
fn disabled(flags: &SubroutinesConfig, controller: &str, plugin: &str, subroutine: &str) -> bool {
    let known = |e: &ChainEntry| e.plugin == plugin || e.subroutine == subroutine;
    upstream_order(controller).iter().any(known)
        && !enabled_provider_entries(flags, controller).iter().any(known)
}

/// `controller`'s chain in `set`: the configured chain, else the enabled upstream entries the set has.
pub fn chain(set: &ActivePlugins, flags: &SubroutinesConfig, controller: &str) -> Vec<Arc<dyn Subroutine>> {
    if !set.chain_names(controller).is_empty() {
        return set.chain(controller, |plugin, subroutine| {
            disabled(flags, controller, plugin, subroutine)
        });
    }
    enabled_provider_entries(flags, controller)
        .iter()
        .filter_map(|entry| set.get(entry.plugin).or_else(|| set.get(entry.subroutine)))
        .collect()
}

/// A live chain source for `controller` over the plugin sets `plugins` serves.
pub fn chain_source(
    flags: &SubroutinesConfig,
    plugins: &PluginSetHandle,
    controller: &'static str,
) -> ChainSource {
    let flags = flags.clone();
    let plugins = plugins.clone();
    ChainSource::live(move || chain(&plugins.current(), &flags, controller).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        controller::chain::{PLATFORM_MESH_ORDER, RESOURCE_ORDER},
        plugin::{DEFAULT_PLUGIN_CONFIG, manifest::PluginManifest},
    };

    fn flags() -> SubroutinesConfig {
        use clap::Parser;
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            subroutines: SubroutinesConfig,
        }
        Flags::parse_from(["test"]).subroutines
    }

    #[test]
    fn provider_chains_share_no_plugin_with_the_platform_mesh_or_resource_chains() {
        let others: Vec<&ChainEntry> = PLATFORM_MESH_ORDER.iter().chain(RESOURCE_ORDER.iter()).collect();
        for entry in PROVIDER_ORDER.iter().chain(MANAGED_PROVIDER_ORDER.iter()) {
            for other in &others {
                assert_ne!(entry.plugin, other.plugin);
                assert_ne!(entry.subroutine, other.subroutine);
            }
        }
        let shipped = PluginManifest::parse(DEFAULT_PLUGIN_CONFIG).expect("valid");
        let ours: Vec<&str> = PROVIDER_ORDER
            .iter()
            .chain(MANAGED_PROVIDER_ORDER.iter())
            .map(|e| e.plugin)
            .collect();
        for controller in ["platformmesh", "resource"] {
            let chain = shipped.chains.get(controller).cloned().unwrap_or_default();
            assert!(
                chain.iter().all(|name| !ours.contains(&name.as_str())),
                "{controller}: {chain:?}"
            );
        }
    }

    #[test]
    fn flags_switch_upstream_steps_off() {
        let mut flags = flags();
        assert_eq!(enabled_provider_entries(&flags, "provider").len(), 2);
        assert_eq!(enabled_provider_entries(&flags, "managedprovider").len(), 5);
        assert!(enabled_provider_entries(&flags, "platformmesh").is_empty());
        flags.subroutines_providers_kubeconfig_enabled = false;
        flags.subroutines_managed_provider_deploy_enabled = false;
        assert_eq!(enabled_provider_entries(&flags, "provider"), [PROVIDER_ORDER[0]]);
        assert!(disabled(
            &flags,
            "managedprovider",
            "runtime-deploy",
            "DeploySubroutine"
        ));
        assert!(!disabled(
            &flags,
            "managedprovider",
            "vendor-step",
            "VendorSubroutine"
        ));
        assert!(!disabled(
            &flags,
            "provider",
            "provider-workspace",
            "ProviderWorkspaceSubroutine"
        ));
    }
}
