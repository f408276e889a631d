//! The kcp scenarios' platform (kcp-setup, provider secrets, feature toggles): the embedded server with the sample
//! namespace and PlatformMesh and what the deployment subroutine would have left for the kcp subroutines
//! (RootShard and FrontProxy, which the simulated kcp-operator makes Available together with the kcp admin
//! Secrets, and the webhook CA Secrets), and clients built from the kubeconfig Secrets the operator writes.

use anyhow::Context as _;
use apiserver::{Server, sim::SimConfig};
use kube::{Api, Client, api::DynamicObject};
use platform_mesh_operator::{config::OperatorConfig, controller::operator::OperatorClients};

use crate::{
    operator,
    platform::{self, NS, repo_root},
};

/// The server with the CRDs, the sample namespace and PlatformMesh, and the deployment subroutine's leftovers.
pub async fn platform() -> anyhow::Result<Server> {
    let server = platform::server(SimConfig::all()).await?;
    let client = server.client();
    platform::apply_samples(&client, &["namespace.yaml", "platformmesh.yaml"]).await?;
    platform::kcp_operator_objects(&client).await?;
    platform::webhook_ca_secrets(&client).await?;
    Ok(server)
}

/// Everything but the deployment subroutine, feature toggles switched on.
pub fn config(server: &Server) -> anyhow::Result<(OperatorConfig, OperatorClients)> {
    let config = operator::config(
        server,
        &repo_root(),
        &[
            "--subroutines-deployment-enabled=false",
            "--subroutines-feature-toggles-enabled=true",
        ],
    )?;
    Ok((config, operator::clients(server)?))
}

/// The PlatformMeshes of the sample namespace.
pub fn platform_meshes(server: &Server) -> Api<DynamicObject> {
    platform::platform_meshes(&server.client(), Some(NS))
}

/// A client built from the kubeconfig in Secret `namespace/name` (key `kubeconfig`), as a provider would.
pub async fn client_from_secret(
    server: &Server,
    namespace: &str,
    name: &str,
) -> anyhow::Result<(Client, String)> {
    client_from_secret_at(server, namespace, name, "").await
}

/// Like [`client_from_secret`], with `suffix` appended to the kubeconfig's server URL (e.g. `/clusters/<name>`
/// below a virtual workspace URL).
pub async fn client_from_secret_at(
    server: &Server,
    namespace: &str,
    name: &str,
    suffix: &str,
) -> anyhow::Result<(Client, String)> {
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::namespaced(server.client(), namespace);
    let secret = secrets
        .get(name)
        .await
        .with_context(|| format!("secret {namespace}/{name}"))?;
    let data = secret.data.unwrap_or_default();
    let text = data
        .get("kubeconfig")
        .with_context(|| format!("secret {namespace}/{name} has no kubeconfig"))?;
    let text = String::from_utf8(text.0.clone())?;
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&text)?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default()).await?;
    if !suffix.is_empty() {
        let url = format!("{}{suffix}", config.cluster_url.to_string().trim_end_matches('/'));
        config.cluster_url = url.parse()?;
    }
    let server_url = config.cluster_url.to_string();
    Ok((Client::try_from(config)?, server_url))
}
