//! Plugin faults with 20 instances at once: six PlatformMeshes each hit one fault of the sandbox matrix — a wasm
//! trap, a panic, an endless loop (deadline), a memory hog (memory cap), a returned error and a stop — through
//! the purpose-built test plugins, while fourteen healthy ones run the same chain. Every healthy instance reaches
//! Ready, every faulty one reports its fault in its condition, the traps are counted in the metrics, and the
//! operator keeps running.
//!
//! The chain has one host-side subroutine that routes each object to a real wasm plugin by the annotation
//! `test.platform-mesh.io/fault`, so one controller serves the whole matrix at once.
//!
//! A test binary of its own: it checks the trap series of the process-wide metrics registry, which the sandbox
//! tests of the other scenarios would fill in the same process.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use anyhow::{Context as _, ensure};
use e2e::{
    api::condition,
    platform::platform_meshes,
    reliability::{Platform, namespace},
};
use k8s_openapi::api::events::v1::Event;
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams},
};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    controller::{ControllerSettings, ProgressSink, platformmesh},
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{CallContext, Lifecycle, LifecycleOptions, Subroutine, SubroutineFuture, Target},
    metrics,
    plugin::{PluginRuntime, RuntimeConfig},
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const INSTANCES: usize = 20;
const FAULT: &str = "test.platform-mesh.io/fault";

/// The fault matrix: annotation value → what the condition message must mention.
const MATRIX: [(&str, &str); 6] = [
    ("trap", "wasm trap"),
    ("panic", "panicked"),
    ("spin", "deadline exceeded"),
    ("hog", "memory limit"),
    ("error", "failed on purpose"),
    ("stop", "stopped on purpose"),
];

/// Routes each object to the plugin its fault annotation names (default: the healthy `outcome` plugin).
struct FaultRouter {
    outcome: Arc<dyn Subroutine>,
    faulty: BTreeMap<&'static str, Arc<dyn Subroutine>>,
}

impl FaultRouter {
    fn route(&self, ctx: &CallContext) -> &Arc<dyn Subroutine> {
        let fault = ctx
            .object
            .pointer("/metadata/annotations")
            .and_then(|a| a[FAULT].as_str());
        fault.and_then(|f| self.faulty.get(f)).unwrap_or(&self.outcome)
    }
}

impl Subroutine for FaultRouter {
    fn name(&self) -> &str {
        "FaultSubroutine"
    }

    fn finalizers(&self) -> &[String] {
        self.outcome.finalizers()
    }

    fn process<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        self.route(ctx).process(ctx)
    }

    fn finalize<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        self.outcome.finalize(ctx)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faulty_plugins_hurt_only_their_own_instances() -> anyhow::Result<()> {
    let platform = Platform::start().await?;
    platform.add_instances(0..INSTANCES).await?;
    // Instance i < 6 gets fault MATRIX[i]; `error` and `stop` are outcomes the outcome plugin returns on request.
    for (i, (fault, _)) in MATRIX.iter().enumerate() {
        let annotations = match *fault {
            "error" | "stop" => json!({"test.platform-mesh.io/outcome": fault}),
            _ => json!({FAULT: fault}),
        };
        platform_meshes(&platform.client, Some(&namespace(i)))
            .patch(
                "pm",
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"annotations": annotations}})),
            )
            .await?;
    }

    let services = HostServices {
        clusters: Arc::new(Clusters::new(
            platform.client.clone(),
            platform.client.clone(),
            KcpAdmin::Config(Box::new(kube::Config::new(platform.server.url().parse()?))),
        )),
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: platform.repo.clone(),
    };
    let config = RuntimeConfig {
        cache_dir: Some(platform.cache.path().to_owned()),
        call_timeout: Duration::from_secs(1),
        memory_limit: 32 << 20,
        ..RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), platform.repo.clone())
    };
    let runtime = PluginRuntime::new(config, services)?;
    let path = |stem: &str| RuntimeConfig::test_plugins_dir().join(format!("test_{stem}.wasm"));
    let mut faulty = BTreeMap::new();
    for stem in ["trap", "panic", "spin", "hog"] {
        let plugin = runtime.load_file(&path(stem)).await.map_err(|e| {
            anyhow::anyhow!(
                "loading test_{stem}: {}",
                platform_mesh_operator::errors::error_chain(&e)
            )
        })?;
        faulty.insert(stem, plugin);
    }
    let router = FaultRouter {
        outcome: runtime.load_file(&path("outcome")).await?,
        faulty,
    };
    let lifecycle = Lifecycle::new(
        platformmesh::CONTROLLER,
        Target::Runtime,
        vec![Arc::new(router) as Arc<dyn Subroutine>],
        LifecycleOptions::default(),
        json!({}),
    );
    let settings = ControllerSettings {
        concurrency: 10,
        debug_label_value: String::new(),
    };
    let stop = CancellationToken::new();
    let operator = tokio::spawn(platformmesh::run(
        platform.client.clone(),
        lifecycle,
        settings,
        ProgressSink::none(),
        stop.clone().cancelled_owned(),
    ));

    let healthy = INSTANCES - MATRIX.len();
    let took = platform.wait_ready(healthy, Duration::from_secs(40)).await?;
    println!(
        "{healthy} healthy instances Ready after {took:?} beside {} faulty ones",
        MATRIX.len()
    );
    // Give every faulty instance its first pass (the spinning one takes the 1 s deadline).
    let settled = async {
        loop {
            let list = platform_meshes(&platform.client, None)
                .list(&ListParams::default())
                .await?;
            let failed = list
                .items
                .iter()
                .filter(|pm| condition(pm, "FaultSubroutine") == Some("False"))
                .count();
            if failed == MATRIX.len() {
                return anyhow::Ok(list);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let list = tokio::time::timeout(Duration::from_secs(20), settled)
        .await
        .context("faulty instances fail")??;
    for pm in &list.items {
        let ns = pm.metadata.namespace.clone().unwrap_or_default();
        let index: usize = ns.trim_start_matches("pm-").parse()?;
        let ready = condition(pm, "Ready");
        let conditions = pm.data["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let message = conditions
            .iter()
            .find(|c| c["type"] == "FaultSubroutine")
            .and_then(|c| c["message"].as_str())
            .unwrap_or_default()
            .to_lowercase();
        match MATRIX.get(index) {
            Some((fault, expected)) => {
                println!("{ns} ({fault}): Ready={ready:?} FaultSubroutine: {message}");
                ensure!(ready != Some("True"), "{ns}: a faulty instance must not be Ready");
                ensure!(
                    message.contains(expected),
                    "{ns}: the condition names the fault ({expected}): {message}"
                );
            }
            None => ensure!(ready == Some("True"), "{ns}: healthy instances are unaffected"),
        }
    }
    let text = metrics::global().encode();
    for (plugin, kind) in [
        ("test_trap", "trap"),
        ("test_panic", "panic"),
        ("test_spin", "deadline"),
        ("test_hog", "memory"),
    ] {
        let series =
            format!("platform_mesh_operator_plugin_traps_total{{plugin=\"{plugin}\",kind=\"{kind}\"}}");
        let line = text
            .lines()
            .find(|l| l.starts_with(&series))
            .with_context(|| format!("{series} recorded"))?;
        println!("{line}");
    }
    // Events on transitions only: one SubroutineFailed per faulty instance however often it was retried, one
    // Ready per healthy instance, none folded into a series (which would mean repeats).
    let events: Api<Event> = Api::all(platform.client.clone());
    let events = events.list(&ListParams::default()).await?.items;
    let of = |ns: &str, reason: &str| {
        events
            .iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.namespace.as_deref()) == Some(ns))
            .filter(|e| e.reason.as_deref() == Some(reason))
            .collect::<Vec<_>>()
    };
    for i in 0..INSTANCES {
        let ns = namespace(i);
        // A stop is a normal "not yet" (upstream's "RootShard is not ready"), not a failure: no event.
        let (reason, wanted) = match MATRIX.get(i) {
            Some(("stop", _)) => ("SubroutineFailed", 0),
            Some(_) => ("SubroutineFailed", 1),
            None => ("Ready", 1),
        };
        let found = of(&ns, reason);
        ensure!(found.len() == wanted, "{ns}: {} {reason} events", found.len());
        ensure!(
            found.iter().all(|e| e.series.is_none()),
            "{ns}: {reason} was published repeatedly"
        );
    }
    let failed = of(&namespace(0), "SubroutineFailed");
    println!(
        "event on {}: {:?} {:?}",
        namespace(0),
        failed[0].reason,
        failed[0].note
    );
    ensure!(!operator.is_finished(), "the operator keeps running");
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(30), operator).await???;
    platform.server.shutdown().await;
    Ok(())
}
