//! How the engine reads and writes the reconciled object: get, metadata merge patch, status merge patch. The
//! production implementation is [`KubeStore`] (any kind, through `Api<DynamicObject>`); tests may use their own.

use std::future::Future;

use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, Patch, PatchParams},
};
use serde_json::Value;

/// Identity of a reconciled object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// Namespace; `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// A namespaced key.
    pub fn namespaced(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectKey {
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    /// A cluster-scoped key.
    pub fn cluster(name: impl Into<String>) -> Self {
        ObjectKey {
            namespace: None,
            name: name.into(),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The write lost an optimistic-concurrency race (HTTP 409); retry soon.
    #[error("conflict writing the object")]
    Conflict(#[source] kube::Error),
    /// Any other API error.
    #[error(transparent)]
    Api(kube::Error),
    /// The object could not be converted to or from JSON.
    #[error("converting the object")]
    Json(#[source] serde_json::Error),
}

impl StoreError {
    /// Whether this is an optimistic-concurrency conflict.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }

    /// Whether retrying soon may succeed: a conflict, a server error (5xx), throttling (429) that outlasted
    /// the client's own retries, or a transport failure. Not: 4xx answers about the request itself.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Conflict(_) => true,
            StoreError::Api(error) => crate::errors::is_transient(error),
            StoreError::Json(_) => false,
        }
    }
}

impl From<kube::Error> for StoreError {
    fn from(error: kube::Error) -> Self {
        match &error {
            kube::Error::Api(status) if status.code == 409 => StoreError::Conflict(error),
            _ => StoreError::Api(error),
        }
    }
}

/// Reads and writes objects of one kind.
pub trait ObjectStore: Send + Sync {
    /// The object as JSON, or `None` if it does not exist.
    fn get(&self, key: &ObjectKey) -> impl Future<Output = Result<Option<Value>, StoreError>> + Send;

    /// Applies a JSON merge patch to the object (main resource) and returns the stored object.
    fn patch(&self, key: &ObjectKey, patch: &Value)
    -> impl Future<Output = Result<Value, StoreError>> + Send;

    /// Applies a JSON merge patch to the object's status subresource.
    fn patch_status(
        &self,
        key: &ObjectKey,
        patch: &Value,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An [`ObjectStore`] over a Kubernetes API server.
#[derive(Clone)]
pub struct KubeStore {
    client: Client,
    resource: ApiResource,
}

impl KubeStore {
    /// A store for objects of `resource` reached through `client`.
    pub fn new(client: Client, resource: ApiResource) -> Self {
        KubeStore { client, resource }
    }

    fn api(&self, key: &ObjectKey) -> Api<DynamicObject> {
        match &key.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &self.resource),
            None => Api::all_with(self.client.clone(), &self.resource),
        }
    }
}

impl ObjectStore for KubeStore {
    async fn get(&self, key: &ObjectKey) -> Result<Option<Value>, StoreError> {
        match self.api(key).get_opt(&key.name).await? {
            Some(object) => serde_json::to_value(object).map(Some).map_err(StoreError::Json),
            None => Ok(None),
        }
    }

    async fn patch(&self, key: &ObjectKey, patch: &Value) -> Result<Value, StoreError> {
        let stored = self
            .api(key)
            .patch(&key.name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        serde_json::to_value(stored).map_err(StoreError::Json)
    }

    async fn patch_status(&self, key: &ObjectKey, patch: &Value) -> Result<(), StoreError> {
        self.api(key)
            .patch_status(&key.name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
        Ok(())
    }
}
