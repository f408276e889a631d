//! Switching one toggle on (apply its directory, spec §6.2 / §6.8) or off (delete what it applied).

use std::collections::BTreeMap;

use platform_mesh_plugin_sdk::{Funcs, Gvk, Host, ObjectRef, Target};
use serde_json::Value;

use crate::{
    apply::{self, Place},
    layout::{FEATURES_DIR, Step, WorkspaceDir, steps},
};

/// Objects of `ui.platform-mesh.io` ContentConfiguration are skipped while this toggle is on, as in KcpSetup.
pub const DISABLE_CONTENT_CONFIGURATIONS: &str = "feature-disable-contentconfigurations";

/// What switching a toggle on did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Objects written (created or changed).
    pub written: usize,
    /// Objects deleted because their file left the toggle's directory.
    pub pruned: Vec<String>,
    /// Set when a workspace the toggle needs is not Ready yet; the rest of the toggle waits for the next pass.
    pub waiting: Option<String>,
}

/// A rendered object and the workspace it goes to.
struct Rendered {
    workspace: String,
    object: Value,
    source: String,
}

fn is_content_configuration(object: &Value) -> bool {
    object["kind"] == "ContentConfiguration"
        && object["apiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("ui.platform-mesh.io/"))
}

/// Renders the files of one step.
fn render(host: &dyn Host, step: &Step, vars: &Value) -> Result<Vec<Rendered>, String> {
    let mut out = Vec::new();
    for file in &step.files {
        let docs = host
            .render_file(file, vars, Funcs::Manifest)
            .map_err(|e| format!("rendering {e}"))?;
        for doc in docs {
            if ObjectRef::of(&doc.object).is_none() {
                return Err(format!(
                    "{}: document {} needs apiVersion, kind and metadata.name",
                    doc.source, doc.index
                ));
            }
            out.push(Rendered {
                workspace: step.workspace.clone(),
                object: doc.object,
                source: doc.source,
            });
        }
    }
    Ok(out)
}

/// Whether workspace `name` in `parent` is Ready (spec §6.1, looked up in the real parent — spec §11.3 item 29).
fn workspace_ready(host: &dyn Host, parent: &str, name: &str) -> Result<bool, String> {
    let kind = Gvk::new("tenancy.kcp.io", "v1alpha1", "Workspace");
    let workspace = host
        .get(&Target::kcp(parent), &kind.object(None, name))
        .map_err(|e| format!("getting workspace {name} in {parent}: {e}"))?;
    Ok(workspace.is_some_and(|w| w.pointer("/status/phase").and_then(Value::as_str) == Some("Ready")))
}

fn place_of(r: &Rendered) -> Place {
    let reference = ObjectRef::of(&r.object).expect("checked when rendering");
    Place {
        workspace: r.workspace.clone(),
        kind: reference.gvk,
    }
}

/// Switches `toggle` on: applies its directory from `root`, then deletes labelled objects of the same kinds and
/// workspaces that the directory no longer produces. Files of one workspace that fail are reported together;
/// later workspaces then wait for the next pass.
pub fn switch_on(
    host: &dyn Host,
    fs: &WorkspaceDir,
    toggle: &str,
    vars: &Value,
    skip_content_configurations: bool,
) -> Result<Applied, String> {
    let mut applied = Applied::default();
    let mut keep: BTreeMap<Place, Vec<String>> = BTreeMap::new();
    for step in steps(fs, &format!("{FEATURES_DIR}/{toggle}"), "root")? {
        if let Some((parent, name)) = &step.enter
            && !workspace_ready(host, parent, name)?
        {
            applied.waiting = Some(format!("workspace {} is not ready", step.workspace));
            return Ok(applied);
        }
        let mut failures = Vec::new();
        for rendered in render(host, &step, vars)? {
            if skip_content_configurations && is_content_configuration(&rendered.object) {
                continue;
            }
            let object = apply::labelled(rendered.object.clone(), toggle);
            let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            keep.entry(place_of(&rendered)).or_default().push(name.clone());
            match apply::apply(host, &rendered.workspace, &object) {
                Ok(wrote) => applied.written += usize::from(wrote),
                Err(e) => failures.push(format!(
                    "applying {} ({}/{name}) in {}: {e}",
                    rendered.source,
                    object["kind"].as_str().unwrap_or_default(),
                    rendered.workspace
                )),
            }
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
    }
    for (place, names) in &keep {
        let pruned = apply::prune(host, toggle, place, names)
            .map_err(|e| format!("removing stale objects of {toggle} in {}: {e}", place.workspace))?;
        applied.pruned.extend(pruned);
    }
    Ok(applied)
}

/// Switches `toggle` off: deletes every object labelled for it in the workspaces and kinds its directory
/// produces. Returns what was deleted.
pub fn switch_off(
    host: &dyn Host,
    fs: &WorkspaceDir,
    toggle: &str,
    vars: &Value,
) -> Result<Vec<String>, String> {
    let mut places = Vec::new();
    for step in steps(fs, &format!("{FEATURES_DIR}/{toggle}"), "root")? {
        for rendered in render(host, &step, vars)? {
            let place = place_of(&rendered);
            if !places.contains(&place) {
                places.push(place);
            }
        }
    }
    let mut deleted = Vec::new();
    for place in &places {
        let gone = apply::prune(host, toggle, place, &[])
            .map_err(|e| format!("removing objects of {toggle} in {}: {e}", place.workspace))?;
        deleted.extend(gone);
    }
    Ok(deleted)
}
