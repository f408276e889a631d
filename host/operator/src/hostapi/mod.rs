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
mod templates;
#[cfg(test)]
mod tests;

use std::{path::PathBuf, sync::Arc};

pub use image_versions::{ImageVersion, ImageVersionStore};
pub use permissions::{Access, Permissions, Rule, Verb, glob_match};

use crate::{
    clusters::Clusters,
    plugin::bindings::image_versions::{self as image_versions_wit, ImageVersion as WitImageVersion},
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
        }
    }

    /// The plugin's name.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }
}

impl crate::plugin::bindings::types::Host for HostCall {}

impl image_versions_wit::Host for HostCall {
    async fn set(&mut self, namespace: String, name: String, entry: WitImageVersion) {
        self.services
            .image_versions
            .set(&namespace, &name, &entry.path, &entry.version);
    }

    async fn get(&mut self, namespace: String, name: String) -> Vec<WitImageVersion> {
        let entries = self.services.image_versions.get(&namespace, &name);
        entries
            .into_iter()
            .map(|e| WitImageVersion {
                path: e.path,
                version: e.version,
            })
            .collect()
    }

    async fn set_unsuspended(&mut self, namespace: String, name: String) {
        self.services.image_versions.set_unsuspended(&namespace, &name);
    }

    async fn is_unsuspended(&mut self, namespace: String, name: String) -> bool {
        self.services.image_versions.is_unsuspended(&namespace, &name)
    }
}
