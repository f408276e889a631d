//! `platform-mesh-operator plugins verify <file>`: checks a plugin configuration without a cluster — the
//! schema, every source, every digest, WIT compatibility and `info()` of every plugin it can fetch, and what
//! each plugin's permissions grant.
//!
//! The file is a ConfigMap (its `data.plugins.yaml`), or the `plugins.yaml` text itself. `configmap://` sources
//! are looked up among the other YAML documents of the same file (so a ConfigMap carrying a plugin in
//! `binaryData` can be checked with it); `oci://` sources are pulled only with `pull: true`.

use std::{fmt, path::Path};

use serde_json::Value;

use super::{
    manifest::{CONFIG_KEY, PluginManifest, PluginSpec},
    source::{Source, fetch, resolve_file, sha256_hex, verify_digest},
};
use crate::{
    errors::error_chain,
    hostapi::Permissions,
    plugin::sandbox::{PluginOptions, PluginRuntime, RuntimeConfig},
};

/// The verdict on one plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginVerdict {
    /// The configured name.
    pub name: String,
    /// Its source.
    pub source: String,
    /// `Ok(summary)` (subroutine, version, WIT version, digest) or `Err(reason)`.
    pub result: Result<String, String>,
    /// What the permissions grant, one line per rule.
    pub permissions: Vec<String>,
    /// The subroutine (condition type) it reported, when it loaded.
    pub subroutine: Option<String>,
}

/// The verdict on a whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Schema errors (the configuration could not be read at all).
    pub schema: Result<(), String>,
    /// One verdict per plugin.
    pub plugins: Vec<PluginVerdict>,
    /// The chains, `controller: a → b`.
    pub chains: Vec<String>,
    /// Problems of the configuration as a whole (two plugins of a chain reporting one subroutine name).
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether everything checked out.
    pub fn ok(&self) -> bool {
        self.schema.is_ok() && self.problems.is_empty() && self.plugins.iter().all(|p| p.result.is_ok())
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Err(error) = &self.schema {
            return writeln!(f, "INVALID {error}");
        }
        for plugin in &self.plugins {
            match &plugin.result {
                Ok(summary) => writeln!(f, "ok      {} ({}): {summary}", plugin.name, plugin.source)?,
                Err(error) => writeln!(f, "FAILED  {} ({}): {error}", plugin.name, plugin.source)?,
            }
            for rule in &plugin.permissions {
                writeln!(f, "        may {rule}")?;
            }
        }
        for chain in &self.chains {
            writeln!(f, "chain   {chain}")?;
        }
        for problem in &self.problems {
            writeln!(f, "FAILED  {problem}")?;
        }
        let failed = self.plugins.iter().filter(|p| p.result.is_err()).count();
        writeln!(f, "{} plugins, {failed} failed", self.plugins.len())
    }
}

/// One line per rule: `get, list * (*) on infra in any namespace`, with Secret access called out.
pub fn describe_permissions(permissions: &Permissions) -> Vec<String> {
    if permissions.rules().is_empty() {
        return vec!["nothing (no permissions declared)".to_owned()];
    }
    permissions
        .rules()
        .iter()
        .map(|rule| {
            let namespaces = if rule.namespaces.is_empty() {
                "any namespace and cluster-wide".to_owned()
            } else {
                format!("namespaces {}", rule.namespaces.join(", "))
            };
            if rule.targets.iter().any(|t| t == crate::hostapi::IMAGE_VERSIONS) {
                return format!(
                    "{} image versions of releases in {namespaces}",
                    rule.verbs.join(", ")
                );
            }
            let secrets = if rule.kinds.iter().any(|k| k == "Secret" || k == "secret") {
                " [reads Secrets]"
            } else {
                ""
            };
            format!(
                "{} kinds {} (groups {}) on {} in {namespaces}{secrets}",
                rule.verbs.join(", "),
                rule.kinds.join(", "),
                rule.groups
                    .iter()
                    .map(|g| if g.is_empty() { "core" } else { g })
                    .collect::<Vec<_>>()
                    .join(", "),
                rule.targets.join(", "),
            )
        })
        .collect()
}

/// Every non-empty YAML document of `text`.
fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    use serde::Deserialize as _;
    let mut documents = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document).map_err(|e| format!("YAML document {index}: {e}"))?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

/// Finds `data.plugins.yaml` among `documents`, or treats the first document as the configuration itself.
fn configuration(documents: &[Value]) -> Result<String, String> {
    for document in documents {
        if document.get("kind").and_then(Value::as_str) == Some("ConfigMap")
            && let Some(text) = document
                .pointer(&format!("/data/{CONFIG_KEY}"))
                .and_then(Value::as_str)
        {
            return Ok(text.to_owned());
        }
    }
    match documents.first() {
        Some(first) if first.get("plugins").is_some() || first.get("chains").is_some() => {
            serde_norway::to_string(first).map_err(|e| e.to_string())
        }
        _ => Err(format!(
            "no ConfigMap with data.{CONFIG_KEY} and no plugins/chains document in the file"
        )),
    }
}

/// The `binaryData` of a ConfigMap source found among `documents`.
fn local_config_map(documents: &[Value], namespace: &str, name: &str, key: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let document = documents.iter().find(|d| {
        d.get("kind").and_then(Value::as_str) == Some("ConfigMap")
            && d.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
            && d.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace)
    })?;
    let encoded = document.pointer(&format!("/binaryData/{key}"))?.as_str()?;
    base64::engine::general_purpose::STANDARD.decode(encoded).ok()
}

async fn verify_plugin(
    runtime: &PluginRuntime,
    spec: &PluginSpec,
    documents: &[Value],
    pull: bool,
) -> Result<(String, Option<String>), String> {
    let plugins_dir = &runtime.config().plugins_dir;
    let wasm = match &spec.source {
        Source::ConfigMap { namespace, name, key } => local_config_map(documents, namespace, name, key)
            .ok_or_else(|| {
                format!("ConfigMap {namespace}/{name} with binaryData key {key} is not in the file")
            })?,
        Source::Oci(reference) if !pull => {
            let summary = format!(
                "reference oci://{reference} parses and a sha256 is declared; not pulled (offline; use --pull)"
            );
            return Ok((summary, None));
        }
        source => fetch(source, plugins_dir, None)
            .await
            .map_err(|e| error_chain(&e))?,
    };
    verify_digest(&wasm, spec.sha256.as_deref()).map_err(|e| error_chain(&e))?;
    let origin = match &spec.source {
        Source::File(path) => resolve_file(path, plugins_dir),
        other => other.to_string().into(),
    };
    let options = PluginOptions {
        config: spec.config.clone(),
        permissions: spec.permissions.clone(),
        limits: spec.limits,
    };
    let digest = sha256_hex(&wasm);
    let plugin = runtime
        .load_bytes(wasm, &origin, &spec.name, &options)
        .await
        .map_err(|e| error_chain(&e))?;
    use crate::lifecycle::Subroutine as _;
    let summary = format!(
        "subroutine {} version {} (WIT compatible), sha256 {digest}",
        plugin.name(),
        plugin.version()
    );
    Ok((summary, Some(plugin.name().to_owned())))
}

/// A runtime for offline checks: its cluster clients point at an address nothing listens on, which is fine
/// because a plugin's `info()` must not call the host (and gets no permissions to).
pub fn offline_runtime(
    plugins_dir: &Path,
) -> Result<PluginRuntime, Box<dyn std::error::Error + Send + Sync>> {
    let nowhere = kube::Config::new("http://127.0.0.1:1".parse()?);
    let client = kube::Client::try_from(nowhere.clone())?;
    let services = crate::hostapi::HostServices {
        clusters: std::sync::Arc::new(crate::clusters::Clusters::new(
            client.clone(),
            client,
            crate::clusters::KcpAdmin::Config(Box::new(nowhere)),
        )),
        image_versions: std::sync::Arc::new(crate::hostapi::ImageVersionStore::new()),
        workspace_dir: std::env::temp_dir(),
    };
    let config = RuntimeConfig::new(plugins_dir, std::env::temp_dir());
    Ok(PluginRuntime::new(config, services)?)
}

/// Verifies the configuration in the YAML `text` (read from a file). `runtime` compiles and smoke-calls the
/// plugins; its services are never used, since `info()` may not call the host.
pub async fn verify_config_map(runtime: &PluginRuntime, text: &str, pull: bool) -> VerifyReport {
    let mut report = VerifyReport {
        schema: Ok(()),
        plugins: Vec::new(),
        chains: Vec::new(),
        problems: Vec::new(),
    };
    let documents = parse_documents(text);
    let manifest = documents
        .as_deref()
        .map_err(Clone::clone)
        .and_then(configuration)
        .and_then(|yaml| PluginManifest::parse(&yaml).map_err(|e| format!("{CONFIG_KEY}: {e}")));
    let manifest = match manifest {
        Ok(manifest) => manifest,
        Err(error) => {
            report.schema = Err(error);
            return report;
        }
    };
    let documents = documents.unwrap_or_default();
    for spec in &manifest.plugins {
        let verdict = verify_plugin(runtime, spec, &documents, pull).await;
        report.plugins.push(PluginVerdict {
            name: spec.name.clone(),
            source: spec.source.to_string(),
            subroutine: verdict.as_ref().ok().and_then(|(_, s)| s.clone()),
            result: verdict.map(|(summary, _)| summary),
            permissions: describe_permissions(&spec.permissions),
        });
    }
    for (controller, names) in &manifest.chains {
        report.chains.push(format!("{controller}: {}", names.join(" → ")));
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for name in names {
            let Some(subroutine) = report
                .plugins
                .iter()
                .find(|p| &p.name == name)
                .and_then(|p| p.subroutine.as_deref())
            else {
                continue;
            };
            if let Some((first, _)) = seen.iter().find(|(_, s)| *s == subroutine) {
                report.problems.push(format!(
                    "chains.{controller}: plugins {first} and {name} both report subroutine {subroutine}"
                ));
            }
            seen.push((name, subroutine));
        }
    }
    report
}
