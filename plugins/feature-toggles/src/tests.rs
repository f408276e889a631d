//! Native tests against the SDK's FakeHost over a throw-away manifests tree whose files are JSON (FakeHost renders
//! by reading the file and substituting `{{ .protocol }}`-style keys; the real Go-template rendering of the
//! shipped manifests is exercised end to end in `tests/e2e_feature_toggles.rs`). Together they cover upstream's
//! `featuretoggles_test.go` inventory (spec §10.4) and the data-driven behaviour of spec §11.3 item 36.

use std::{fs, path::Path};

use platform_mesh_plugin_sdk::{
    ClusterError, Context, Document, Gvk, Outcome, Plugin, Reconciled, RenderError, Target, testing::FakeHost,
};
use serde_json::{Value, json};

use crate::{FINALIZER, FeatureToggles, apply::TOGGLE_LABEL, finalize_in, layout::WorkspaceDir, process_in};

const PMS: &str = "root:platform-mesh-system";

fn content(name: &str, extra: Value) -> Value {
    json!({"apiVersion": "ui.platform-mesh.io/v1alpha1", "kind": "ContentConfiguration",
           "metadata": {"name": name}, "spec": {"url": "{{ .protocol }}://{{ .baseDomainPort }}", "extra": extra}})
}

/// A workspace directory with `manifests/features/<toggle>/<dir>/<file>` = JSON text.
struct Tree(tempfile::TempDir);

impl Tree {
    fn new(files: &[(&str, Value)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, object) in files {
            let full = dir.path().join("manifests/features").join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, object.to_string()).unwrap();
        }
        Tree(dir)
    }

    fn fs(&self) -> WorkspaceDir {
        WorkspaceDir::at(self.0.path())
    }

    fn remove(&self, path: &str) {
        fs::remove_file(self.0.path().join("manifests/features").join(path)).unwrap();
    }
}

/// A FakeHost that renders a file by substituting the string vars into it and parsing it as JSON, and whose
/// `root:platform-mesh-system` workspace is Ready.
fn host(tree: &Tree) -> FakeHost {
    let root = tree.0.path().to_path_buf();
    FakeHost::new()
        .with_renderer(move |path, vars| render(&root, path, vars))
        .with_object(
            Target::kcp("root"),
            json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace",
                   "metadata": {"name": "platform-mesh-system"}, "status": {"phase": "Ready"}}),
        )
}

fn render(root: &Path, path: &str, vars: &Value) -> Result<Vec<Document>, RenderError> {
    let mut text = fs::read_to_string(root.join(path)).map_err(|e| RenderError {
        source: path.into(),
        line: None,
        column: None,
        message: e.to_string(),
    })?;
    for (k, v) in vars.as_object().into_iter().flatten() {
        if let Some(v) = v.as_str() {
            text = text.replace(&format!("{{{{ .{k} }}}}"), v);
        }
    }
    if let Some(title) = vars.pointer("/parameters/title").and_then(Value::as_str) {
        text = text.replace("{{ .parameters.title }}", title);
    }
    let object: Value = serde_json::from_str(&text).map_err(|e| RenderError {
        source: path.into(),
        line: Some(e.line() as u32),
        column: Some(e.column() as u32),
        message: e.to_string(),
    })?;
    Ok(vec![Document {
        source: path.into(),
        index: 0,
        object,
    }])
}

fn pm(toggles: Value) -> Context {
    Context::for_object(
        "platformmesh",
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "platform-mesh", "namespace": "platform-mesh-system"},
               "spec": {"featureToggles": toggles, "exposure": {"baseDomain": "example.com", "port": 8443}}}),
    )
}

fn cc_ref(name: &str) -> platform_mesh_plugin_sdk::ObjectRef {
    Gvk::new("ui.platform-mesh.io", "v1alpha1", "ContentConfiguration").object(None, name)
}

fn stored(host: &FakeHost, name: &str) -> Option<Value> {
    host.object(&Target::kcp(PMS), &cc_ref(name))
}

fn writes(host: &FakeHost) -> usize {
    host.calls()
        .iter()
        .filter(|c| !matches!(c.op, "get" | "list"))
        .count()
}

fn standard() -> Tree {
    Tree::new(&[
        (
            "getting-started/01-platform-mesh-system/a.yaml",
            content("a", json!(1)),
        ),
        (
            "iam/01-platform-mesh-system/b.yaml",
            content("b", json!("{{ .parameters.title }}")),
        ),
    ])
}

#[test]
fn name_and_finalizer() {
    let info = FeatureToggles::info();
    assert_eq!(info.name, "FeatureToggleSubroutine");
    assert_eq!(info.finalizers, [FINALIZER]);
}

#[test]
fn a_known_toggle_is_applied_with_its_label_and_the_exposure_data() {
    let tree = standard();
    let host = host(&tree);
    let done = process_in(&host, &pm(json!([{"name": "getting-started"}])), &tree.fs()).unwrap();
    assert_eq!(done, Reconciled::ok());
    let a = stored(&host, "a").expect("applied in root:platform-mesh-system");
    assert_eq!(a["metadata"]["labels"][TOGGLE_LABEL], "getting-started");
    assert_eq!(a["spec"]["url"], "https://example.com:8443");
    assert!(stored(&host, "b").is_none());
}

#[test]
fn every_known_toggle_in_one_reconcile_is_ok() {
    let tree = standard();
    let host = host(&tree);
    let ctx = pm(json!([{"name": "getting-started"}, {"name": "iam"}]));
    assert_eq!(process_in(&host, &ctx, &tree.fs()).unwrap(), Reconciled::ok());
    assert!(stored(&host, "a").is_some() && stored(&host, "b").is_some());
}

#[test]
fn parameters_reach_the_templates() {
    let tree = standard();
    let host = host(&tree);
    let ctx = pm(json!([{"name": "iam", "parameters": {"title": "Hello"}}]));
    process_in(&host, &ctx, &tree.fs()).unwrap();
    assert_eq!(stored(&host, "b").unwrap()["spec"]["extra"], "Hello");
}

#[test]
fn unknown_toggle_is_a_warning_not_a_failure() {
    let tree = standard();
    let host = host(&tree);
    let ctx = pm(json!([{"name": "feature-enable-marketplace-org"}, {"name": "getting-started"}]));
    let done = process_in(&host, &ctx, &tree.fs()).unwrap();
    let Outcome::Ok {
        message: Some(message),
        ..
    } = done.outcome
    else {
        panic!("{done:?}")
    };
    assert!(
        message.starts_with("warning: unknown feature toggles ignored: \"feature-enable-marketplace-org\"")
    );
    assert!(message.contains("getting-started, iam"), "{message}");
    assert!(stored(&host, "a").is_some(), "later toggles are still applied");
}

#[test]
fn toggles_read_by_other_subroutines_are_ok_without_kcp_access() {
    let tree = Tree::new(&[]);
    let host = host(&tree).with_error("get", None, ClusterError::Unavailable("no kcp".into()));
    let ctx = pm(json!([{"name": "feature-disable-email-verification"}]));
    assert_eq!(process_in(&host, &ctx, &tree.fs()).unwrap(), Reconciled::ok());
    assert!(host.calls().is_empty());
}

#[test]
fn switching_a_toggle_off_deletes_only_what_it_applied() {
    let tree = standard();
    let host = host(&tree);
    process_in(&host, &pm(json!([{"name": "getting-started"}])), &tree.fs()).unwrap();
    host.insert(Target::kcp(PMS), content("foreign", json!(0)));
    process_in(&host, &pm(json!([])), &tree.fs()).unwrap();
    assert!(stored(&host, "a").is_none());
    assert!(stored(&host, "foreign").is_some());
}

#[test]
fn a_file_leaving_the_directory_removes_its_object() {
    let tree = Tree::new(&[
        ("t/01-platform-mesh-system/a.yaml", content("a", json!(1))),
        ("t/01-platform-mesh-system/b.yaml", content("b", json!(2))),
    ]);
    let host = host(&tree);
    let ctx = pm(json!([{"name": "t"}]));
    process_in(&host, &ctx, &tree.fs()).unwrap();
    tree.remove("t/01-platform-mesh-system/b.yaml");
    process_in(&host, &ctx, &tree.fs()).unwrap();
    assert!(stored(&host, "a").is_some() && stored(&host, "b").is_none());
}

#[test]
fn second_pass_writes_nothing() {
    let tree = standard();
    let host = host(&tree);
    let ctx = pm(json!([{"name": "getting-started"}]));
    process_in(&host, &ctx, &tree.fs()).unwrap();
    let before = writes(&host);
    process_in(&host, &ctx, &tree.fs()).unwrap();
    assert_eq!(writes(&host), before);
}

#[test]
fn a_child_workspace_that_is_not_ready_makes_the_toggle_pending() {
    let tree = Tree::new(&[("t/01-orgs/a.yaml", content("a", json!(1)))]);
    let host = host(&tree);
    let done = process_in(&host, &pm(json!([{"name": "t"}])), &tree.fs()).unwrap();
    let Outcome::Pending { message, .. } = done.outcome else {
        panic!("{done:?}")
    };
    assert_eq!(message, "t: workspace root:orgs is not ready");
}

#[test]
fn a_broken_manifest_names_its_file_and_line() {
    let tree = standard();
    let path = tree
        .0
        .path()
        .join("manifests/features/iam/01-platform-mesh-system/b.yaml");
    fs::write(path, "{\n\"apiVersion\": }").unwrap();
    let host = host(&tree);
    let message = process_in(&host, &pm(json!([{"name": "iam"}])), &tree.fs())
        .unwrap_err()
        .message;
    assert!(
        message.starts_with("toggle iam: rendering manifests/features/iam/01-platform-mesh-system/b.yaml:2:"),
        "{message}"
    );
}

#[test]
fn content_configurations_are_skipped_while_they_are_disabled() {
    let tree = standard();
    let host = host(&tree);
    let ctx = pm(json!([{"name": "getting-started"}, {"name": "feature-disable-contentconfigurations"}]));
    assert_eq!(process_in(&host, &ctx, &tree.fs()).unwrap(), Reconciled::ok());
    assert!(stored(&host, "a").is_none());
}

#[test]
fn finalize_keeps_objects_unless_cleanup_is_configured() {
    let tree = standard();
    let host = host(&tree);
    let mut ctx = pm(json!([{"name": "getting-started"}]));
    process_in(&host, &ctx, &tree.fs()).unwrap();
    assert_eq!(finalize_in(&host, &ctx, &tree.fs()).unwrap(), Reconciled::ok());
    assert!(stored(&host, "a").is_some());
    ctx.plugin_config = json!({"cleanupOnDelete": true});
    assert_eq!(finalize_in(&host, &ctx, &tree.fs()).unwrap(), Reconciled::ok());
    assert!(stored(&host, "a").is_none());
}

#[test]
fn shipped_toggles_are_the_feature_directories() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let known = WorkspaceDir::at(repo).known_toggles().unwrap();
    assert_eq!(
        known,
        [
            "feature-accounts-in-accounts",
            "feature-enable-account-iam-ui",
            "feature-enable-getting-started",
            "feature-enable-terminal-controller-manager"
        ]
    );
}
