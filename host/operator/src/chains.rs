//! The table of upstream chains: for every controller, its subroutines in upstream's fixed order and the
//! `--subroutines-*-enabled` flag that switches each off. A leaf module: plugin-set management uses it to know
//! which plugins an operator needs, the controllers to know which steps run.
//!
//! One rule decides a controller's chain in a plugin set (see `plugin::PluginSet::chain_for`): the chain the
//! plugin configuration declares for the controller, else the enabled entries of this table; in both cases without
//! the steps the flags switch off. Plugins the table does not know are never switched off.

use crate::config::SubroutinesConfig;

/// One position of a chain: the plugin's configured name and its subroutine (condition) name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainEntry {
    /// Configured plugin name (and file stem), e.g. `kcp-setup`.
    pub plugin: &'static str,
    /// Subroutine name, e.g. `KcpsetupSubroutine`.
    pub subroutine: &'static str,
}

const fn entry(plugin: &'static str, subroutine: &'static str) -> ChainEntry {
    ChainEntry { plugin, subroutine }
}

/// One controller's upstream chain.
#[derive(Clone, Copy, Debug)]
pub struct UpstreamChain {
    /// The controller (the chain's key in the plugin configuration).
    pub controller: &'static str,
    /// The entries in upstream's order.
    pub entries: &'static [ChainEntry],
    /// Whether each entry is enabled, in the same order.
    enabled: fn(&SubroutinesConfig) -> Vec<bool>,
}

impl UpstreamChain {
    /// The entries the flags leave enabled, in order.
    pub fn enabled_entries(&self, flags: &SubroutinesConfig) -> Vec<ChainEntry> {
        self.entries
            .iter()
            .zip((self.enabled)(flags))
            .filter(|(_, on)| *on)
            .map(|(entry, _)| *entry)
            .collect()
    }
}

/// The upstream order of the PlatformMesh chain (spec §2.5).
pub const PLATFORM_MESH_ORDER: [ChainEntry; 5] = [
    entry("deployment", "DeploymentSubroutine"),
    entry("kcp-setup", "KcpsetupSubroutine"),
    entry("provider-secret", "ProvidersecretSubroutine"),
    entry("feature-toggles", "FeatureToggleSubroutine"),
    entry("wait", "WaitSubroutine"),
];

/// The upstream chain of the OCM Resource controller: one subroutine, always enabled (no flag switches it off).
pub const RESOURCE_ORDER: [ChainEntry; 1] = [entry("resource", "ResourceSubroutine")];

/// The upstream order of the Provider chain (kcp side, spec §4.8).
pub const PROVIDER_ORDER: [ChainEntry; 2] = [
    entry("provider-workspace", "ProviderWorkspaceSubroutine"),
    entry("scoped-kubeconfig", "ScopedKubeconfigSubroutine"),
];

/// The upstream order of the ManagedProvider chain (runtime side, spec §4.9).
pub const MANAGED_PROVIDER_ORDER: [ChainEntry; 5] = [
    entry("wait-platform-mesh", "WaitPlatformMeshSubroutine"),
    entry("provider-resource", "ProviderResourceSubroutine"),
    entry("wait-provider", "WaitProviderSubroutine"),
    entry("kubeconfig-copy", "KubeconfigCopySubroutine"),
    entry("runtime-deploy", "DeploySubroutine"),
];

/// Every controller's upstream chain.
pub const CHAINS: [UpstreamChain; 4] = [
    UpstreamChain {
        controller: "platformmesh",
        entries: &PLATFORM_MESH_ORDER,
        enabled: |f| {
            vec![
                f.subroutines_deployment_enabled,
                f.subroutines_kcp_setup_enabled,
                f.subroutines_provider_secret_enabled,
                f.subroutines_feature_toggles_enabled,
                f.subroutines_wait_enabled,
            ]
        },
    },
    UpstreamChain {
        controller: "resource",
        entries: &RESOURCE_ORDER,
        enabled: |_| vec![true],
    },
    UpstreamChain {
        controller: "provider",
        entries: &PROVIDER_ORDER,
        enabled: |f| {
            vec![
                f.subroutines_providers_workspace_enabled,
                f.subroutines_providers_kubeconfig_enabled,
            ]
        },
    },
    UpstreamChain {
        controller: "managedprovider",
        entries: &MANAGED_PROVIDER_ORDER,
        enabled: |f| {
            vec![
                f.subroutines_managed_provider_wait_platform_mesh_enabled,
                f.subroutines_managed_provider_resource_enabled,
                f.subroutines_managed_provider_wait_enabled,
                f.subroutines_managed_provider_kubeconfig_enabled,
                f.subroutines_managed_provider_deploy_enabled,
            ]
        },
    },
];

/// `controller`'s upstream chain, if it has one.
pub fn upstream(controller: &str) -> Option<&'static UpstreamChain> {
    CHAINS.iter().find(|chain| chain.controller == controller)
}

/// The upstream order of `controller` (empty for controllers without one).
pub fn upstream_order(controller: &str) -> &'static [ChainEntry] {
    upstream(controller).map_or(&[], |chain| chain.entries)
}

/// The entries of `controller`'s chain the flags leave enabled, in order (empty for unknown controllers).
pub fn enabled_entries(flags: &SubroutinesConfig, controller: &str) -> Vec<ChainEntry> {
    upstream(controller).map_or_else(Vec::new, |chain| chain.enabled_entries(flags))
}

/// Whether the flags switch off the upstream step of `controller` that the plugin configured as `plugin`
/// (reporting subroutine `subroutine`) stands for. Entries match by plugin name or subroutine name, so a plugin
/// configuration naming `deployment` is switched off by `--subroutines-deployment-enabled=false` too.
pub fn disabled_by_flags(
    flags: &SubroutinesConfig,
    controller: &str,
    plugin: &str,
    subroutine: &str,
) -> bool {
    let known = |e: &ChainEntry| e.plugin == plugin || e.subroutine == subroutine;
    upstream_order(controller).iter().any(known) && !enabled_entries(flags, controller).iter().any(known)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_table_has_one_flag_per_entry() {
        let flags = flags();
        for chain in CHAINS {
            assert_eq!(
                (chain.enabled)(&flags).len(),
                chain.entries.len(),
                "{}",
                chain.controller
            );
        }
    }

    #[test]
    fn chains_share_no_plugin_or_subroutine() {
        let all: Vec<&ChainEntry> = CHAINS.iter().flat_map(|c| c.entries).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.plugin, b.plugin);
                assert_ne!(a.subroutine, b.subroutine);
            }
        }
    }

    #[test]
    fn flags_switch_upstream_steps_off_in_every_chain() {
        let mut flags = flags();
        assert_eq!(enabled_entries(&flags, "provider").len(), 2);
        assert_eq!(enabled_entries(&flags, "managedprovider").len(), 5);
        assert_eq!(
            enabled_entries(&flags, "platformmesh").len(),
            4,
            "feature toggles are off by default"
        );
        assert!(enabled_entries(&flags, "vendor").is_empty());
        flags.subroutines_providers_kubeconfig_enabled = false;
        flags.subroutines_managed_provider_deploy_enabled = false;
        flags.subroutines_deployment_enabled = false;
        assert_eq!(enabled_entries(&flags, "provider"), [PROVIDER_ORDER[0]]);
        assert!(disabled_by_flags(
            &flags,
            "managedprovider",
            "runtime-deploy",
            "x"
        ));
        assert!(disabled_by_flags(
            &flags,
            "platformmesh",
            "custom",
            "DeploymentSubroutine"
        ));
        assert!(!disabled_by_flags(
            &flags,
            "managedprovider",
            "vendor-step",
            "VendorSubroutine"
        ));
        assert!(!disabled_by_flags(
            &flags,
            "provider",
            "provider-workspace",
            "ProviderWorkspaceSubroutine"
        ));
        assert!(!disabled_by_flags(
            &flags,
            "resource",
            "resource",
            "ResourceSubroutine"
        ));
    }
}
