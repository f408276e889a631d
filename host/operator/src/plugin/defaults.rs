//! The built-in plugin configuration used when no plugin ConfigMap is configured (or it is deleted): the
//! default configuration shipped in `deploy/plugin-config/plugins.yaml`, compiled into the binary, applied to the
//! plugins directory the operator was given.
//!
//! - A declared plugin whose file is not in the plugins directory is left out (a build without it), and so is
//!   its place in the chains.
//! - A `*.wasm` in the plugins directory that the default configuration does not declare is loaded with
//!   permissive permissions and a warning, in no chain: so a newly added plugin is at least reachable by name
//!   until it gets its declared permissions.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{
    manifest::{Limits, ManifestError, PluginManifest, PluginSpec},
    source::{Source, resolve_file},
};
use crate::hostapi::Permissions;

/// The default configuration, as shipped in `deploy/plugin-config/plugins.yaml`.
pub const DEFAULT_PLUGIN_CONFIG: &str = include_str!("../../../../deploy/plugin-config/plugins.yaml");

/// Why the built-in configuration could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DefaultsError {
    /// The embedded configuration is invalid (a build defect; a unit test guards it).
    #[error("the built-in plugin configuration is invalid")]
    Manifest(#[source] ManifestError),
    /// The plugins directory could not be listed.
    #[error("listing the plugins directory {path}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, DefaultsError> {
    let read_dir = |source| DefaultsError::ReadDir {
        path: dir.to_owned(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_dir)?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file());
    paths.sort();
    Ok(paths)
}

/// The built-in configuration for the plugins in `plugins_dir`.
pub fn builtin_manifest(plugins_dir: &Path) -> Result<PluginManifest, DefaultsError> {
    let mut manifest = PluginManifest::parse(DEFAULT_PLUGIN_CONFIG).map_err(DefaultsError::Manifest)?;
    let present = |spec: &PluginSpec| match &spec.source {
        Source::File(path) => resolve_file(path, plugins_dir).is_file(),
        _ => true,
    };
    manifest.plugins.retain(|spec| {
        let keep = present(spec);
        if !keep {
            tracing::debug!(plugin = %spec.name, source = %spec.source, "default plugin not built; left out");
        }
        keep
    });
    let declared: Vec<String> = manifest.plugins.iter().map(|p| p.name.clone()).collect();
    for chain in manifest.chains.values_mut() {
        chain.retain(|name| declared.contains(name));
    }
    let declared_files: Vec<PathBuf> = manifest
        .plugins
        .iter()
        .filter_map(|p| match &p.source {
            Source::File(path) => Some(resolve_file(path, plugins_dir)),
            _ => None,
        })
        .collect();
    for path in wasm_files(plugins_dir)? {
        if declared_files.contains(&path) {
            continue;
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().replace('_', "-"))
            .unwrap_or_default();
        if manifest.plugin(&stem).is_some() {
            tracing::warn!(file = %path.display(), "a plugin of this name is already declared; file ignored");
            continue;
        }
        tracing::warn!(plugin = %stem, file = %path.display(),
            "plugin has no declared permissions in the default configuration; it runs with full access");
        manifest.plugins.push(PluginSpec {
            name: stem,
            source: Source::File(path),
            sha256: None,
            permissions: Permissions::permissive(),
            config: Value::Object(Map::new()),
            limits: Limits::default(),
        });
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::chain::PLATFORM_MESH_ORDER;

    #[test]
    fn shipped_configuration_is_valid_and_matches_the_upstream_order() {
        let manifest = PluginManifest::parse(DEFAULT_PLUGIN_CONFIG).expect("valid");
        let upstream: Vec<&str> = PLATFORM_MESH_ORDER.iter().map(|e| e.plugin).collect();
        assert_eq!(manifest.chains["platformmesh"], upstream);
        for spec in &manifest.plugins {
            assert!(
                !spec.permissions.rules().is_empty(),
                "{} declares no permissions",
                spec.name
            );
        }
    }

    #[test]
    fn missing_files_are_left_out_and_undeclared_files_join_without_a_chain() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("wait.wasm"), b"").unwrap();
        std::fs::write(dir.path().join("vendor_thing.wasm"), b"").unwrap();
        let manifest = builtin_manifest(dir.path()).unwrap();
        let names: Vec<&str> = manifest.plugins.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["wait", "vendor-thing"]);
        assert_eq!(manifest.chains["platformmesh"], ["wait"]);
        assert_eq!(manifest.plugins[1].permissions, Permissions::permissive());
        assert!(builtin_manifest(&dir.path().join("missing")).is_err());
    }
}
