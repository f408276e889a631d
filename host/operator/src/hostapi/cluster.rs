//! `cluster` imports over kube's dynamic API. Every call first checks the names it will put into the URL
//! ([`super::validate`]) and that the plugin may touch the kind on the target at all, then resolves the target's
//! client and the kind's API resource (discovery cache), then checks the permission again in the namespace the
//! object really lives in (none for cluster-scoped kinds), then talks to the API server.
//! Object bodies are never logged: they may be Secrets.
//!
//! A list returns at most [`MAX_LIST_BYTES`] of JSON to the plugin; it is read in pages of [`LIST_PAGE`] objects
//! so that the host does not hold more than that either.

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::{
    Api, Client,
    api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams},
    core::{ApiResource, GroupVersionKind, TypeMeta},
};
use serde_json::Value;

use super::{
    HostCall,
    errors::{from_cluster, from_kube_on, invalid_json},
    permissions::{Access, Verb},
    retry, validate,
};
use crate::{
    target::Target,
    wit::{
        cluster::{self, ApplyOptions, PatchKind},
        types::{self, Error, Gvk, ObjectRef},
    },
};

type Result<T, E = Error> = std::result::Result<T, E>;

/// The most JSON a `list` returns to a plugin (all items together).
pub const MAX_LIST_BYTES: usize = 8 << 20;
/// Objects per page when listing.
pub const LIST_PAGE: u32 = 100;

fn target_of(target: types::Target) -> Target {
    match target {
        types::Target::Runtime => Target::Runtime,
        types::Target::Infra => Target::Infra,
        types::Target::Kcp(path) => Target::Kcp(path),
        types::Target::Remote(r) => Target::Remote(crate::target::KubeconfigRef {
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
    /// Checks names and permissions, then builds the dynamic API for the kind in the namespace (`None`:
    /// cluster-wide). `name` is the object name going into the URL, if any.
    async fn api(
        &self,
        target: &Target,
        gvk: &Gvk,
        namespace: Option<&str>,
        name: Option<&str>,
        verb: Verb,
    ) -> Result<(Api<DynamicObject>, ApiResource)> {
        let namespace = namespace.filter(|ns| !ns.is_empty());
        validate::target(target).map_err(Error::Invalid)?;
        validate::gvk(&gvk.group, &gvk.version, &gvk.kind).map_err(Error::Invalid)?;
        if let Some(ns) = namespace {
            validate::namespace(ns).map_err(Error::Invalid)?;
        }
        if let Some(name) = name {
            validate::name(name).map_err(Error::Invalid)?;
        }
        let access = Access {
            target,
            group: &gvk.group,
            kind: &gvk.kind,
            verb,
            namespace,
        };
        self.permissions
            .check_kind(&access)
            .map_err(|missing| self.forbidden(missing))?;
        self.check_remote(target)?;
        let client = self.client(target).await?;
        let (resource, namespaced) = self
            .services
            .clusters
            .resolve(target, &client, &gvk_of(gvk))
            .await
            .map_err(from_cluster)?;
        // The namespace the request really addresses: a cluster-scoped kind has none, whatever the plugin wrote.
        let namespace = namespace.filter(|_| namespaced);
        self.permissions
            .check(&Access { namespace, ..access })
            .map_err(|missing| self.forbidden(missing))?;
        tracing::debug!(plugin = %self.plugin, object = %self.object_key, verb = verb.as_str(),
            kind = %gvk.kind, namespace = namespace.unwrap_or(""), "cluster call");
        let api = match namespace {
            Some(ns) => Api::namespaced_with(client, ns, &resource),
            None => Api::all_with(client, &resource),
        };
        Ok((api, resource))
    }

    fn forbidden(&self, missing: String) -> Error {
        Error::Forbidden(format!("plugin {}: {missing}", self.plugin))
    }

    /// The target's client. The first kcp call of a plugin call compares the kcp admin Secret with the one the
    /// kcp clients were made from, so every pass uses current credentials.
    async fn client(&self, target: &Target) -> Result<Client> {
        let clusters = &self.services.clusters;
        if matches!(target, Target::Kcp(_))
            && !self.kcp_refreshed.swap(true, std::sync::atomic::Ordering::AcqRel)
            && let Err(error) = clusters.refresh_kcp_admin().await
        {
            self.kcp_refreshed
                .store(false, std::sync::atomic::Ordering::Release);
            return Err(from_cluster(error));
        }
        clusters.client(target).await.map_err(from_cluster)
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
            .map_err(|missing| self.forbidden(missing))
    }

    /// `list`, returning at most `max_bytes` of JSON.
    pub(super) async fn list_within(
        &self,
        target: Target,
        kind: Gvk,
        namespace: Option<String>,
        label_selector: Option<String>,
        max_bytes: usize,
    ) -> Result<Vec<String>> {
        let (api, resource) = self
            .api(&target, &kind, namespace.as_deref(), None, Verb::List)
            .await?;
        let mut params = ListParams::default().limit(LIST_PAGE);
        if let Some(selector) = label_selector.as_deref().filter(|s| !s.is_empty()) {
            params = params.labels(selector);
        }
        let mut items = Vec::new();
        let mut bytes = 0usize;
        loop {
            let page = retry::read_with_retry(|| api.list(&params))
                .await
                .map_err(|e| from_kube_on(&target, e))?;
            for item in page.items {
                let json = to_json(item, &resource)?;
                bytes = bytes.saturating_add(json.len());
                if bytes > max_bytes {
                    return Err(Error::Invalid(format!(
                        "listing {} returns more than {max_bytes} bytes; narrow it with a namespace or a label \
                         selector",
                        kind.kind
                    )));
                }
                items.push(json);
            }
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => return Ok(items),
            }
        }
    }

    async fn client_for_token(&self, target: &Target, namespace: &str, account: &str) -> Result<Client> {
        validate::target(target).map_err(Error::Invalid)?;
        validate::namespace(namespace).map_err(Error::Invalid)?;
        validate::name(account).map_err(Error::Invalid)?;
        let access = Access {
            target,
            group: "",
            kind: "ServiceAccount",
            verb: Verb::RequestToken,
            namespace: Some(namespace),
        };
        self.permissions
            .check(&access)
            .map_err(|missing| self.forbidden(missing))?;
        self.check_remote(target)?;
        self.client(target).await
    }
}

impl cluster::Host for HostCall {
    async fn get(&mut self, target: types::Target, object: ObjectRef) -> Result<Option<String>> {
        let target = target_of(target);
        let (api, resource) = self
            .api(
                &target,
                &object.gvk,
                object.namespace.as_deref(),
                Some(&object.name),
                Verb::Get,
            )
            .await?;
        match retry::read_with_retry(|| api.get_opt(&object.name))
            .await
            .map_err(|e| from_kube_on(&target, e))?
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
        self.list_within(target_of(target), kind, namespace, label_selector, MAX_LIST_BYTES)
            .await
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
        let (api, resource) = self
            .api(&target, &gvk, namespace.as_deref(), Some(&name), Verb::Apply)
            .await?;
        let mut params = PatchParams::apply(&options.field_manager);
        if options.force {
            params = params.force();
        }
        let stored = api
            .patch(&name, &params, &Patch::Apply(&value))
            .await
            .map_err(|e| from_kube_on(&target, e))?;
        to_json(stored, &resource)
    }

    async fn create(&mut self, target: types::Target, object: String) -> Result<String> {
        let target = target_of(target);
        let value = parse("the created object", &object)?;
        let (gvk, namespace, name) = ref_of(&value)?;
        let (api, resource) = self
            .api(&target, &gvk, namespace.as_deref(), Some(&name), Verb::Create)
            .await?;
        let object: DynamicObject =
            serde_json::from_value(value).map_err(|e| invalid_json("the created object", e))?;
        to_json(
            api.create(&PostParams::default(), &object)
                .await
                .map_err(|e| from_kube_on(&target, e))?,
            &resource,
        )
    }

    async fn update(&mut self, target: types::Target, object: String) -> Result<String> {
        let target = target_of(target);
        let value = parse("the updated object", &object)?;
        let (gvk, namespace, name) = ref_of(&value)?;
        let (api, resource) = self
            .api(&target, &gvk, namespace.as_deref(), Some(&name), Verb::Update)
            .await?;
        let object: DynamicObject =
            serde_json::from_value(value).map_err(|e| invalid_json("the updated object", e))?;
        to_json(
            api.replace(&name, &PostParams::default(), &object)
                .await
                .map_err(|e| from_kube_on(&target, e))?,
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
            .api(
                &target,
                &object.gvk,
                object.namespace.as_deref(),
                Some(&object.name),
                Verb::Patch,
            )
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
                .map_err(|e| from_kube_on(&target, e))?,
            &resource,
        )
    }

    async fn delete(&mut self, target: types::Target, object: ObjectRef) -> Result<bool> {
        let target = target_of(target);
        let (api, _) = self
            .api(
                &target,
                &object.gvk,
                object.namespace.as_deref(),
                Some(&object.name),
                Verb::Delete,
            )
            .await?;
        match api.delete(&object.name, &DeleteParams::default()).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(from_kube_on(&target, e)),
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
                Some(&object.name),
                Verb::PatchStatus,
            )
            .await?;
        let stored = api
            .patch_status(&object.name, &PatchParams::default(), &Patch::Merge(value))
            .await;
        to_json(stored.map_err(|e| from_kube_on(&target, e))?, &resource)
    }

    async fn request_token(
        &mut self,
        target: types::Target,
        namespace: String,
        service_account: String,
        expiration_seconds: i64,
    ) -> Result<String> {
        let target = target_of(target);
        let client = self
            .client_for_token(&target, &namespace, &service_account)
            .await?;
        let api: Api<ServiceAccount> = Api::namespaced(client, &namespace);
        let request = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": expiration_seconds},
        });
        let stored: Value = api
            .create_subresource("token", &service_account, &PostParams::default(), &request)
            .await
            .map_err(|e| from_kube_on(&target, e))?;
        Ok(stored.to_string())
    }
}
