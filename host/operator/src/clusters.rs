//! The clients of the clusters plugins talk to: runtime, infra, and one client per kcp workspace path, plus a
//! discovery cache per target (GVK → API resource and scope).
//!
//! kcp workspace clients follow upstream spec §2.8: the admin configuration comes either ready-made (tests, the
//! embedded API server) or from the cluster-admin Secret in the runtime cluster (read lazily on first use, since
//! kcp usually does not exist when the operator starts); the server URL keeps only scheme and host and gets the
//! path `/clusters/<workspace path>`.

use std::{collections::HashMap, sync::Mutex};

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
    core::{ApiResource, GroupVersionKind},
    discovery::{Scope, pinned_kind},
};

use crate::lifecycle::{KubeconfigRef, Target};

/// Why a client or a kind could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kind is not served (discovery answered 404).
    #[error("{kind} in {api_version} is not served by the {target} cluster")]
    UnknownKind {
        target: String,
        api_version: String,
        kind: String,
    },
    /// Discovery failed for another reason.
    #[error("discovering {kind} in {api_version} on the {target} cluster")]
    Discovery {
        target: String,
        api_version: String,
        kind: String,
        #[source]
        source: kube::Error,
    },
    /// The kcp admin configuration could not be built.
    #[error("building the kcp admin configuration")]
    KcpAdmin(#[source] KcpAdminError),
    /// The kubeconfig Secret of a remote cluster could not be read or used.
    #[error("using the kubeconfig in Secret {namespace}/{name} (key {key}): {reason}")]
    RemoteKubeconfig {
        namespace: String,
        name: String,
        key: String,
        reason: String,
    },
    /// A workspace client could not be created.
    #[error("creating a client for kcp workspace {path}")]
    KcpClient {
        path: String,
        #[source]
        source: kube::Error,
    },
}

/// Why the kcp admin configuration could not be built from its Secret.
#[derive(Debug, thiserror::Error)]
pub enum KcpAdminError {
    #[error("reading Secret {namespace}/{name}")]
    Read {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("Secret {namespace}/{name} has no data")]
    NoData { namespace: String, name: String },
    #[error("Secret {namespace}/{name} has neither a kubeconfig nor a {key} key")]
    MissingKey {
        namespace: String,
        name: String,
        key: &'static str,
    },
    #[error("parsing the admin kubeconfig")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    #[error("invalid kcp URL {url:?}")]
    Url { url: String },
}

/// Where the kcp admin configuration comes from.
#[derive(Clone)]
pub enum KcpAdmin {
    /// A ready configuration; its server's scheme and host are used.
    Config(Box<Config>),
    /// Upstream's cluster-admin Secret in the runtime cluster, with the kcp base URL to talk to (`--kcp-url` or
    /// `https://<front-proxy>-front-proxy.<kcp-namespace>:<port>`).
    Secret {
        namespace: String,
        name: String,
        url: String,
    },
}

/// Runtime, infra and kcp clients with their discovery caches. Cheap to share behind an `Arc`.
pub struct Clusters {
    runtime: Client,
    infra: Client,
    kcp_admin: KcpAdmin,
    kcp_config: tokio::sync::Mutex<Option<Config>>,
    kcp_clients: Mutex<HashMap<String, Client>>,
    /// Remote clients with the resourceVersion of the Secret they were built from.
    remote_clients: Mutex<HashMap<KubeconfigRef, (String, Client)>>,
    discovery: Mutex<HashMap<(String, GroupVersionKind), (ApiResource, bool)>>,
}

fn target_key(target: &Target) -> String {
    match target {
        Target::Runtime => "runtime".into(),
        Target::Infra => "infra".into(),
        Target::Kcp(path) => format!("kcp:{path}"),
        Target::Remote(r) => format!("remote:{}/{}#{}", r.namespace, r.name, r.key),
    }
}

/// `scheme://host[:port]/clusters/<path>` from any server URL (its own path is discarded).
pub fn workspace_url(server: &http::Uri, path: &str) -> Option<http::Uri> {
    let scheme = server.scheme_str()?;
    let authority = server.authority()?;
    format!("{scheme}://{authority}/clusters/{path}").parse().ok()
}

impl Clusters {
    /// Clients for the runtime and infra clusters (often the same) and the source of the kcp admin config.
    pub fn new(runtime: Client, infra: Client, kcp_admin: KcpAdmin) -> Self {
        Clusters {
            runtime,
            infra,
            kcp_admin,
            kcp_config: tokio::sync::Mutex::new(None),
            kcp_clients: Mutex::new(HashMap::new()),
            remote_clients: Mutex::new(HashMap::new()),
            discovery: Mutex::new(HashMap::new()),
        }
    }

    /// The runtime cluster's client.
    pub fn runtime(&self) -> &Client {
        &self.runtime
    }

    /// The infra cluster's client.
    pub fn infra(&self) -> &Client {
        &self.infra
    }

    /// The client for `target`, creating (and caching) a kcp workspace client on first use.
    pub async fn client(&self, target: &Target) -> Result<Client, ClusterError> {
        match target {
            Target::Runtime => Ok(self.runtime.clone()),
            Target::Infra => Ok(self.infra.clone()),
            Target::Kcp(path) => self.kcp_client(path).await,
            Target::Remote(secret) => self.remote_client(secret).await,
        }
    }

    /// The client of a cluster whose kubeconfig is in a Secret of the runtime cluster, rebuilt only when the
    /// Secret changed (its resourceVersion), so reconciles do not build a client each time (spec §11.4 item 43).
    async fn remote_client(&self, secret: &KubeconfigRef) -> Result<Client, ClusterError> {
        let failed = |reason: String| ClusterError::RemoteKubeconfig {
            namespace: secret.namespace.clone(),
            name: secret.name.clone(),
            key: secret.key.clone(),
            reason,
        };
        let stored = Api::<Secret>::namespaced(self.runtime.clone(), &secret.namespace)
            .get_opt(&secret.name)
            .await
            .map_err(|e| failed(format!("reading the Secret: {e}")))?
            .ok_or_else(|| failed("the Secret does not exist".into()))?;
        let version = stored.metadata.resource_version.clone().unwrap_or_default();
        if let Some((seen, client)) = self
            .remote_clients
            .lock()
            .expect("remote client cache lock")
            .get(secret)
            && *seen == version
        {
            return Ok(client.clone());
        }
        let text = stored
            .data
            .as_ref()
            .and_then(|d| d.get(&secret.key))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| failed("the key is missing or empty".into()))?;
        let kubeconfig =
            Kubeconfig::from_yaml(&text).map_err(|e| failed(format!("parsing the kubeconfig: {e}")))?;
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| failed(format!("loading the kubeconfig: {e}")))?;
        let client = Client::try_from(config).map_err(|e| failed(format!("building a client: {e}")))?;
        self.remote_clients
            .lock()
            .expect("remote client cache lock")
            .insert(secret.clone(), (version, client.clone()));
        Ok(client)
    }

    async fn kcp_client(&self, path: &str) -> Result<Client, ClusterError> {
        if let Some(client) = self.kcp_clients.lock().expect("kcp client cache lock").get(path) {
            return Ok(client.clone());
        }
        let mut config = self.kcp_admin_config().await?;
        config.cluster_url = workspace_url(&config.cluster_url, path).ok_or_else(|| {
            ClusterError::KcpAdmin(KcpAdminError::Url {
                url: config.cluster_url.to_string(),
            })
        })?;
        let client = Client::try_from(config).map_err(|source| ClusterError::KcpClient {
            path: path.to_owned(),
            source,
        })?;
        let client = crate::metrics::instrument(client);
        self.kcp_clients
            .lock()
            .expect("kcp client cache lock")
            .insert(path.to_owned(), client.clone());
        Ok(client)
    }

    /// The admin configuration, read once successfully and then cached; failures are retried on the next call.
    pub async fn kcp_admin_config(&self) -> Result<Config, ClusterError> {
        let mut cached = self.kcp_config.lock().await;
        if let Some(config) = cached.as_ref() {
            return Ok(config.clone());
        }
        let config = match &self.kcp_admin {
            KcpAdmin::Config(config) => (**config).clone(),
            KcpAdmin::Secret { namespace, name, url } => {
                admin_config_from_secret(&self.runtime, namespace, name, url)
                    .await
                    .map_err(ClusterError::KcpAdmin)?
            }
        };
        *cached = Some(config.clone());
        Ok(config)
    }

    /// The API resource and whether it is namespaced. Found kinds are cached; a miss asks discovery again, so
    /// kinds of CRDs created later are found.
    pub async fn resolve(
        &self,
        target: &Target,
        client: &Client,
        gvk: &GroupVersionKind,
    ) -> Result<(ApiResource, bool), ClusterError> {
        let key = (target_key(target), gvk.clone());
        if let Some(found) = self.discovery.lock().expect("discovery cache lock").get(&key) {
            return Ok(found.clone());
        }
        let api_version = gvk.api_version();
        let resolved = match pinned_kind(client, gvk).await {
            Ok((resource, caps)) => (resource, caps.scope == Scope::Namespaced),
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(ClusterError::UnknownKind {
                    target: key.0,
                    api_version,
                    kind: gvk.kind.clone(),
                });
            }
            Err(kube::Error::Discovery(_)) => {
                return Err(ClusterError::UnknownKind {
                    target: key.0,
                    api_version,
                    kind: gvk.kind.clone(),
                });
            }
            Err(source) => {
                return Err(ClusterError::Discovery {
                    target: key.0,
                    api_version,
                    kind: gvk.kind.clone(),
                    source,
                });
            }
        };
        self.discovery
            .lock()
            .expect("discovery cache lock")
            .insert(key, resolved.clone());
        Ok(resolved)
    }
}

/// Spec §2.8: a `kubeconfig` key wins (every cluster's server replaced by `url`); otherwise `ca.crt`, `tls.crt`
/// and `tls.key` make up a client-certificate configuration.
async fn admin_config_from_secret(
    runtime: &Client,
    namespace: &str,
    name: &str,
    url: &str,
) -> Result<Config, KcpAdminError> {
    let secret = Api::<Secret>::namespaced(runtime.clone(), namespace)
        .get(name)
        .await
        .map_err(|source| KcpAdminError::Read {
            namespace: namespace.into(),
            name: name.into(),
            source,
        })?;
    let data = secret.data.unwrap_or_default();
    if data.is_empty() {
        return Err(KcpAdminError::NoData {
            namespace: namespace.into(),
            name: name.into(),
        });
    }
    let value = |key: &str| data.get(key).map(|b| b.0.clone()).filter(|b| !b.is_empty());
    let kubeconfig = match value("kubeconfig") {
        Some(text) => {
            let mut kubeconfig =
                Kubeconfig::from_yaml(&String::from_utf8_lossy(&text)).map_err(KcpAdminError::Kubeconfig)?;
            for cluster in &mut kubeconfig.clusters {
                if let Some(cluster) = cluster.cluster.as_mut() {
                    cluster.server = Some(url.to_owned());
                }
            }
            kubeconfig
        }
        None => {
            let missing = |key: &'static str| KcpAdminError::MissingKey {
                namespace: namespace.into(),
                name: name.into(),
                key,
            };
            let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(bytes);
            let ca = value("ca.crt").ok_or_else(|| missing("ca.crt"))?;
            let cert = value("tls.crt").ok_or_else(|| missing("tls.crt"))?;
            let key = value("tls.key").ok_or_else(|| missing("tls.key"))?;
            let yaml = serde_json::json!({
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "kcp", "cluster": {"server": url, "certificate-authority-data": b64(ca)}}],
                "users": [{"name": "admin", "user": {
                    "client-certificate-data": b64(cert), "client-key-data": b64(key)}}],
                "contexts": [{"name": "admin", "context": {"cluster": "kcp", "user": "admin"}}],
                "current-context": "admin",
            });
            // JSON is valid YAML, so the kubeconfig parser reads the synthesised document as is.
            Kubeconfig::from_yaml(&yaml.to_string()).map_err(KcpAdminError::Kubeconfig)?
        }
    };
    Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(KcpAdminError::Kubeconfig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_url_keeps_scheme_and_host_only() {
        let server: http::Uri = "https://kcp.example:8443/clusters/root:old".parse().unwrap();
        let url = workspace_url(&server, "root:platform-mesh-system").unwrap();
        assert_eq!(
            url.to_string(),
            "https://kcp.example:8443/clusters/root:platform-mesh-system"
        );
        let plain: http::Uri = "http://127.0.0.1:6443".parse().unwrap();
        assert_eq!(
            workspace_url(&plain, "root").unwrap().to_string(),
            "http://127.0.0.1:6443/clusters/root"
        );
    }
}
