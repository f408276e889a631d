//! A FakeHost standing in for a freshly installed kcp (readiness objects, admin Secret, root APIExports, CA
//! Secrets) that renders the real manifests with the real template engine, and helpers to let kcp "settle".

use std::path::{Path, PathBuf};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use platform_mesh_plugin_sdk::{
    CallResult, Context, Document, Gvk, Host, ObjectRef, RenderError, Target, testing::FakeHost,
};
use serde_json::{Value, json};

pub const DOMAIN_PEM: &str = "-----BEGIN CERTIFICATE-----\nZG9tYWlu\n-----END CERTIFICATE-----\n";

/// The source tree (holds `manifests/kcp`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// A PlatformMesh context with `spec` and the operator's default flags.
pub fn ctx(spec: Value) -> Context {
    Context::for_object(
        "platformmesh",
        json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
               "metadata": {"name": "platform-mesh", "namespace": "platform-mesh-system"}, "spec": spec}),
    )
}

/// Renders files below `root` with gotmpl and the manifest function map, as the host does.
pub fn renderer(root: PathBuf) -> impl Fn(&str, &Value) -> Result<Vec<Document>, RenderError> + 'static {
    let engine = gotmpl::Renderer::default();
    move |path, vars| {
        let failure = |line: Option<usize>, message: String| RenderError {
            source: path.to_owned(),
            line: line.map(|l| l as u32),
            column: None,
            message,
        };
        let text = std::fs::read_to_string(root.join(path)).map_err(|e| failure(None, e.to_string()))?;
        let docs = engine
            .render_file(Path::new(path), &text, vars, gotmpl::FuncMap::Manifest)
            .map_err(|e| failure(e.line(), e.to_string()))?;
        Ok(docs
            .into_iter()
            .map(|d| Document {
                source: path.to_owned(),
                index: d.index as u32,
                object: d.object,
            })
            .collect())
    }
}

fn secret(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "platform-mesh-system"},
           "data": data})
}

fn b64(text: &str) -> String {
    STANDARD.encode(text)
}

fn available(kind: &str, name: &str) -> Value {
    json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": kind,
           "metadata": {"name": name, "namespace": "platform-mesh-system"},
           "status": {"conditions": [{"type": "Available", "status": "True"}]}})
}

/// The identity hash the fake kcp gives root APIExport `name`.
pub fn hash_of(name: &str) -> String {
    format!("hash-{name}")
}

/// Installs what a running kcp and the platform-mesh services provide.
pub fn install_kcp(host: &FakeHost) {
    host.insert(Target::Runtime, available("RootShard", "root"));
    host.insert(Target::Runtime, available("FrontProxy", "frontproxy"));
    host.insert(
        Target::Runtime,
        secret(
            "kcp-cluster-admin-client-cert",
            json!({"kubeconfig": b64("apiVersion: v1")}),
        ),
    );
    host.insert(
        Target::Runtime,
        secret(
            "account-operator-webhook-server-cert",
            json!({"ca.crt": b64("account-ca")}),
        ),
    );
    host.insert(
        Target::Runtime,
        secret(
            "security-operator-ca-secret",
            json!({"ca.crt": b64("security-ca")}),
        ),
    );
    host.insert(
        Target::Runtime,
        secret("domain-certificate", json!({"ca.crt": b64(DOMAIN_PEM)})),
    );
    for name in ["tenancy.kcp.io", "shards.core.kcp.io", "topology.kcp.io"] {
        host.insert(
            Target::kcp("root"),
            json!({"apiVersion": "apis.kcp.io/v1alpha1", "kind": "APIExport", "metadata": {"name": name},
                   "status": {"identityHash": hash_of(name)}}),
        );
    }
}

/// A fake kcp with the real manifests of the source tree.
pub fn kcp_host() -> FakeHost {
    let host = FakeHost::new().with_renderer(renderer(repo_root()));
    install_kcp(&host);
    host
}

/// One pass over the source tree's manifests.
pub fn pass(host: &FakeHost, ctx: &Context) -> CallResult {
    crate::reconcile(host, ctx, &repo_root())
}

pub fn workspace_kind() -> Gvk {
    Gvk::new("tenancy.kcp.io", "v1alpha1", "Workspace")
}

/// What kcp does between passes: every Workspace in `parents` turns Ready and every APIBinding Bound.
pub fn settle(host: &FakeHost, parents: &[&str]) {
    let binding = Gvk::new("apis.kcp.io", "v1alpha2", "APIBinding");
    for parent in parents {
        let target = Target::kcp(*parent);
        for (kind, status) in [
            (workspace_kind(), json!({"phase": "Ready"})),
            (binding.clone(), json!({"phase": "Bound"})),
        ] {
            for object in host.list(&target, &kind, None, None).unwrap() {
                let r = ObjectRef::of(&object).unwrap();
                host.patch_status(&target, &r, &status).unwrap();
            }
        }
    }
}

/// The shipped tree's workspaces (spec §6.2.1) that hold objects.
pub const PARENTS: [&str; 4] = ["root", "root:platform-mesh-system", "root:providers", "root:orgs"];

/// Runs passes, settling kcp in between, until one returns `ok`; panics after `max` passes.
pub fn converge(host: &FakeHost, ctx: &Context, max: usize) -> usize {
    for n in 1..=max {
        let done = pass(host, ctx).unwrap_or_else(|f| panic!("pass {n} failed: {}", f.message));
        if matches!(done.outcome, platform_mesh_plugin_sdk::Outcome::Ok { .. }) {
            return n;
        }
        settle(host, &PARENTS);
    }
    panic!("no convergence after {max} passes");
}

/// The stored object, if any.
pub fn stored(host: &FakeHost, path: &str, gvk: (&str, &str, &str), name: &str) -> Option<Value> {
    host.object(
        &Target::kcp(path),
        &Gvk::new(gvk.0, gvk.1, gvk.2).object(None, name),
    )
}

/// Copies `manifests/kcp` of the source tree into a fresh directory and returns that workspace directory.
pub fn copy_manifests(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kcp-setup-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&repo_root().join("manifests/kcp"), &dir.join("manifests/kcp"));
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
