//! Configuration of the plugin runtime and of one loaded plugin.

use std::{path::PathBuf, time::Duration};

use serde_json::Value;

use crate::hostapi::Permissions;

/// How the runtime loads and runs plugins.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// Directory relative `file://` sources are resolved against.
    pub plugins_dir: PathBuf,
    /// The operator's workspace directory, mounted read-only at `/workspace` in every plugin.
    pub workspace_dir: PathBuf,
    /// Where compiled components are cached (`None`: compile in memory on every start).
    pub cache_dir: Option<PathBuf>,
    /// Wall-clock limit of one plugin call, host calls included.
    pub call_timeout: Duration,
    /// Linear-memory cap of one plugin instance, in bytes.
    pub memory_limit: usize,
}

impl RuntimeConfig {
    /// Defaults: no cache, 10 s per call, 64 MiB of memory.
    pub fn new(plugins_dir: impl Into<PathBuf>, workspace_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            plugins_dir: plugins_dir.into(),
            workspace_dir: workspace_dir.into(),
            cache_dir: None,
            call_timeout: Duration::from_secs(10),
            memory_limit: 64 << 20,
        }
    }

    /// The plugins built with this operator (`target/wasm/plugins` of the workspace that built it); the default
    /// of `--plugins-dir`.
    pub fn default_plugins_dir() -> PathBuf {
        PathBuf::from(env!("PLUGINS_DIR"))
    }

    /// The purpose-built test plugins (`plugins/testing/*`) built alongside, for tests and benchmarks.
    pub fn test_plugins_dir() -> PathBuf {
        PathBuf::from(env!("TEST_PLUGINS_DIR"))
    }

    /// The vendor examples (`plugins/examples/*`) built alongside; in no default chain.
    pub fn example_plugins_dir() -> PathBuf {
        PathBuf::from(env!("EXAMPLE_PLUGINS_DIR"))
    }
}

/// Per-plugin settings from the plugin ConfigMap.
#[derive(Clone, Debug)]
pub struct PluginOptions {
    /// Passed to the plugin as `context.plugin-config`.
    pub config: Value,
    /// What the plugin may do with the clusters.
    pub permissions: Permissions,
    /// Per-call limits; unset ones are the runtime's.
    pub limits: Limits,
}

impl Default for PluginOptions {
    /// `{}` and permissive permissions: what plugins shipped with the operator get until they are configured.
    fn default() -> Self {
        PluginOptions {
            config: Value::Object(Default::default()),
            permissions: Permissions::permissive(),
            limits: Limits::default(),
        }
    }
}

/// Per-call limits of one plugin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget of one call.
    pub deadline: Option<Duration>,
    /// Linear-memory cap of one instance, in bytes.
    pub memory: Option<usize>,
}
