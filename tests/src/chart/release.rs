//! The operator as an installed release starts it: the installed Deployment's arguments, the release's
//! ServiceAccount (a TokenRequest token; the embedded server enforces the installed RBAC), with the paths of this
//! machine instead of the image's. Shared by the chart scenarios that install through our renderer and through Helm.

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::Parser as _;
use kube::Client;
use platform_mesh_operator::{
    cli::{Cli, Command},
    clusters::KcpAdmin,
    config::{OperatorConfig, default_plugins_dir},
    controller::{ProgressEvent, operator::OperatorClients},
};
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::mpsc::UnboundedReceiver;

use super::{NAMESPACE, deployment_args, identity, str_at};
use crate::platform::repo_root;

/// How long an installed operator may take to bring the sample PlatformMesh to Ready.
const READY_WITHIN: Duration = Duration::from_secs(120);

/// What the operator of an installed release runs with.
pub struct ReleaseOperator {
    /// The configuration parsed from the Deployment's arguments.
    pub config: OperatorConfig,
    /// Runtime and infra as the ServiceAccount; kcp through the admin Secret the kcp-operator writes.
    pub clients: OperatorClients,
    /// The ServiceAccount's requests and the RBAC's answers.
    pub access: identity::AccessLog,
    /// The name of the release's ServiceAccount (in [`NAMESPACE`]).
    pub service_account: String,
    /// The compiled-plugin cache, removed on drop.
    _cache: TempDir,
}

/// The operator of the release whose installed `objects` are given, against the server at `server_url`.
pub async fn operator(
    admin: &Client,
    server_url: &str,
    objects: &[(String, Value)],
) -> anyhow::Result<ReleaseOperator> {
    let (_, service_account) = objects
        .iter()
        .find(|(_, o)| o["kind"] == "ServiceAccount")
        .context("the release has a ServiceAccount")?;
    let service_account = str_at(service_account, "/metadata/name").to_owned();
    let (client, access) =
        identity::service_account_client(admin, server_url, NAMESPACE, &service_account).await?;
    let argv = std::iter::once("platform-mesh-operator".to_owned()).chain(deployment_args(objects)?);
    let Command::Run(run) = Cli::try_parse_from(argv)?.command else {
        bail!("the Deployment does not start `run`")
    };
    let mut config = run.config;
    let cache = tempfile::tempdir()?;
    config.workspace_dir = repo_root();
    config.plugins.plugins_dir = default_plugins_dir();
    config.plugins.plugin_cache_dir = Some(cache.path().to_owned());
    config.kcp.kcp_url = server_url.to_owned();
    // The embedded platform runs no istio, and the operator runs in no pod (as in `run --embedded`).
    config.subroutines.subroutines_deployment_enable_istio = false;
    let clients = OperatorClients {
        runtime: client.clone(),
        infra: client,
        kcp_admin: KcpAdmin::Secret {
            namespace: config.kcp.kcp_namespace.clone(),
            name: config.kcp.kcp_cluster_admin_secret_name.clone(),
            url: config.kcp.base_url(),
        },
    };
    Ok(ReleaseOperator {
        config,
        clients,
        access,
        service_account,
        _cache: cache,
    })
}

/// Waits until a PlatformMesh turns Ready, printing each condition change; then fails if the installed RBAC
/// denied any request on the way (each printed, naming the rule the chart lacks).
pub async fn until_ready(
    events: &mut UnboundedReceiver<ProgressEvent>,
    access: &identity::AccessLog,
) -> anyhow::Result<()> {
    let ready = async {
        while let Some(event) = events.recv().await {
            let change = &event.change;
            println!(
                "{} {} {} {}",
                change.type_, change.status, change.reason, change.message
            );
            if change.type_ == "Ready" && change.status == "True" {
                return Ok(());
            }
        }
        bail!("the operator stopped")
    };
    let reached = tokio::time::timeout(READY_WITHIN, ready).await;
    report_denials(access)?;
    reached.context("PlatformMesh Ready")?
}

/// Fails if the installed RBAC denied any request of the operator, printing each (each names a rule the chart
/// lacks).
pub fn report_denials(access: &identity::AccessLog) -> anyhow::Result<()> {
    let denied = access.denied();
    for (request, code) in &denied {
        println!("DENIED {code}: {request}");
    }
    ensure!(
        denied.is_empty(),
        "the installed RBAC denied {} distinct requests of the operator (listed above)",
        denied.len()
    );
    Ok(())
}
