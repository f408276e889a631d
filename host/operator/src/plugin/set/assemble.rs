//! Turning a [`PluginManifest`] into an [`PluginSet`] set: for every plugin fetch → verify the digest →
//! compile (through the cache) → link → check the WIT version and smoke-call `info()`; then resolve the chains.
//! Nothing is swapped in here: the caller gets either a complete set or the first error, naming the plugin.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use kube::Client;

use super::{
    active::PluginSet,
    manifest::{PluginManifest, PluginSpec},
    source::{FetchError, Source, fetch, resolve_file, verify_digest},
};
use crate::plugin::sandbox::{PluginError, PluginOptions, PluginRuntime, WasmSubroutine};

/// Why a plugin set could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// A plugin's wasm could not be fetched, or has the wrong digest.
    #[error("plugin {plugin}: fetching {source_url}")]
    Fetch {
        /// The configured name.
        plugin: String,
        /// Its source.
        source_url: String,
        /// The cause (boxed: kube and registry errors are large).
        #[source]
        source: Box<FetchError>,
    },
    /// A plugin did not compile, link, pass the version check or answer `info()`.
    #[error("plugin {plugin}")]
    Load {
        /// The configured name.
        plugin: String,
        /// The cause.
        #[source]
        source: PluginError,
    },
    /// A chain names a plugin the configuration does not declare.
    #[error("chains.{controller}: plugin {plugin} is not declared")]
    UndeclaredPlugin {
        /// The chain.
        controller: String,
        /// The name it uses.
        plugin: String,
    },
    /// Two plugins of one chain report the same subroutine name, so their conditions would collide.
    #[error("chains.{controller}: plugins {first} and {second} both report subroutine {subroutine}")]
    DuplicateSubroutine {
        /// The chain.
        controller: String,
        /// The subroutine (condition type).
        subroutine: String,
        /// The first plugin.
        first: String,
        /// The second plugin.
        second: String,
    },
}

impl AssembleError {
    /// Whether assembling may succeed later unchanged (a source unreachable); everything else — a missing file,
    /// a wrong digest, a failed compile, a WIT version mismatch — is permanent.
    pub fn is_transient(&self) -> bool {
        matches!(self, AssembleError::Fetch { source, .. } if source.is_transient())
    }

    /// The configured name of the plugin at fault, if one is.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            AssembleError::Fetch { plugin, .. } | AssembleError::Load { plugin, .. } => Some(plugin),
            AssembleError::UndeclaredPlugin { plugin, .. } => Some(plugin),
            AssembleError::DuplicateSubroutine { .. } => None,
        }
    }
}

/// Loads one declared plugin.
pub async fn load_plugin(
    runtime: &PluginRuntime,
    spec: &PluginSpec,
    cluster: Option<&Client>,
) -> Result<Arc<WasmSubroutine>, AssembleError> {
    let plugins_dir = &runtime.config().plugins_dir;
    let fetch_error = |source| AssembleError::Fetch {
        plugin: spec.name.clone(),
        source_url: spec.source.to_string(),
        source: Box::new(source),
    };
    let wasm = fetch(&spec.source, plugins_dir, cluster)
        .await
        .map_err(fetch_error)?;
    verify_digest(&wasm, spec.sha256.as_deref()).map_err(fetch_error)?;
    let origin = match &spec.source {
        Source::File(path) => resolve_file(path, plugins_dir),
        other => PathBuf::from(other.to_string()),
    };
    let options = PluginOptions {
        config: spec.config.clone(),
        permissions: spec.permissions.clone(),
        limits: spec.limits,
    };
    runtime
        .load_bytes(wasm, &origin, &spec.name, &options)
        .await
        .map_err(|source| AssembleError::Load {
            plugin: spec.name.clone(),
            source,
        })
}

/// Loads every plugin of `manifest` and resolves its chains. `cluster` (the runtime cluster) reads
/// `configmap://` sources.
pub async fn assemble(
    runtime: &PluginRuntime,
    manifest: &PluginManifest,
    origin: &str,
    cluster: Option<&Client>,
) -> Result<PluginSet, AssembleError> {
    let mut plugins = BTreeMap::new();
    for spec in &manifest.plugins {
        plugins.insert(spec.name.clone(), load_plugin(runtime, spec, cluster).await?);
    }
    check_chains(&manifest.chains, &plugins)?;
    Ok(PluginSet::new(origin, plugins, manifest.chains.clone()))
}

/// Every chain names declared plugins only (a step without its plugin never silently drops out) and runs each
/// subroutine name at most once.
pub fn check_chains(
    chains: &BTreeMap<String, Vec<String>>,
    plugins: &BTreeMap<String, Arc<WasmSubroutine>>,
) -> Result<(), AssembleError> {
    use crate::lifecycle::Subroutine as _;
    for (controller, names) in chains {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for name in names {
            let Some(plugin) = plugins.get(name) else {
                return Err(AssembleError::UndeclaredPlugin {
                    controller: controller.clone(),
                    plugin: name.clone(),
                });
            };
            if let Some(first) = seen.insert(plugin.name(), name) {
                return Err(AssembleError::DuplicateSubroutine {
                    controller: controller.clone(),
                    subroutine: plugin.name().to_owned(),
                    first: first.to_owned(),
                    second: name.clone(),
                });
            }
        }
    }
    Ok(())
}
