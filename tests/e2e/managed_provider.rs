//! End to end: a ManagedProvider with a Flux-helm, a Flux-oci and an OCM component, run by the real wasm
//! plugins of the Provider and ManagedProvider chains against the embedded server (kcp, Flux and OCM simulated).
//! It goes Ready (the Provider in kcp gets its workspace and kubeconfig, the kubeconfig is copied, the
//! HelmReleases turn Ready); a further pass writes nothing; deleting it with `cleanupOnDelete` removes the Flux
//! and OCM objects, the copied Secret, the provider workspace and the Provider, in that order.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use e2e::{
    api::{create_if_absent as create, dynamic, exists},
    platform::{self, NS},
    providers::Scenario,
    wait::{self, Counter},
};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

/// How long awaited state may take.
const PATIENCE: Duration = Duration::from_secs(60);
/// PlatformMeshes and workspaces in the request counters.
const PLATFORM_MESHES: &str = "platformmeshes.core.platform-mesh.io";
const WORKSPACES: &str = "workspaces.tenancy.kcp.io";

fn managed_provider(name: &str, deployments: Value) -> Value {
    json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "ManagedProvider",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"platformMeshRef": {"name": "platform-mesh"}, "cleanupOnDelete": true,
                 "runtimeDeployments": deployments}})
}

fn three_components() -> Value {
    json!([
        {"flux": {"type": "helm", "registry": "https://charts.example.io", "chart": "portal", "version": "1.0.0"}},
        {"flux": {"type": "oci", "registry": "ghcr.io/pm", "chart": "charts/api", "version": "1.0.0",
                  "values": {"replicas": 2, "ratio": 0.5}}},
        {"ocm": {"registry": "ghcr.io/platform-mesh", "component": "github.com/platform-mesh/extension", "version": "1.0.0"}},
    ])
}

#[tokio::test]
async fn managed_provider_goes_ready_writes_nothing_when_steady_and_cleans_up_in_order() -> anyhow::Result<()>
{
    let mut scenario = Scenario::start().await?;
    let client = scenario.client.clone();
    let mps = dynamic(
        &client,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some(NS),
    );
    // Record the phases the ManagedProvider shows on its way (polled, so very short ones may be missed).
    let watched = mps.clone();
    let phases_seen = tokio::spawn(async move {
        let mut phases: Vec<String> = Vec::new();
        while phases.last().is_none_or(|p| p != "Ready") {
            if let Ok(Some(mp)) = watched.get_opt("cowboys").await
                && let Some(phase) = mp.data["status"]["phase"].as_str()
                && phases.last().is_none_or(|p| p != phase)
            {
                phases.push(phase.to_owned());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        phases
    });
    create(&mps, managed_provider("cowboys", three_components())).await?;
    let seen = scenario.wait_for("managedprovider", "Ready", "True").await?;
    let phases = tokio::time::timeout(Duration::from_secs(10), phases_seen).await??;
    let position = |phase: &str| phases.iter().position(|p| p == phase);
    assert!(
        position("WaitingForProvider") < position("Deploying") && position("Deploying") < position("Ready"),
        "phases in order: {phases:?}"
    );
    assert!(position("WaitingForProvider").is_some(), "{phases:?}");
    let reasons: Vec<&str> = seen
        .iter()
        .filter(|e| e.controller == "managedprovider" && e.change.type_ == "Ready")
        .map(|e| e.change.reason.as_str())
        .collect();
    assert!(
        reasons.contains(&"Stopped"),
        "the chain waited on the way: {reasons:?}"
    );

    // The Provider in kcp, its workspace and both kubeconfig Secrets.
    let kcp_system = scenario.server.kcp_client("root:providers:system");
    let providers = dynamic(
        &kcp_system,
        "providers.platform-mesh.io/v1alpha1",
        "Provider",
        "providers",
        None,
    );
    let provider = providers.get("cowboys").await?;
    assert_eq!(provider.data["status"]["phase"], "Ready");
    let cluster = provider.metadata.annotations.as_ref().context("annotations")?["kcp.io/cluster"].clone();
    let workspaces = dynamic(
        &scenario.server.kcp_client("root:providers"),
        "tenancy.kcp.io/v1alpha1",
        "Workspace",
        "workspaces",
        None,
    );
    let ws_name = format!("cowboys-{cluster}");
    assert!(exists(&workspaces, &ws_name).await?);
    let kcp_secret = dynamic(&kcp_system, "v1", "Secret", "secrets", Some(NS));
    assert!(exists(&kcp_secret, "cowboys-provider-kubeconfig").await?);
    let secrets = dynamic(&client, "v1", "Secret", "secrets", Some(NS));
    let copied = secrets.get("cowboys-provider-kubeconfig").await?;
    assert!(copied.data["data"]["kubeconfig"].is_string());
    let releases = dynamic(
        &client,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmreleases",
        Some(NS),
    );
    // Named as upstream names them: the chart's last segment, the OCM component's last segment.
    for name in ["portal", "api", "extension"] {
        let release = releases.get(name).await?;
        let ready = release.data["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        assert!(ready, "{name} is Ready");
    }
    let role = dynamic(
        &scenario.server.kcp_client(&format!("root:providers:{ws_name}")),
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        None,
    )
    .get("cowboys-provider")
    .await?;
    assert_eq!(
        role.data["roleRef"]["name"], "cluster-admin",
        "cluster-admin by default, as upstream"
    );

    // Steady state: a change to metadata only reconciles both objects again and writes nothing else. A
    // ManagedProvider pass reads the PlatformMesh (no other controller does here), a Provider pass reads its
    // workspace twice; once both have run and nothing changes any more, only the touches changed anything.
    let server = &scenario.server;
    wait::settle(server, Counter::Changes, Duration::from_secs(1), PATIENCE).await?;
    let before = server.requests().snapshot();
    let (mp_passes, provider_passes) = (
        wait::requests_for(server, PLATFORM_MESHES),
        wait::requests_for(server, WORKSPACES),
    );
    let touch = json!({"metadata": {"annotations": {"e2e/touch": "1"}}});
    mps.patch("cowboys", &PatchParams::default(), &Patch::Merge(&touch))
        .await?;
    providers
        .patch("cowboys", &PatchParams::default(), &Patch::Merge(&touch))
        .await?;
    wait::requests_since(server, PLATFORM_MESHES, mp_passes, 1, PATIENCE)
        .await
        .context("a ManagedProvider pass after the touch")?;
    wait::requests_since(server, WORKSPACES, provider_passes, 2, PATIENCE)
        .await
        .context("a Provider pass after the touch")?;
    wait::settle(server, Counter::Changes, Duration::from_secs(1), PATIENCE).await?;
    let after = server.requests().snapshot();
    assert_eq!(
        after.changed_writes - before.changed_writes,
        2,
        "only the two annotation patches changed anything: {:?}",
        after.changed_by_resource
    );

    // Deletion: Flux/OCM objects, then the copied Secret, then the provider workspace, then the Provider.
    mps.delete("cowboys", &DeleteParams::default()).await?;
    let oci = dynamic(
        &client,
        "delivery.ocm.software/v1alpha1",
        "Resource",
        "resources",
        Some(NS),
    );
    let started = Instant::now();
    let mut gone: [Option<Duration>; 5] = [None; 5];
    while gone.iter().any(Option::is_none) && started.elapsed() < Duration::from_secs(90) {
        let states = [
            !exists(&releases, "portal").await? && !exists(&oci, "extension").await?,
            !exists(&secrets, "cowboys-provider-kubeconfig").await?,
            !exists(&workspaces, &ws_name).await?,
            !exists(&providers, "cowboys").await?,
            !exists(&mps, "cowboys").await?,
        ];
        for (slot, is_gone) in gone.iter_mut().zip(states) {
            if is_gone && slot.is_none() {
                *slot = Some(started.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let gone: Vec<Duration> = gone
        .iter()
        .map(|g| g.context("everything is deleted"))
        .collect::<Result<_, _>>()?;
    assert!(
        gone.windows(2).all(|w| w[0] <= w[1]),
        "deletion order flux, secret, workspace, provider, mp: {gone:?}"
    );
    scenario.stop().await;
    Ok(())
}

#[tokio::test]
async fn both_or_neither_flux_and_ocm_are_rejected_by_the_crd() -> anyhow::Result<()> {
    let server = platform::server(apiserver::sim::SimConfig::none()).await?;
    let client = server.client();
    let api = dynamic(
        &client,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some("default"),
    );
    let both = json!([{"flux": {"registry": "r", "chart": "c", "version": "1"},
                       "ocm": {"registry": "r", "component": "c", "version": "1"}}]);
    for deployments in [both, json!([{}])] {
        let mut object = managed_provider("bad", deployments);
        object["metadata"]["namespace"] = json!("default");
        let object: kube::api::DynamicObject = serde_json::from_value(object)?;
        let error = api
            .create(&Default::default(), &object)
            .await
            .expect_err("rejected");
        let kube::Error::Api(status) = error else {
            anyhow::bail!("not an API error: {error}")
        };
        assert_eq!(status.code, 422);
        assert!(
            status.message.contains("exactly one of flux or ocm must be set"),
            "{}",
            status.message
        );
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn remote_runtime_cluster_gets_the_kubeconfig_and_flux_deploys_there() -> anyhow::Result<()> {
    let mut scenario = Scenario::start().await?;
    let remote = apiserver::start(apiserver::ServerConfig {
        simulators: apiserver::sim::SimConfig::none(),
        ..apiserver::ServerConfig::default()
    })
    .await?;
    let client = scenario.client.clone();
    let secrets = dynamic(&client, "v1", "Secret", "secrets", Some(NS));
    let kubeconfig = serde_json::to_string(&remote.kubeconfig())?;
    create(
        &secrets,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "remote-runtime", "namespace": NS},
               "stringData": {"kubeconfig": kubeconfig}}),
    )
    .await?;
    let mps = dynamic(
        &client,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some(NS),
    );
    let mut object = managed_provider(
        "remote",
        json!([{"flux": {"registry": "ghcr.io/pm", "chart": "charts/api", "version": "1.0.0"}}]),
    );
    object["spec"]["runtimeKubeconfigSecretName"] = json!("remote-runtime");
    create(&mps, object).await?;
    scenario.wait_for("managedprovider", "Ready", "True").await?;

    let remote_secrets = dynamic(&remote.client(), "v1", "Secret", "secrets", Some(NS));
    assert!(
        exists(&remote_secrets, "remote-provider-kubeconfig").await?,
        "the copy is in the remote cluster"
    );
    assert!(
        !exists(&secrets, "remote-provider-kubeconfig").await?,
        "and not in the runtime cluster"
    );
    let releases = dynamic(
        &client,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "helmreleases",
        Some(NS),
    );
    let release = releases.get("api").await?;
    assert_eq!(
        release.data["spec"]["kubeConfig"],
        json!({"secretRef": {"name": "remote-runtime", "key": "kubeconfig"}}),
        "Flux deploys the chart into the remote cluster"
    );

    mps.delete("remote", &DeleteParams::default()).await?;
    wait::gone(&mps, "remote", PATIENCE)
        .await
        .context("the ManagedProvider is deleted")?;
    assert!(
        !exists(&remote_secrets, "remote-provider-kubeconfig").await?,
        "cleanup follows the remote cluster"
    );
    remote.shutdown().await;
    scenario.stop().await;
    Ok(())
}

#[tokio::test]
async fn same_named_providers_in_two_workspaces_get_their_own_workspace_rights_and_cleanup()
-> anyhow::Result<()> {
    let mut scenario = Scenario::start().await?;
    let providers_ws = scenario.server.kcp_client("root:providers");
    create(
        &dynamic(
            &providers_ws,
            "tenancy.kcp.io/v1alpha1",
            "Workspace",
            "workspaces",
            None,
        ),
        json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace", "metadata": {"name": "other"},
               "spec": {"type": {"name": "provider", "path": "root"}}}),
    )
    .await?;
    let in_ws = |path: &str| {
        dynamic(
            &scenario.server.kcp_client(path),
            "providers.platform-mesh.io/v1alpha1",
            "Provider",
            "providers",
            None,
        )
    };
    let (system, other) = (in_ws("root:providers:system"), in_ws("root:providers:other"));
    // Providers are served in the new workspace once its binding is Bound (or the creation below says why not).
    let served = wait::until(
        "Providers served in root:providers:other",
        Duration::from_secs(10),
        || async { Ok(other.list(&Default::default()).await.ok().map(|_| ())) },
    );
    let _ = served.await;
    let acme = |annotations: Value| {
        json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
               "metadata": {"name": "acme", "annotations": annotations}, "spec": {}})
    };
    create(
        &system,
        acme(json!({"providers.platform-mesh.io/access-rules": "default"})),
    )
    .await?;
    create(&other, acme(json!({}))).await?;
    let mut ready = std::collections::BTreeSet::new();
    while ready.len() < 2 {
        for event in scenario.wait_for("provider", "Ready", "True").await? {
            if event.controller == "provider"
                && event.change.type_ == "Ready"
                && event.change.status == "True"
            {
                ready.insert(event.key.to_string());
            }
        }
    }
    let cluster_of =
        |p: &kube::api::DynamicObject| p.metadata.annotations.as_ref().unwrap()["kcp.io/cluster"].clone();
    let (first, second) = (system.get("acme").await?, other.get("acme").await?);
    let workspaces = dynamic(
        &scenario.server.kcp_client("root:providers"),
        "tenancy.kcp.io/v1alpha1",
        "Workspace",
        "workspaces",
        None,
    );
    let (ws1, ws2) = (
        format!("acme-{}", cluster_of(&first)),
        format!("acme-{}", cluster_of(&second)),
    );
    assert_ne!(ws1, ws2);
    let binding = |ws: &str| {
        dynamic(
            &scenario.server.kcp_client(&format!("root:providers:{ws}")),
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            None,
        )
    };
    assert_eq!(
        binding(&ws1).get("acme-provider").await?.data["roleRef"]["name"],
        "acme-provider"
    );
    assert_eq!(
        binding(&ws2).get("acme-provider").await?.data["roleRef"]["name"],
        "cluster-admin"
    );

    other.delete("acme", &DeleteParams::default()).await?;
    wait::until("the second Provider cleaned up", PATIENCE, || async {
        let left = exists(&other, "acme").await? || exists(&workspaces, &ws2).await?;
        Ok((!left).then_some(()))
    })
    .await?;
    assert!(
        exists(&system, "acme").await? && exists(&workspaces, &ws1).await?,
        "the first one is untouched"
    );
    scenario.stop().await;
    Ok(())
}

/// Removes every `x-kubernetes-validations` from a schema (a ManagedProvider stored before the CEL rule existed).
fn strip_validations(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            map.remove("x-kubernetes-validations");
            map.values_mut().for_each(strip_validations);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_validations),
        _ => {}
    }
}

#[tokio::test]
async fn a_stored_entry_with_both_flux_and_ocm_fails_the_deploy_step_with_a_clear_condition()
-> anyhow::Result<()> {
    let mut scenario = Scenario::start().await?;
    let client = scenario.client.clone();
    let crds = dynamic(
        &client,
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        None,
    );
    let mut crd = crds.get("managedproviders.providers.platform-mesh.io").await?;
    strip_validations(&mut crd.data["spec"]);
    crds.replace(
        "managedproviders.providers.platform-mesh.io",
        &Default::default(),
        &crd,
    )
    .await?;
    let mps = dynamic(
        &client,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some(NS),
    );
    let both = json!([{"flux": {"registry": "r", "chart": "c", "version": "1"},
                       "ocm": {"registry": "r", "component": "c", "version": "1"}}]);
    create(&mps, managed_provider("legacy", both)).await?;
    let seen = scenario
        .wait_for("managedprovider", "DeploySubroutine", "False")
        .await?;
    let condition = seen.last().context("an event")?;
    assert_eq!(condition.change.reason, "Error");
    assert_eq!(
        condition.change.message,
        "spec.runtimeDeployments[0]: exactly one of flux or ocm must be set"
    );
    scenario.stop().await;
    Ok(())
}

/// `(type, reason, note)` of the Events regarding `name` in `namespace`, oldest first.
async fn events_of(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let events = dynamic(client, "events.k8s.io/v1", "Event", "events", Some(namespace));
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(events
        .list(&Default::default())
        .await?
        .items
        .iter()
        .filter(|e| e.data["regarding"]["name"] == name)
        .map(|e| {
            (
                text(&e.data["type"]),
                text(&e.data["reason"]),
                text(&e.data["note"]),
            )
        })
        .collect())
}

/// Polls until an Event with `reason` regards `name`; returns all Events regarding it.
async fn wait_for_event(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    reason: &str,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let started = Instant::now();
    loop {
        let events = events_of(client, namespace, name).await?;
        if events.iter().any(|(_, r, _)| r == reason) {
            return Ok(events);
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(90),
            "no {reason} Event on {namespace}/{name}: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn subroutine_failure_and_recovery_become_events_on_the_managed_provider() -> anyhow::Result<()> {
    let scenario = Scenario::start().await?;
    let client = scenario.client.clone();
    let mps = dynamic(
        &client,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some(NS),
    );
    // The remote runtime cluster's kubeconfig Secret does not exist yet: copying the kubeconfig fails.
    let mut object = managed_provider(
        "late",
        json!([{"flux": {"registry": "ghcr.io/pm", "chart": "charts/api", "version": "1.0.0"}}]),
    );
    object["spec"]["runtimeKubeconfigSecretName"] = json!("late-runtime");
    create(&mps, object).await?;
    let failing = wait_for_event(&client, NS, "late", "SubroutineFailed").await?;

    // The Provider the chain created is Ready meanwhile; its Event is in its own logical cluster.
    let kcp_system = scenario.server.kcp_client("root:providers:system");
    let provider_events = wait_for_event(&kcp_system, "default", "late", "Ready").await?;
    let ready = provider_events.iter().find(|(_, reason, _)| reason == "Ready");
    assert_eq!(ready.map(|e| e.0.as_str()), Some("Normal"), "{provider_events:?}");

    let remote = apiserver::start(apiserver::ServerConfig {
        simulators: apiserver::sim::SimConfig::none(),
        ..apiserver::ServerConfig::default()
    })
    .await?;
    create(
        &dynamic(&client, "v1", "Secret", "secrets", Some(NS)),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "late-runtime", "namespace": NS},
               "stringData": {"kubeconfig": serde_json::to_string(&remote.kubeconfig())?}}),
    )
    .await?;
    wait_for_event(&client, NS, "late", "Ready").await?;
    let events = events_of(&client, NS, "late").await?;
    let copy: Vec<&(String, String, String)> = events
        .iter()
        .filter(|(_, _, note)| note.starts_with("KubeconfigCopySubroutine: "))
        .collect();
    assert_eq!(
        copy.len(),
        2,
        "one failure and one recovery, not one per retry: {events:?}"
    );
    let failed = copy
        .iter()
        .find(|(_, reason, _)| reason == "SubroutineFailed")
        .context("a SubroutineFailed Event")?;
    assert_eq!(failed.0, "Warning");
    assert!(failed.2.contains("late-runtime"), "the note says why: {failed:?}");
    assert!(
        failing.iter().any(|e| e == *failed),
        "the failure was published before the Secret existed: {failing:?}"
    );
    let recovered = copy
        .iter()
        .find(|(_, reason, _)| reason == "SubroutineRecovered")
        .context("a SubroutineRecovered Event")?;
    assert_eq!(recovered.0, "Normal");
    remote.shutdown().await;
    scenario.stop().await;
    Ok(())
}
