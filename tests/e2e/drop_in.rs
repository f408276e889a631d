//! End to end: what an installation of the Go operator keeps when this operator takes its place.
//!
//! - A Provider's kubeconfig has `cluster-admin` rights in its workspace by default, as upstream's; with the
//!   `providers.platform-mesh.io/access-rules` annotation it gets only the rules it asks for.
//! - ManagedProvider runtime objects carry upstream's names (the chart's last segment, the OCM deployment name);
//!   objects the Go operator left under those names are adopted in place, not created a second time.
//! - A `dependsOn` entry removed from the profile reaches the HelmRelease on the next pass, and once the image tags
//!   the Resource controller wrote are owned again, a pass writes nothing.

use std::time::Duration;

use anyhow::Context as _;
use e2e::{
    api::{create_if_absent as create, dynamic},
    deployment::start,
    platform::{NS, repo_root, samples},
    providers::Scenario,
    takeover::{
        self, HELM_RELEASE, HELM_REPOSITORY, OCI_REPOSITORY, OCM_COMPONENT, OCM_REPOSITORY, OCM_RESOURCE,
    },
    wait,
};
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

const PATIENCE: Duration = Duration::from_secs(60);
const OWNER_LABEL: &str = "providers.platform-mesh.io/managed-provider";

fn managed_provider(name: &str, deployments: Value) -> Value {
    json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "ManagedProvider",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"platformMeshRef": {"name": "platform-mesh"}, "cleanupOnDelete": true,
                 "runtimeDeployments": deployments}})
}

async fn provider_client(scenario: &Scenario, name: &str) -> anyhow::Result<kube::Client> {
    let secrets = dynamic(
        &scenario.server.kcp_client("root:providers:system"),
        "v1",
        "Secret",
        "secrets",
        Some("default"),
    );
    let secret = wait::appears(&secrets, &format!("{name}-provider-kubeconfig"), PATIENCE).await?;
    let encoded = secret.data["data"]["kubeconfig"]
        .as_str()
        .context("kubeconfig key")?;
    use base64::Engine as _;
    let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded)?)?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&text)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

/// Whether the provider's kubeconfig may create a ClusterRole in its workspace (only cluster-admin may).
async fn can_create_cluster_roles(client: &kube::Client, name: &str) -> anyhow::Result<bool> {
    let roles = dynamic(
        client,
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        None,
    );
    let role: kube::api::DynamicObject = serde_json::from_value(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name}, "rules": []}),
    )?;
    match roles.create(&Default::default(), &role).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 403 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[tokio::test]
async fn provider_kubeconfig_is_cluster_admin_by_default_and_least_privilege_by_annotation()
-> anyhow::Result<()> {
    let mut scenario = Scenario::start().await?;
    let providers = dynamic(
        &scenario.server.kcp_client("root:providers:system"),
        "providers.platform-mesh.io/v1alpha1",
        "Provider",
        "providers",
        None,
    );
    let rules = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]);
    create(
        &providers,
        json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
        "metadata": {"name": "admin"}, "spec": {}}),
    )
    .await?;
    create(&providers, json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
        "metadata": {"name": "scoped", "annotations": {"providers.platform-mesh.io/access-rules": rules.to_string()}},
        "spec": {}}))
    .await?;
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

    let admin = provider_client(&scenario, "admin").await?;
    assert!(
        can_create_cluster_roles(&admin, "made-by-admin").await?,
        "cluster-admin by default"
    );
    let scoped = provider_client(&scenario, "scoped").await?;
    let configmaps = dynamic(&scoped, "v1", "ConfigMap", "configmaps", Some("default"));
    configmaps
        .list(&Default::default())
        .await
        .context("the rules it asked for")?;
    assert!(
        !can_create_cluster_roles(&scoped, "made-by-scoped").await?,
        "nothing more"
    );
    let secrets = dynamic(&scoped, "v1", "Secret", "secrets", Some("default"));
    assert!(secrets.list(&Default::default()).await.is_err(), "no Secrets");
    scenario.stop().await;
    Ok(())
}

#[tokio::test]
async fn managed_provider_objects_carry_upstream_names_and_the_go_operators_objects_are_adopted()
-> anyhow::Result<()> {
    let mut scenario = Scenario::start().await?;
    let client = scenario.client.clone();
    // The Go operator's objects of the `api` component, as it left them (no labels of ours).
    let values = json!({"replicas": 2});
    takeover::seed(
        &client,
        takeover::go_flux_oci(NS, "ghcr.io/pm", "charts/api", "1.0.0", Some(values.clone())),
    )
    .await?;
    let before = takeover::inventory(&client, &takeover::RUNTIME_KINDS, NS).await?;
    let deletes = takeover::deletes(&scenario.server);
    let mps = dynamic(
        &client,
        "providers.platform-mesh.io/v1alpha1",
        "ManagedProvider",
        "managedproviders",
        Some(NS),
    );
    create(
        &mps,
        managed_provider(
            "cowboys",
            json!([
                {"flux": {"type": "helm", "registry": "https://charts.example.io", "chart": "portal", "version": "1.0.0"}},
                {"flux": {"type": "oci", "registry": "ghcr.io/pm", "chart": "charts/api", "version": "1.0.0", "values": values}},
                {"ocm": {"registry": "ghcr.io/platform-mesh", "component": "github.com/platform-mesh/extension", "version": "1.0.0"}},
            ]),
        ),
    )
    .await?;
    scenario.wait_for("managedprovider", "Ready", "True").await?;

    let after = takeover::inventory(&client, &takeover::RUNTIME_KINDS, NS).await?;
    let changes = takeover::changes(&before, &after);
    println!(
        "adoption: {changes:?}, deletes {}",
        takeover::deletes(&scenario.server) - deletes
    );
    assert!(changes.deleted_or_recreated.is_empty(), "{changes:?}");
    assert!(
        changes.spec_changed.is_empty(),
        "the Go operator's spec is ours: {changes:?}"
    );
    assert_eq!(takeover::deletes(&scenario.server), deletes, "nothing deleted");
    let expected: std::collections::BTreeSet<String> = [
        "HelmRepository/portal",
        "HelmRelease/portal",
        "OCIRepository/extension",
        "HelmRelease/extension",
        "Repository/extension",
        "Component/extension",
        "Resource/extension",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(
        changes.created, expected,
        "upstream's names, and nothing for the adopted component"
    );
    for (kind, name) in [
        (HELM_RELEASE, "api"),
        (OCI_REPOSITORY, "api"),
        (HELM_REPOSITORY, "portal"),
        (OCM_REPOSITORY, "extension"),
        (OCM_COMPONENT, "extension"),
    ] {
        let object = takeover::api(&client, kind, NS).get(name).await?;
        let labels = object.metadata.labels.unwrap_or_default();
        assert_eq!(
            labels.get(OWNER_LABEL).map(String::as_str),
            Some("cowboys"),
            "{} {name}",
            kind.1
        );
    }
    let resource = takeover::api(&client, OCM_RESOURCE, NS).get("extension").await?;
    let labels = resource.metadata.labels.unwrap_or_default();
    assert_eq!(
        (labels.get("artifact"), labels.get("repo")),
        (Some(&"chart".into()), Some(&"oci".into()))
    );
    assert!(
        resource.data["spec"].get("interval").is_none(),
        "upstream sets no interval on the Resource"
    );

    // A second ManagedProvider naming a component the same way does not take the first one's objects.
    create(
        &mps,
        managed_provider(
            "indians",
            json!([{"flux": {"type": "oci", "registry": "ghcr.io/other", "chart": "x/api", "version": "9.9.9"}}]),
        ),
    )
    .await?;
    let events = scenario
        .wait_for("managedprovider", "DeploySubroutine", "False")
        .await?;
    let message = events
        .iter()
        .rev()
        .find(|e| e.change.type_ == "DeploySubroutine" && e.change.status == "False")
        .map(|e| e.change.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("belongs to ManagedProvider cowboys") && message.contains("ManagedProvider indians"),
        "{message}"
    );
    let repo = takeover::api(&client, OCI_REPOSITORY, NS).get("api").await?;
    assert_eq!(repo.data["spec"]["url"], "oci://ghcr.io/pm/charts/api");
    scenario.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_depends_on_entry_removed_from_the_profile_reaches_the_cluster_and_the_next_pass_writes_nothing()
-> anyhow::Result<()> {
    let files = [
        "namespace.yaml",
        "ocm.yaml",
        "kcp.yaml",
        "profile.yaml",
        "platformmesh.yaml",
    ];
    let mut platform = start(&repo_root(), samples(&files)?).await?;
    platform
        .wait_for("Ready", "True", Duration::from_secs(120))
        .await?;
    let depends_on = |release: &kube::api::DynamicObject| -> Vec<String> {
        release.data["spec"]["dependsOn"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect()
    };
    let infra = platform.helm_releases().get("infra").await?;
    assert_eq!(depends_on(&infra), ["keycloak-operator", "cnpg-operator"]);

    let configmaps =
        kube::Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(platform.client.clone(), NS);
    let profile = configmaps.get("platform-mesh-profile").await?;
    let text = profile
        .data
        .as_ref()
        .and_then(|d| d.get("profile.yaml"))
        .context("profile.yaml")?;
    // The first `- name: cnpg-operator` entry is the `infra` service's dependsOn; drop it and its namespace line.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "- name: cnpg-operator")
        .context("the sample profile lists cnpg-operator under infra's dependsOn")?;
    anyhow::ensure!(
        lines
            .get(at + 1)
            .is_some_and(|l| l.trim() == "namespace: platform-mesh-system")
    );
    let shrunk: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at && *i != at + 1)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    configmaps
        .patch(
            "platform-mesh-profile",
            &PatchParams::default(),
            &Patch::Merge(&json!({"data": {"profile.yaml": shrunk}})),
        )
        .await?;
    let releases = platform.helm_releases();
    wait::until(
        "the removed dependsOn entry to leave the HelmRelease",
        PATIENCE,
        || async {
            let infra = releases.get("infra").await?;
            Ok((depends_on(&infra) == ["keycloak-operator"]).then_some(()))
        },
    )
    .await?;

    // The passes after it write nothing. The Resource controller writes image tags into the HelmReleases once
    // they change (and so takes ownership of them); the next pass takes that ownership back without changing a
    // value (force apply, as upstream). Touching the profile's annotations (the test's one write) starts a pass.
    let server = &platform.server;
    let reads = |s: &apiserver::RequestStats| s.by_resource.get("configmaps").copied().unwrap_or(0);
    let mut last = (0, Vec::new());
    for touch in ["1", "2"] {
        platform.settle(Duration::from_millis(1500)).await?;
        let before = server.requests().snapshot();
        configmaps
            .patch(
                "platform-mesh-profile",
                &PatchParams::default(),
                &Patch::Merge(&json!({"metadata": {"annotations": {"e2e/touch": touch}}})),
            )
            .await?;
        wait::until(
            "the operator reading the profile again",
            Duration::from_secs(10),
            || async { Ok((reads(&server.requests().snapshot()) > reads(&before) + 1).then_some(())) },
        )
        .await?;
        platform.settle(Duration::from_millis(1500)).await?;
        let after = server.requests().snapshot();
        let changed: Vec<(String, u64)> = after
            .changed_by_resource
            .iter()
            .map(|(r, n)| {
                (
                    r.clone(),
                    n - before.changed_by_resource.get(r).copied().unwrap_or(0),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        println!(
            "pass {touch} after the shrink: {} writes, changed {changed:?}",
            after.writes - before.writes
        );
        last = (after.changed_writes - before.changed_writes, changed);
    }
    assert_eq!(
        last.0, 1,
        "only the test's own touch changes anything: {:?}",
        last.1
    );
    assert_eq!(
        depends_on(&releases.get("infra").await?),
        ["keycloak-operator"],
        "the shrink stays"
    );
    platform.shutdown().await
}
