//! The PlatformMesh chain: upstream's fixed order, filtered by the `--subroutines-*-enabled` flags and by which
//! plugins exist.

use std::sync::Arc;

use crate::{config::SubroutinesConfig, lifecycle::Subroutine};

/// One position of the PlatformMesh chain: the plugin's file stem and its subroutine (condition) name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainEntry {
    /// Plugin file stem, e.g. `kcp-setup`.
    pub plugin: &'static str,
    /// Subroutine name, e.g. `KcpsetupSubroutine`.
    pub subroutine: &'static str,
}

/// The upstream order of the PlatformMesh chain.
pub const PLATFORM_MESH_ORDER: [ChainEntry; 5] = [
    ChainEntry {
        plugin: "deployment",
        subroutine: "DeploymentSubroutine",
    },
    ChainEntry {
        plugin: "kcp-setup",
        subroutine: "KcpsetupSubroutine",
    },
    ChainEntry {
        plugin: "provider-secret",
        subroutine: "ProvidersecretSubroutine",
    },
    ChainEntry {
        plugin: "feature-toggles",
        subroutine: "FeatureToggleSubroutine",
    },
    ChainEntry {
        plugin: "wait",
        subroutine: "WaitSubroutine",
    },
];

/// The upstream chain of the OCM Resource controller: one subroutine, always enabled (no flag switches it off).
/// The shipped plugin configuration's `resource` chain must name these plugins (tested in `controller::resource`).
pub const RESOURCE_ORDER: [ChainEntry; 1] = [ChainEntry {
    plugin: "resource",
    subroutine: "ResourceSubroutine",
}];

/// The enabled entries of the PlatformMesh chain, in order.
pub fn enabled_platform_mesh_entries(flags: &SubroutinesConfig) -> Vec<ChainEntry> {
    let enabled = [
        flags.subroutines_deployment_enabled,
        flags.subroutines_kcp_setup_enabled,
        flags.subroutines_provider_secret_enabled,
        flags.subroutines_feature_toggles_enabled,
        flags.subroutines_wait_enabled,
    ];
    PLATFORM_MESH_ORDER
        .iter()
        .zip(enabled)
        .filter(|(_, on)| *on)
        .map(|(entry, _)| *entry)
        .collect()
}

/// Whether the `--subroutines-*-enabled` flags switch off the plugin configured as `plugin` (reporting
/// subroutine `subroutine`) in `controller`'s chain. Matches the upstream entries by plugin name or subroutine
/// name, so a plugin ConfigMap that names `deployment` is switched off by `--subroutines-deployment-enabled=false`
/// too; plugins the flags do not know are never switched off.
pub fn disabled_by_flags(
    flags: &SubroutinesConfig,
    controller: &str,
    plugin: &str,
    subroutine: &str,
) -> bool {
    if controller != "platformmesh" {
        return false;
    }
    let enabled = enabled_platform_mesh_entries(flags);
    let known = |e: &&ChainEntry| e.plugin == plugin || e.subroutine == subroutine;
    PLATFORM_MESH_ORDER.iter().any(|e| known(&e)) && !enabled.iter().any(|e| known(&e))
}

/// The PlatformMesh chain: each enabled entry whose plugin `lookup` finds (by subroutine name, then file stem).
/// Also returns the enabled entries that have no plugin, so the caller can say so.
pub fn platform_mesh_chain(
    flags: &SubroutinesConfig,
    lookup: impl Fn(&str) -> Option<Arc<dyn Subroutine>>,
) -> (Vec<Arc<dyn Subroutine>>, Vec<ChainEntry>) {
    let mut chain = Vec::new();
    let mut missing = Vec::new();
    for entry in enabled_platform_mesh_entries(flags) {
        match lookup(entry.subroutine).or_else(|| lookup(entry.plugin)) {
            Some(subroutine) => chain.push(subroutine),
            None => missing.push(entry),
        }
    }
    (chain, missing)
}

/// The upstream order of the Provider chain (kcp side, spec §4.8).
pub const PROVIDER_ORDER: [ChainEntry; 2] = [
    ChainEntry {
        plugin: "provider-workspace",
        subroutine: "ProviderWorkspaceSubroutine",
    },
    ChainEntry {
        plugin: "scoped-kubeconfig",
        subroutine: "ScopedKubeconfigSubroutine",
    },
];

/// The upstream order of the ManagedProvider chain (runtime side, spec §4.9).
pub const MANAGED_PROVIDER_ORDER: [ChainEntry; 5] = [
    ChainEntry {
        plugin: "wait-platform-mesh",
        subroutine: "WaitPlatformMeshSubroutine",
    },
    ChainEntry {
        plugin: "provider-resource",
        subroutine: "ProviderResourceSubroutine",
    },
    ChainEntry {
        plugin: "wait-provider",
        subroutine: "WaitProviderSubroutine",
    },
    ChainEntry {
        plugin: "kubeconfig-copy",
        subroutine: "KubeconfigCopySubroutine",
    },
    ChainEntry {
        plugin: "runtime-deploy",
        subroutine: "DeploySubroutine",
    },
];

/// The entries of [`PROVIDER_ORDER`] (for `provider`) or [`MANAGED_PROVIDER_ORDER`] (for `managedprovider`)
/// that the `--subroutines-providers-*` / `--subroutines-managed-provider-*` flags leave enabled, in order; empty
/// for other controllers.
pub fn enabled_provider_entries(flags: &SubroutinesConfig, controller: &str) -> Vec<ChainEntry> {
    let (order, enabled): (&[ChainEntry], Vec<bool>) = match controller {
        "provider" => (
            &PROVIDER_ORDER,
            vec![
                flags.subroutines_providers_workspace_enabled,
                flags.subroutines_providers_kubeconfig_enabled,
            ],
        ),
        "managedprovider" => (
            &MANAGED_PROVIDER_ORDER,
            vec![
                flags.subroutines_managed_provider_wait_platform_mesh_enabled,
                flags.subroutines_managed_provider_resource_enabled,
                flags.subroutines_managed_provider_wait_enabled,
                flags.subroutines_managed_provider_kubeconfig_enabled,
                flags.subroutines_managed_provider_deploy_enabled,
            ],
        ),
        _ => return Vec::new(),
    };
    order
        .iter()
        .zip(enabled)
        .filter(|(_, on)| *on)
        .map(|(e, _)| *e)
        .collect()
}
