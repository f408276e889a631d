//! Renders every file of the tree before anything is applied, so a file that fails to render or parse stops the
//! pass with nothing half-applied, and sorts the objects into dependency phases (fix of §11.3 item 28): workspace
//! types and schemas, then exports, then bindings, then workspaces, then the objects served through the bindings.
//! The per-file rules of spec §6.4 (skipped ContentConfigurations, extra default API bindings) are applied here.

use platform_mesh_plugin_sdk::{Funcs, Host, RenderError};
use serde_json::{Value, json};

use crate::{settings::Settings, tree::WorkspaceDir};

/// When an object is applied relative to the others; lower first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// WorkspaceTypes, authentication configurations, APIResourceSchemas, CRDs: they depend on nothing.
    Definitions,
    /// APIExports and their endpoint slices: they reference schemas.
    Exports,
    /// APIBindings: they reference exports.
    Bindings,
    /// Workspaces: they reference types whose default bindings reference exports.
    Workspaces,
    /// Everything else: instances of APIs that the bindings make served.
    Content,
}

impl Phase {
    /// All phases in order.
    pub const ALL: [Phase; 5] = [
        Phase::Definitions,
        Phase::Exports,
        Phase::Bindings,
        Phase::Workspaces,
        Phase::Content,
    ];

    /// The phase of a kind.
    pub fn of(kind: &str) -> Phase {
        match kind {
            "WorkspaceType"
            | "WorkspaceAuthenticationConfiguration"
            | "APIResourceSchema"
            | "CustomResourceDefinition" => Phase::Definitions,
            "APIExport" | "APIExportEndpointSlice" => Phase::Exports,
            "APIBinding" => Phase::Bindings,
            "Workspace" => Phase::Workspaces,
            _ => Phase::Content,
        }
    }
}

/// One object to apply.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Workspace path it is applied in.
    pub workspace: String,
    /// The file it came from.
    pub source: String,
    pub object: Value,
    pub phase: Phase,
}

impl Item {
    /// `kind`.
    pub fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap_or_default()
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// `<source> (<kind>/<name>)`, as upstream names a file in errors.
    pub fn describe(&self) -> String {
        format!("{} ({}/{})", self.source, self.kind(), self.name())
    }
}

/// Upstream's wording, with the line when the renderer knows it.
fn render_failure(file: &str, e: &RenderError) -> String {
    match e.line {
        Some(line) => format!(
            "Failed to render manifest file {file} at line {line}: {}",
            e.message
        ),
        None => format!("Failed to render manifest file {file}: {}", e.message),
    }
}

/// Renders every file of `dirs` with `data` and returns the objects to apply, in traversal order.
pub fn build(
    host: &dyn Host,
    dirs: &[WorkspaceDir],
    data: &Value,
    settings: &Settings,
) -> Result<Vec<Item>, String> {
    let skip_content = data["featureDisableContentConfigurations"] == "true";
    let mut items = Vec::new();
    for dir in dirs {
        for file in &dir.files {
            let docs = host
                .render_file(file, data, Funcs::Manifest)
                .map_err(|e| render_failure(file, &e))?;
            for doc in docs {
                let mut object = doc.object;
                let kind = object["kind"].as_str().unwrap_or_default().to_owned();
                let named = object["apiVersion"].as_str().is_some_and(|v| !v.is_empty())
                    && !kind.is_empty()
                    && object["metadata"]["name"].as_str().is_some_and(|n| !n.is_empty());
                if !named {
                    return Err(format!(
                        "Failed to render manifest file {file}: document {} has no apiVersion, kind or metadata.name",
                        doc.index
                    ));
                }
                if skip_content
                    && kind == "ContentConfiguration"
                    && object["apiVersion"] == "ui.platform-mesh.io/v1alpha1"
                {
                    continue;
                }
                if kind == "WorkspaceType" {
                    append_extra_bindings(&mut object, &dir.path, settings);
                }
                items.push(Item {
                    workspace: dir.path.clone(),
                    source: file.clone(),
                    phase: Phase::of(&kind),
                    object,
                });
            }
        }
    }
    Ok(items)
}

/// Spec §6.6: entries whose `workspaceTypePath` is `<workspace>:<type name>` are appended to
/// `spec.defaultAPIBindings`, in configuration order, `path` left out when empty.
pub fn append_extra_bindings(workspace_type: &mut Value, workspace: &str, settings: &Settings) {
    let name = workspace_type["metadata"]["name"].as_str().unwrap_or_default();
    let type_path = format!("{workspace}:{name}");
    let extra: Vec<Value> = settings
        .extra_bindings
        .iter()
        .filter(|b| b.workspace_type_path == type_path)
        .map(|b| match b.path.as_str() {
            "" => json!({"export": b.export}),
            path => json!({"export": b.export, "path": path}),
        })
        .collect();
    if extra.is_empty() {
        return;
    }
    let spec = &mut workspace_type["spec"];
    if !spec.is_object() {
        *spec = json!({});
    }
    match spec["defaultAPIBindings"].as_array_mut() {
        Some(bindings) => bindings.extend(extra),
        None => spec["defaultAPIBindings"] = Value::Array(extra),
    }
}
