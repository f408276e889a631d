//! The clients of the clusters plugins talk to: runtime, infra, and one client per kcp workspace path, plus a
//! discovery cache per target (GVK → API resource and scope).
//!
//! kcp workspace clients follow upstream spec §2.8: the admin configuration comes either ready-made (tests, the
//! embedded API server) or from the cluster-admin Secret in the runtime cluster (read lazily on first use, since
//! kcp usually does not exist when the operator starts); the server URL keeps only scheme and host and gets the
//! path `/clusters/<workspace path>`.
//!
//! The admin configuration follows its Secret: it is read again when older than [`KCP_ADMIN_MAX_AGE`], and on
//! [`Clusters::refresh_kcp_admin`] (the host calls it once per plugin call that reaches kcp, so every pass sees
//! the current Secret); when the Secret's resourceVersion changed, the configuration is rebuilt and every
//! workspace client made from the old one is dropped. A rotated client certificate or kcp CA is thus picked up
//! by the next pass, without a restart.
//!
//! Kubeconfigs from Secrets (remote clusters, the admin Secret's `kubeconfig` key) are untrusted and checked by
//! [`kubeconfig`] before any client is built. Every cache here is bounded ([`bounded`]): its keys come from
//! plugins.

mod bounded;
pub mod kubeconfig;
#[cfg(test)]
pub(crate) mod rotation_tests;

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use kube::{
    Api, Client, Config,
    core::{ApiResource, GroupVersionKind},
    discovery::{Scope, pinned_kind},
};

pub use self::bounded::BoundedMap;
use crate::target::{KubeconfigRef, Target};

/// How long a kcp admin configuration read from its Secret is used without reading the Secret again, for
/// callers that do not ask for a refresh themselves (the Provider controller's event publisher and bootstrap).
pub const KCP_ADMIN_MAX_AGE: Duration = Duration::from_secs(30);
/// At most this many kcp workspace clients are kept (least recently used first out).
pub const MAX_KCP_CLIENTS: usize = 256;
/// At most this many clients of remote clusters (kubeconfig Secrets) are kept.
pub const MAX_REMOTE_CLIENTS: usize = 64;
/// At most this many discovered kinds (per target and kind) are kept.
pub const MAX_DISCOVERED_KINDS: usize = 2048;

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
    #[error("Secret {namespace}/{name}: {reason}")]
    Kubeconfig {
        namespace: String,
        name: String,
        reason: kubeconfig::Refused,
    },
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
    kcp_config: tokio::sync::Mutex<KcpAdminState>,
    /// Workspace clients with the generation of the admin configuration they were made from.
    kcp_clients: Mutex<BoundedMap<String, (u64, Client)>>,
    /// Remote clients with the resourceVersion of the Secret they were built from.
    remote_clients: Mutex<BoundedMap<KubeconfigRef, (String, Client)>>,
    discovery: Mutex<BoundedMap<(String, GroupVersionKind), (ApiResource, bool)>>,
}

/// The admin configuration in use, the Secret version it came from and when that was last compared.
#[derive(Default)]
struct KcpAdminState {
    config: Option<Config>,
    version: Option<String>,
    checked: Option<Instant>,
    /// Counts rebuilds; workspace clients of an older generation are not used again.
    generation: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update under these locks is a single insert or removal, so a poisoned lock is still consistent.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
            kcp_config: tokio::sync::Mutex::new(KcpAdminState::default()),
            kcp_clients: Mutex::new(BoundedMap::new(MAX_KCP_CLIENTS)),
            remote_clients: Mutex::new(BoundedMap::new(MAX_REMOTE_CLIENTS)),
            discovery: Mutex::new(BoundedMap::new(MAX_DISCOVERED_KINDS)),
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
        if let Some((seen, client)) = lock(&self.remote_clients).get(secret)
            && seen == version
        {
            return Ok(client);
        }
        let text = stored
            .data
            .as_ref()
            .and_then(|d| d.get(&secret.key))
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| failed("the key is missing or empty".into()))?;
        let kubeconfig = kubeconfig::parse_untrusted(&text).map_err(|e| failed(e.to_string()))?;
        let config = kubeconfig::config_of(kubeconfig)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let client = Client::try_from(config).map_err(|e| failed(format!("building a client: {e}")))?;
        lock(&self.remote_clients).insert(secret.clone(), (version, client.clone()));
        Ok(client)
    }

    async fn kcp_client(&self, path: &str) -> Result<Client, ClusterError> {
        let (mut config, generation) = self.kcp_admin_state(KCP_ADMIN_MAX_AGE).await?;
        if let Some((made_from, client)) = lock(&self.kcp_clients).get(&path.to_owned())
            && made_from == generation
        {
            return Ok(client);
        }
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
        lock(&self.kcp_clients).insert(path.to_owned(), (generation, client.clone()));
        Ok(client)
    }

    /// The admin configuration, read again from its Secret when older than [`KCP_ADMIN_MAX_AGE`]. Failures are
    /// retried on the next call.
    pub async fn kcp_admin_config(&self) -> Result<Config, ClusterError> {
        Ok(self.kcp_admin_state(KCP_ADMIN_MAX_AGE).await?.0)
    }

    /// The admin configuration with its generation, which grows each time the configuration is rebuilt from a
    /// changed Secret; holders of long-lived clients (the Provider controller's virtual-workspace watch, its
    /// event publishers) rebuild them when it moves. Read again from the Secret when older than `max_age`.
    pub async fn kcp_admin_generation(&self, max_age: Duration) -> Result<(Config, u64), ClusterError> {
        self.kcp_admin_state(max_age).await
    }

    /// Compares the admin Secret with the one the configuration was built from now, and rebuilds the
    /// configuration (dropping the workspace clients) if it changed.
    pub async fn refresh_kcp_admin(&self) -> Result<(), ClusterError> {
        self.kcp_admin_state(Duration::ZERO).await.map(|_| ())
    }

    async fn kcp_admin_state(&self, max_age: Duration) -> Result<(Config, u64), ClusterError> {
        let mut state = self.kcp_config.lock().await;
        let (namespace, name, url) = match &self.kcp_admin {
            KcpAdmin::Config(config) => {
                if state.config.is_none() {
                    state.config = Some((**config).clone());
                }
                return Ok(((**config).clone(), state.generation));
            }
            KcpAdmin::Secret { namespace, name, url } => (namespace, name, url),
        };
        if let (Some(config), Some(checked)) = (state.config.as_ref(), state.checked)
            && checked.elapsed() < max_age
        {
            return Ok((config.clone(), state.generation));
        }
        let read = Api::<Secret>::namespaced(self.runtime.clone(), namespace)
            .get(name)
            .await;
        let secret = match (read, state.config.clone()) {
            (Ok(secret), _) => secret,
            // A passing API error keeps the configuration in use; a Secret that is gone does not.
            (Err(kube::Error::Api(status)), Some(_)) if status.code == 404 => {
                state.config = None;
                return Err(read_error(namespace, name, kube::Error::Api(status)));
            }
            (Err(error), Some(config)) => {
                let error = chain(&error);
                tracing::warn!(secret = %format!("{namespace}/{name}"), %error,
                    "reading the kcp admin Secret; the configuration read before stays in use");
                return Ok((config, state.generation));
            }
            (Err(error), None) => return Err(read_error(namespace, name, error)),
        };
        let version = secret.metadata.resource_version.clone();
        if let Some(config) = state.config.clone()
            && version.is_some()
            && state.version == version
        {
            state.checked = Some(Instant::now());
            return Ok((config, state.generation));
        }
        let config = admin_config_from_secret(secret, namespace, name, url)
            .await
            .map_err(ClusterError::KcpAdmin)?;
        if state.config.is_some() {
            tracing::info!(secret = %format!("{namespace}/{name}"),
                "the kcp admin Secret changed; kcp clients are rebuilt from it");
        }
        state.generation += 1;
        state.config = Some(config.clone());
        state.version = version;
        state.checked = Some(Instant::now());
        lock(&self.kcp_clients).retain(|_| false);
        Ok((config, state.generation))
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
        if let Some(found) = lock(&self.discovery).get(&key) {
            return Ok(found);
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
        lock(&self.discovery).insert(key, resolved.clone());
        Ok(resolved)
    }
}

/// An error with its causes, `outer: inner`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn read_error(namespace: &str, name: &str, source: kube::Error) -> ClusterError {
    ClusterError::KcpAdmin(KcpAdminError::Read {
        namespace: namespace.into(),
        name: name.into(),
        source,
    })
}

/// Spec §2.8: a `kubeconfig` key wins (every cluster's server replaced by `url`); otherwise `ca.crt`, `tls.crt`
/// and `tls.key` make up a client-certificate configuration. The kubeconfig is held to the rules of every
/// kubeconfig from a Secret: inline data only.
async fn admin_config_from_secret(
    secret: Secret,
    namespace: &str,
    name: &str,
    url: &str,
) -> Result<Config, KcpAdminError> {
    let data = secret.data.unwrap_or_default();
    if data.is_empty() {
        return Err(KcpAdminError::NoData {
            namespace: namespace.into(),
            name: name.into(),
        });
    }
    let refused = |reason| KcpAdminError::Kubeconfig {
        namespace: namespace.into(),
        name: name.into(),
        reason,
    };
    let value = |key: &str| data.get(key).map(|b| b.0.clone()).filter(|b| !b.is_empty());
    let kubeconfig = match value("kubeconfig") {
        Some(text) => {
            let mut kubeconfig =
                kubeconfig::parse_untrusted(&String::from_utf8_lossy(&text)).map_err(refused)?;
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
            kubeconfig::parse_untrusted(&yaml.to_string()).map_err(refused)?
        }
    };
    kubeconfig::config_of(kubeconfig).await.map_err(refused)
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
