//! The Flux and OCM objects of one ManagedProvider, named as upstream names them (spec §4.9.5), written with
//! create-or-update and found again by label.
//!
//! Upstream's names can collide between ManagedProviders of one namespace (spec §11.4 item 44). An object found
//! under its name is adopted (labelled) when nobody claims it — an installation the Go operator created keeps its
//! objects — but one labelled for another ManagedProvider is left alone: the component fails with a message naming
//! both ManagedProviders.

use platform_mesh_plugin_sdk::{ClusterError, Context, Failure, Gvk, Host, ObjectRef, Reconciled};
use plugin_common::{
    Write,
    converge::{Written, skeleton},
    unchanged,
};
use serde_json::{Value, json};

use crate::{Component, WAIT, components::oci_url, ready, target};

/// The label naming the ManagedProvider an object belongs to.
pub const OWNER_LABEL: &str = "providers.platform-mesh.io/managed-provider";

fn helm_release() -> Gvk {
    Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease")
}
fn oci_repository() -> Gvk {
    Gvk::new("source.toolkit.fluxcd.io", "v1", "OCIRepository")
}
fn helm_repository() -> Gvk {
    Gvk::new("source.toolkit.fluxcd.io", "v1", "HelmRepository")
}
fn ocm(kind: &str) -> Gvk {
    Gvk::new("delivery.ocm.software", "v1alpha1", kind)
}

/// Deletion order: releases first, then their sources, then the OCM objects.
fn kinds() -> [Gvk; 6] {
    [
        helm_release(),
        oci_repository(),
        helm_repository(),
        ocm("Resource"),
        ocm("Component"),
        ocm("Repository"),
    ]
}

/// Writes and removes the objects of one ManagedProvider.
pub struct Deploy {
    owner: String,
    namespace: String,
    kubeconfig_secret: Option<String>,
}

impl Deploy {
    /// For the ManagedProvider in `ctx`.
    pub fn new(ctx: &Context) -> Self {
        Deploy {
            owner: ctx.name().to_owned(),
            namespace: ctx.namespace().to_owned(),
            kubeconfig_secret: ctx
                .field("/spec/runtimeKubeconfigSecretName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        }
    }

    /// Upstream's name: the last `/` segment of the Flux chart, or the OCM deployment name.
    fn name(&self, component: &Component) -> String {
        match component {
            Component::Flux { base, .. } | Component::Ocm { base, .. } => base.clone(),
        }
    }

    /// The object names a component owns (the same name for each of its kinds).
    pub fn names(&self, component: &Component) -> Vec<String> {
        vec![self.name(component)]
    }

    fn reference(&self, kind: Gvk, name: &str) -> ObjectRef {
        kind.object(Some(&self.namespace), name)
    }

    /// Writes `kind`/`name` with our label and `spec` fields set by `shape` (create-or-update); an object labelled
    /// for another ManagedProvider is not touched.
    fn write(
        &self,
        host: &dyn Host,
        kind: Gvk,
        name: &str,
        shape: impl FnOnce(&mut Value),
    ) -> Result<Written, Failure> {
        let reference = self.reference(kind, name);
        let current = host.get(&target(), &reference)?;
        let mut desired = match &current {
            Some(current) => {
                self.claimable(current, &reference)?;
                current.clone()
            }
            None => skeleton(&reference),
        };
        if !desired["metadata"]["labels"].is_object() {
            desired["metadata"]["labels"] = json!({});
        }
        desired["metadata"]["labels"][OWNER_LABEL] = json!(self.owner);
        if !desired["spec"].is_object() {
            desired["spec"] = json!({});
        }
        shape(&mut desired);
        match current {
            None => {
                host.create(&target(), &desired)?;
                Ok(Written::Created)
            }
            Some(current) if unchanged(&current, &desired, Write::Replace) => Ok(Written::Unchanged),
            Some(_) => {
                host.update(&target(), &desired)?;
                Ok(Written::Updated)
            }
        }
    }

    /// An object is ours to write unless it is labelled for another ManagedProvider.
    fn claimable(&self, current: &Value, reference: &ObjectRef) -> Result<(), Failure> {
        let owner = current
            .pointer("/metadata/labels")
            .and_then(|l| l.get(OWNER_LABEL))
            .and_then(Value::as_str);
        match owner {
            Some(other) if other != self.owner => Err(Failure::new(format!(
                "{} {}/{} belongs to ManagedProvider {other}; ManagedProvider {} names a component the same way \
                 (objects are named after the chart, as the Go operator names them), so it leaves the object to \
                 {other}: rename the component (flux.chart's last segment, or ocm.name) in one of them",
                reference.gvk.kind, self.namespace, reference.name, self.owner
            ))),
            _ => Ok(()),
        }
    }

    /// Deletes our objects whose names are not in `keep`; returns how many still exist (being deleted).
    pub fn prune(&self, host: &dyn Host, keep: &[String]) -> Result<usize, ClusterError> {
        let selector = format!("{OWNER_LABEL}={}", self.owner);
        let mut remaining = 0;
        for kind in kinds() {
            let items = match host.list(&target(), &kind, Some(&self.namespace), Some(&selector)) {
                Ok(items) => items,
                // A kind that is not served (Flux or OCM not installed) holds nothing of ours.
                Err(ClusterError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            for item in items {
                let name = item
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if keep.iter().any(|k| k == name) {
                    continue;
                }
                let deleting = item
                    .pointer("/metadata/deletionTimestamp")
                    .is_some_and(|t| !t.is_null());
                if deleting || host.delete(&target(), &self.reference(kind.clone(), name))? {
                    remaining += 1;
                }
            }
        }
        Ok(remaining)
    }

    fn release(
        &self,
        host: &dyn Host,
        name: &str,
        source: Value,
        values: &Option<Value>,
    ) -> Result<Written, Failure> {
        let kubeconfig = self.kubeconfig_secret.clone();
        self.write(host, helm_release(), name, |r| {
            let spec = &mut r["spec"];
            spec["interval"] = json!("5m");
            for (key, value) in source.as_object().into_iter().flatten() {
                spec[key.as_str()] = value.clone();
            }
            let Some(fields) = spec.as_object_mut() else {
                return;
            };
            match &kubeconfig {
                Some(secret) => {
                    fields.insert(
                        "kubeConfig".into(),
                        json!({"secretRef": {"name": secret, "key": "kubeconfig"}}),
                    );
                }
                None => {
                    fields.remove("kubeConfig");
                }
            }
            match values {
                Some(v) => {
                    fields.insert("values".into(), v.clone());
                }
                None => {
                    fields.remove("values");
                }
            }
        })
    }

    fn release_ready(&self, host: &dyn Host, name: &str) -> Result<Reconciled, Failure> {
        let release = host
            .get(&target(), &self.reference(helm_release(), name))
            .map_err(|e| Failure::new(format!("failed to get HelmRelease {name}: {e}")))?;
        Ok(match release {
            Some(r) if ready(&r) => Reconciled::ok(),
            _ => Reconciled::stop_after(WAIT, format!("HelmRelease {name} not ready")),
        })
    }

    fn oci(
        &self,
        host: &dyn Host,
        name: &str,
        url: &str,
        tag: &str,
        insecure: Option<bool>,
        values: &Option<Value>,
    ) -> Result<Reconciled, Failure> {
        let written = self.write(host, oci_repository(), name, |o| {
            let spec = &mut o["spec"];
            spec["url"] = json!(url);
            spec["ref"] = json!({"tag": tag});
            spec["provider"] = json!("generic");
            spec["interval"] = json!("1m0s");
            spec["layerSelector"] = json!({"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "operation": "copy"});
            if let Some(insecure) = insecure {
                spec["insecure"] = json!(insecure);
            }
        })?;
        let source =
            json!({"chartRef": {"kind": "OCIRepository", "name": name, "namespace": self.namespace}});
        let release = self.release(host, name, source, values)?;
        if written.changed() || release.changed() {
            return Ok(Reconciled::stop_after(
                WAIT,
                format!("waiting for {name} to be reconciled"),
            ));
        }
        let repo = host
            .get(&target(), &self.reference(oci_repository(), name))
            .map_err(|e| Failure::new(format!("failed to get OCIRepository {name}: {e}")))?
            .unwrap_or(Value::Null);
        if repo.pointer("/metadata/generation") != repo.pointer("/status/observedGeneration") {
            let message = format!(
                "waiting for OCIRepository {}/{name} to be reconciled",
                self.namespace
            );
            return Ok(Reconciled::stop_after(WAIT, message));
        }
        self.release_ready(host, name)
    }

    /// Deploys one component; `Ok(Reconciled::ok())` when it is ready.
    pub fn component(&self, host: &dyn Host, component: &Component) -> Result<Reconciled, Failure> {
        let name = self.name(component);
        match component {
            Component::Flux {
                helm: true,
                registry,
                chart,
                version,
                values,
                insecure,
                ..
            } => {
                let repo = self.write(host, helm_repository(), &name, |h| {
                    h["spec"]["url"] = json!(registry);
                    h["spec"]["interval"] = json!("5m");
                    if let Some(insecure) = insecure {
                        h["spec"]["insecure"] = json!(insecure);
                    }
                })?;
                let source = json!({"chart": {"spec": {"chart": chart, "version": version,
                    "sourceRef": {"kind": "HelmRepository", "name": name, "namespace": self.namespace}}}});
                let release = self.release(host, &name, source, values)?;
                if repo.changed() || release.changed() {
                    return Ok(Reconciled::stop_after(
                        WAIT,
                        format!("waiting for {name} to be reconciled"),
                    ));
                }
                self.release_ready(host, &name)
            }
            Component::Flux {
                registry,
                chart,
                version,
                values,
                insecure,
                ..
            } => {
                let url = format!("oci://{}/{chart}", registry.trim_end_matches('/'));
                self.oci(host, &name, &url, version, *insecure, values)
            }
            Component::Ocm {
                registry,
                component,
                version,
                resource_name,
                reference_path,
                values,
                insecure,
                ..
            } => self
                .ocm(
                    host,
                    &name,
                    (registry, component, version, resource_name, reference_path),
                )
                .and_then(|resolved| match resolved {
                    Err(wait) => Ok(wait),
                    Ok((url, tag)) => self.oci(host, &name, &url, &tag, *insecure, values),
                }),
        }
    }

    /// Writes the OCM objects; `Ok(Ok((oci url, version)))` once the Resource is resolved.
    #[allow(clippy::type_complexity)]
    fn ocm(
        &self,
        host: &dyn Host,
        name: &str,
        (registry, component, version, resource_name, reference_path): (&str, &str, &str, &str, &[String]),
    ) -> Result<Result<(String, String), Reconciled>, Failure> {
        let (base_url, sub_path) = crate::split_registry(registry);
        let config = json!([{"apiVersion": "delivery.ocm.software/v1alpha1", "kind": "Repository", "name": name,
            "namespace": self.namespace, "policy": "Propagate"}]);
        let repository = self.write(host, ocm("Repository"), name, |r| {
            r["spec"]["interval"] = json!("1m0s");
            r["spec"]["repositorySpec"] =
                json!({"type": "OCIRegistry", "baseUrl": base_url, "subPath": sub_path});
        })?;
        let comp = self.write(host, ocm("Component"), name, |c| {
            let spec = &mut c["spec"];
            spec["component"] = json!(component);
            spec["semver"] = json!(version);
            spec["interval"] = json!("1m0s");
            spec["downgradePolicy"] = json!("Deny");
            spec["repositoryRef"] = json!({"name": name});
            spec["ocmConfig"] = config.clone();
        })?;
        let resource = self.write(host, ocm("Resource"), name, |r| {
            // Upstream's `artifact`/`repo` labels; the Resource subroutine skips Resources carrying the
            // ManagedProvider label, so this subroutine stays the only writer of the component's OCIRepository.
            r["metadata"]["labels"]["artifact"] = json!("chart");
            r["metadata"]["labels"]["repo"] = json!("oci");
            let spec = &mut r["spec"];
            spec["componentRef"] = json!({"name": name});
            spec["resource"]["byReference"]["resource"] = json!({"name": resource_name});
            if !reference_path.is_empty() {
                let path: Vec<Value> = reference_path.iter().map(|n| json!({"name": n})).collect();
                spec["resource"]["byReference"]["referencePath"] = json!(path);
            }
            spec["ocmConfig"] = config.clone();
        })?;
        if repository.changed() || comp.changed() || resource.changed() {
            return Ok(Err(Reconciled::stop_after(
                WAIT,
                format!("waiting for OCM Resource {name} to be resolved"),
            )));
        }
        let stored = host
            .get(&target(), &self.reference(ocm("Resource"), name))
            .map_err(|e| Failure::new(format!("failed to get OCM Resource {name}: {e}")))?
            .unwrap_or(Value::Null);
        let image = stored
            .pointer("/status/resource/access/imageReference")
            .or_else(|| stored.pointer("/status/resource/imageReference"))
            .and_then(Value::as_str);
        let resolved = stored.pointer("/status/resource/version").and_then(Value::as_str);
        let (Some(image), Some(resolved)) = (image, resolved) else {
            return Ok(Err(Reconciled::stop_after(
                WAIT,
                format!("waiting for OCM Resource {name} status"),
            )));
        };
        let url = oci_url(image).map_err(Failure::new)?;
        Ok(Ok((url, resolved.to_owned())))
    }
}
