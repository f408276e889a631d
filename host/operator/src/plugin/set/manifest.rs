//! The plugin configuration (the `plugins.yaml` key of the plugin ConfigMap): which plugins run, where their
//! wasm comes from, its digest, their permissions, config and limits, and the chains per controller.
//!
//! ```yaml
//! plugins:
//! - name: wait
//!   source: oci://registry.example.com/plugins/wait:0.2.0
//!   sha256: 5f0c…                                # of the wasm; required for configmap:// and oci://
//!   permissions:
//!   - {targets: [infra], groups: ["*"], kinds: ["*"], verbs: [get, list]}
//!   config: {}                                   # passed to process/finalize as `plugin-config`
//!   limits: {deadline: 30s, memory: 32Mi}
//! chains:
//!   platformmesh: [wait]
//! ```
//!
//! Parsing is strict: unknown fields, unknown chains, chains naming undeclared plugins, malformed digests and
//! permission rules are errors that name the plugin (by name, or by position when it has none) and the field.

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Map, Value};

use super::source::Source;
pub use crate::plugin::sandbox::Limits;
use crate::{
    config::{parse_bytes, parse_go_duration},
    hostapi::{Permissions, Rule},
};

/// The ConfigMap key holding the configuration.
pub const CONFIG_KEY: &str = "plugins.yaml";

/// The controllers whose chains can be configured.
pub const CONTROLLERS: [&str; 4] = ["platformmesh", "resource", "provider", "managedprovider"];

/// Upper bound of a per-plugin deadline: longer calls would hold a reconcile worker for too long.
const MAX_DEADLINE: Duration = Duration::from_secs(600);

/// A validated plugin configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginManifest {
    /// The plugins, in the order they were declared.
    pub plugins: Vec<PluginSpec>,
    /// Controller (`platformmesh`, …) → plugin names in chain order. A controller without an entry runs the
    /// enabled upstream steps whose plugins are declared (see [`crate::chains`]).
    pub chains: BTreeMap<String, Vec<String>>,
}

/// One declared plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginSpec {
    /// The name chains refer to (e.g. `wait`).
    pub name: String,
    /// Where its wasm comes from.
    pub source: Source,
    /// Lower-case hex sha256 of the wasm (required for non-file sources).
    pub sha256: Option<String>,
    /// What it may do with the clusters; none declared: nothing.
    pub permissions: Permissions,
    /// Its own configuration (a JSON object), passed to every call as `plugin-config`.
    pub config: Value,
    /// Per-call limits overriding the runtime's defaults.
    pub limits: Limits,
}

/// Why a plugin configuration is invalid. The message names the plugin and the field.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{location}: {message}")]
pub struct ManifestError {
    /// `plugins.yaml`, `plugin wait field sha256`, `chains.platformmesh`, …
    pub location: String,
    /// What is wrong.
    pub message: String,
}

fn error(location: impl Into<String>, message: impl Into<String>) -> ManifestError {
    ManifestError {
        location: location.into(),
        message: message.into(),
    }
}

const PLUGIN_FIELDS: [&str; 6] = ["name", "source", "sha256", "permissions", "config", "limits"];

impl PluginManifest {
    /// Parses and validates the YAML text of `plugins.yaml`.
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let value: Value =
            serde_norway::from_str(text).map_err(|e| error(CONFIG_KEY, format!("not valid YAML: {e}")))?;
        Self::from_value(&value)
    }

    /// Validates an already parsed document.
    pub fn from_value(value: &Value) -> Result<Self, ManifestError> {
        let root = value
            .as_object()
            .ok_or_else(|| error(CONFIG_KEY, "expected a mapping with `plugins` and `chains`"))?;
        if let Some(unknown) = root.keys().find(|k| *k != "plugins" && *k != "chains") {
            return Err(error(
                CONFIG_KEY,
                format!("unknown field `{unknown}` (expected `plugins` and `chains`)"),
            ));
        }
        let empty = Vec::new();
        let items = match root.get("plugins") {
            None | Some(Value::Null) => &empty,
            Some(Value::Array(items)) => items,
            Some(_) => return Err(error("plugins", "expected a list of plugins")),
        };
        let mut plugins: Vec<PluginSpec> = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let plugin = parse_plugin(index, item)?;
            if plugins.iter().any(|p| p.name == plugin.name) {
                return Err(error(
                    format!("plugin {} field name", plugin.name),
                    "declared twice",
                ));
            }
            plugins.push(plugin);
        }
        let chains = parse_chains(root.get("chains"), &plugins)?;
        Ok(PluginManifest { plugins, chains })
    }

    /// The plugin declared as `name`.
    pub fn plugin(&self, name: &str) -> Option<&PluginSpec> {
        self.plugins.iter().find(|p| p.name == name)
    }
}

fn parse_plugin(index: usize, item: &Value) -> Result<PluginSpec, ManifestError> {
    let object = item
        .as_object()
        .ok_or_else(|| error(format!("plugins[{index}]"), "expected a mapping"))?;
    let name = match object.get("name") {
        Some(Value::String(name)) if valid_name(name) => name.clone(),
        Some(Value::String(name)) => {
            return Err(error(
                format!("plugins[{index}] field name"),
                format!(
                    "{name:?} is not a valid plugin name (lower-case letters, digits and `-`, at most 63, \
                     starting with a letter)"
                ),
            ));
        }
        _ => return Err(error(format!("plugins[{index}] field name"), "required")),
    };
    let at = |field: &str| format!("plugin {name} field {field}");
    if let Some(unknown) = object.keys().find(|k| !PLUGIN_FIELDS.contains(&k.as_str())) {
        return Err(error(
            at(unknown),
            format!("unknown field (expected one of {})", PLUGIN_FIELDS.join(", ")),
        ));
    }
    let source_text = object
        .get("source")
        .and_then(Value::as_str)
        .ok_or_else(|| error(at("source"), "required (file://, configmap:// or oci://)"))?;
    let source = Source::parse(source_text).map_err(|m| error(at("source"), m))?;
    let sha256 = match object.get("sha256") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(normalize_digest(text).map_err(|m| error(at("sha256"), m))?),
        Some(_) => return Err(error(at("sha256"), "expected a hex string")),
    };
    if sha256.is_none() && source.needs_digest() {
        return Err(error(
            at("sha256"),
            format!("required for {} sources", source.scheme()),
        ));
    }
    let permissions = parse_permissions(object.get("permissions")).map_err(|(f, m)| error(at(&f), m))?;
    let config = match object.get("config") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(config @ Value::Object(_)) => config.clone(),
        Some(_) => return Err(error(at("config"), "expected a mapping")),
    };
    let limits = parse_limits(object.get("limits")).map_err(|(f, m)| error(at(&f), m))?;
    Ok(PluginSpec {
        name,
        source,
        sha256,
        permissions,
        config,
        limits,
    })
}

/// A DNS label: what Kubernetes names look like, so chain entries and Events read the same.
fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && !name.ends_with('-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// Lower-case hex of 64 digits, with an optional `sha256:` prefix.
pub fn normalize_digest(text: &str) -> Result<String, String> {
    let hex = text.trim().strip_prefix("sha256:").unwrap_or(text.trim());
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not a sha256 digest (64 hex digits)"));
    }
    Ok(hex.to_ascii_lowercase())
}

type FieldError = (String, String);

fn parse_permissions(value: Option<&Value>) -> Result<Permissions, FieldError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Permissions::default()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(("permissions".into(), "expected a list of rules".into())),
    };
    let mut rules = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = format!("permissions[{index}]");
        let rule: Rule = serde_json::from_value(item.clone()).map_err(|e| (field.clone(), e.to_string()))?;
        rule.validate().map_err(|m| (field, m))?;
        rules.push(rule);
    }
    Ok(Permissions::new(rules))
}

fn parse_limits(value: Option<&Value>) -> Result<Limits, FieldError> {
    let object = match value {
        None | Some(Value::Null) => return Ok(Limits::default()),
        Some(Value::Object(object)) => object,
        Some(_) => {
            return Err((
                "limits".into(),
                "expected a mapping with deadline and memory".into(),
            ));
        }
    };
    if let Some(unknown) = object.keys().find(|k| *k != "deadline" && *k != "memory") {
        return Err((
            format!("limits.{unknown}"),
            "unknown field (expected deadline, memory)".into(),
        ));
    }
    let deadline = match object.get("deadline") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let deadline = parse_go_duration(text).map_err(|m| ("limits.deadline".to_owned(), m))?;
            if deadline.is_zero() || deadline > MAX_DEADLINE {
                return Err((
                    "limits.deadline".into(),
                    format!("{text} is outside 0s < deadline <= {MAX_DEADLINE:?}"),
                ));
            }
            Some(deadline)
        }
        Some(_) => return Err(("limits.deadline".into(), "expected a duration such as 30s".into())),
    };
    let memory = match object.get("memory") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(parse_bytes(text).map_err(|m| ("limits.memory".to_owned(), m))?),
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ("limits.memory".to_owned(), format!("{n} is not a byte count")))?,
        ),
        Some(_) => return Err(("limits.memory".into(), "expected a size such as 32Mi".into())),
    };
    if memory == Some(0) {
        return Err(("limits.memory".into(), "must be greater than zero".into()));
    }
    Ok(Limits { deadline, memory })
}

fn parse_chains(
    value: Option<&Value>,
    plugins: &[PluginSpec],
) -> Result<BTreeMap<String, Vec<String>>, ManifestError> {
    let object = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(object)) => object,
        Some(_) => {
            return Err(error(
                "chains",
                "expected a mapping of controller to plugin names",
            ));
        }
    };
    let mut chains = BTreeMap::new();
    for (controller, names) in object {
        let at = format!("chains.{controller}");
        if !CONTROLLERS.contains(&controller.as_str()) {
            return Err(error(
                at,
                format!("unknown controller (expected one of {})", CONTROLLERS.join(", ")),
            ));
        }
        let names: Vec<String> = match names {
            Value::Null => Vec::new(),
            Value::Array(items) => items
                .iter()
                .map(|n| n.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| error(&at, "expected a list of plugin names"))?,
            _ => return Err(error(at, "expected a list of plugin names")),
        };
        for (position, name) in names.iter().enumerate() {
            if !plugins.iter().any(|p| &p.name == name) {
                return Err(error(
                    format!("{at}[{position}]"),
                    format!("plugin {name} is not declared under plugins"),
                ));
            }
            if names[..position].contains(name) {
                return Err(error(
                    format!("{at}[{position}]"),
                    format!("plugin {name} appears twice"),
                ));
            }
        }
        chains.insert(controller.clone(), names);
    }
    Ok(chains)
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
