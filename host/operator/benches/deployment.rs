//! The deployment subroutine against the embedded API server: a full reconcile of the sample PlatformMesh (profile,
//! variable sets, rendering all four template directories, the diff against the cluster and every apply) into a
//! fresh namespace, and a no-op reconcile of an unchanged one. Each prints its API write counts once.
//!
//! Run: `cargo bench --profile dev -p platform-mesh-operator --bench deployment`

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use apiserver::{ServerConfig, sim::SimConfig};
use criterion::{Criterion, criterion_group, criterion_main};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    embedded,
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{CallContext, Subroutine, Target},
    plugin::{PluginRuntime, RuntimeConfig},
    render,
};
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Bench {
    server: apiserver::Server,
    deployment: Arc<dyn Subroutine>,
    profile: String,
    platform_mesh: Value,
    config: Value,
}

impl Bench {
    async fn new() -> Self {
        let server = apiserver::start(ServerConfig {
            simulators: SimConfig::none(),
            ..ServerConfig::default()
        })
        .await
        .expect("server");
        let client = server.client();
        embedded::install_crds(&client).await.expect("CRDs");
        // The CRDs of the kinds the templates produce, as the simulators install them.
        let kinds = {
            use apiserver::sim::{argocd, certmanager, flux, kcp_operator, ocm};
            [
                argocd::APPLICATION,
                argocd::APP_PROJECT,
                certmanager::ISSUER,
                certmanager::CERTIFICATE,
                flux::OCI_REPOSITORY,
                flux::HELM_RELEASE,
                flux::KUSTOMIZATION,
                flux::GIT_REPOSITORY,
                kcp_operator::ROOT_SHARD,
                kcp_operator::FRONT_PROXY,
                ocm::RESOURCE,
            ]
        };
        apiserver::sim::crds::install(&client, &kinds)
            .await
            .expect("third-party CRDs");
        let services = HostServices {
            clusters: Arc::new(Clusters::new(
                client.clone(),
                client.clone(),
                KcpAdmin::Config(Box::new(kube::Config::new(server.url().parse().expect("url")))),
            )),
            image_versions: Arc::new(ImageVersionStore::new()),
            workspace_dir: repo_root(),
        };
        let plugins_dir = RuntimeConfig::default_plugins_dir();
        let runtime =
            PluginRuntime::new(RuntimeConfig::new(&plugins_dir, repo_root()), services).expect("runtime");
        let deployment = runtime
            .load_file(&plugins_dir.join("deployment.wasm"))
            .await
            .expect("plugin");
        let mut config = render::default_config().expect("flags");
        config.subroutines.subroutines_deployment_enable_istio = false;
        Bench {
            platform_mesh: render::read_platform_mesh(&repo_root().join("deploy/samples/platformmesh.yaml"))
                .expect("sample"),
            profile: render::read_profile(&repo_root().join("deploy/samples/profile.yaml")).expect("profile"),
            deployment,
            server,
            config: config.to_plugin_json(),
        }
    }

    /// Creates namespace `ns` with the profile, and returns the PlatformMesh context for it.
    async fn namespace(&self, ns: &str) -> CallContext {
        let client = self.server.client();
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        embedded::apply(&client, &namespace).await.expect("namespace");
        let profile = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "platform-mesh-profile", "namespace": ns}, "data": {"profile.yaml": self.profile}});
        embedded::apply(&client, &profile).await.expect("profile");
        let mut pm = self.platform_mesh.clone();
        pm["metadata"]["namespace"] = json!(ns);
        CallContext {
            controller: "platformmesh".into(),
            object_target: Target::Runtime,
            object: pm,
            operator_config: self.config.clone(),
        }
    }

    /// One reconcile; returns its duration and (writes, changed writes).
    async fn reconcile(&self, ctx: &CallContext) -> (Duration, u64, u64) {
        let before = self.server.requests().snapshot();
        let start = Instant::now();
        self.deployment.process(ctx).await.expect("reconcile");
        let elapsed = start.elapsed();
        let after = self.server.requests().snapshot();
        (
            elapsed,
            after.writes - before.writes,
            after.changed_writes - before.changed_writes,
        )
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let bench = rt.block_on(Bench::new());
    let mut group = c.benchmark_group("deployment");
    group.sample_size(10).measurement_time(Duration::from_secs(20));

    let mut fresh = 0u32;
    let mut printed = false;
    group.bench_function("full reconcile into a fresh namespace", |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    fresh += 1;
                    let ctx = bench.namespace(&format!("bench-{fresh}")).await;
                    let (elapsed, writes, changed) = bench.reconcile(&ctx).await;
                    if !printed {
                        eprintln!("full reconcile: {writes} API writes ({changed} changed)");
                        printed = true;
                    }
                    total += elapsed;
                }
                total
            })
        })
    });

    let steady = rt.block_on(async {
        let ctx = bench.namespace("bench-steady").await;
        bench.reconcile(&ctx).await;
        ctx
    });
    let mut printed = false;
    group.bench_function("no-op reconcile of an unchanged PlatformMesh", |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let (elapsed, writes, changed) = bench.reconcile(&steady).await;
                    if !printed {
                        eprintln!("no-op reconcile: {writes} API writes ({changed} changed)");
                        printed = true;
                    }
                    assert_eq!(writes, 0, "a no-op reconcile writes nothing");
                    total += elapsed;
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
