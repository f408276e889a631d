//! `cluster` imports over kube's dynamic API. Every call checks the plugin's permissions first, then resolves
//! the target's client and the kind's API resource (discovery cache), then talks to the API server.
//! Object bodies are never logged: they may be Secrets.

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{
    Api, Client,
    api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams},
    core::{ApiResource, GroupVersionKind, TypeMeta},
};
use serde_json::Value;

use super::{
    HostCall,
    errors::{from_cluster, from_kube, invalid_json},
    permissions::{Access, Verb},
    retry,
};
use crate::{
    lifecycle::Target,
    plugin::bindings::{
        cluster::{self, ApplyOptions, PatchKind},
        types::{self, Error, Gvk, ObjectRef},
    },
};

type Result<T, E = Error> = std::result::Result<T, E>;

fn target_of(target: types::Target) -> Target {
    match target {
        types::Target::Runtime => Target::Runtime,
        types::Target::Infra => Target::Infra,
        types::Target::Kcp(path) => Target::Kcp(path),
        types::Target::Remote(r) => Target::Remote(crate::lifecycle::KubeconfigRef {
            namespace: r.namespace,
            name: r.name,
            key: r.key,
        }),
    }
}

fn gvk_of(gvk: &Gvk) -> GroupVersionKind {
    GroupVersionKind::gvk(&gvk.group, &gvk.version, &gvk.kind)
}

/// The reference (gvk, namespace, name) of a JSON object passed by the plugin.
fn ref_of(object: &Value) -> Result<(Gvk, Option<String>, String)> {
    let field = |p: &str| {
        object
            .pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let (Some(api_version), Some(kind), Some(name)) =
        (field("/apiVersion"), field("/kind"), field("/metadata/name"))
    else {
        return Err(Error::Invalid(
            "the object needs apiVersion, kind and metadata.name".into(),
        ));
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = Gvk {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
    };
    Ok((
        gvk,
        field("/metadata/namespace").map(str::to_owned),
        name.to_owned(),
    ))
}

fn to_json(mut object: DynamicObject, resource: &ApiResource) -> Result<String> {
    // List items come without apiVersion and kind; plugins expect whole objects.
    object.types.get_or_insert_with(|| TypeMeta {
        api_version: resource.api_version.clone(),
        kind: resource.kind.clone(),
    });
    serde_json::to_string(&object).map_err(|e| Error::Other(format!("encoding the stored object: {e}")))
}

fn parse(what: &str, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| invalid_json(what, e))
}

impl HostCall {
    /// Checks permissions, then builds the dynamic API for the kind in the namespace (`None`: cluster-wide).
    async fn api(
        &self,
        target: &Target,
        gvk: &Gvk,
        namespace: Option<&str>,
        verb: Verb,
    ) -> Result<(Api<DynamicObject>, ApiResource)> {
        let namespace = namespace.filter(|ns| !ns.is_empty());
        let access = Access {
            target,
            group: &gvk.group,
            kind: &gvk.kind,
            verb,
            namespace,
        };
        self.permissions
            .check(&access)
            .map_err(|missing| Error::Forbidden(format!("plugin {}: {missing}", self.plugin)))?;
        self.check_remote(target)?;
        let client = self
            .services
            .clusters
            .client(target)
            .await
            .map_err(from_cluster)?;
        let (resource, namespaced) = self
            .services
            .clusters
            .resolve(target, &client, &gvk_of(gvk))
            .await
            .map_err(from_cluster)?;
        tracing::debug!(plugin = %self.plugin, object = %self.object_key, verb = verb.as_str(),
            kind = %gvk.kind, namespace = namespace.unwrap_or(""), "cluster call");
        let api = match namespace {
            Some(ns) if namespaced => Api::namespaced_with(client, ns, &resource),
            _ => Api::all_with(client, &resource),
        };
        Ok((api, resource))
    }

    /// A remote target reads its kubeconfig Secret on the plugin's behalf, so the plugin must be allowed to.
    fn check_remote(&self, target: &Target) -> Result<()> {
        let Target::Remote(secret) = target else {
            return Ok(());
        };
        let access = Access {
            target: &Target::Runtime,
            group: "",
            kind: "Secret",
            verb: Verb::Get,
            namespace: Some(&secret.namespace),
        };
        self.permissions
            .check(&access)
            .map_err(|missing| Error::Forbidden(format!("plugin {}: {missing}", self.plugin)))
    }

    async fn client_for_token(&self, target: &Target, namespace: &str) -> Result<Client> {
        let access = Access {
            target,
            group: "",
            kind: "ServiceAccount",
            verb: Verb::RequestToken,
            namespace: Some(namespace),
        };
        self.permissions
            .check(&access)
            .map_err(|missing| Error::Forbidden(format!("plugin {}: {missing}", self.plugin)))?;
        self.check_remote(target)?;
        self.services.clusters.client(target).await.map_err(from_cluster)
    }
}

impl cluster::Host for HostCall {
    async fn get(&mut self, target: types::Target, object: ObjectRef) -> Result<Option<String>> {
        let target = target_of(target);
        let (api, resource) = self
            .api(&target, &object.gvk, object.namespace.as_deref(), Verb::Get)
            .await?;
        match retry::read_with_retry(|| api.get_opt(&object.name))
            .await
            .map_err(from_kube)?
        {
            Some(found) => Ok(Some(to_json(found, &resource)?)),
            None => Ok(None),
        }
    }

    async fn list(
        &mut self,
        target: types::Target,
        kind: Gvk,
        namespace: Option<String>,
        label_selector: Option<String>,
    ) -> Result<Vec<String>> {
        let target = target_of(target);
        let (api, resource) = self.api(&target, &kind, namespace.as_deref(), Verb::List).await?;
        let mut params = ListParams::default();
        if let Some(selector) = label_selector.as_deref().filter(|s| !s.is_empty()) {
            params = params.labels(selector);
        }
        let list = retry::read_with_retry(|| api.list(&params))
            .await
            .map_err(from_kube)?;
        list.items
            .into_iter()
            .map(|item| to_json(item, &resource))
            .collect()
    }

    async fn apply(
        &mut self,
        target: types::Target,
        object: String,
        options: ApplyOptions,
    ) -> Result<String> {
        let target = target_of(target);
        let mut value = parse("the applied object", &object)?;
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            meta.remove("resourceVersion");
        }
        let (gvk, namespace, name) = ref_of(&value)?;
        let (api, resource) = self.api(&target, &gvk, namespace.as_deref(), Verb::Apply).await?;
        let mut params = PatchParams::apply(&options.field_manager);
        if options.force {
            params = params.force();
        }
        let stored = api
            .patch(&name, &params, &Patch::Apply(&value))
            .await
            .map_err(from_kube)?;
        to_json(stored, &resource)
    }

    async fn create(&mut self, target: types::Target, object: String) -> Result<String> {
        let target = target_of(target);
        let value = parse("the created object", &object)?;
        let (gvk, namespace, _) = ref_of(&value)?;
        let (api, resource) = self
            .api(&target, &gvk, namespace.as_deref(), Verb::Create)
            .await?;
        let object: DynamicObject =
            serde_json::from_value(value).map_err(|e| invalid_json("the created object", e))?;
        to_json(
            api.create(&PostParams::default(), &object)
                .await
                .map_err(from_kube)?,
            &resource,
        )
    }

    async fn update(&mut self, target: types::Target, object: String) -> Result<String> {
        let target = target_of(target);
        let value = parse("the updated object", &object)?;
        let (gvk, namespace, name) = ref_of(&value)?;
        let (api, resource) = self
            .api(&target, &gvk, namespace.as_deref(), Verb::Update)
            .await?;
        let object: DynamicObject =
            serde_json::from_value(value).map_err(|e| invalid_json("the updated object", e))?;
        to_json(
            api.replace(&name, &PostParams::default(), &object)
                .await
                .map_err(from_kube)?,
            &resource,
        )
    }

    async fn patch(
        &mut self,
        target: types::Target,
        object: ObjectRef,
        kind: PatchKind,
        patch: String,
    ) -> Result<String> {
        let target = target_of(target);
        let value = parse("the patch", &patch)?;
        let (api, resource) = self
            .api(&target, &object.gvk, object.namespace.as_deref(), Verb::Patch)
            .await?;
        let patch = match kind {
            PatchKind::Merge => Patch::Merge(value),
            PatchKind::Json => {
                Patch::Json(serde_json::from_value(value).map_err(|e| invalid_json("the JSON patch", e))?)
            }
        };
        to_json(
            api.patch(&object.name, &PatchParams::default(), &patch)
                .await
                .map_err(from_kube)?,
            &resource,
        )
    }

    async fn delete(&mut self, target: types::Target, object: ObjectRef) -> Result<bool> {
        let target = target_of(target);
        let (api, _) = self
            .api(&target, &object.gvk, object.namespace.as_deref(), Verb::Delete)
            .await?;
        match api.delete(&object.name, &DeleteParams::default()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(from_kube(e)),
        }
    }

    async fn patch_status(
        &mut self,
        target: types::Target,
        object: ObjectRef,
        patch: String,
    ) -> Result<String> {
        let target = target_of(target);
        let value = parse("the status patch", &patch)?;
        let (api, resource) = self
            .api(
                &target,
                &object.gvk,
                object.namespace.as_deref(),
                Verb::PatchStatus,
            )
            .await?;
        let stored = api
            .patch_status(&object.name, &PatchParams::default(), &Patch::Merge(value))
            .await;
        to_json(stored.map_err(from_kube)?, &resource)
    }

    async fn request_token(
        &mut self,
        target: types::Target,
        namespace: String,
        service_account: String,
        expiration_seconds: i64,
    ) -> Result<String> {
        let target = target_of(target);
        let client = self.client_for_token(&target, &namespace).await?;
        let api: Api<ServiceAccount> = Api::namespaced(client, &namespace);
        let request = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": expiration_seconds},
        });
        let stored: Value = api
            .create_subresource("token", &service_account, &PostParams::default(), &request)
            .await
            .map_err(from_kube)?;
        Ok(stored.to_string())
    }
}
