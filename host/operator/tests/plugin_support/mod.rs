//! Helpers shared by the plugin host tests: a runtime over a temporary workspace and the fake API server.

#![allow(dead_code)]

pub mod fake_api;

use std::{path::PathBuf, sync::Arc, time::Duration};

use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{CallContext, Target},
    plugin::{PluginRuntime, RuntimeConfig},
};
use serde_json::{Value, json};

/// A runtime whose workspace is a fresh temporary directory holding `hello.txt`.
pub struct Harness {
    pub runtime: PluginRuntime,
    pub workspace: tempfile::TempDir,
}

/// Tunes the runtime before it is built.
pub fn harness_with(tune: impl FnOnce(&mut RuntimeConfig)) -> Harness {
    let workspace = tempfile::tempdir().expect("temp dir");
    std::fs::write(workspace.path().join("hello.txt"), "hello from the workspace").expect("workspace file");
    let client = fake_api::client(vec![fake_api::config_map("default", "present", 100)]);
    let clusters = Clusters::new(
        client.clone(),
        client,
        KcpAdmin::Config(Box::new(fake_api::config())),
    );
    let services = HostServices {
        clusters: Arc::new(clusters),
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: workspace.path().to_owned(),
    };
    let mut config = RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), workspace.path());
    config.call_timeout = Duration::from_secs(5);
    tune(&mut config);
    let runtime = PluginRuntime::new(config, services).expect("plugin runtime");
    Harness { runtime, workspace }
}

/// A runtime with default limits (5 s per call).
pub fn harness() -> Harness {
    harness_with(|_| {})
}

/// The path of a test plugin, e.g. `test_trap`.
pub fn test_plugin(name: &str) -> PathBuf {
    RuntimeConfig::test_plugins_dir().join(format!("{name}.wasm"))
}

/// A PlatformMesh-like object.
pub fn object(annotations: Value) -> Value {
    json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
           "metadata": {"name": "pm", "namespace": "platform-mesh-system", "annotations": annotations},
           "spec": {}})
}

/// A call context for `object` on the runtime cluster.
pub fn context(object: Value) -> CallContext {
    CallContext {
        controller: "platformmesh".into(),
        object_target: Target::Runtime,
        object,
        operator_config: json!({"kcpNamespace": "platform-mesh-system"}),
    }
}
