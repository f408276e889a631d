//! Plugin dispatch overhead: a fresh store, instantiation and one `process` call with a 10 KB object, and the
//! same with one host-import round trip (`log`, and `cluster.get` against an in-memory fake API server).
//!
//! Run: `cargo bench -p platform-mesh-operator --bench dispatch`

use std::{sync::Arc, time::Duration};

use criterion::{Criterion, criterion_group, criterion_main};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{CallContext, Target},
    plugin::{PluginOptions, PluginRuntime, RuntimeConfig},
};
use serde_json::{Value, json};

#[path = "../tests/plugin_support/fake_api.rs"]
mod fake_api;

fn object_of_10kb() -> Value {
    let data: serde_json::Map<String, Value> = (0..100)
        .map(|i| (format!("key-{i:03}"), Value::String("x".repeat(90))))
        .collect();
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench", "namespace": "default"}, "data": data})
}

fn context(object: Value) -> CallContext {
    CallContext {
        controller: "platformmesh".into(),
        object_target: Target::Runtime,
        object,
        operator_config: json!({}),
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let workspace = tempfile::tempdir().expect("temp dir");
    let _runtime_context = rt.enter();
    let services = || {
        let client = fake_api::client(vec![fake_api::config_map("default", "bench", 10_000)]);
        let clusters = Clusters::new(
            client.clone(),
            client,
            KcpAdmin::Config(Box::new(fake_api::config())),
        );
        HostServices {
            clusters: Arc::new(clusters),
            image_versions: Arc::new(ImageVersionStore::new()),
            workspace_dir: workspace.path().to_owned(),
        }
    };
    let config = RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), workspace.path());
    let runtime = PluginRuntime::new(config, services()).expect("runtime");
    let path = RuntimeConfig::test_plugins_dir().join("test_outcome.wasm");
    let load = |config: Value| {
        let options = PluginOptions {
            config,
            ..Default::default()
        };
        rt.block_on(runtime.load_file_with(&path, options))
            .expect("outcome plugin")
    };
    let plain = load(json!({}));
    let logging = load(json!({"log": true}));
    let getting = load(
        json!({"get": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "default", "name": "bench"}}),
    );
    let ctx = context(object_of_10kb());

    let mut group = c.benchmark_group("dispatch");
    group.measurement_time(Duration::from_secs(5));
    for (name, plugin) in [
        ("process_10kb", &plain),
        ("process_10kb_log", &logging),
        ("process_10kb_get", &getting),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(plugin.process(&ctx)).expect("plugin call succeeds"));
        });
    }
    group.finish();

    // Loading: a cold compile versus a hit in the on-disk cache of compiled components (plus `info()` and the
    // `InstancePre` in both).
    let cache = tempfile::tempdir().expect("temp dir");
    let mut cached_config = RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), workspace.path());
    cached_config.cache_dir = Some(cache.path().to_owned());
    let cached_runtime = PluginRuntime::new(cached_config, services()).expect("runtime");
    rt.block_on(cached_runtime.load_file(&path))
        .expect("fills the cache");
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter(|| rt.block_on(runtime.load_file(&path)).expect("loads"))
    });
    group.bench_function("cached", |b| {
        b.iter(|| rt.block_on(cached_runtime.load_file(&path)).expect("loads"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
