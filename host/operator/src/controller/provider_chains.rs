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
