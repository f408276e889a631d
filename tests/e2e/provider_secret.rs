//! End to end: the operator with the real wasm kcp-setup, provider-secret, feature-toggles and wait plugins
//! against the embedded API server. After the sample PlatformMesh is Ready, every default provider kubeconfig
//! Secret exists; the admin ones reach the logical cluster they name with the kcp admin credentials, and a scoped
//! one reaches its workspace with a ServiceAccount token that the server's RBAC limits to the rules derived from
//! the `core.platform-mesh.io` APIExport: forbidden outside them and in other workspaces. A second reconcile of the
//! unchanged PlatformMesh writes nothing (the token is reused). A scoped connection without a slice or export name
//! is refused by the CRD, and one whose name is only whitespace is reported in the condition.

use anyhow::{Context as _, ensure};
use e2e::{
    api::dynamic,
    kcp::{client_from_secret, client_from_secret_at, config, platform, platform_meshes},
    operator::{Operator, Passes, Want},
    platform::{NS, PM, PMS},
    wait,
};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{
    Api,
    api::{ListParams, Patch, PatchParams},
};
use serde_json::json;

const ADMIN_SECRETS: [&str; 9] = [
    "account-operator-kubeconfig",
    "security-operator-kubeconfig",
    "kubernetes-graphql-gateway-kubeconfig",
    "virtual-workspace-clusteraccess-kubeconfig",
    "portal-kubeconfig",
    "security-initializer-kubeconfig",
    "security-terminator-kubeconfig",
    "virtual-workspaces-kubeconfig",
    "init-agent-kubeconfig",
];
const SCOPED_SECRETS: [&str; 3] = [
    "rebac-authz-webhook-kubeconfig",
    "extension-manager-operator-kubeconfig",
    "iam-service-kubeconfig",
];

fn status_code(error: kube::Error) -> (u16, String) {
    match error {
        kube::Error::Api(s) => (s.code, s.message),
        other => (0, other.to_string()),
    }
}

#[tokio::test]
async fn sample_platform_mesh_writes_kubeconfigs_that_reach_the_right_workspace() -> anyhow::Result<()> {
    let server = platform().await?;
    let (config, clients) = config(&server)?;
    // One more scoped connection, through the core export's endpoint slice (its virtual workspace).
    let extra = json!({"spec": {"kcp": {"extraProviderConnections": [
        {"secret": "vw-kubeconfig", "path": PMS, "endpointSliceName": "core.platform-mesh.io"}]}}});
    platform_meshes(&server)
        .patch(PM, &PatchParams::default(), &Patch::Merge(&extra))
        .await?;
    let mut operator = Operator::spawn(&config, &clients);
    operator.until(Want::condition("Ready", "True")).await?;
    operator.stop().await?;

    for name in ADMIN_SECRETS.iter().chain(&SCOPED_SECRETS) {
        client_from_secret(&server, NS, name)
            .await
            .with_context(|| format!("{name} is a usable kubeconfig"))?;
    }

    // Admin: the kcp admin credentials, at root:platform-mesh-system, where the core APIExport lives.
    let (admin, url) = client_from_secret(&server, NS, "account-operator-kubeconfig").await?;
    ensure!(url == format!("{}/clusters/{PMS}", server.url()), "{url}");
    let exports = dynamic(&admin, "apis.kcp.io/v1alpha1", "APIExport", "apiexports", None);
    let names: Vec<String> = exports
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter_map(|e| e.metadata.name)
        .collect();
    ensure!(names.iter().any(|n| n == "core.platform-mesh.io"), "{names:?}");
    let secrets: Api<Secret> = Api::all(admin);
    secrets
        .list(&ListParams::default())
        .await
        .context("admin may read everything")?;
    // Another admin secret reaches root, where the workspaces are.
    let (root, _) = client_from_secret(&server, NS, "security-initializer-kubeconfig").await?;
    let workspaces = dynamic(&root, "tenancy.kcp.io/v1alpha1", "Workspace", "workspaces", None);
    workspaces
        .get("platform-mesh-system")
        .await
        .context("root sees its workspaces")?;

    // Scoped: a token for platform-mesh-provider-rebac-authz-webhook-kubeconfig in root:platform-mesh-system.
    let (scoped, url) = client_from_secret(&server, NS, "rebac-authz-webhook-kubeconfig").await?;
    ensure!(url == format!("{}/clusters/{PMS}", server.url()), "{url}");
    let accounts = dynamic(
        &scoped,
        "core.platform-mesh.io/v1alpha1",
        "Account",
        "accounts",
        None,
    );
    accounts
        .list(&ListParams::default())
        .await
        .context("exported resources are allowed")?;
    let claimed: Api<Secret> = Api::all(scoped.clone());
    claimed
        .list(&ListParams::default())
        .await
        .context("claimed secrets are allowed")?;
    let bindings = dynamic(&scoped, "apis.kcp.io/v1alpha1", "APIBinding", "apibindings", None);
    bindings
        .list(&ListParams::default())
        .await
        .context("apibindings may be read")?;
    let config_maps: Api<ConfigMap> = Api::namespaced(scoped.clone(), "default");
    let (code, message) = status_code(config_maps.list(&ListParams::default()).await.unwrap_err());
    ensure!(code == 403, "configmaps are outside the rules: {code} {message}");
    ensure!(
        message
            .contains("system:serviceaccount:default:platform-mesh-provider-rebac-authz-webhook-kubeconfig")
    );
    // The export claims apibindings, apiexports and secrets; nothing else is granted.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(scoped.clone());
    let (code, _) = status_code(namespaces.list(&ListParams::default()).await.unwrap_err());
    ensure!(code == 403, "namespaces are outside the rules: {code}");
    let roles = dynamic(
        &scoped,
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        "clusterroles",
        None,
    );
    let (code, _) = status_code(roles.list(&ListParams::default()).await.unwrap_err());
    ensure!(code == 403, "the ServiceAccount cannot read RBAC: {code}");
    // The same token in another workspace is refused.
    let token_config = {
        let secrets: Api<Secret> = Api::namespaced(server.client(), NS);
        let data = secrets
            .get("rebac-authz-webhook-kubeconfig")
            .await?
            .data
            .unwrap_or_default();
        let text = String::from_utf8(data["kubeconfig"].0.clone())?;
        text.replace(&format!("/clusters/{PMS}"), "/clusters/root:orgs")
    };
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&token_config)?;
    let elsewhere =
        kube::Client::try_from(kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?)?;
    let (code, message) = status_code(
        Api::<Secret>::all(elsewhere)
            .list(&ListParams::default())
            .await
            .unwrap_err(),
    );
    ensure!(
        code == 403 && message.contains("cannot access logical cluster"),
        "{code} {message}"
    );

    // Scoped through the slice: the virtual workspace URL, where an Account can be created in a cluster that
    // binds the export (root:platform-mesh-system itself).
    let (_, url) = client_from_secret(&server, NS, "vw-kubeconfig").await?;
    ensure!(url.contains("/services/apiexport/"), "{url}");
    let cluster = server.logical_cluster(PMS);
    let (vw, _) =
        client_from_secret_at(&server, NS, "vw-kubeconfig", &format!("/clusters/{cluster}")).await?;
    let accounts = dynamic(&vw, "core.platform-mesh.io/v1alpha1", "Account", "accounts", None);
    let account = json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "Account",
                         "metadata": {"name": "created-through-the-virtual-workspace"},
                         "spec": {"type": "account", "displayName": "Created through the virtual workspace"}});
    accounts
        .create(&Default::default(), &serde_json::from_value(account)?)
        .await
        .context("creating an Account through the virtual workspace")?;
    dynamic(
        &server.kcp_client(PMS),
        "core.platform-mesh.io/v1alpha1",
        "Account",
        "accounts",
        None,
    )
    .get("created-through-the-virtual-workspace")
    .await
    .context("the Account landed in root:platform-mesh-system")?;

    // Own finalizers only; the shared upstream one is gone.
    let pm = platform_meshes(&server).get(PM).await?;
    let finalizers = pm.metadata.finalizers.clone().unwrap_or_default();
    for own in [
        "platform-mesh.core.platform-mesh.io/provider-secret",
        "platform-mesh.core.platform-mesh.io/feature-toggles",
    ] {
        ensure!(finalizers.iter().any(|f| f == own), "{finalizers:?}");
    }
    ensure!(
        !finalizers
            .iter()
            .any(|f| f == "platform-mesh.core.platform-mesh.io/finalizer")
    );

    // A second reconcile of the unchanged PlatformMesh writes nothing: tokens are reused, Secrets compared.
    wait::quiet(&server).await?;
    server.requests().reset();
    let report = Passes::new(&config, &clients, &server.client())
        .await?
        .reconcile(NS, PM)
        .await;
    ensure!(report.error.is_none(), "{:?}", report.error);
    let stats = server.requests().snapshot();
    println!("second reconcile: {stats:?}");
    ensure!(
        stats.by_resource.get("secrets").copied().unwrap_or(0) >= 12,
        "{stats:?}"
    );
    ensure!(stats.writes == 0 && stats.changed_writes == 0, "{stats:?}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn scoped_connection_without_slice_or_export_is_rejected_with_a_clear_message() -> anyhow::Result<()> {
    let server = platform().await?;
    let (config, clients) = config(&server)?;
    let pms = platform_meshes(&server);

    // Neither name: the CRD's validation refuses the object.
    let neither = json!({"spec": {"kcp": {"extraProviderConnections": [{"secret": "x", "path": PMS}]}}});
    let refused = pms
        .patch(PM, &PatchParams::default(), &Patch::Merge(&neither))
        .await
        .expect_err("the CRD refuses a scoped connection without slice or export");
    let (code, message) = status_code(refused);
    ensure!(
        code == 422 && message.contains("exactly one of endpointSliceName or apiExportName"),
        "{message}"
    );

    // A name of blanks passes the schema; the subroutine names the connection and writes nothing.
    let blank = json!({"spec": {"kcp": {"extraProviderConnections": [
        {"secret": "blank-kubeconfig", "path": PMS, "apiExportName": " "}]}}});
    pms.patch(PM, &PatchParams::default(), &Patch::Merge(&blank))
        .await?;
    let mut operator = Operator::spawn(&config, &clients);
    let message = operator
        .message(
            Want::condition("ProvidersecretSubroutine", "False").containing("invalid provider connection"),
        )
        .await?;
    operator.stop().await?;
    ensure!(
        message
            == "invalid provider connection: spec.kcp.extraProviderConnections[0] (secret \"blank-kubeconfig\"): \
                scoped kubeconfig requires endpointSliceName or apiExportName",
        "{message}"
    );
    let secrets: Api<Secret> = Api::namespaced(server.client(), NS);
    ensure!(
        secrets.get_opt("account-operator-kubeconfig").await?.is_none(),
        "nothing half-applied"
    );
    server.shutdown().await;
    Ok(())
}
