//! Argo CD mode (spec §4.6.3).
//!
//! - `artifact=chart`: the Application `<trimmed name>` gets the chart's `repoURL` and `targetRevision`.
//! - `artifact=image`: the Application named by `for` gets the image version in its Helm values (a YAML string).
//! - anything else: a warning, nothing else.
//!
//! Both are server-side applies of a partial Application, forced, with field manager
//! `platform-mesh-resource-<Resource name>`, so each Resource owns exactly the fields it sets. Both are skipped
//! when the Application already holds the values.

use platform_mesh_plugin_sdk::{
    ApplyOptions, CallResult, Failure, Host, ImageVersion, LogLevel, Reconciled, Target, helm_values,
};
use serde_json::{Value, json};

use crate::{
    kinds,
    metadata::{ResourceMeta, Target as Release},
    oci::argo_repo_url,
};

/// Where a chart comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub repo_url: String,
    pub target_revision: String,
    pub kind: SourceKind,
}

/// The kind of repository a chart is served from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Helm,
    Git,
    Oci,
}

impl SourceKind {
    /// `helm`, `git` or `oci`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Helm => "helm",
            SourceKind::Git => "git",
            SourceKind::Oci => "oci",
        }
    }
}

/// Runs the branch the Resource's `artifact` selects.
pub fn process(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    match resource.artifact() {
        Some("chart") => update_source(host, resource),
        Some("image") => update_values(host, resource),
        other => {
            host.log(
                LogLevel::Warn,
                "unknown artifact type; nothing to do for Argo CD",
                &[("resource", &resource.name), ("artifact", other.unwrap_or(""))],
            );
            Ok(Reconciled::ok())
        }
    }
}

/// The first non-empty value.
pub fn first_non_empty<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Option<&'a str> {
    values.into_iter().flatten().find(|v| !v.is_empty())
}

/// Resolves the chart source from the Resource's status: a Helm repository, else a git repository, else an OCI
/// image reference.
pub fn resolve_source(resource: &ResourceMeta) -> Result<Source, Failure> {
    let access = |key: &str| resource.string(&format!("/status/resource/access/{key}"));
    if let Some(helm) = access("helmRepository") {
        let version = resource
            .version()
            .ok_or_else(|| Failure::new("version not found for helm chart"))?;
        return Ok(Source {
            repo_url: helm.to_owned(),
            target_revision: version.to_owned(),
            kind: SourceKind::Helm,
        });
    }
    if let Some(repo) = access("repoUrl") {
        let revision = first_non_empty([
            access("ref"),
            resource.string("/status/component/version"),
            resource.version(),
            access("commit"),
        ])
        .ok_or_else(|| Failure::new("no ref, version, or commit found for git chart"))?;
        return Ok(Source {
            repo_url: repo.to_owned(),
            target_revision: revision.to_owned(),
            kind: SourceKind::Git,
        });
    }
    let reference = access("imageReference")
        .or_else(|| resource.string("/status/resource/imageReference"))
        .ok_or_else(|| Failure::new("no helmRepository, repoUrl, or imageReference found"))?;
    let repo_url = argo_repo_url(reference).map_err(Failure::new)?;
    let version = resource
        .version()
        .ok_or_else(|| Failure::new("version not found for OCI chart"))?;
    Ok(Source {
        repo_url,
        target_revision: version.to_owned(),
        kind: SourceKind::Oci,
    })
}

fn field_manager(resource: &ResourceMeta) -> String {
    format!("platform-mesh-resource-{}", resource.name)
}

/// Reads the Application; a missing one is an error, retried while the Deployment subroutine creates it.
fn application(host: &dyn Host, app: &Release) -> Result<Value, Failure> {
    let reference = kinds::application().object(Some(&app.namespace), app.name.clone());
    host.get(&Target::Infra, &reference)
        .map_err(|e| Failure::new(format!("reading application {app}: {e}")))?
        .ok_or_else(|| Failure::new(format!("application {app} not found")))
}

fn apply_partial(
    host: &dyn Host,
    resource: &ResourceMeta,
    app: &Release,
    source: Value,
    what: &str,
) -> Result<(), Failure> {
    let partial = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": app.name, "namespace": app.namespace},
        "spec": {"source": source},
    });
    host.apply(
        &Target::Infra,
        &partial,
        &ApplyOptions::force(field_manager(resource)),
    )
    .map_err(|e| Failure::new(format!("applying application {app}: {e}")))?;
    host.log(
        LogLevel::Info,
        "updated application",
        &[("name", &app.to_string()), ("fields", what)],
    );
    Ok(())
}

fn update_source(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    let source = resolve_source(resource)?;
    let app = Release {
        namespace: resource.namespace.clone(),
        name: resource.trimmed_name().to_owned(),
    };
    let current = application(host, &app)?;
    let at = |key: &str| {
        current
            .pointer(&format!("/spec/source/{key}"))
            .and_then(Value::as_str)
    };
    if at("targetRevision") == Some(source.target_revision.as_str())
        && at("repoURL") == Some(source.repo_url.as_str())
    {
        return Ok(Reconciled::ok());
    }
    let fields = json!({"repoURL": source.repo_url, "targetRevision": source.target_revision});
    let what = format!("{} source", source.kind.as_str());
    apply_partial(host, resource, &app, fields, &what)?;
    Ok(Reconciled::ok())
}

fn update_values(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    let app = resource.target();
    let path = resource.values_path();
    let version = resource
        .version()
        .ok_or_else(|| Failure::new("version not found"))?;
    let current = application(host, &app)?;
    let text = current
        .pointer("/spec/source/helm/values")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = format!("application {app} spec.source.helm.values");
    let values = helm_values::parse_values(host, &name, text)?;
    let entry = ImageVersion {
        path: path.to_owned(),
        version: version.to_owned(),
    };
    if helm_values::string_at(&values, path) != Some(version) {
        let mut values = values;
        helm_values::set_path(&mut values, path, version);
        let yaml = host.to_yaml(&values)?;
        let values = json!({"helm": {"values": yaml}});
        apply_partial(host, resource, &app, values, "helm values")?;
    }
    host.image_version_set(&app.namespace, &app.name, entry);
    Ok(Reconciled::ok())
}
