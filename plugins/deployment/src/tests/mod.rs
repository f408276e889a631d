//! Native tests of the plugin against the SDK's `FakeHost`, rendering the real templates of this repository with
//! the host's template engine (`gotmpl`), so that the plugin logic and the catalogue are tested together.

mod postprocess;
mod process;
mod profile;
mod spec_values;
mod syncwave;
mod variables;

use std::path::{Path, PathBuf};

use platform_mesh_plugin_sdk::{Context, Document, RenderError, Target, testing::FakeHost};
use serde_json::{Value, json};

pub const NS: &str = "platform-mesh-system";

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn render_error(e: gotmpl::Error) -> RenderError {
    RenderError {
        source: e.name().to_owned(),
        line: e.line().map(|l| l as u32),
        column: e.column().map(|c| c as u32),
        message: e.to_string(),
    }
}

/// A FakeHost that renders with gotmpl from the repository's workspace and parses YAML like the host.
pub fn host() -> FakeHost {
    host_with_workspace(workspace())
}

pub fn host_with_workspace(base: PathBuf) -> FakeHost {
    let dir_base = base.clone();
    FakeHost::new()
        .with_renderer(move |path, vars| {
            let renderer = gotmpl::Renderer::default();
            let full = dir_base.join(path);
            let funcs = if path.starts_with("manifests") {
                gotmpl::FuncMap::Manifest
            } else {
                gotmpl::FuncMap::Deployment
            };
            // The fake's renderer does not see the filter; the release directories filter by the set's technology,
            // as the plugin asks the host to.
            let filter = (path.ends_with("/infra/infra") || path.ends_with("components/infra")).then(|| {
                match vars["deploymentTechnology"].as_str() {
                    Some("argocd") => gotmpl::Technology::Argocd,
                    _ => gotmpl::Technology::Fluxcd,
                }
            });
            let docs = if full.is_dir() {
                renderer.render_dir(&dir_base, &full, vars, funcs, filter)
            } else {
                let text = std::fs::read_to_string(&full).map_err(|e| RenderError {
                    source: path.into(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                })?;
                renderer.render_file(&full, &text, vars, funcs)
            }
            .map_err(render_error)?;
            Ok(docs
                .into_iter()
                .map(|d| Document {
                    source: d.source,
                    index: d.index as u32,
                    object: d.object,
                })
                .collect())
        })
        .with_string_renderer(|name, text, vars| {
            gotmpl::Renderer::default()
                .render_str(name, text, vars, gotmpl::FuncMap::Deployment)
                .map_err(render_error)
        })
        .with_yaml(
            |name, text| {
                gotmpl::yaml::from_yaml(text).map_err(|e| RenderError {
                    source: name.into(),
                    line: e.line().map(|l| l as u32),
                    column: None,
                    message: e.to_string(),
                })
            },
            |value| {
                gotmpl::yaml::to_yaml(value).map_err(|e| RenderError {
                    source: "toYaml".into(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                })
            },
        )
}

/// The profile ConfigMap of the samples (`deploy/samples/profile.yaml`), named `<pm>-profile`.
pub fn sample_profile_text(file: &str) -> String {
    let text = std::fs::read_to_string(workspace().join("deploy/samples").join(file)).unwrap();
    let cm = gotmpl::yaml::from_yaml(&text).unwrap();
    cm["data"]["profile.yaml"].as_str().unwrap().to_owned()
}

pub fn profile_config_map(name: &str, profile: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS},
           "data": {"profile.yaml": profile}})
}

pub fn platform_mesh(spec: Value) -> Value {
    json!({"apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
           "metadata": {"name": "platform-mesh", "namespace": NS}, "spec": spec})
}

pub fn sample_spec() -> Value {
    json!({"exposure": {"baseDomain": "portal.localhost", "port": 8443, "protocol": "https"},
           "ocm": {"repo": {"name": "platform-mesh"}, "component": {"name": "platform-mesh"}, "referencePath": []},
           "kcp": {}})
}

pub fn context(spec: Value) -> Context {
    let mut ctx = Context::for_object("platformmesh", platform_mesh(spec));
    ctx.operator_config = json!({"subroutinesDeploymentEnableIstio": false});
    ctx
}

/// The prerequisites the checks at the end look for: established cert-manager CRDs and an available kcp.
pub fn with_prerequisites(host: FakeHost) -> FakeHost {
    let crd = |name: &str| {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": name},
               "status": {"conditions": [{"type": "Established", "status": "True"}]}})
    };
    let kcp = |kind: &str, name: &str| {
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": NS},
               "status": {"conditions": [{"type": "Available", "status": "True"}]}})
    };
    host.with_object(Target::Runtime, crd("issuers.cert-manager.io"))
        .with_object(Target::Runtime, crd("certificates.cert-manager.io"))
        .with_object(Target::Runtime, kcp("RootShard", "root"))
        .with_object(Target::Runtime, kcp("FrontProxy", "frontproxy"))
}
