//! The host side of the WIT imports: what a plugin call may ask of the operator.
//!
//! - [`HostServices`]: the process-wide services (clusters, image versions, workspace), built once by the CLI.
//! - [`HostCall`]: the per-call view a plugin's store holds: the services plus the plugin's name, the object's
//!   key (for logs) and the plugin's [`Permissions`], checked before every cluster call.
//!
//! The generated import traits are implemented on `HostCall` in one module per interface.

mod cluster;
mod errors;
mod image_versions;
mod log;
mod permissions;
pub mod retry;
#[cfg(test)]
mod security_tests;
mod templates;
#[cfg(test)]
mod tests;
mod validate;

use std::{
    path::PathBuf,
    sync::{Arc, atomic::AtomicBool},
};

pub use cluster::{LIST_PAGE, MAX_LIST_BYTES};
pub use errors::MAX_REMOTE_MESSAGE;
pub use image_versions::{ImageVersion, ImageVersionStore};
pub use log::{MAX_LOG_FIELDS, MAX_LOG_TEXT};
pub use permissions::{Access, IMAGE_VERSIONS, Permissions, Rule, StoreVerb, Verb, glob_match};
pub use templates::MAX_YAML_BYTES;

use crate::{
    clusters::Clusters,
    wit::image_versions::{self as image_versions_wit, ImageVersion as WitImageVersion},
};

/// The process-wide services plugins reach through their imports.
pub struct HostServices {
    /// Runtime, infra and kcp clients.
    pub clusters: Arc<Clusters>,
    /// The image version store shared by all plugins (upstream spec §4.7).
    pub image_versions: Arc<ImageVersionStore>,
    /// The operator's workspace directory (`--workspace-dir`): templates are read relative to it, and plugins see
    /// it read-only at `/workspace`.
    pub workspace_dir: PathBuf,
}

/// The imports' state for one plugin call.
pub struct HostCall {
    services: Arc<HostServices>,
    plugin: Arc<str>,
    object_key: String,
    permissions: Arc<Permissions>,
    /// Whether this call has compared the kcp admin Secret with the kcp clients' credentials yet.
    kcp_refreshed: AtomicBool,
}

impl HostCall {
    /// State for a call of `plugin` on the object `object_key` (`namespace/name`).
    pub fn new(
        services: Arc<HostServices>,
        plugin: Arc<str>,
        object_key: String,
        permissions: Arc<Permissions>,
    ) -> Self {
        HostCall {
            services,
            plugin,
            object_key,
            permissions,
            kcp_refreshed: AtomicBool::new(false),
        }
    }

    /// The plugin's name.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }
}

impl crate::wit::types::Host for HostCall {}

/// The image-versions imports trap when refused: their WIT signatures have no error, and a plugin calling
/// without permission or beyond the store's bounds is broken, not unlucky.
impl image_versions_wit::Host for HostCall {
    async fn set(&mut self, namespace: String, name: String, entry: WitImageVersion) -> wasmtime::Result<()> {
        self.store_access(StoreVerb::Set, &namespace, &name)?;
        self.services
            .image_versions
            .set(&namespace, &name, &entry.path, &entry.version)
            .map_err(|e| self.refused(e))
    }

    async fn get(&mut self, namespace: String, name: String) -> wasmtime::Result<Vec<WitImageVersion>> {
        self.store_access(StoreVerb::Get, &namespace, &name)?;
        let entries = self.services.image_versions.get(&namespace, &name);
        Ok(entries
            .into_iter()
            .map(|e| WitImageVersion {
                path: e.path,
                version: e.version,
            })
            .collect())
    }

    async fn set_unsuspended(&mut self, namespace: String, name: String) -> wasmtime::Result<()> {
        self.store_access(StoreVerb::Set, &namespace, &name)?;
        self.services.image_versions.set_unsuspended(&namespace, &name);
        Ok(())
    }

    async fn is_unsuspended(&mut self, namespace: String, name: String) -> wasmtime::Result<bool> {
        self.store_access(StoreVerb::Get, &namespace, &name)?;
        Ok(self.services.image_versions.is_unsuspended(&namespace, &name))
    }
}

impl HostCall {
    /// The trap message; the plugin call names the plugin when it reports the trap.
    fn refused(&self, message: String) -> wasmtime::Error {
        wasmtime::Error::msg(format!("image-versions: {message}"))
    }

    /// Permission for `verb` on the release, whose namespace and name must be Kubernetes names.
    fn store_access(&self, verb: StoreVerb, namespace: &str, name: &str) -> wasmtime::Result<()> {
        validate::namespace(namespace)
            .and_then(|()| validate::name(name))
            .and_then(|()| self.permissions.check_store(verb, namespace))
            .map_err(|e| self.refused(e))
    }
}
