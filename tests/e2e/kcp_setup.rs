//! End to end: the operator with the real wasm `kcp-setup` and `wait` plugins against the embedded API server and
//! its simulated kcp. The sample PlatformMesh (`deploy/samples/platformmesh.yaml`) turns Ready; kcp then holds the
//! workspaces of spec §6.2.1, all Ready, every APIBinding is Bound, the authentication configuration carries the
//! welcome client's audience, and `status.kcpWorkspaces` reports the observed phases. A further reconcile of the
//! unchanged PlatformMesh writes nothing at all (the server's request counters). A malformed manifest names its
//! file and line in the condition, and nothing of the tree reaches kcp.
//!
//! The deployment subroutine is switched off: the objects it would leave behind for kcp-setup (RootShard and
//! FrontProxy, which the simulated kcp-operator makes Available, and the webhook CA Secrets) are created directly.

use std::{path::Path, time::Duration};

use anyhow::{Context as _, ensure};
use apiserver::Server;
use e2e::{
    api::{apply, dynamic},
    kcp,
    operator::{self, Operator, Passes, Want},
    platform::{NS, PM, copy_dir, repo_root},
    wait,
};
use kube::{
    Api,
    api::{DynamicObject, Patch, PatchParams},
};
use platform_mesh_operator::{config::OperatorConfig, controller::operator::OperatorClients};
use serde_json::json;

/// The embedded server with the operator's CRDs, the sample namespace and PlatformMesh, and what the deployment
/// subroutine would have installed before kcp-setup runs.
async fn platform() -> anyhow::Result<Server> {
    let server = kcp::platform().await?;
    // An object written by an older operator still carries the finalizer KcpSetup and ProviderSecret shared.
    let legacy = json!({"metadata": {"finalizers": ["platform-mesh.core.platform-mesh.io/finalizer"]}});
    kcp::platform_meshes(&server)
        .patch(PM, &PatchParams::default(), &Patch::Merge(&legacy))
        .await?;
    Ok(server)
}

/// The operator configuration: kcp-setup and wait only, manifests from `workspace_dir`.
fn config(server: &Server, workspace_dir: &Path) -> anyhow::Result<(OperatorConfig, OperatorClients)> {
    let config = operator::config(
        server,
        workspace_dir,
        &[
            "--subroutines-deployment-enabled=false",
            "--subroutines-provider-secret-enabled=false",
            "--subroutines-feature-toggles-enabled=false",
        ],
    )?;
    Ok((config, operator::clients(server)?))
}

/// One condition change: type, status, reason, message.
type Seen = (String, String, String, String);

/// Runs the operator until `type_` turns `status` (with a message containing `text`, if given), then stops it;
/// returns every change seen, the awaited one last. An operator that ends early reports its error.
async fn run_until(
    config: &OperatorConfig,
    clients: &OperatorClients,
    type_: &str,
    status: &str,
    text: Option<&str>,
) -> anyhow::Result<Vec<Seen>> {
    let mut operator = Operator::spawn(config, clients);
    let mut want = Want::condition(type_, status).within(Duration::from_secs(90));
    want.text = text;
    // An operator that ended early reports its own error, which explains more than the closed channel.
    let seen = operator.until(want).await?;
    operator.stop().await?;
    Ok(seen
        .into_iter()
        .map(|e| (e.change.type_, e.change.status, e.change.reason, e.change.message))
        .collect())
}

fn kcp(server: &Server, path: &str, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    dynamic(&server.kcp_client(path), api_version, kind, plural, None)
}

fn phase(object: &DynamicObject) -> String {
    object.data["status"]["phase"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sample_platform_mesh_sets_up_kcp_and_a_second_reconcile_writes_nothing() -> anyhow::Result<()> {
    let server = platform().await?;
    let (config, clients) = config(&server, &repo_root())?;
    let seen = run_until(&config, &clients, "Ready", "True", None).await?;
    // A fresh install converges by waiting and requeueing: kcp-setup never fails on the way.
    let errors: Vec<&Seen> = seen
        .iter()
        .filter(|c| c.0 == "KcpsetupSubroutine" && c.2 == "Error")
        .collect();
    ensure!(errors.is_empty(), "{errors:?}");

    // The workspaces of spec §6.2.1, Ready, looked up in their parents.
    let workspace = ("tenancy.kcp.io/v1alpha1", "Workspace");
    for (parent, name) in [
        ("root", "platform-mesh-system"),
        ("root", "providers"),
        ("root", "orgs"),
        ("root:providers", "system"),
    ] {
        let ws = kcp(&server, parent, workspace.0, workspace.1, "workspaces")
            .get(name)
            .await
            .with_context(|| format!("{parent}:{name}"))?;
        ensure!(phase(&ws) == "Ready", "{parent}:{name} is {}", phase(&ws));
    }
    // Every APIBinding in them is Bound: the shipped ones and those the workspace types add.
    let binding = ("apis.kcp.io/v1alpha1", "APIBinding");
    let mut bound = Vec::new();
    for path in [
        "root:platform-mesh-system",
        "root:orgs",
        "root:providers",
        "root:providers:system",
    ] {
        for b in kcp(&server, path, binding.0, binding.1, "apibindings")
            .list(&Default::default())
            .await?
        {
            ensure!(
                phase(&b) == "Bound",
                "APIBinding {path}:{} is {}",
                b.metadata.name.clone().unwrap_or_default(),
                phase(&b)
            );
            bound.push(format!("{path}:{}", b.metadata.name.unwrap_or_default()));
        }
    }
    for expected in [
        "root:platform-mesh-system:core.platform-mesh.io",
        "root:platform-mesh-system:system.platform-mesh.io",
    ] {
        ensure!(
            bound.iter().any(|b| b == expected),
            "{expected} missing from {bound:?}"
        );
    }
    // Objects served through the bindings arrived.
    let content = kcp(
        &server,
        "root:platform-mesh-system",
        "ui.platform-mesh.io/v1alpha1",
        "ContentConfiguration",
        "contentconfigurations",
    );
    ensure!(
        content.list(&Default::default()).await?.items.len() == 9,
        "the nine ContentConfigurations"
    );
    kcp(
        &server,
        "root:orgs",
        "core.platform-mesh.io/v1alpha1",
        "Store",
        "stores",
    )
    .get("orgs")
    .await?;
    // The audience comes from the welcome client the simulated security-operator created.
    let wac = kcp(
        &server,
        "root",
        "tenancy.kcp.io/v1alpha1",
        "WorkspaceAuthenticationConfiguration",
        "workspaceauthenticationconfigurations",
    )
    .get("orgs-authentication")
    .await?;
    ensure!(
        wac.data["spec"]["jwt"][0]["issuer"]["audiences"] == json!(["welcome", "welcome-kubectl"]),
        "{:?}",
        wac.data["spec"]
    );
    ensure!(
        wac.data["spec"]["jwt"][0]["claimValidationRules"].is_array(),
        "the sample disables email verification"
    );

    let platform_meshes = dynamic(
        &server.client(),
        "core.platform-mesh.io/v1alpha1",
        "PlatformMesh",
        "platformmeshes",
        Some(NS),
    );
    let pm = platform_meshes.get(PM).await?;
    let reported = &pm.data["status"]["kcpWorkspaces"];
    ensure!(
        *reported
            == json!([{"name": "root:orgs", "phase": "Ready"}, {"name": "root:platform-mesh-system", "phase": "Ready"},
                      {"name": "root:providers", "phase": "Ready"}, {"name": "root:providers:system", "phase": "Ready"}]),
        "{reported}"
    );
    let finalizers = pm.metadata.finalizers.clone().unwrap_or_default();
    ensure!(
        finalizers == ["platform-mesh.core.platform-mesh.io/kcp-setup"],
        "{finalizers:?}"
    );

    // A second reconcile of the unchanged PlatformMesh writes nothing, to kcp or anywhere else.
    wait::quiet(&server).await?;
    server.requests().reset();
    let passes = Passes::new(&config, &clients, &server.client()).await?;
    let report = passes.reconcile(NS, PM).await;
    ensure!(report.error.is_none(), "{:?}", report.error);
    let stats = server.requests().snapshot();
    println!("second reconcile: {stats:?}");
    ensure!(stats.reads > 40, "the pass compared the kcp objects: {stats:?}");
    ensure!(stats.writes == 0 && stats.changed_writes == 0, "{stats:?}");

    // A rotated webhook CA reaches kcp on the next pass; an extra workspace is created in its parent.
    let secrets = dynamic(&server.client(), "v1", "Secret", "secrets", Some(NS));
    apply(
        &secrets,
        json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "account-operator-webhook-server-cert", "namespace": NS},
        "stringData": {"ca.crt": "rotated CA"}}),
    )
    .await?;
    let extra = json!({"spec": {"kcp": {"extraWorkspaces": [
        {"path": "root:orgs:acme", "type": {"name": "org", "path": "root"}}]}}});
    platform_meshes
        .patch(PM, &PatchParams::default(), &Patch::Merge(&extra))
        .await?;
    let mut count = 0;
    let acme = loop {
        count += 1;
        let report = passes.reconcile(NS, PM).await;
        ensure!(report.error.is_none(), "{:?}", report.error);
        let pm = platform_meshes.get(PM).await?;
        let listed = pm.data["status"]["kcpWorkspaces"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(acme) = listed
            .iter()
            .find(|w| w["name"] == "root:orgs:acme" && w["phase"] == "Ready")
        {
            break acme.clone();
        }
        ensure!(count < 20, "root:orgs:acme never reported Ready: {listed:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    println!("extra workspace {acme} after {count} passes");
    let webhook = kcp(
        &server,
        "root:platform-mesh-system",
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    )
    .get("account-operator.webhooks.core.platform-mesh.io")
    .await?;
    let rotated = webhook.data["webhooks"][0]["clientConfig"]["caBundle"].clone();
    ensure!(
        rotated == json!("cm90YXRlZCBDQQ=="),
        "caBundle is base64 of the rotated CA: {rotated}"
    );

    shipped_schemas_serve_what_other_components_write(&server).await?;

    // Deletion: kcp-setup's finalize runs (cleaning nothing up, like upstream) and releases its finalizer.
    platform_meshes.delete(PM, &Default::default()).await?;
    let report = passes.reconcile(NS, PM).await;
    ensure!(report.error.is_none() && report.gone, "{report:?}");
    ensure!(
        platform_meshes.get_opt(PM).await?.is_none(),
        "the PlatformMesh is gone"
    );
    server.shutdown().await;
    Ok(())
}

/// A fresh workspace directory holding a copy of the source tree's `manifests/kcp`.
fn copy_manifests() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    copy_dir(
        &repo_root().join("manifests/kcp"),
        &dir.path().join("manifests/kcp"),
    )?;
    Ok(dir)
}

#[tokio::test]
async fn malformed_manifest_names_file_and_line_and_nothing_reaches_kcp() -> anyhow::Result<()> {
    let workspace = copy_manifests()?;
    let workspace_dir = workspace.path();
    let broken = "manifests/kcp/01-platform-mesh-system/apiexport-system.platform-mesh.io.yaml";
    std::fs::write(
        workspace_dir.join(broken),
        "apiVersion: apis.kcp.io/v1alpha1\nkind: APIExport\nmetadata:\n  name: {{ nosuchfunc }}\nspec: {}\n",
    )?;
    let server = platform().await?;
    let (config, clients) = config(&server, workspace_dir)?;
    let seen = run_until(
        &config,
        &clients,
        "KcpsetupSubroutine",
        "False",
        Some("Failed to render"),
    )
    .await?;
    let message = seen.last().map(|c| c.3.clone()).unwrap_or_default();
    ensure!(message.contains(&format!("{broken} at line 4")), "{message}");
    // Not even the files before the broken one were applied.
    let types = kcp(
        &server,
        "root",
        "tenancy.kcp.io/v1alpha1",
        "WorkspaceType",
        "workspacetypes",
    );
    ensure!(
        types.list(&Default::default()).await?.items.is_empty(),
        "nothing applied"
    );
    let workspaces = kcp(
        &server,
        "root",
        "tenancy.kcp.io/v1alpha1",
        "Workspace",
        "workspaces",
    );
    ensure!(
        workspaces.list(&Default::default()).await?.items.is_empty(),
        "nothing applied"
    );
    server.shutdown().await;
    Ok(())
}

/// The shipped schemas, served through the bindings of `root:orgs`, accept and validate what the other
/// platform-mesh components write: an Account (refused without `displayName`), an IdentityProviderConfiguration
/// whose clients carry `redirectUris` (a client with only the old `validRedirectUris` is refused), and a Store
/// with the shipped FGA model.
async fn shipped_schemas_serve_what_other_components_write(server: &Server) -> anyhow::Result<()> {
    let core = "core.platform-mesh.io/v1alpha1";
    let object = |kind: &str, name: &str, spec: serde_json::Value| json!({"apiVersion": core, "kind": kind, "metadata": {"name": name}, "spec": spec});
    let accounts = kcp(server, "root:orgs", core, "Account", "accounts");
    apply(
        &accounts,
        object("Account", "e2e-org", json!({"type": "org", "displayName": "E2E"})),
    )
    .await?;
    let bare = apply(&accounts, object("Account", "e2e-bare", json!({"type": "org"}))).await;
    ensure!(bare.is_err(), "an Account without displayName is refused");

    let ipcs = kcp(
        server,
        "root:orgs",
        core,
        "IdentityProviderConfiguration",
        "identityproviderconfigurations",
    );
    let client = json!({"clientName": "e2e", "clientType": "public", "redirectUris": ["https://e2e.example/callback*"],
                        "postLogoutRedirectUris": ["https://e2e.example/logout*"]});
    apply(
        &ipcs,
        object(
            "IdentityProviderConfiguration",
            "e2e",
            json!({"clients": [client]}),
        ),
    )
    .await?;
    let stored = ipcs.get("e2e").await?;
    ensure!(
        stored.data["spec"]["clients"][0] == client,
        "{:?}",
        stored.data["spec"]
    );
    let old = json!({"clients": [{"clientName": "old", "clientType": "public", "validRedirectUris": ["https://e2e.example/*"]}]});
    let refused = apply(&ipcs, object("IdentityProviderConfiguration", "e2e-old", old)).await;
    ensure!(refused.is_err(), "a client without redirectUris is refused");

    let stores = kcp(server, "root:orgs", core, "Store", "stores");
    let shipped = stores.get("orgs").await?;
    let model = shipped.data["spec"]["coreModule"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure!(
        model.contains("define create_core_platform-mesh_io_accounts: member"),
        "{model}"
    );
    let tuples = json!([{"object": "role:e2e", "relation": "assignee", "user": "user:*"}]);
    apply(
        &stores,
        object("Store", "e2e", json!({"coreModule": model, "tuples": tuples})),
    )
    .await?;
    ensure!(
        stores.get("e2e").await?.data["spec"]["tuples"] == tuples,
        "the Store with the model is stored"
    );
    Ok(())
}
