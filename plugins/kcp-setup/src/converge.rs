//! Applies the planned objects in rounds. A round applies, phase by phase, every object of the workspaces known
//! to be Ready (at first only `root`); then the child workspaces whose parent is Ready are looked up **in their
//! parent** (fix of §11.3 item 29: upstream always looked in `root`), and those that are Ready join the next round.
//! Nothing sleeps: a workspace that is not Ready yet, or an API that is not served yet, is reported as a wait and
//! the pass requeues (upstream blocked the reconcile for up to 15 s per workspace).
//!
//! A failing object does not stop the others (upstream: the rest of the directory went on, but its
//! sub-directories were skipped); every failure is reported.

use std::collections::{BTreeMap, BTreeSet};

use platform_mesh_plugin_sdk::{ApplyOptions, ClusterError, Gvk, Host, HostExt, Target};
use serde_json::{Value, json};

use crate::{
    apply::ensure,
    plan::{Item, Phase},
    settings::ExtraWorkspace,
};

/// Field manager of the manifests (spec §6.4).
pub const MANIFEST_MANAGER: &str = "platform-mesh-operator";
/// Field manager of the extra workspaces (spec §6.7).
pub const EXTRA_WORKSPACE_MANAGER: &str = "platform-mesh-kcp-setup";
/// The workspace the traversal starts at; it always exists.
pub const ROOT: &str = "root";

/// What one pass did and saw.
#[derive(Debug, Default, PartialEq)]
pub struct Progress {
    /// Objects sent to the API server (zero in a steady state).
    pub applied: usize,
    /// Why the pass is not complete yet (a workspace not Ready, an API not served).
    pub waiting: Vec<String>,
    /// Objects that failed.
    pub errors: Vec<String>,
    /// Workspace path → observed `status.phase` (`Unknown` when not seen or not set).
    pub workspaces: BTreeMap<String, String>,
}

impl Progress {
    /// `status.kcpWorkspaces`: every known workspace with its observed phase, sorted by path.
    pub fn status(&self) -> Value {
        let list: Vec<Value> = self
            .workspaces
            .iter()
            .map(|(name, phase)| json!({"name": name, "phase": phase}))
            .collect();
        json!({"kcpWorkspaces": list})
    }

    /// Records a reason to wait, once.
    fn wait(&mut self, reason: String) {
        if !self.waiting.contains(&reason) {
            self.waiting.push(reason);
        }
    }

    fn observe(&mut self, path: String, workspace: Option<&Value>) {
        let phase = workspace
            .and_then(|w| w.pointer("/status/phase"))
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .unwrap_or("Unknown");
        self.workspaces.insert(path, phase.to_owned());
    }
}

/// `(parent path, name)` of a workspace path; `None` for a path without `:`.
pub fn split_path(path: &str) -> Option<(&str, &str)> {
    path.rsplit_once(':')
        .filter(|(parent, name)| !parent.is_empty() && !name.is_empty())
}

fn workspace_kind() -> Gvk {
    Gvk::new("tenancy.kcp.io", "v1alpha1", "Workspace")
}

/// Applies one manifest object; records what it learns about workspaces.
fn apply_item(host: &dyn Host, item: &Item, progress: &mut Progress) {
    let target = Target::kcp(item.workspace.clone());
    match ensure(
        host,
        &target,
        &item.object,
        &ApplyOptions::force(MANIFEST_MANAGER),
    ) {
        Ok(done) => {
            progress.applied += usize::from(done.applied);
            if item.phase == Phase::Workspaces {
                progress.observe(format!("{}:{}", item.workspace, item.name()), Some(&done.object));
            }
        }
        // The kind is not served (yet): its APIBinding is still binding.
        Err(ClusterError::NotFound(_)) => progress.wait(format!(
            "waiting for {} {} to be served in {}",
            item.object["apiVersion"].as_str().unwrap_or_default(),
            item.kind(),
            item.workspace,
        )),
        // Spec §6.4 step 6: its validating webhook may not be up yet.
        Err(e) if item.kind() == "IdentityProviderConfiguration" => {
            host.warn(&format!("ignoring failure to apply {}: {e}", item.describe()));
        }
        Err(e) => progress
            .errors
            .push(format!("Failed to apply manifest file: {}: {e}", item.describe())),
    }
}

/// Looks up workspace `path` in its parent; `true` when it is Ready.
fn workspace_ready(host: &dyn Host, path: &str, progress: &mut Progress) -> bool {
    let Some((parent, name)) = split_path(path) else {
        return false;
    };
    if !progress.workspaces.contains_key(path) {
        match host.get(&Target::kcp(parent), &workspace_kind().object(None, name)) {
            Ok(found) => progress.observe(path.to_owned(), found.as_ref()),
            Err(e) => {
                progress.wait(format!("reading workspace {path}: {e}"));
                return false;
            }
        }
    }
    let phase = progress.workspaces.get(path).map_or("Unknown", String::as_str);
    if phase == "Ready" {
        return true;
    }
    progress
        .waiting
        .push(format!("workspace {path} is not Ready yet (phase {phase})"));
    false
}

/// Applies `items` round by round as their workspaces become Ready.
pub fn converge(host: &dyn Host, items: &[Item]) -> Progress {
    let mut progress = Progress::default();
    let mut ready: BTreeSet<String> = BTreeSet::from([ROOT.to_owned()]);
    let mut checked: BTreeSet<String> = BTreeSet::new();
    let mut done = vec![false; items.len()];
    let mut needed: Vec<&str> = Vec::new();
    for item in items {
        if !needed.contains(&item.workspace.as_str()) {
            needed.push(&item.workspace);
        }
    }
    loop {
        for phase in Phase::ALL {
            for (i, item) in items.iter().enumerate() {
                if !done[i] && item.phase == phase && ready.contains(&item.workspace) {
                    done[i] = true;
                    apply_item(host, item, &mut progress);
                }
            }
        }
        let mut grew = false;
        for &path in &needed {
            let parent_ready = split_path(path).is_some_and(|(parent, _)| ready.contains(parent));
            if ready.contains(path) || checked.contains(path) || !parent_ready {
                continue;
            }
            checked.insert(path.to_owned());
            if workspace_ready(host, path, &mut progress) {
                ready.insert(path.to_owned());
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    // Workspaces not reached yet (below one that is not Ready) are listed too, so the status names every
    // workspace the manifests hold or create.
    let created = items
        .iter()
        .filter(|i| i.phase == Phase::Workspaces)
        .map(|i| format!("{}:{}", i.workspace, i.name()));
    for path in needed
        .into_iter()
        .filter(|p| *p != ROOT)
        .map(str::to_owned)
        .chain(created)
    {
        // A created workspace nothing is applied into is still awaited: the pass is done when kcp is.
        if !checked.contains(&path) && progress.workspaces.get(&path).is_some_and(|p| p != "Ready") {
            progress.wait(format!(
                "workspace {path} is not Ready yet (phase {})",
                progress.workspaces[&path]
            ));
        }
        progress
            .workspaces
            .entry(path)
            .or_insert_with(|| "Unknown".to_owned());
    }
    progress
}

/// Spec §6.7: applies each extra workspace in its parent (not forced, not awaited); a path without `:` is skipped
/// with a warning.
pub fn extra_workspaces(host: &dyn Host, extras: &[ExtraWorkspace], progress: &mut Progress) {
    for extra in extras {
        let Some((parent, name)) = split_path(&extra.path) else {
            host.warn(&format!(
                "skipping extra workspace {:?}: the path has no parent",
                extra.path
            ));
            continue;
        };
        let mut type_ = json!({"name": extra.type_.name});
        if !extra.type_.path.is_empty() {
            type_["path"] = json!(extra.type_.path);
        }
        let workspace = json!({
            "apiVersion": "tenancy.kcp.io/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": name},
            "spec": {"type": type_},
        });
        let options = ApplyOptions {
            field_manager: EXTRA_WORKSPACE_MANAGER.into(),
            force: false,
        };
        match ensure(host, &Target::kcp(parent), &workspace, &options) {
            Ok(done) => {
                progress.applied += usize::from(done.applied);
                progress.observe(extra.path.clone(), Some(&done.object));
            }
            Err(e) => progress
                .errors
                .push(format!("Failed to apply extra workspace: {name}: {e}")),
        }
    }
}
