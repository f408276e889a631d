//! The Helm chart installed: the rendered objects are installed into the embedded API server and the operator
//! runs from the Deployment's arguments — leader election on, plugins from the chart's ConfigMap — as the chart's
//! ServiceAccount (a TokenRequest token; the embedded server enforces the installed RBAC) until the sample
//! PlatformMesh is Ready. Every denied request names a rule the chart lacks.
//!
//! A test binary of its own: it checks the series of the process-wide metrics registry, which every other
//! operator in the same process would add to.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{Context as _, ensure};
use apiserver::{ServerConfig, sim::SimConfig};
use e2e::{
    chart::{self as chart_support, NAMESPACE, RELEASE},
    platform::repo_root,
};
use kube::{
    Api,
    api::{DynamicObject, ListParams},
    core::ApiResource,
};
use platform_mesh_operator::{
    controller::{
        ProgressSink,
        leader::{LeaderElector, LeaseSettings},
        operator,
    },
    embedded, metrics,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// `GET /metrics` from a metrics server on a free loopback port.
async fn scrape_metrics() -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let token = CancellationToken::new();
    let bound = metrics::server::serve("127.0.0.1:0".parse()?, token.clone()).await?;
    let mut stream = tokio::net::TcpStream::connect(bound).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: operator\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    token.cancel();
    ensure!(response.starts_with("HTTP/1.1 200"), "{response}");
    Ok(response)
}

#[tokio::test]
async fn the_operator_runs_from_the_installed_chart() -> anyhow::Result<()> {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::all(),
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    let repo = repo_root();
    let (namespace_sample, other_samples) = embedded::SAMPLES.split_first().context("samples")?;
    for object in embedded::read_documents(&repo.join(namespace_sample))? {
        embedded::apply(&client, &object).await?;
    }
    // `helm install`: the CRDs first, then the templates.
    for (file, crd) in chart_support::crds()? {
        embedded::apply(&client, &crd)
            .await
            .with_context(|| file.clone())?;
    }
    let objects = chart_support::render(&chart_support::default_values()?, RELEASE, NAMESPACE)?;
    for (file, object) in &objects {
        embedded::apply(&client, object)
            .await
            .with_context(|| file.clone())?;
    }
    println!("installed {} chart objects", objects.len());
    for sample in other_samples {
        for object in embedded::read_documents(&repo.join(sample))? {
            embedded::apply(&client, &object).await?;
        }
    }

    // The operator's identity: the chart's ServiceAccount, authorized by the chart's RBAC only.
    let release = chart_support::release::operator(&client, server.url(), &objects).await?;
    let (config, clients, access) = (release.config, release.clients, release.access);
    let (progress, mut events) = ProgressSink::channel();
    let shutdown = CancellationToken::new();
    let elector = LeaderElector::new(clients.runtime.clone(), LeaseSettings::new(NAMESPACE));
    let stop = shutdown.clone();
    let operator = tokio::spawn(async move {
        elector
            .run(stop, |leading| {
                operator::run(&config, clients, progress, leading.cancelled_owned())
            })
            .await
    });
    chart_support::release::until_ready(&mut events, &access).await?;

    // The plugins came from the chart's ConfigMap: the operator reports the swap on it.
    let config_maps = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        NAMESPACE,
        &ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    let plugins = config_maps.get(&format!("{RELEASE}-plugins")).await?;
    let status = plugins
        .metadata
        .annotations
        .unwrap_or_default()
        .remove("plugins.platform-mesh.io/status")
        .context("the plugin ConfigMap carries the operator's status annotation")?;
    println!("plugin ConfigMap status: {status}");
    let status: Value = serde_json::from_str(&status)?;
    ensure!(
        status["result"] == "Swapped",
        "the ConfigMap's plugin set is in service: {status}"
    );
    ensure!(
        status["serving"]
            .as_str()
            .is_some_and(|s| s.contains("deployment=")),
        "{status}"
    );

    // What Prometheus would scrape from the Deployment's metrics port.
    let scrape = scrape_metrics().await?;
    for series in [
        "platform_mesh_operator_reconcile_total{controller=\"platformmesh\",result=\"success\"}",
        "platform_mesh_operator_subroutine_total{subroutine=\"DeploymentSubroutine\",result=\"success\"}",
        "lifecycle_subroutine_duration_seconds_count{controller=\"platformmesh\",subroutine=\"WaitSubroutine\"",
        "platform_mesh_operator_plugin_call_duration_seconds_count{plugin=\"deployment\"",
        "platform_mesh_operator_api_requests_total{verb=\"apply\",code=\"200\"}",
        "platform_mesh_operator_api_requests_total{verb=\"watch\"",
        "platform_mesh_operator_leader 1",
        // The OCM Resource controller turned the deployed Resources into Flux sources as the ServiceAccount.
        "platform_mesh_operator_reconcile_total{controller=\"resource\",result=\"success\"}",
    ] {
        let line = scrape.lines().find(|l| l.starts_with(series));
        println!("{}", line.with_context(|| format!("/metrics lacks {series}"))?);
    }

    // The Ready Event on the PlatformMesh, published as the ServiceAccount.
    let events_api = Api::<DynamicObject>::all_with(
        client.clone(),
        &ApiResource::erase::<k8s_openapi::api::events::v1::Event>(&()),
    );
    let mut ready_event = None;
    for _ in 0..50 {
        let listed = events_api.list(&ListParams::default()).await?;
        ready_event = listed
            .items
            .into_iter()
            .find(|e| e.data["reason"] == "Ready" && e.data["regarding"]["kind"] == "PlatformMesh");
        if ready_event.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready_event = ready_event.context("a Ready Event on the PlatformMesh")?;
    println!(
        "event: {} {}",
        ready_event.data["reason"], ready_event.data["note"]
    );

    // A ManagedProvider from creation to deletion: the verbs only its chain uses.
    let managed = chart_support::managed_provider::round_trip(&client, NAMESPACE, &mut events).await;
    chart_support::release::report_denials(&access)?;
    managed?;

    // The server really enforces the chart's RBAC on this identity, and it stays least-privilege.
    let (probe, _) = chart_support::identity::service_account_client(
        &client,
        server.url(),
        NAMESPACE,
        &release.service_account,
    )
    .await?;
    expect_forbidden(&probe).await?;

    shutdown.cancel();
    let led = tokio::time::timeout(Duration::from_secs(30), operator).await???;
    led.context("the operator led")?.context("operator run")?;
    chart_support::release::report_denials(&access)?;
    report_unused_rules(&objects, &access)?;
    server.shutdown().await;
    Ok(())
}

/// What the chart's ServiceAccount must not do: read Secrets in bulk or watch them (spec 11.1 item 11), grant
/// itself RBAC, or write ConfigMaps other than the plugin ConfigMap.
async fn expect_forbidden(probe: &kube::Client) -> anyhow::Result<()> {
    use k8s_openapi::api::{
        core::v1::{ConfigMap, Secret},
        rbac::v1::ClusterRoleBinding,
    };
    use kube::api::{Patch, PatchParams, PostParams, WatchParams};
    let forbidden = |what: &str, result: Result<(), kube::Error>| match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {
            println!("forbidden as expected: {what}");
            Ok(())
        }
        other => Err(anyhow::anyhow!(
            "the chart's ServiceAccount may {what}: {other:?}"
        )),
    };
    let secrets = Api::<Secret>::all(probe.clone());
    forbidden(
        "list Secrets",
        secrets.list(&ListParams::default()).await.map(drop),
    )?;
    forbidden(
        "watch Secrets",
        secrets.watch(&WatchParams::default(), "0").await.map(drop),
    )?;
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "escalate"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}],
    }))?;
    forbidden(
        "create ClusterRoleBindings",
        Api::<ClusterRoleBinding>::all(probe.clone())
            .create(&PostParams::default(), &binding)
            .await
            .map(drop),
    )?;
    let annotate = Patch::Merge(json!({"metadata": {"annotations": {"probe": "x"}}}));
    forbidden(
        "patch ConfigMaps other than the plugin ConfigMap",
        Api::<ConfigMap>::namespaced(probe.clone(), NAMESPACE)
            .patch("another-configmap", &PatchParams::default(), &annotate)
            .await
            .map(drop),
    )?;
    Ok(())
}

/// Fails naming every request the chart's RBAC denied the operator: each is a missing rule.
/// Prints the (group, resource, verb) grants of the chart's roles that no request of this run used — candidates
/// for removal only where no other scenario (deletion, Argo CD, providers, istio) needs them.
fn report_unused_rules(
    objects: &[(String, Value)],
    access: &chart_support::identity::AccessLog,
) -> anyhow::Result<()> {
    let used = access.used();
    let mut unused: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut granted = 0;
    for (file, role) in objects
        .iter()
        .filter(|(_, o)| o["kind"] == "ClusterRole" || o["kind"] == "Role")
    {
        for rule in role["rules"].as_array().context("rules")? {
            let strings = |field: &str| -> Vec<String> {
                rule[field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            };
            for group in strings("apiGroups") {
                for resource in strings("resources") {
                    for verb in strings("verbs") {
                        granted += 1;
                        if !used.contains(&(group.clone(), resource.clone(), verb.clone())) {
                            let group = if group.is_empty() { "core" } else { &group };
                            unused
                                .entry(format!("{file}: {resource} ({group})"))
                                .or_default()
                                .push(verb);
                        }
                    }
                }
            }
        }
    }
    println!(
        "{} requests as the ServiceAccount; {} distinct (group, resource, verb) used of {granted} granted",
        access.len(),
        used.len()
    );
    for (what, verbs) in unused {
        println!("unused in this run: {what} {verbs:?}");
    }
    Ok(())
}
