//! Flux mode (spec §4.6.4), used for `fluxcd` and every technology that is not `argocd`.
//!
//! | metadata | effect |
//! |---|---|
//! | `repo=oci`, `artifact=chart` | `OCIRepository` `<trimmed name>` at the chart's URL and version |
//! | `repo=git`, `artifact=chart` | `GitRepository` `<trimmed name>` at the resolved commit |
//! | `repo=helm`, `artifact=chart` | `HelmRepository` `<trimmed name>`, then the HelmRelease's chart version |
//! | `repo=helm` or `oci`, `artifact=image` | the image version in the HelmRelease's values (`for`, `path`) |
//! | anything else | nothing |
//!
//! Sources are server-side applied with field manager `platform-mesh-resource`, forced. HelmRelease edits are JSON
//! merge patches of just the changed fields: the HelmRelease belongs to the Deployment subroutine's apply, so a
//! partial apply would have to carry its whole required spec, and upstream's full update fails whenever the
//! release changed in between. Image versions and "unsuspended" are recorded in the image version store, from
//! which the Deployment subroutine re-applies them.

use std::time::Duration;

use platform_mesh_plugin_sdk::{
    CallResult, Failure, Gvk, Host, ImageVersion, LogLevel, PatchKind, Reconciled, Target, helm_values,
};
use serde_json::{Value, json};

use crate::{
    apply::{Applied, apply_owned},
    kinds,
    metadata::{ResourceMeta, Target as Release},
    oci::flux_oci_url,
};

/// Field manager of the sources.
pub const FIELD_MANAGER: &str = "platform-mesh-resource";

/// How long to wait for OCM to publish a Helm repository URL.
const HELM_REPOSITORY_RETRY: Duration = Duration::from_secs(5);

/// Runs the branch the Resource's metadata selects.
pub fn process(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    match (resource.repo(), resource.artifact()) {
        (Some("oci"), Some("chart")) => oci_repository(host, resource),
        (Some("git"), Some("chart")) => git_repository(host, resource),
        (Some("helm"), Some("chart")) => {
            let Some(url) = resource.string("/status/resource/access/helmRepository") else {
                return Ok(Reconciled::stop_after(
                    HELM_REPOSITORY_RETRY,
                    "helmRepository not available in Resource status",
                ));
            };
            helm_repository(host, resource, url)?;
            helm_release_chart_version(host, resource)
        }
        (Some("helm" | "oci"), Some("image")) => helm_release_image(host, resource),
        _ => Ok(Reconciled::ok()),
    }
}

fn source(kind: Gvk, resource: &ResourceMeta, spec: Value) -> Value {
    json!({
        "apiVersion": kind.api_version(),
        "kind": kind.kind,
        "metadata": {"name": resource.trimmed_name(), "namespace": resource.namespace},
        "spec": spec,
    })
}

fn apply_source(host: &dyn Host, resource: &ResourceMeta, object: &Value) -> Result<(), Failure> {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = format!("{}/{}", resource.namespace, resource.trimmed_name());
    let applied = apply_owned(host, object, FIELD_MANAGER)
        .map_err(|e| Failure::new(format!("applying {kind} {name}: {e}")))?;
    if applied == Applied::Written {
        host.log(
            LogLevel::Info,
            "applied source",
            &[("kind", kind), ("name", &name)],
        );
    }
    Ok(())
}

fn oci_repository(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    let version = resource
        .version()
        .ok_or_else(|| Failure::new("version not available in Resource status"))?;
    let reference = resource
        .string("/status/resource/access/imageReference")
        .ok_or_else(|| Failure::new("imageReference not available in Resource status"))?;
    let url = flux_oci_url(reference, version)?;
    let spec = json!({
        "ref": {"tag": version},
        "url": url,
        "provider": "generic",
        "interval": "1m0s",
        "layerSelector": {
            "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
            "operation": "copy",
        },
    });
    apply_source(host, resource, &source(kinds::oci_repository(), resource, spec))?;
    Ok(Reconciled::ok())
}

fn git_repository(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    let commit = resource
        .string("/status/resource/access/commit")
        .ok_or_else(|| Failure::new("commit not available in Resource status"))?;
    let url = resource
        .string("/status/resource/access/repoUrl")
        .ok_or_else(|| Failure::new("repoUrl not available in Resource status"))?;
    let spec = json!({"ref": {"commit": commit}, "url": url, "interval": "1m0s", "timeout": "5m"});
    apply_source(host, resource, &source(kinds::git_repository(), resource, spec))?;
    Ok(Reconciled::ok())
}

fn helm_repository(host: &dyn Host, resource: &ResourceMeta, url: &str) -> Result<(), Failure> {
    let spec = json!({"url": url, "provider": "generic", "interval": "5m"});
    apply_source(host, resource, &source(kinds::helm_repository(), resource, spec))
}

/// Reads the HelmRelease a Resource drives; a missing one is an error (the Deployment subroutine creates it, the
/// controller retries with backoff).
fn helm_release(host: &dyn Host, release: &Release) -> Result<Value, Failure> {
    let reference = kinds::helm_release().object(Some(&release.namespace), release.name.clone());
    match host.get(&Target::Infra, &reference) {
        Ok(Some(object)) => Ok(object),
        Ok(None) => Err(Failure::new(format!(
            "HelmRelease {release} not found: the Deployment subroutine has not created it yet"
        ))),
        Err(e) => Err(Failure::new(format!("HelmRelease {release} not found: {e}"))),
    }
}

/// Merge-patches `changes` into the HelmRelease, or does nothing when it already holds them.
fn patch_release(host: &dyn Host, release: &Release, current: &Value, changes: Value) -> Result<(), Failure> {
    if crate::apply::patch_unchanged(current, &changes) {
        return Ok(());
    }
    let reference = kinds::helm_release().object(Some(&release.namespace), release.name.clone());
    host.patch(&Target::Infra, &reference, PatchKind::Merge, &changes)
        .map_err(|e| Failure::new(format!("updating HelmRelease {release}: {e}")))?;
    host.log(
        LogLevel::Info,
        "updated HelmRelease",
        &[("name", &release.to_string())],
    );
    Ok(())
}

/// `{"spec": {"suspend": false}}` when the Resource asks to unsuspend, else nothing.
fn unsuspend_change(resource: &ResourceMeta) -> Value {
    if resource.unsuspend() {
        json!({"spec": {"suspend": false}})
    } else {
        json!({})
    }
}

fn helm_release_chart_version(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    let version = resource
        .version()
        .ok_or_else(|| Failure::new("version not available in Resource status"))?;
    let release = Release {
        namespace: resource.namespace.clone(),
        name: resource.trimmed_name().to_owned(),
    };
    let current = helm_release(host, &release)?;
    let mut changes = unsuspend_change(resource);
    changes["spec"]["chart"] = json!({"spec": {"version": version}});
    patch_release(host, &release, &current, changes)?;
    if resource.unsuspend() {
        host.set_unsuspended(&release.namespace, &release.name);
    }
    Ok(Reconciled::ok())
}

fn helm_release_image(host: &dyn Host, resource: &ResourceMeta) -> CallResult {
    let release = resource.target();
    let values_path = resource.values_path();
    let version_path = resource.version_path();
    let version = resource
        .string_at_path(version_path)
        .ok_or_else(|| Failure::new(format!("version not available at path {version_path}")))?;
    let current = helm_release(host, &release)?;
    let mut changes = unsuspend_change(resource);
    let mut values = json!({});
    helm_values::set_path(&mut values, values_path, version);
    changes["spec"]["values"] = values;
    patch_release(host, &release, &current, changes)?;
    host.image_version_set(
        &release.namespace,
        &release.name,
        ImageVersion {
            path: values_path.to_owned(),
            version: version.to_owned(),
        },
    );
    if resource.unsuspend() {
        host.set_unsuspended(&release.namespace, &release.name);
    }
    Ok(Reconciled::ok())
}
