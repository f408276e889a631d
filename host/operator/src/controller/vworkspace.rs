//! Reaching Provider objects through the `providers.platform-mesh.io` APIExport virtual workspace (spec §2.6):
//! the endpoint slice's URL, per-cluster clients under it, and the [`ObjectStore`] the lifecycle engine reads
//! and writes Providers with.
//!
//! A Provider is cluster-scoped inside its logical cluster, so two workspaces may hold Providers of the same
//! name. The controller therefore keys a Provider by `(logical cluster, name)`, carrying the cluster in
//! [`ObjectKey::namespace`]; this store turns such a key into `<slice url>/clusters/<cluster>/.../<name>`.

use std::{collections::HashMap, sync::Mutex};

use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, Patch, PatchParams},
    core::GroupVersionKind,
};
use serde_json::Value;

use crate::{
    clusters::{ClusterError, Clusters},
    lifecycle::{ObjectKey, ObjectStore, StoreError, Target},
};

/// Why the virtual workspace could not be reached yet.
#[derive(Debug, thiserror::Error)]
pub enum VirtualWorkspaceError {
    /// No kcp client for the slice's workspace (kcp or its admin secret missing).
    #[error("reaching kcp workspace {workspace}")]
    Kcp {
        /// The workspace.
        workspace: String,
        /// The cause.
        #[source]
        source: Box<ClusterError>,
    },
    /// Reading the endpoint slice failed.
    #[error("reading APIExportEndpointSlice {workspace}:{name}")]
    Slice {
        /// The workspace.
        workspace: String,
        /// The slice.
        name: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// The slice does not exist or publishes no endpoint yet.
    #[error("APIExportEndpointSlice {workspace}:{name} has no endpoint yet")]
    NoEndpoint {
        /// The workspace.
        workspace: String,
        /// The slice.
        name: String,
    },
    /// A client for the virtual workspace could not be built.
    #[error("building a client for {url}")]
    Client {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `providers.platform-mesh.io/v1alpha1` Provider.
pub fn provider_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("providers.platform-mesh.io", "v1alpha1", "Provider"),
        "providers",
    )
}

fn slice_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apis.kcp.io", "v1alpha1", "APIExportEndpointSlice"),
        "apiexportendpointslices",
    )
}

/// The URL of endpoint slice `name` in kcp workspace `workspace` (its first `status.apiExportEndpoints`).
pub async fn endpoint_url(
    clusters: &Clusters,
    workspace: &str,
    name: &str,
) -> Result<String, VirtualWorkspaceError> {
    let client = clusters
        .client(&Target::Kcp(workspace.to_owned()))
        .await
        .map_err(|source| VirtualWorkspaceError::Kcp {
            workspace: workspace.to_owned(),
            source: Box::new(source),
        })?;
    let slices: Api<DynamicObject> = Api::all_with(client, &slice_resource());
    let slice = slices
        .get_opt(name)
        .await
        .map_err(|source| VirtualWorkspaceError::Slice {
            workspace: workspace.to_owned(),
            name: name.to_owned(),
            source,
        })?;
    slice
        .as_ref()
        .and_then(|s| s.data.pointer("/status/apiExportEndpoints/0/url"))
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/').to_owned())
        .ok_or_else(|| VirtualWorkspaceError::NoEndpoint {
            workspace: workspace.to_owned(),
            name: name.to_owned(),
        })
}

/// Clients under one virtual workspace URL: `/clusters/*` for watching, `/clusters/<cluster>` per object.
pub struct VirtualWorkspace {
    url: String,
    admin: kube::Config,
    clients: Mutex<HashMap<String, Client>>,
}

impl VirtualWorkspace {
    /// Clients for `url` with the kcp admin credentials of `admin`.
    pub fn new(url: String, admin: kube::Config) -> Self {
        VirtualWorkspace {
            url,
            admin,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The virtual workspace URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client for `/clusters/<cluster>` (`*` for all bound clusters), cached.
    pub fn client(&self, cluster: &str) -> Result<Client, VirtualWorkspaceError> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(cluster) {
            return Ok(client.clone());
        }
        let url = format!("{}/clusters/{cluster}", self.url);
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| VirtualWorkspaceError::Client {
            url: url.clone(),
            source,
        };
        let mut config = self.admin.clone();
        config.cluster_url = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| failed(Box::new(e)))?;
        let client = Client::try_from(config).map_err(|e| failed(Box::new(e)))?;
        clients.insert(cluster.to_owned(), client.clone());
        Ok(client)
    }

    fn api(&self, key: &ObjectKey) -> Result<Api<DynamicObject>, StoreError> {
        let cluster = key.namespace.as_deref().unwrap_or_default();
        let client = self
            .client(cluster)
            .map_err(|e| StoreError::Api(kube::Error::Service(Box::new(e))))?;
        Ok(Api::all_with(client, &provider_resource()))
    }
}

impl ObjectStore for VirtualWorkspace {
    async fn get(&self, key: &ObjectKey) -> Result<Option<Value>, StoreError> {
        match self.api(key)?.get_opt(&key.name).await? {
            Some(object) => serde_json::to_value(object).map(Some).map_err(StoreError::Json),
            None => Ok(None),
        }
    }

    async fn patch(&self, key: &ObjectKey, patch: &Value) -> Result<Value, StoreError> {
        let stored = self
            .api(key)?
            .patch(&key.name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        serde_json::to_value(stored).map_err(StoreError::Json)
    }

    async fn patch_status(&self, key: &ObjectKey, patch: &Value) -> Result<(), StoreError> {
        self.api(key)?
            .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        Ok(())
    }
}
