//! The rendering pipeline of one template directory (spec §5.7): render every file (technology filter where the
//! directory has one), check every document, post-process, route each object to its cluster (§5.7.5) and apply.
//! The host renders the whole directory before returning anything, and every document is checked before the first
//! apply, so a directory with a render error applies nothing.

use platform_mesh_plugin_sdk::{Funcs, Host, LogLevel, ObjectRef, RenderError, Target, Technology as Filter};
use serde_json::{Map, Value};

use crate::{
    apply::{Applied, apply},
    error::Result,
    postprocess::post_process,
    vars::Technology,
};

/// The four template directories, in the order they are deployed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directory {
    /// `gotemplates/infra/infra`: infra components; filtered, post-processed, to infra.
    InfraInfra,
    /// `gotemplates/infra/runtime`: their OCM Resources; OCM `Resource` to runtime, the rest to infra.
    InfraRuntime,
    /// `gotemplates/components/runtime`: the services' OCM Resources; to runtime.
    ComponentsRuntime,
    /// `gotemplates/components/infra`: the services' releases; filtered, post-processed, to infra.
    ComponentsInfra,
}

impl Directory {
    /// The directory relative to the workspace.
    pub fn path(self) -> &'static str {
        match self {
            Directory::InfraInfra => "gotemplates/infra/infra",
            Directory::InfraRuntime => "gotemplates/infra/runtime",
            Directory::ComponentsRuntime => "gotemplates/components/runtime",
            Directory::ComponentsInfra => "gotemplates/components/infra",
        }
    }

    /// Whether the technology file filter and post-processing apply.
    fn is_release_directory(self) -> bool {
        matches!(self, Directory::InfraInfra | Directory::ComponentsInfra)
    }

    /// The cluster an object of this directory goes to.
    pub fn target_of(self, object: &Value) -> Target {
        match self {
            Directory::InfraInfra | Directory::ComponentsInfra => Target::Infra,
            Directory::ComponentsRuntime => Target::Runtime,
            Directory::InfraRuntime => {
                let is_ocm_resource = object.get("apiVersion").and_then(Value::as_str)
                    == Some("delivery.ocm.software/v1alpha1")
                    && object.get("kind").and_then(Value::as_str) == Some("Resource");
                if is_ocm_resource {
                    Target::Runtime
                } else {
                    Target::Infra
                }
            }
        }
    }
}

/// How many objects a directory wrote and skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub written: usize,
    pub unchanged: usize,
}

/// Renders `directory` with `vars` and returns the routed objects, post-processed. Nothing is applied.
pub fn render(
    host: &dyn Host,
    directory: Directory,
    vars: &Map<String, Value>,
    technology: Technology,
) -> Result<Vec<(Target, Value)>> {
    let filter = directory.is_release_directory().then_some(match technology {
        Technology::Fluxcd => Filter::Fluxcd,
        Technology::Argocd => Filter::Argocd,
    });
    let documents = host.render_dir(
        directory.path(),
        &Value::Object(vars.clone()),
        Funcs::Deployment,
        filter,
    )?;
    let mut objects = Vec::with_capacity(documents.len());
    for document in documents {
        if ObjectRef::of(&document.object).is_none() {
            return Err(RenderError {
                source: document.source,
                line: None,
                column: None,
                message: format!(
                    "document {} is not a Kubernetes object (it needs apiVersion, kind and metadata.name)",
                    document.index
                ),
            }
            .into());
        }
        warn_missing_values(host, &document.source, &document.object);
        let mut object = document.object;
        if directory.is_release_directory() {
            post_process(host, &mut object);
        }
        objects.push((directory.target_of(&object), object));
    }
    Ok(objects)
}

/// The JSON paths of string fields that hold Go's `<no value>` (a key the profile lacks).
pub fn missing_value_paths(value: &Value, path: &mut String, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains("<no value>") => out.push(path.clone()),
        Value::Object(map) => {
            for (key, child) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                missing_value_paths(child, path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                missing_value_paths(child, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Spec §11.2 item 17: templates keep rendering `<no value>` for missing keys (upstream compatibility), but each
/// such field is logged as a warning with its file and path, so a profile lacking a required key is noticed.
fn warn_missing_values(host: &dyn Host, source: &str, object: &Value) {
    let mut paths = Vec::new();
    missing_value_paths(object, &mut String::new(), &mut paths);
    for path in paths {
        host.log(
            LogLevel::Warn,
            "a template rendered <no value>: the profile lacks a key it uses",
            &[("file", source), ("field", &path)],
        );
    }
}

/// Renders and applies `directory`.
pub fn deploy(
    host: &dyn Host,
    directory: Directory,
    vars: &Map<String, Value>,
    technology: Technology,
) -> Result<Counts> {
    let mut counts = Counts::default();
    for (target, object) in render(host, directory, vars, technology)? {
        match apply(host, &target, &object)? {
            Applied::Written => counts.written += 1,
            Applied::Unchanged => counts.unchanged += 1,
        }
    }
    host.log(
        LogLevel::Debug,
        "deployed template directory",
        &[
            ("directory", directory.path()),
            ("written", &counts.written.to_string()),
            ("unchanged", &counts.unchanged.to_string()),
        ],
    );
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(api_version: &str, kind: &str) -> Value {
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}})
    }

    #[test]
    fn routing_follows_the_directory_and_sends_ocm_resources_of_infra_runtime_to_runtime() {
        let resource = object("delivery.ocm.software/v1alpha1", "Resource");
        let release = object("helm.toolkit.fluxcd.io/v2", "HelmRelease");
        assert_eq!(Directory::InfraRuntime.target_of(&resource), Target::Runtime);
        assert_eq!(Directory::InfraRuntime.target_of(&release), Target::Infra);
        assert_eq!(Directory::InfraInfra.target_of(&resource), Target::Infra);
        assert_eq!(Directory::ComponentsInfra.target_of(&release), Target::Infra);
        assert_eq!(Directory::ComponentsRuntime.target_of(&release), Target::Runtime);
    }

    #[test]
    fn only_release_directories_are_filtered_and_post_processed() {
        assert!(Directory::InfraInfra.is_release_directory());
        assert!(Directory::ComponentsInfra.is_release_directory());
        assert!(!Directory::InfraRuntime.is_release_directory());
        assert!(!Directory::ComponentsRuntime.is_release_directory());
    }
}
