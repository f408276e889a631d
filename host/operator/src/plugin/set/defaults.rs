//! The built-in plugin configuration used when no plugin ConfigMap is configured (or it is deleted): the
//! default configuration shipped in `deploy/plugin-config/plugins.yaml`, compiled into the binary, applied to the
//! plugins directory the operator was given. It fails closed:
//!
//! - A declared plugin whose file is missing is an error when an enabled step of a chain needs it (the error
//!   names the plugin and the path); a plugin only disabled steps use is left out, and so is its place in the
//!   chains: steps switched off by flag need no plugin.
//! - A `*.wasm` in the plugins directory that the configuration does not declare is not loaded: it has no
//!   declared permissions, and nothing but a declaration may grant it any.

use std::path::{Path, PathBuf};

use super::{
    manifest::{ManifestError, PluginManifest},
    source::{Source, resolve_file},
};
use crate::{chains, config::SubroutinesConfig};

/// The default configuration, as shipped in `deploy/plugin-config/plugins.yaml`.
pub const DEFAULT_PLUGIN_CONFIG: &str = include_str!("../../../../../deploy/plugin-config/plugins.yaml");

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
    /// An enabled step needs a plugin whose file is not there.
    #[error(
        "plugin {plugin}: {path} does not exist, and chain {controller} needs it (set --plugins-dir, or switch the \
         step off with its --subroutines-*-enabled flag)"
    )]
    Missing {
        /// The configured name.
        plugin: String,
        /// Where it was looked for.
        path: PathBuf,
        /// A chain with an enabled step that runs it.
        controller: String,
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

/// The built-in configuration for the plugins in `plugins_dir`. `flags` says which steps are enabled (`None`:
/// every step of every chain is needed).
pub fn builtin_manifest(
    plugins_dir: &Path,
    flags: Option<&SubroutinesConfig>,
) -> Result<PluginManifest, DefaultsError> {
    let mut manifest = PluginManifest::parse(DEFAULT_PLUGIN_CONFIG).map_err(DefaultsError::Manifest)?;
    // Listing first: a missing directory is reported as such, not as its first missing plugin.
    let files = wasm_files(plugins_dir)?;
    let needed_by = |name: &str| {
        manifest.chains.iter().find_map(|(controller, names)| {
            let enabled = names.iter().any(|n| n == name)
                && flags.is_none_or(|flags| !chains::disabled_by_flags(flags, controller, name, name));
            enabled.then(|| controller.clone())
        })
    };
    let mut left_out = Vec::new();
    for spec in &manifest.plugins {
        let Source::File(path) = &spec.source else {
            continue;
        };
        let path = resolve_file(path, plugins_dir);
        if path.is_file() {
            continue;
        }
        if let Some(controller) = needed_by(&spec.name) {
            return Err(DefaultsError::Missing {
                plugin: spec.name.clone(),
                path,
                controller,
            });
        }
        tracing::debug!(plugin = %spec.name, path = %path.display(), "plugin of disabled steps only not present; left out");
        left_out.push(spec.name.clone());
    }
    manifest.plugins.retain(|spec| !left_out.contains(&spec.name));
    for names in manifest.chains.values_mut() {
        names.retain(|name| !left_out.contains(name));
    }
    let declared: Vec<PathBuf> = manifest
        .plugins
        .iter()
        .filter_map(|p| match &p.source {
            Source::File(path) => Some(resolve_file(path, plugins_dir)),
            _ => None,
        })
        .collect();
    for path in files.iter().filter(|path| !declared.contains(path)) {
        tracing::warn!(file = %path.display(),
            "not loading a plugin the built-in configuration does not declare; declare it with its permissions in a plugin ConfigMap");
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chains::CHAINS;

    fn flags() -> SubroutinesConfig {
        use clap::Parser;
        #[derive(Parser)]
        struct Flags {
            #[command(flatten)]
            subroutines: SubroutinesConfig,
        }
        Flags::parse_from(["test"]).subroutines
    }

    /// A plugins directory with a file for every shipped plugin but `except`.
    fn shipped_except(except: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let manifest = PluginManifest::parse(DEFAULT_PLUGIN_CONFIG).unwrap();
        for spec in &manifest.plugins {
            let Source::File(path) = &spec.source else {
                continue;
            };
            if !except.contains(&spec.name.as_str()) {
                std::fs::write(resolve_file(path, dir.path()), b"").unwrap();
            }
        }
        dir
    }

    #[test]
    fn shipped_configuration_is_valid_and_matches_the_upstream_chains() {
        let manifest = PluginManifest::parse(DEFAULT_PLUGIN_CONFIG).expect("valid");
        for chain in CHAINS {
            let upstream: Vec<&str> = chain.entries.iter().map(|e| e.plugin).collect();
            assert_eq!(
                manifest.chains[chain.controller], upstream,
                "{}",
                chain.controller
            );
        }
        for spec in &manifest.plugins {
            assert!(
                !spec.permissions.rules().is_empty(),
                "{} declares no permissions",
                spec.name
            );
        }
    }

    #[test]
    fn a_missing_plugin_of_an_enabled_step_is_an_error_naming_plugin_and_path() {
        let dir = shipped_except(&["kcp-setup"]);
        let error = builtin_manifest(dir.path(), Some(&flags())).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("plugin kcp-setup: "), "{text}");
        assert!(
            text.contains(&dir.path().join("kcp_setup.wasm").display().to_string()),
            "{text}"
        );
        assert!(
            builtin_manifest(dir.path(), None).is_err(),
            "without flags every step is needed"
        );
    }

    #[test]
    fn steps_switched_off_by_flag_need_no_plugin() {
        let dir = shipped_except(&["kcp-setup", "feature-toggles"]);
        let mut flags = flags();
        flags.subroutines_kcp_setup_enabled = false;
        let manifest = builtin_manifest(dir.path(), Some(&flags)).expect("kcp-setup is switched off");
        assert!(manifest.plugin("kcp-setup").is_none());
        assert!(manifest.plugin("feature-toggles").is_none(), "off by default");
        assert_eq!(
            manifest.chains["platformmesh"],
            ["deployment", "provider-secret", "wait"]
        );
        let all = shipped_except(&[]);
        let manifest = builtin_manifest(all.path(), Some(&flags)).unwrap();
        assert!(
            manifest.plugin("kcp-setup").is_some(),
            "present plugins stay declared"
        );
    }

    #[test]
    fn undeclared_files_are_not_loaded() {
        let dir = shipped_except(&[]);
        std::fs::write(dir.path().join("vendor_thing.wasm"), b"").unwrap();
        let manifest = builtin_manifest(dir.path(), Some(&flags())).unwrap();
        assert!(manifest.plugins.iter().all(|p| p.name != "vendor-thing"));
        assert!(
            manifest
                .plugins
                .iter()
                .all(|p| p.permissions != crate::hostapi::Permissions::permissive())
        );
        assert!(builtin_manifest(&dir.path().join("missing"), None).is_err());
    }
}
