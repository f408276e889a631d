//! `platform-mesh-operator render`: every object the deployment subroutine would apply for a PlatformMesh and a
//! profile, offline, as YAML grouped by target cluster (like `helm template`).
//!
//! It runs the real deployment plugin, so render and reconcile cannot drift: the plugin talks to two in-process
//! API servers (the runtime and the infra cluster; no simulated controllers, no network) that hold the profile
//! ConfigMap and the CRDs of the kinds the templates produce, and afterwards everything the plugin applied (field
//! manager `platform-mesh-deployment`) is read back, stripped of server fields, and printed.

mod collect;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use apiserver::{ServerConfig, sim::SimConfig};
use serde_json::{Value, json};

use crate::{
    clusters::{Clusters, KcpAdmin},
    config::OperatorConfig,
    embedded,
    hostapi::{HostServices, ImageVersionStore},
    lifecycle::{CallContext, Outcome, Target},
    plugin::{PluginRuntime, RuntimeConfig},
};

pub use collect::{Group, to_yaml};

/// The deployment plugin's file name in the plugins directory.
pub const PLUGIN_FILE: &str = "deployment.wasm";

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// An input file could not be read or parsed.
    #[error("reading {path}: {message}")]
    Input {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The in-process API servers could not be set up.
    #[error("setting up the offline clusters: {0}")]
    Setup(String),
    /// The deployment plugin could not be loaded.
    #[error("loading the deployment plugin {path}: {message}")]
    Plugin {
        /// The plugin file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The deployment subroutine failed; the message names the profile key or template file and line.
    #[error("{0}")]
    Deployment(String),
}

/// What to render.
#[derive(Clone, Debug)]
pub struct RenderInput {
    /// The PlatformMesh (the first `PlatformMesh` document of the file).
    pub platform_mesh: Value,
    /// The profile text (the `profile.yaml` key of a ConfigMap, or a bare profile).
    pub profile: String,
    /// Forces `deploymentTechnology` in both profile sections.
    pub technology: Option<String>,
    /// `templates and manifests` directory.
    pub workspace_dir: PathBuf,
    /// Where `deployment.wasm` is.
    pub plugins_dir: PathBuf,
    /// The operator flags the plugin sees (istio is never checked offline).
    pub config: OperatorConfig,
}

fn read(path: &Path) -> Result<String, RenderError> {
    std::fs::read_to_string(path).map_err(|e| RenderError::Input {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

#[derive(clap::Parser)]
struct Defaults {
    #[command(flatten)]
    config: OperatorConfig,
}

/// The operator flags at their defaults (their environment variables still apply).
pub fn default_config() -> Result<OperatorConfig, RenderError> {
    use clap::Parser as _;
    Defaults::try_parse_from(["render"])
        .map(|d| d.config)
        .map_err(|e| RenderError::Input {
            path: "environment".into(),
            message: e.to_string(),
        })
}

/// Reads the first PlatformMesh of `path`.
pub fn read_platform_mesh(path: &Path) -> Result<Value, RenderError> {
    let documents = embedded::read_documents(path).map_err(|e| RenderError::Input {
        path: path.display().to_string(),
        message: crate::errors::error_chain(&e),
    })?;
    documents
        .into_iter()
        .find(|d| d["kind"] == "PlatformMesh")
        .ok_or_else(|| RenderError::Input {
            path: path.display().to_string(),
            message: "no PlatformMesh in the file".into(),
        })
}

/// Reads a profile: the `profile.yaml` key of a ConfigMap in `path`, or the whole file.
pub fn read_profile(path: &Path) -> Result<String, RenderError> {
    let text = read(path)?;
    let config_map = gotmpl::yaml::from_yaml(&text)
        .ok()
        .filter(|v| v["kind"] == "ConfigMap");
    match config_map {
        Some(cm) => cm["data"]["profile.yaml"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| RenderError::Input {
                path: path.display().to_string(),
                message: "the ConfigMap has no key profile.yaml".into(),
            }),
        None => Ok(text),
    }
}

/// `profile` with `deploymentTechnology` set in both sections.
fn with_technology(profile: &str, technology: &str) -> Result<String, RenderError> {
    let input = |message: String| RenderError::Input {
        path: "profile".into(),
        message,
    };
    let mut value = gotmpl::yaml::from_yaml(profile).map_err(|e| input(e.to_string()))?;
    for section in ["infra", "components"] {
        if let Some(map) = value.get_mut(section).and_then(Value::as_object_mut) {
            map.insert("deploymentTechnology".into(), json!(technology));
        }
    }
    gotmpl::yaml::to_yaml(&value).map_err(|e| input(e.to_string()))
}

/// The third-party kinds the templates produce (Flux, Argo CD, cert-manager, OCM, kcp-operator).
fn third_party_kinds() -> Vec<apiserver::sim::crds::Kind> {
    use apiserver::sim::{argocd, certmanager, flux, kcp_operator, ocm};
    vec![
        argocd::APPLICATION,
        argocd::APP_PROJECT,
        certmanager::ISSUER,
        certmanager::CLUSTER_ISSUER,
        certmanager::CERTIFICATE,
        flux::OCI_REPOSITORY,
        flux::HELM_REPOSITORY,
        flux::GIT_REPOSITORY,
        flux::HELM_RELEASE,
        flux::KUSTOMIZATION,
        kcp_operator::ROOT_SHARD,
        kcp_operator::FRONT_PROXY,
        ocm::REPOSITORY,
        ocm::COMPONENT,
        ocm::RESOURCE,
    ]
}

async fn offline_cluster() -> Result<apiserver::Server, RenderError> {
    let setup = |e: &dyn std::fmt::Display| RenderError::Setup(e.to_string());
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .map_err(|e| setup(&e))?;
    let client = server.client();
    embedded::install_crds(&client)
        .await
        .map_err(|e| setup(&crate::errors::error_chain(&e)))?;
    apiserver::sim::crds::install(&client, &third_party_kinds())
        .await
        .map_err(|e| setup(&e))?;
    Ok(server)
}

/// The profile ConfigMap's namespace and name for `pm` (spec §5.5).
fn profile_reference(pm: &Value) -> (String, String) {
    let namespace = pm["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_owned();
    let name = pm["metadata"]["name"].as_str().unwrap_or_default();
    match pm["spec"]["profileConfigMap"]["name"]
        .as_str()
        .filter(|n| !n.is_empty())
    {
        Some(cm) => {
            let cm_ns = pm["spec"]["profileConfigMap"]["namespace"]
                .as_str()
                .filter(|n| !n.is_empty());
            (cm_ns.unwrap_or(&namespace).to_owned(), cm.to_owned())
        }
        None => (namespace, format!("{name}-profile")),
    }
}

/// The namespace named by an API server's "namespaces \"x\" not found" message.
fn missing_namespace(message: &str) -> Option<String> {
    let rest = message.split("namespaces \"").nth(1)?;
    let (name, tail) = rest.split_once('"')?;
    tail.starts_with(" not found").then(|| name.to_owned())
}

/// Renders everything the deployment subroutine applies for `input`, grouped by target cluster.
pub async fn render(input: &RenderInput) -> Result<Vec<Group>, RenderError> {
    let runtime = offline_cluster().await?;
    let infra = offline_cluster().await?;
    let result = render_against(input, &runtime, &infra).await;
    runtime.shutdown().await;
    infra.shutdown().await;
    result
}

async fn render_against(
    input: &RenderInput,
    runtime: &apiserver::Server,
    infra: &apiserver::Server,
) -> Result<Vec<Group>, RenderError> {
    let setup = |e: embedded::EmbeddedError| RenderError::Setup(crate::errors::error_chain(&e));
    let pm = &input.platform_mesh;
    let (cm_namespace, cm_name) = profile_reference(pm);
    let pm_namespace = pm["metadata"]["namespace"].as_str().unwrap_or("default");
    let profile = match &input.technology {
        Some(t) => with_technology(&input.profile, t)?,
        None => input.profile.clone(),
    };
    for server in [runtime, infra] {
        for ns in [pm_namespace, cm_namespace.as_str()] {
            let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            embedded::apply(&server.client(), &namespace)
                .await
                .map_err(setup)?;
        }
    }
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": cm_name, "namespace": cm_namespace}, "data": {"profile.yaml": profile}});
    embedded::apply(&runtime.client(), &config_map)
        .await
        .map_err(setup)?;

    let services = HostServices {
        clusters: Arc::new(Clusters::new(
            runtime.client(),
            infra.client(),
            KcpAdmin::Config(Box::new(kube::Config::new(
                runtime
                    .url()
                    .parse()
                    .map_err(|_| RenderError::Setup("server URL".into()))?,
            ))),
        )),
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: input.workspace_dir.clone(),
    };
    let plugin_path = input.plugins_dir.join(PLUGIN_FILE);
    let plugin_error = |message: String| RenderError::Plugin {
        path: plugin_path.display().to_string(),
        message,
    };
    let plugins = PluginRuntime::new(
        RuntimeConfig::new(&input.plugins_dir, &input.workspace_dir),
        services,
    )
    .map_err(|e| plugin_error(crate::errors::error_chain(&e)))?;
    let deployment = plugins
        .load_file(&plugin_path)
        .await
        .map_err(|e| plugin_error(crate::errors::error_chain(&e)))?;
    let mut config = input.config.clone();
    config.subroutines.subroutines_deployment_enable_istio = false;
    let context = CallContext {
        controller: "platformmesh".into(),
        object_target: Target::Runtime,
        object: pm.clone(),
        operator_config: config.to_plugin_json(),
    };
    // The offline clusters hold no namespaces but the PlatformMesh's; a namespace an object needs is created and
    // the (idempotent) subroutine run again, as often as new namespaces turn up.
    let mut attempts = 0;
    loop {
        match deployment.process(&context).await {
            Err(failure) => match missing_namespace(&failure.message) {
                Some(namespace) if attempts < 20 => {
                    attempts += 1;
                    for server in [runtime, infra] {
                        let object =
                            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
                        embedded::apply(&server.client(), &object).await.map_err(setup)?;
                    }
                }
                _ => return Err(RenderError::Deployment(failure.message)),
            },
            // The readiness checks at the end (kcp) stop the chain offline; everything was applied before them.
            Ok(result) => {
                if let Outcome::Stop { message, .. } = &result.outcome {
                    tracing::debug!(%message, "deployment stopped at a readiness check");
                }
                break;
            }
        }
    }
    let mut groups = Vec::new();
    for (target, server) in [("runtime", runtime), ("infra", infra)] {
        let objects = collect::applied(&server.client())
            .await
            .map_err(|e| RenderError::Setup(e.to_string()))?;
        groups.push(Group {
            target: target.to_owned(),
            objects,
        });
    }
    Ok(groups)
}
