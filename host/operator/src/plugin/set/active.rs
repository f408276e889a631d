//! The plugin set in service: an immutable [`PluginSet`] snapshot behind [`PluginSetHandle`], replaced
//! atomically by a swap. A reconcile takes the chain once at its start, so it finishes on the set it began with
//! even if a swap happens meanwhile; the old set is dropped when its last reconcile ends.

use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
    time::SystemTime,
};

use crate::plugin::sandbox::WasmSubroutine;
use crate::{chains, config::SubroutinesConfig, lifecycle::Subroutine};

/// One immutable, fully loaded plugin set: every plugin compiled, version-checked and smoke-called.
pub struct PluginSet {
    /// Increases by one with every swap (the first set is 1).
    pub generation: u64,
    /// Where the set came from: `built-in default` or `ConfigMap <ns>/<name>`.
    pub origin: String,
    plugins: BTreeMap<String, Arc<WasmSubroutine>>,
    chains: BTreeMap<String, Vec<String>>,
}

impl PluginSet {
    /// A set of `plugins` (by configured name) and `chains` (controller → plugin names, all in `plugins`).
    pub fn new(
        origin: impl Into<String>,
        plugins: BTreeMap<String, Arc<WasmSubroutine>>,
        chains: BTreeMap<String, Vec<String>>,
    ) -> Self {
        PluginSet {
            generation: 0,
            origin: origin.into(),
            plugins,
            chains,
        }
    }

    /// The plugin configured as `name`, or whose subroutine is called `name`.
    pub fn plugin(&self, name: &str) -> Option<&Arc<WasmSubroutine>> {
        self.plugins
            .get(name)
            .or_else(|| self.plugins.values().find(|p| p.name() == name))
    }

    /// Like [`Self::plugin`], as a lifecycle subroutine (the lookup shape chain builders use).
    pub fn get(&self, name: &str) -> Option<Arc<dyn Subroutine>> {
        self.plugin(name).map(|p| p.clone() as Arc<dyn Subroutine>)
    }

    /// Configured names and plugins, sorted by name.
    pub fn plugins(&self) -> impl Iterator<Item = (&str, &Arc<WasmSubroutine>)> {
        self.plugins.iter().map(|(name, plugin)| (name.as_str(), plugin))
    }

    /// The configured plugin names of `controller`'s chain, in order (empty when not configured).
    pub fn chain_names(&self, controller: &str) -> &[String] {
        self.chains.get(controller).map_or(&[], Vec::as_slice)
    }

    /// `controller`'s chain, skipping the plugins `skip` says no to (disabled by flags).
    pub fn chain(&self, controller: &str, skip: impl Fn(&str, &str) -> bool) -> Vec<Arc<dyn Subroutine>> {
        self.chain_names(controller)
            .iter()
            .filter_map(|name| self.plugins.get(name).map(|p| (name, p)))
            .filter(|(name, plugin)| !skip(name, plugin.name()))
            .map(|(_, plugin)| plugin.clone() as Arc<dyn Subroutine>)
            .collect()
    }

    /// `controller`'s chain by the one rule of [`crate::chains`]: the chain the configuration declares, else the
    /// enabled upstream entries this set has (by plugin name, then subroutine name); in both cases without the
    /// steps `flags` switch off.
    pub fn chain_for(&self, controller: &str, flags: &SubroutinesConfig) -> Vec<Arc<dyn Subroutine>> {
        if !self.chain_names(controller).is_empty() {
            return self.chain(controller, |plugin, subroutine| {
                chains::disabled_by_flags(flags, controller, plugin, subroutine)
            });
        }
        chains::enabled_entries(flags, controller)
            .iter()
            .filter_map(|entry| self.get(entry.plugin).or_else(|| self.get(entry.subroutine)))
            .collect()
    }

    /// `name=version` of every plugin, sorted: the short description used in the swap status.
    pub fn versions(&self) -> String {
        let parts: Vec<String> = self
            .plugins
            .iter()
            .map(|(name, p)| format!("{name}={}", p.version()))
            .collect();
        parts.join(",")
    }
}

/// The outcome of the last swap attempt, for the ConfigMap annotation, Events and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapStatus {
    /// Generation of the set in service.
    pub generation: u64,
    /// `name=version,…` of the set in service.
    pub serving: String,
    /// Swaps that succeeded since start (the first load included).
    pub swaps: u64,
    /// Plugin sets refused since start.
    pub failures: u64,
    /// The reason of the last refusal, if the last attempt failed.
    pub last_error: Option<String>,
    /// When the last attempt finished.
    pub last_attempt: SystemTime,
}

/// Shared access to the set in service. Cloning is cheap; every clone sees every swap.
#[derive(Clone)]
pub struct PluginSetHandle {
    inner: Arc<Inner>,
}

struct Inner {
    current: RwLock<Arc<PluginSet>>,
    status: RwLock<SwapStatus>,
}

impl PluginSetHandle {
    /// A handle serving `initial` as generation 1.
    pub fn new(mut initial: PluginSet) -> Self {
        initial.generation = 1;
        let status = SwapStatus {
            generation: 1,
            serving: initial.versions(),
            swaps: 1,
            failures: 0,
            last_error: None,
            last_attempt: SystemTime::now(),
        };
        PluginSetHandle {
            inner: Arc::new(Inner {
                current: RwLock::new(Arc::new(initial)),
                status: RwLock::new(status),
            }),
        }
    }

    /// The set in service. Hold it for the duration of one reconcile.
    pub fn current(&self) -> Arc<PluginSet> {
        // A poisoned lock means a panic while swapping a pointer, which cannot leave it half-written.
        self.inner
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Puts `next` in service and returns its generation. Reconciles holding the previous set keep it.
    pub fn swap(&self, mut next: PluginSet) -> u64 {
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        next.generation = current.generation + 1;
        let generation = next.generation;
        let serving = next.versions();
        *current = Arc::new(next);
        drop(current);
        self.update_status(|status| {
            status.generation = generation;
            status.serving = serving;
            status.swaps += 1;
            status.last_error = None;
        });
        generation
    }

    /// Records a refused set; the set in service stays.
    pub fn record_failure(&self, reason: &str) {
        self.update_status(|status| {
            status.failures += 1;
            status.last_error = Some(reason.to_owned());
        });
    }

    /// The outcome of the last attempt.
    pub fn status(&self) -> SwapStatus {
        self.inner
            .status
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn update_status(&self, change: impl FnOnce(&mut SwapStatus)) {
        let mut status = self
            .inner
            .status
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut status);
        status.last_attempt = SystemTime::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(origin: &str) -> PluginSet {
        let chains = [("platformmesh".to_owned(), Vec::new())].into();
        PluginSet::new(origin, BTreeMap::new(), chains)
    }

    #[test]
    fn swaps_count_generations_and_holders_keep_their_set() {
        let handle = PluginSetHandle::new(set("first"));
        let held = handle.current();
        assert_eq!((held.generation, held.origin.as_str()), (1, "first"));
        assert_eq!(handle.swap(set("second")), 2);
        assert_eq!(held.origin, "first", "a running pass keeps the set it took");
        assert_eq!(handle.current().origin, "second");
        handle.record_failure("plugin x: fetching oci://r/x:1: pulling");
        let status = handle.status();
        assert_eq!((status.generation, status.swaps, status.failures), (2, 2, 1));
        assert_eq!(
            status.last_error.as_deref(),
            Some("plugin x: fetching oci://r/x:1: pulling")
        );
        handle.swap(set("third"));
        assert_eq!(handle.status().last_error, None, "a later swap clears the error");
    }

    #[test]
    fn unknown_chains_are_empty() {
        let plugins = set("x");
        assert!(plugins.chain_names("provider").is_empty());
        assert!(plugins.chain("platformmesh", |_, _| false).is_empty());
        assert!(plugins.get("wait").is_none());
    }
}
