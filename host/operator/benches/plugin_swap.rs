//! Live plugin swaps on the embedded API server:
//!
//! - `configmap_change_to_serving/{cold,warm}`: from writing a changed plugin ConfigMap to the new set being in
//!   service (watch event → parse → fetch → verify → compile or cache hit → `info()` → swap). Cold: every plugin
//!   is compiled (a fresh compile cache per iteration); warm: every plugin comes from the compile cache.
//! - `reconcile/{steady,during_swaps}`: one reconcile pass of a PlatformMesh through a live chain, without and
//!   with plugin sets being swapped continuously in the background.
//!
//! Run: `cargo bench --profile dev -p platform-mesh-operator --bench plugin_swap`

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use apiserver::{ServerConfig, sim::SimConfig};
use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client,
    api::{Patch, PatchParams},
};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    embedded,
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{ChainSource, KubeStore, Lifecycle, LifecycleOptions, ObjectKey, Target},
    plugin::{LivePlugins, PluginConfigRef, PluginManifest, PluginRuntime, RuntimeConfig, assemble},
};
use serde_json::json;

const NS: &str = "default";

fn runtime(client: &Client, cache: &Path) -> PluginRuntime {
    let services = HostServices {
        clusters: Arc::new(Clusters::new(
            client.clone(),
            client.clone(),
            KcpAdmin::Config(Box::new(kube::Config::new("http://127.0.0.1:1".parse().unwrap()))),
        )),
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: std::env::temp_dir(),
    };
    let mut config = RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), std::env::temp_dir());
    config.cache_dir = Some(cache.to_owned());
    PluginRuntime::new(config, services).expect("runtime")
}

/// Two plugin sets that differ in their plugin config only (so both are served from the same artifacts), each
/// with two plugins in the chain.
fn plugins_yaml(variant: u32) -> String {
    let summary = RuntimeConfig::example_plugins_dir().join("summary.wasm");
    format!(
        "plugins:\n\
         - {{name: outcome, source: 'file://test_outcome.wasm', config: {{variant: {variant}}}}}\n\
         - {{name: summary, source: 'file://{}', permissions: [{{targets: [runtime], groups: [''], kinds: [ConfigMap], verbs: [apply]}}]}}\n\
         chains:\n  platformmesh: [outcome, summary]\n",
        summary.display()
    )
}

async fn write_config(client: &Client, variant: u32) {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plugins", "namespace": NS},
        "data": {"plugins.yaml": plugins_yaml(variant)}});
    Api::<ConfigMap>::namespaced(client.clone(), NS)
        .patch(
            "plugins",
            &PatchParams::apply("bench").force(),
            &Patch::Apply(&cm),
        )
        .await
        .expect("plugin ConfigMap written");
}

/// Starts watching with a fresh runtime over `cache`; returns the handle and the watch task's stop switch.
async fn live(
    client: &Client,
    cache: &Path,
) -> (
    platform_mesh_operator::plugin::PluginSetHandle,
    tokio::sync::oneshot::Sender<()>,
) {
    let config: PluginConfigRef = format!("{NS}/plugins").parse().unwrap();
    let plugins = LivePlugins::start(runtime(client, cache), client.clone(), Some(config))
        .await
        .expect("first set");
    let handle = plugins.handle.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(plugins.watch(async move {
        let _ = stopped.await;
    }));
    (handle, stop)
}

/// A configuration variant never written before (each one must change the ConfigMap).
fn next_variant() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Flips on every call: the warm benchmark alternates between two configurations.
fn alternate() -> bool {
    static FLIP: AtomicBool = AtomicBool::new(false);
    !FLIP.fetch_xor(true, Ordering::Relaxed)
}

/// Time from writing `variant` (which must differ from what is written) to the handle serving a newer
/// generation.
async fn change_to_serving(
    client: &Client,
    handle: &platform_mesh_operator::plugin::PluginSetHandle,
    variant: u32,
) -> Duration {
    let before = handle.status().generation;
    let started = Instant::now();
    write_config(client, variant).await;
    while handle.status().generation == before {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    started.elapsed()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let server = rt
        .block_on(apiserver::start(ServerConfig {
            simulators: SimConfig::none(),
            ..ServerConfig::default()
        }))
        .expect("API server");
    let client = server.client();
    rt.block_on(write_config(&client, 0));

    let mut group = c.benchmark_group("configmap_change_to_serving");
    group.sample_size(10);
    group.bench_function("cold", |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    // A fresh cache and runtime: the first set compiles, and so does the swapped-in one.
                    let cache = tempfile::tempdir().unwrap();
                    let (handle, stop) = live(&client, cache.path()).await;
                    // The new set must not be in the cache either: drop what the first load compiled.
                    for entry in std::fs::read_dir(cache.path()).unwrap() {
                        std::fs::remove_file(entry.unwrap().path()).unwrap();
                    }
                    total += change_to_serving(&client, &handle, next_variant()).await;
                    let _ = stop.send(());
                }
                total
            })
        })
    });
    let cache = tempfile::tempdir().unwrap();
    let (handle, stop) = rt.block_on(live(&client, cache.path()));
    group.bench_function("warm", |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    // Alternating between two configurations: both compiled once, then served from the cache.
                    let variant = if alternate() { 1 } else { 2 };
                    total += change_to_serving(&client, &handle, variant).await;
                }
                total
            })
        })
    });
    group.finish();
    let _ = stop.send(());

    // Reconcile latency with and without swaps going on.
    rt.block_on(embedded::install_crds(&client)).expect("CRDs");
    let pm = json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
        "metadata": {"name": "bench", "namespace": NS}, "spec": {}});
    rt.block_on(embedded::apply(&client, &pm)).expect("PlatformMesh");
    let runtime = runtime(&client, cache.path());
    let manifest = |v| PluginManifest::parse(&plugins_yaml(v)).unwrap();
    let first = rt
        .block_on(assemble(&runtime, &manifest(0), "bench", Some(&client)))
        .unwrap();
    let handle = platform_mesh_operator::plugin::PluginSetHandle::new(first);
    let source = handle.clone();
    let lifecycle = Lifecycle::with_chain_source(
        "platformmesh",
        Target::Runtime,
        ChainSource::live(move || source.current().chain("platformmesh", |_, _| false).into()),
        LifecycleOptions::default(),
        json!({}),
    );
    let resource = kube::api::ApiResource::erase::<platform_mesh_operator::crd::PlatformMesh>(&());
    let store = KubeStore::new(client.clone(), resource);
    let key = ObjectKey::namespaced(NS, "bench");
    // The first passes add the finalizer and the conditions; measure the steady state after them.
    for _ in 0..3 {
        rt.block_on(lifecycle.reconcile(&store, &key));
    }
    let mut group = c.benchmark_group("reconcile");
    group.bench_function("steady", |b| {
        b.iter(|| rt.block_on(lifecycle.reconcile(&store, &key)))
    });
    let swapping = Arc::new(AtomicBool::new(true));
    let swaps = {
        let (swapping, handle, runtime, client) =
            (swapping.clone(), handle.clone(), runtime.clone(), client.clone());
        rt.spawn(async move {
            let mut n = 0u64;
            while swapping.load(Ordering::Relaxed) {
                let set = assemble(&runtime, &manifest((n % 2) as u32), "bench", Some(&client))
                    .await
                    .unwrap();
                handle.swap(set);
                n += 1;
            }
            n
        })
    };
    group.bench_function("during_swaps", |b| {
        b.iter(|| rt.block_on(lifecycle.reconcile(&store, &key)))
    });
    swapping.store(false, Ordering::Relaxed);
    let swapped = rt.block_on(swaps).unwrap();
    println!("plugin sets swapped in while reconciling: {swapped}");
    group.finish();
    rt.block_on(server.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
