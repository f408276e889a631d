//! End to end: the operator runs on the embedded API server with a plugin ConfigMap (`--plugin-config`). The
//! ConfigMap is changed to insert the example vendor plugin (pulled from an in-process OCI registry) into the
//! `platformmesh` chain and to swap `wait` to a second version (built here from the same source with another
//! version string, served from a ConfigMap); the next reconcile runs the new set without a restart or a reconcile
//! error. A wrong digest, an unreachable registry and a plugin that traps in `info()` are each refused: the set in
//! service keeps working and an Event says why; a registry that comes back is picked up by the retry. A plugin
//! calling outside its permissions gets a failed condition naming the permission.

use std::{
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context as _, ensure};
use apiserver::sim::SimConfig;
use e2e::{
    oci_registry::Registry,
    operator::{self, Operator},
    platform::{self, NS, repo_root},
    wait,
};
use k8s_openapi::{ByteString, api::core::v1::ConfigMap, api::events::v1::Event};
use kube::{
    Api, Client,
    api::{DynamicObject, ListParams, Patch, PatchParams, PostParams},
};
use platform_mesh_operator::{
    controller::ProgressEvent,
    plugin::{RuntimeConfig, STATUS_ANNOTATION, source::sha256_hex},
};
use serde_json::{Value, json};

const PLUGIN_CONFIG: &str = "operator-plugins";
const VENDOR: &str = "vendor-plugins";

/// Builds `plugins/wait` again with another version string, in a target directory of its own.
fn build_wait_variant(version: &str) -> anyhow::Result<Vec<u8>> {
    let root = repo_root();
    let target = root.join("target/wasm-variants");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&root).args([
        "build",
        "--target",
        "wasm32-wasip2",
        "--profile",
        "plugin",
        "-p",
        "platform-mesh-plugin-wait",
    ]);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_") && key != "CARGO_HOME"
            || key.contains("RUSTFLAGS")
            || key == "RUSTC_WRAPPER"
            // Set when clippy compiles the workspace (`.ci/run`); the plugin build is not linted.
            || key == "RUSTC_WORKSPACE_WRAPPER"
            || key == "CLIPPY_ARGS"
        {
            cargo.env_remove(key);
        }
    }
    let status = cargo
        .env("CARGO_TARGET_DIR", &target)
        .env("PLATFORM_MESH_PLUGIN_VERSION", version)
        .status()
        .context("running cargo")?;
    ensure!(status.success(), "building the wait variant failed: {status}");
    Ok(std::fs::read(target.join("wasm32-wasip2/plugin/wait.wasm"))?)
}

async fn put_config_map(
    client: &Client,
    name: &str,
    data: Option<&str>,
    binary: &[(&str, &[u8])],
) -> anyhow::Result<()> {
    let cm = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            namespace: Some(NS.into()),
            ..Default::default()
        },
        data: data.map(|text| [("plugins.yaml".to_owned(), text.to_owned())].into()),
        binary_data: (!binary.is_empty()).then(|| {
            binary
                .iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.to_vec())))
                .collect()
        }),
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(client.clone(), NS)
        .patch(name, &PatchParams::apply("e2e").force(), &Patch::Apply(&cm))
        .await
        .with_context(|| format!("applying ConfigMap {name}"))?;
    Ok(())
}

/// The plugin set status annotation of the plugin ConfigMap.
async fn swap_status(client: &Client) -> anyhow::Result<Value> {
    let cm = Api::<ConfigMap>::namespaced(client.clone(), NS)
        .get(PLUGIN_CONFIG)
        .await?;
    let text = cm
        .metadata
        .annotations
        .unwrap_or_default()
        .remove(STATUS_ANNOTATION)
        .unwrap_or_default();
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls `check` (every 100 ms, up to 90 s) until it finds something.
async fn eventually<F, Fut>(what: &str, check: F) -> anyhow::Result<Value>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<Value>>>,
{
    wait::until(what, Duration::from_secs(90), check).await
}

/// Waits for the status annotation to report `result` with a generation of `generation`.
async fn swap_outcome(
    client: &Client,
    result: &str,
    generation: u64,
    message_part: &str,
) -> anyhow::Result<Value> {
    eventually(
        &format!("{result} at generation {generation} ({message_part})"),
        || async {
            let status = swap_status(client).await?;
            let matches = status["result"] == result
                && status["generation"] == generation
                && status["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(message_part);
            Ok(matches.then_some(status))
        },
    )
    .await
}

async fn poke(platform_meshes: &Api<DynamicObject>, n: u32) -> anyhow::Result<()> {
    let patch = json!({"metadata": {"annotations": {"e2e.platform-mesh.io/poke": n.to_string()}}});
    platform_meshes
        .patch("platform-mesh", &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

async fn condition(platform_meshes: &Api<DynamicObject>, type_: &str) -> anyhow::Result<Option<Value>> {
    let pm = platform_meshes.get("platform-mesh").await?;
    let conditions = pm.data["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(conditions.into_iter().find(|c| c["type"] == type_))
}

fn wait_permissions() -> &'static str {
    "[{targets: [infra], groups: ['*'], kinds: ['*'], verbs: [get, list]}, \
      {targets: ['kcp:root'], groups: [tenancy.kcp.io], kinds: [WorkspaceAuthenticationConfiguration], verbs: [get]}]"
}

#[tokio::test]
async fn plugin_sets_swap_live_and_bad_ones_are_refused() -> anyhow::Result<()> {
    let wait_v2 = build_wait_variant("0.2.0-e2e")?;
    let server = platform::server(SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml"]).await?;
    let registry = Registry::start().await;
    let summary = std::fs::read(RuntimeConfig::example_plugins_dir().join("summary.wasm"))?;
    let summary_source = registry.push("examples/summary", "0.1.0", &summary);
    let infotrap = std::fs::read(RuntimeConfig::test_plugins_dir().join("test_infotrap.wasm"))?;
    put_config_map(
        &client,
        VENDOR,
        None,
        &[("wait.wasm", &wait_v2), ("infotrap.wasm", &infotrap)],
    )
    .await?;

    // Generation 1: the shipped wait plugin alone.
    let v1 = format!(
        "plugins:\n- {{name: wait, source: 'file://wait.wasm', permissions: {}}}\nchains:\n  platformmesh: [wait]\n",
        wait_permissions()
    );
    put_config_map(&client, PLUGIN_CONFIG, Some(&v1), &[]).await?;
    let platform_meshes = platform::platform_meshes(&client, Some(NS));
    let pm: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
        "metadata": {"name": "platform-mesh", "namespace": NS},
        "spec": {"wait": {"resourceTypes": []}},
    }))?;
    platform_meshes.create(&PostParams::default(), &pm).await?;

    let plugin_config = format!("--plugin-config={NS}/{PLUGIN_CONFIG}");
    let config = operator::config(&server, &repo_root(), &[&plugin_config])?;
    let mut operator = Operator::spawn(&config, &operator::clients(&server)?);
    let seen = operator.record();

    let ready = |seen: &Arc<Mutex<Vec<ProgressEvent>>>| {
        seen.lock()
            .unwrap()
            .iter()
            .any(|e| e.change.type_ == "Ready" && e.change.status == "True")
    };
    eventually("Ready on generation 1", || async {
        Ok(ready(&seen).then_some(Value::Null))
    })
    .await?;
    let first = swap_outcome(&client, "Swapped", 1, "").await?;
    assert_eq!(first["serving"], "wait=0.1.0", "{first}");

    // Generation 2: the vendor plugin from OCI joins the chain, wait moves to 0.2.0 from a ConfigMap.
    let v2 = format!(
        "plugins:\n\
         - {{name: wait, source: 'configmap://{NS}/{VENDOR}/wait.wasm', sha256: {}, permissions: {}}}\n\
         - name: summary\n  source: '{summary_source}'\n  sha256: {}\n  config: {{suffix: -summary}}\n  \
           permissions: [{{targets: [runtime], groups: [''], kinds: [ConfigMap], verbs: [apply], namespaces: [{NS}]}}]\n\
         chains:\n  platformmesh: [wait, summary]\n",
        sha256_hex(&wait_v2),
        wait_permissions(),
        sha256_hex(&summary),
    );
    put_config_map(&client, PLUGIN_CONFIG, Some(&v2), &[]).await?;
    let second = swap_outcome(&client, "Swapped", 2, "").await?;
    assert_eq!(second["serving"], "summary=0.1.0,wait=0.2.0-e2e", "{second}");
    poke(&platform_meshes, 1).await?;
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), NS);
    let posted = eventually("the summary ConfigMap", || async {
        let found = config_maps.get_opt("platform-mesh-summary").await?;
        Ok(found.and_then(|cm| cm.data).map(|d| json!(d)))
    })
    .await?;
    assert!(
        posted["conditions"]
            .as_str()
            .unwrap_or_default()
            .contains("WaitSubroutine=True"),
        "{posted}"
    );
    eventually("SummarySubroutine True", || async {
        let c = condition(&platform_meshes, "SummarySubroutine").await?;
        Ok(c.filter(|c| c["status"] == "True"))
    })
    .await?;

    // Refused sets: the set in service stays, and an Event says why.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let wrong = sha256_hex(b"not the plugin");
    let refusals = [
        (v2.replace(&sha256_hex(&summary), &wrong), "digest mismatch"),
        (
            v2.replace(&registry.host(), &closed.to_string()),
            "pulling oci://",
        ),
        (
            v2.replace(
                &format!("{VENDOR}/wait.wasm', sha256: {}", sha256_hex(&wait_v2)),
                &format!("{VENDOR}/infotrap.wasm', sha256: {}", sha256_hex(&infotrap)),
            ),
            "calling info()",
        ),
    ];
    let events_api = Api::<Event>::namespaced(client.clone(), NS);
    for (n, (yaml, reason)) in refusals.iter().enumerate() {
        put_config_map(&client, PLUGIN_CONFIG, Some(yaml), &[]).await?;
        let refused = swap_outcome(&client, "Rejected", 2, reason).await?;
        assert_eq!(refused["serving"], "summary=0.1.0,wait=0.2.0-e2e", "{refused}");
        eventually(&format!("a PluginSetRejected event naming {reason}"), || async {
            let events = events_api.list(&ListParams::default()).await?;
            let found = events.items.into_iter().find(|e| {
                e.reason.as_deref() == Some("PluginSetRejected")
                    && e.note.as_deref().unwrap_or_default().contains(reason)
            });
            Ok(found.map(|e| json!(e.note)))
        })
        .await?;
        // The set in service still reconciles.
        config_maps
            .delete("platform-mesh-summary", &Default::default())
            .await?;
        poke(&platform_meshes, 10 + n as u32).await?;
        eventually("the summary ConfigMap again", || async {
            Ok(config_maps
                .get_opt("platform-mesh-summary")
                .await?
                .map(|_| Value::Null))
        })
        .await?;
    }
    let errors: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.change.reason == "Error")
        .map(|e| format!("{} {}", e.change.type_, e.change.message))
        .collect();
    assert!(
        errors.is_empty(),
        "no reconcile failed during the swaps: {errors:?}"
    );

    // A registry that was down: the refused set is retried with backoff and swapped in once it answers.
    let unreachable = v2.replace(&registry.host(), &closed.to_string());
    put_config_map(&client, PLUGIN_CONFIG, Some(&unreachable), &[]).await?;
    swap_outcome(&client, "Rejected", 2, "pulling oci://").await?;
    let late = Registry::start_on(closed).await;
    late.push("examples/summary", "0.1.0", &summary);
    let recovered = swap_outcome(&client, "Swapped", 3, "").await?;
    assert_eq!(
        recovered["serving"], "summary=0.1.0,wait=0.2.0-e2e",
        "{recovered}"
    );

    // A plugin calling outside its permissions: a failed condition naming the permission.
    let outcome = RuntimeConfig::test_plugins_dir().join("test_outcome.wasm");
    let forbidden = format!(
        "plugins:\n- name: outcome\n  source: 'file://{}'\n  \
           config: {{get: {{apiVersion: v1, kind: Secret, namespace: {NS}, name: anything}}}}\n  \
           permissions: [{{targets: [runtime], groups: [''], kinds: ['*'], verbs: [get]}}]\n\
         chains:\n  platformmesh: [outcome]\n",
        outcome.display()
    );
    put_config_map(&client, PLUGIN_CONFIG, Some(&forbidden), &[]).await?;
    swap_outcome(&client, "Swapped", 4, "").await?;
    poke(&platform_meshes, 99).await?;
    let failed = eventually("OutcomeSubroutine failed on a missing permission", || async {
        let c = condition(&platform_meshes, "OutcomeSubroutine").await?;
        Ok(c.filter(|c| c["status"] == "False"))
    })
    .await?;
    let message = failed["message"].as_str().unwrap_or_default();
    assert!(
        message
            .contains("missing permission: get Secret (core) in namespace platform-mesh-system on runtime"),
        "{failed}"
    );
    assert_eq!(failed["reason"], "Error");

    operator.stop().await?;
    server.shutdown().await;
    Ok(())
}
