//! Upstream's `providersecret_test.go` inventory (spec §10.5) against the embedded API server: the real wasm
//! provider-secret plugin alone in the chain, kcp seeded directly (the `core.platform-mesh.io` APIExport in
//! `root:platform-mesh-system`), failures injected with the server's fault rules. Each case runs reconcile passes
//! outside the controller and reads the `ProvidersecretSubroutine` condition.

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use apiserver::{FaultAction, FaultRule, Server, Verb, sim::SimConfig};
use e2e::{
    api::{apply, dynamic},
    kcp::{client_from_secret, platform_meshes},
    operator::{self, Passes},
    platform::{self, NS, PM, PMS, repo_root},
    wait,
};
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api,
    api::{Patch, PatchParams},
};
use serde_json::{Value, json};

/// The server with CRDs, the namespace, optionally the kcp-operator objects (and so the kcp admin Secrets), and
/// the core APIExport in kcp.
async fn platform(kcp_operator: bool) -> anyhow::Result<Server> {
    let server = platform::server(SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml"]).await?;
    if kcp_operator {
        platform::kcp_operator_objects(&client).await?;
        let secrets: Api<Secret> = Api::namespaced(client.clone(), NS);
        for name in ["kcp-cluster-admin-client-cert", "kubeconfig-kcp-admin", "root-ca"] {
            let what = format!("the simulated kcp-operator to create {name}");
            wait::until(&what, Duration::from_secs(10), || async {
                Ok(secrets.get_opt(name).await?.map(|_| ()))
            })
            .await?;
        }
    }
    let exports = dynamic(
        &server.kcp_client(PMS),
        "apis.kcp.io/v1alpha1",
        "APIExport",
        "apiexports",
        None,
    );
    let export = json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport",
                        "metadata": {"name": "core.platform-mesh.io"},
                        "spec": {"latestResourceSchemas": ["v260109-82344be.accounts.core.platform-mesh.io"],
                                 "permissionClaims": [{"group": "", "resource": "secrets", "all": true}]}});
    apply(&exports, export).await?;
    Ok(server)
}

/// Creates the PlatformMesh with `spec` and runs passes with only provider-secret until one gets past adding
/// finalizers; returns the `ProvidersecretSubroutine` condition.
async fn reconcile(server: &Server, spec: Value) -> anyhow::Result<Value> {
    let pm = json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
                    "metadata": {"name": PM, "namespace": NS}, "spec": spec});
    apply(&platform_meshes(server), pm).await?;
    let config = operator::config(
        server,
        &repo_root(),
        &[
            "--subroutines-deployment-enabled=false",
            "--subroutines-kcp-setup-enabled=false",
            "--subroutines-feature-toggles-enabled=false",
            "--subroutines-wait-enabled=false",
        ],
    )?;
    let passes = Passes::new(&config, &operator::clients(server)?, &server.client()).await?;
    for _ in 0..3 {
        let report = passes.reconcile(NS, PM).await;
        if !report.added_finalizers {
            let pm = platform_meshes(server).get(PM).await?;
            let conditions = pm.data["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            return conditions
                .into_iter()
                .find(|c| c["type"] == "ProvidersecretSubroutine")
                .context("the ProvidersecretSubroutine condition");
        }
    }
    bail!("the passes kept adding finalizers")
}

fn expect(condition: &Value, status: &str, reason: &str, text: &str) -> anyhow::Result<()> {
    let message = condition["message"].as_str().unwrap_or_default();
    ensure!(
        condition["status"] == status && condition["reason"] == reason && message.contains(text),
        "expected {status}/{reason} containing {text:?}, got {condition}"
    );
    Ok(())
}

fn admin(secret: &str, path: &str) -> Value {
    json!({"secret": secret, "path": path, "adminAuth": true})
}

#[tokio::test]
async fn root_shard_not_available_stops_with_requeue() -> anyhow::Result<()> {
    let server = platform(false).await?;
    let condition = reconcile(&server, json!({})).await?;
    expect(&condition, "False", "Stopped", "RootShard is not ready")?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn every_default_as_admin_and_an_external_extra_get_their_urls() -> anyhow::Result<()> {
    let server = platform(true).await?;
    let mut connections: Vec<Value> = [
        ("account-operator-kubeconfig", PMS, ""),
        (
            "virtual-workspace-clusteraccess-kubeconfig",
            "",
            "/services/marketplace",
        ),
        (
            "portal-kubeconfig",
            "root:orgs",
            "/services/contentconfigurations",
        ),
        ("security-initializer-kubeconfig", "root", ""),
    ]
    .into_iter()
    .map(|(secret, path, raw)| json!({"secret": secret, "path": path, "rawPath": raw, "adminAuth": true}))
    .collect();
    connections.push(
        json!({"secret": "extra1-kubeconfig", "path": PMS, "external": true, "adminAuth": true,
                            "namespace": "default"}),
    );
    let spec = json!({"exposure": {"baseDomain": "example.com", "port": 8443},
                      "kcp": {"providerConnections": connections}});
    expect(&reconcile(&server, spec).await?, "True", "Complete", "")?;
    let base = server.url();
    for (namespace, secret, url) in [
        (
            NS,
            "account-operator-kubeconfig",
            format!("{base}/clusters/{PMS}"),
        ),
        (
            NS,
            "virtual-workspace-clusteraccess-kubeconfig",
            format!("{base}/services/marketplace"),
        ),
        (
            NS,
            "portal-kubeconfig",
            format!("{base}/services/contentconfigurations"),
        ),
        (
            NS,
            "security-initializer-kubeconfig",
            format!("{base}/clusters/root"),
        ),
        (
            "default",
            "extra1-kubeconfig",
            "https://kcp.api.example.com:8443/clusters/root:platform-mesh-system".to_owned(),
        ),
    ] {
        let (_, server_url) = client_from_secret(&server, namespace, secret).await?;
        ensure!(
            server_url.trim_end_matches('/') == url,
            "{secret}: {server_url} != {url}"
        );
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unreadable_cluster_admin_secret_fails_building_the_kubeconfig() -> anyhow::Result<()> {
    let server = platform(true).await?;
    server.faults().add(
        FaultRule::new(FaultAction::Error {
            code: 500,
            message: None,
            retry_after_seconds: None,
        })
        .verb(Verb::Get)
        .path_prefix(format!(
            "/api/v1/namespaces/{NS}/secrets/kcp-cluster-admin-client-cert"
        )),
    );
    let condition = reconcile(
        &server,
        json!({"kcp": {"providerConnections": [admin("a", PMS)]}}),
    )
    .await?;
    expect(
        &condition,
        "False",
        "Error",
        "Failed to build kubeconfig: reading secret",
    )?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn failing_secret_write_is_an_error() -> anyhow::Result<()> {
    let server = platform(true).await?;
    server.faults().add(
        FaultRule::new(FaultAction::Error {
            code: 500,
            message: None,
            retry_after_seconds: None,
        })
        .verb(Verb::Create)
        .resource("secrets"),
    );
    let condition = reconcile(
        &server,
        json!({"kcp": {"providerConnections": [admin("a", PMS)]}}),
    )
    .await?;
    expect(
        &condition,
        "False",
        "Error",
        "provider secret a: creating secret platform-mesh-system/a",
    )?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn unreachable_kcp_is_an_error() -> anyhow::Result<()> {
    let server = platform(true).await?;
    server.faults().add(
        FaultRule::new(FaultAction::Error {
            code: 500,
            message: None,
            retry_after_seconds: None,
        })
        .resource("apiexportendpointslices.apis.kcp.io"),
    );
    let spec = json!({"kcp": {"providerConnections": [
        {"secret": "a", "path": PMS, "endpointSliceName": "core.platform-mesh.io", "adminAuth": true}]}});
    let condition = reconcile(&server, spec).await?;
    expect(
        &condition,
        "False",
        "Error",
        "getting APIExportEndpointSlice core.platform-mesh.io",
    )?;
    server.shutdown().await;
    Ok(())
}

/// Creates an endpoint slice for an export that does not exist, so the simulated kcp never fills its endpoints.
async fn orphan_slice(server: &Server, url: Option<&str>) -> anyhow::Result<()> {
    let slices = dynamic(
        &server.kcp_client(PMS),
        "apis.kcp.io/v1alpha1",
        "APIExportEndpointSlice",
        "apiexportendpointslices",
        None,
    );
    let slice = json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExportEndpointSlice",
                       "metadata": {"name": "orphan"}, "spec": {"export": {"name": "missing", "path": PMS}}});
    apply(&slices, slice).await?;
    if let Some(url) = url {
        let status = json!({"status": {"apiExportEndpoints": [{"url": url}]}});
        slices
            .patch_status("orphan", &PatchParams::default(), &Patch::Merge(&status))
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn slice_without_endpoints_is_pending_in_both_modes() -> anyhow::Result<()> {
    let server = platform(true).await?;
    orphan_slice(&server, None).await?;
    let spec = json!({"kcp": {"providerConnections": [
        {"secret": "admin-waits", "path": PMS, "endpointSliceName": "orphan", "adminAuth": true},
        {"secret": "scoped-waits", "path": PMS, "endpointSliceName": "orphan"},
        admin("written", PMS)]}});
    let condition = reconcile(&server, spec).await?;
    expect(
        &condition,
        "Unknown",
        "Pending",
        "secret admin-waits: no endpoints",
    )?;
    expect(
        &condition,
        "Unknown",
        "Pending",
        "secret scoped-waits: no endpoints",
    )?;
    client_from_secret(&server, NS, "written")
        .await
        .context("the other connection is written")?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn invalid_endpoint_url_is_an_error() -> anyhow::Result<()> {
    let server = platform(true).await?;
    orphan_slice(&server, Some("not a url")).await?;
    let spec = json!({"kcp": {"providerConnections": [
        {"secret": "a", "path": PMS, "endpointSliceName": "orphan", "adminAuth": true}]}});
    expect(
        &reconcile(&server, spec).await?,
        "False",
        "Error",
        "invalid endpoint URL \"not a url\"",
    )?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn scoped_export_name_connection_gets_a_working_token() -> anyhow::Result<()> {
    let server = platform(true).await?;
    let spec = json!({"kcp": {"providerConnections": [
        {"secret": "scoped", "path": PMS, "apiExportName": "core.platform-mesh.io"}]}});
    expect(&reconcile(&server, spec).await?, "True", "Complete", "")?;
    let (client, url) = client_from_secret(&server, NS, "scoped").await?;
    ensure!(
        url.trim_end_matches('/') == format!("{}/clusters/{PMS}", server.url()),
        "{url}"
    );
    let secrets: Api<Secret> = Api::all(client.clone());
    secrets
        .list(&Default::default())
        .await
        .context("claimed secrets")?;
    let config_maps: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::all(client);
    match config_maps.list(&Default::default()).await {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => bail!("configmaps must be forbidden, got {other:?}"),
    }
    server.shutdown().await;
    Ok(())
}
