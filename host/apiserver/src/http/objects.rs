//! get, list, create, update, delete and deletecollection on stored objects.

use std::sync::Arc;

use base64::Engine;
use serde_json::{Value, json};

use super::Req;
use super::body::{
    check_type, fold_string_data, parse_object, present, set_namespace, validate_crd, validate_name,
};
use super::route::ResourcePath;
use super::table::table;
use crate::kcp::prepare_workspace;
use crate::resources::ResourceInfo;
use crate::selector::LabelSelector;
use crate::ssa::{self, Writer};
use crate::status::{ApiError, ApiResult};
use crate::store::{DeleteOptions, Store, crd_key, random_hex};
use crate::time::now_rfc3339;
use crate::validation;

/// Everything a resource request needs once cluster and type are resolved.
pub struct Ctx<'a> {
    /// Logical cluster; `None` for `/clusters/*`.
    pub cluster: Option<String>,
    /// In an APIExport virtual workspace: the clusters that bind the export's resource.
    pub filter: Option<super::ClusterFilter>,
    /// The resource type.
    pub info: Arc<ResourceInfo>,
    /// The parsed path.
    pub rp: &'a ResourcePath,
    /// The request.
    pub req: &'a Req,
}

/// A finished request: status code, body and whether stored state changed.
pub struct Outcome {
    /// HTTP status.
    pub code: u16,
    /// JSON body.
    pub body: Value,
    /// Whether a write changed state.
    pub changed: bool,
}

impl Outcome {
    pub(crate) fn read(body: Value) -> Self {
        Self {
            code: 200,
            body,
            changed: false,
        }
    }
}

impl Ctx<'_> {
    pub(crate) fn cluster(&self) -> ApiResult<&str> {
        self.cluster
            .as_deref()
            .ok_or_else(|| ApiError::method_not_allowed("only list and watch span all clusters"))
    }

    pub(crate) fn ns(&self) -> &str {
        if self.info.namespaced {
            self.rp.namespace.as_deref().unwrap_or("")
        } else {
            ""
        }
    }

    pub(crate) fn name(&self) -> ApiResult<&str> {
        self.rp
            .name
            .as_deref()
            .ok_or_else(|| ApiError::method_not_allowed("a name is required"))
    }

    pub(crate) fn present(&self, obj: &Value) -> Value {
        present(obj, &self.info, &self.rp.version)
    }

    pub(crate) fn writer<'w>(&'w self, manager: &'w str, now: &'w str, api_version: &'w str) -> Writer<'w> {
        Writer {
            manager,
            api_version,
            subresource: self.rp.subresource.as_deref().unwrap_or(""),
            schema: self.info.schema(&self.rp.version),
            now,
        }
    }

    /// The addressed object, in the shape of the requested type and version.
    pub(crate) fn current(&self, store: &Store) -> ApiResult<Value> {
        let name = self.name()?;
        store
            .cluster(self.cluster()?)
            .and_then(|c| c.get(&self.info.key(), self.ns(), name))
            .map(|o| self.present(o))
            .ok_or_else(|| ApiError::not_found(&self.info.group, &self.info.plural, name))
    }

    /// An object of the requested type's shape as it is stored (a view's objects change shape).
    pub(crate) fn stored(&self, obj: Value) -> Value {
        self.info.to_storage(obj, &self.rp.version)
    }

    /// Fix-ups and checks every write shares: Secret stringData, CRD sanity, schema validation and defaults,
    /// managed-field trimming after pruning.
    pub(crate) fn finish_write(&self, old: Option<&Value>, obj: &mut Value) -> ApiResult<()> {
        fold_string_data(&self.info, obj);
        if self.info.key() == crd_key() {
            validate_crd(obj)?;
        }
        crate::kcp::check_immutable(&self.info, old, obj)?;
        let strict = self.req.q("fieldValidation") == Some("Strict");
        validation::validate(&self.info, &self.rp.version, obj, old, strict)?;
        ssa::trim_to_object(obj, self.info.schema(&self.rp.version));
        Ok(())
    }
}

/// `GET` of one object (or its status).
pub fn get(store: &Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let obj = ctx.present(&ctx.current(store)?);
    if ctx.req.wants_table() {
        let rv = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        return Ok(Outcome::read(table(&ctx.info, &[obj], &rv, None)));
    }
    Ok(Outcome::read(obj))
}

/// The objects a list or watch covers, as `(cluster, object)` in stable order.
pub fn matching<'s>(store: &'s Store, ctx: &Ctx<'_>) -> ApiResult<Vec<(&'s str, &'s Value)>> {
    let labels = LabelSelector::parse(ctx.req.q("labelSelector").unwrap_or(""))?;
    let fields = ctx
        .info
        .field_selector(ctx.req.q("fieldSelector").unwrap_or(""))?;
    let key = ctx.info.key();
    let mut clusters: Vec<_> = match &ctx.cluster {
        Some(c) => store.cluster(c).into_iter().collect(),
        None => store
            .kcp_clusters()
            .filter(|c| ctx.filter.as_ref().is_none_or(|f| f.allows(store, &c.name)))
            .collect(),
    };
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    let ns = ctx.rp.namespace.as_deref();
    let mut out = Vec::new();
    for c in clusters {
        let Some(objs) = c.objects.get(&key) else { continue };
        for ((ons, _), o) in objs {
            if ns.is_some_and(|n| n != ons) || !labels.matches(o) || !fields.matches(o) {
                continue;
            }
            out.push((c.name.as_str(), o));
        }
    }
    Ok(out)
}

fn position(cluster: &str, obj: &Value) -> String {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!([cluster, ns, name]).to_string())
}

/// `GET` of a collection, with selectors and `limit`/`continue` paging.
pub fn list(store: &Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let all = matching(store, ctx)?;
    let start = match ctx.req.q("continue").filter(|c| !c.is_empty()) {
        Some(token) => {
            let idx = all.iter().position(|(c, o)| position(c, o) == token);
            idx.map(|i| i + 1)
                .ok_or_else(|| ApiError::gone("the provided continue parameter is too old"))?
        }
        None => 0,
    };
    let limit = ctx
        .req
        .q("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let end = limit.map(|l| (start + l).min(all.len())).unwrap_or(all.len());
    let page = &all[start.min(end)..end];
    let continue_ = (end < all.len())
        .then(|| page.last().map(|(c, o)| position(c, o)))
        .flatten();
    let rv = store.rv().to_string();
    let items: Vec<Value> = page.iter().map(|(_, o)| ctx.present(o)).collect();
    if ctx.req.wants_table() {
        return Ok(Outcome::read(table(&ctx.info, &items, &rv, continue_.as_deref())));
    }
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = continue_ {
        meta["continue"] = json!(c);
        meta["remainingItemCount"] = json!(all.len() - end);
    }
    Ok(Outcome::read(json!({
        "apiVersion": ctx.info.api_version(&ctx.rp.version),
        "kind": format!("{}List", ctx.info.kind),
        "metadata": meta,
        "items": items,
    })))
}

fn dry_run(req: &Req) -> bool {
    req.q("dryRun").is_some_and(|d| d == "All")
}

/// `POST` to a collection.
pub fn create(store: &mut Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let cluster = ctx.cluster()?.to_string();
    let info = &ctx.info;
    let mut obj = parse_object(&ctx.req.body)?;
    check_type(&obj, info, &ctx.rp.version)?;
    obj = present(&obj, info, &ctx.rp.version);
    set_namespace(&mut obj, info, ctx.rp.namespace.as_deref())?;
    let meta = obj.get_mut("metadata").and_then(Value::as_object_mut);
    let Some(meta) = meta else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    let name = match meta.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => match meta
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            Some(prefix) => {
                let n = format!("{prefix}{}", &random_hex(4)[..5]);
                meta.insert("name".into(), json!(n));
                n
            }
            None => {
                return Err(ApiError::invalid(
                    &info.group,
                    &info.kind,
                    "",
                    vec![crate::status::Cause::new(
                        "FieldValueRequired",
                        "Required value: name or generateName is required",
                        "metadata.name",
                    )],
                ));
            }
        },
    };
    validate_name(info, &name)?;
    if info.status
        && info.key() != crd_key()
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    let workspace = if info.group == "tenancy.kcp.io" && info.plural == "workspaces" {
        let parent = store
            .cluster(&cluster)
            .and_then(|c| c.path.clone())
            .unwrap_or_else(|| cluster.clone());
        prepare_workspace(&mut obj, &parent)
    } else {
        None
    };
    ctx.finish_write(None, &mut obj)?;
    let now = now_rfc3339();
    let manager = ctx.req.manager();
    let av = info.api_version(&ctx.rp.version);
    ssa::record_update(None, &mut obj, &ctx.writer(&manager, &now, &av));
    if dry_run(ctx.req) {
        return Ok(Outcome {
            code: 201,
            body: ctx.present(&obj),
            changed: false,
        });
    }
    let stored = store.create(&cluster, info, ctx.stored(obj))?;
    if let Some((path, logical)) = workspace {
        store.alias(&path, &logical);
    }
    Ok(Outcome {
        code: 201,
        body: ctx.present(&stored),
        changed: true,
    })
}

/// `PUT` of an object or its status.
pub fn update(store: &mut Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let cluster = ctx.cluster()?.to_string();
    let info = &ctx.info;
    let name = ctx.name()?.to_string();
    let mut obj = parse_object(&ctx.req.body)?;
    check_type(&obj, info, &ctx.rp.version)?;
    obj = present(&obj, info, &ctx.rp.version);
    set_namespace(&mut obj, info, ctx.rp.namespace.as_deref())?;
    let body_name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    obj["metadata"]["name"] = json!(name);
    let old = ctx.current(store)?;
    let want_rv = obj
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !want_rv.is_empty()
        && Some(want_rv) != old.pointer("/metadata/resourceVersion").and_then(Value::as_str)
    {
        return Err(ApiError::stale(&info.group, &info.plural, &name));
    }
    let new = merge_subresource(info, ctx.rp.subresource.as_deref(), &old, obj)?;
    write_existing(store, ctx, &cluster, old, new)
}

/// Applies the status-subresource rules: a write to the main resource keeps the stored status, a write to
/// `/status` changes nothing but the status.
pub fn merge_subresource(
    info: &ResourceInfo,
    sub: Option<&str>,
    old: &Value,
    mut new: Value,
) -> ApiResult<Value> {
    match sub {
        None if info.status => {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            Ok(new)
        }
        None => Ok(new),
        Some("status") if info.status => {
            let mut out = old.clone();
            match new.get("status") {
                Some(s) => out["status"] = s.clone(),
                None => {
                    if let Some(m) = out.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            if let Some(mf) = new.pointer("/metadata/managedFields") {
                out["metadata"]["managedFields"] = mf.clone();
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::no_route(&format!("{}/{other}", info.plural))),
    }
}

/// Stores a new version of an existing object on behalf of an Update manager.
pub fn write_existing(
    store: &mut Store,
    ctx: &Ctx<'_>,
    cluster: &str,
    old: Value,
    mut new: Value,
) -> ApiResult<Outcome> {
    ctx.finish_write(Some(&old), &mut new)?;
    let now = now_rfc3339();
    let manager = ctx.req.manager();
    let av = ctx.info.api_version(&ctx.rp.version);
    ssa::record_update(Some(&old), &mut new, &ctx.writer(&manager, &now, &av));
    if dry_run(ctx.req) {
        return Ok(Outcome {
            code: 200,
            body: ctx.present(&new),
            changed: false,
        });
    }
    let written = store.update(cluster, &ctx.info, ctx.stored(new))?;
    Ok(Outcome {
        code: 200,
        body: ctx.present(&written.object),
        changed: written.changed,
    })
}

fn delete_options(req: &Req) -> ApiResult<DeleteOptions> {
    use crate::store::parse_propagation as prop;
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    let policy = body
        .get("propagationPolicy")
        .and_then(Value::as_str)
        .or(req.q("propagationPolicy"));
    Ok(DeleteOptions {
        propagation: prop(policy)?,
        resource_version: body
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(str::to_string),
        uid: body
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// `DELETE` of one object.
pub fn delete(store: &mut Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let cluster = ctx.cluster()?.to_string();
    let opts = delete_options(ctx.req)?;
    let name = ctx.name()?.to_string();
    if dry_run(ctx.req) {
        return Ok(Outcome {
            code: 200,
            body: ctx.present(&ctx.current(store)?),
            changed: false,
        });
    }
    let obj = store.delete(&cluster, &ctx.info, ctx.ns(), &name, &opts)?;
    Ok(Outcome {
        code: 200,
        body: ctx.present(&obj),
        changed: true,
    })
}

/// `DELETE` of a collection (selectors apply).
pub fn delete_collection(store: &mut Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let cluster = ctx.cluster()?.to_string();
    let opts = delete_options(ctx.req)?;
    let targets: Vec<(String, String)> = matching(store, ctx)?
        .iter()
        .map(|(_, o)| {
            let s = |p: &str| {
                o.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (s("/metadata/namespace"), s("/metadata/name"))
        })
        .collect();
    let mut items = Vec::new();
    for (ns, name) in &targets {
        if let Ok(o) = store.delete(&cluster, &ctx.info, ns, name, &opts) {
            items.push(ctx.present(&o));
        }
    }
    let changed = !items.is_empty();
    let body = json!({
        "apiVersion": ctx.info.api_version(&ctx.rp.version),
        "kind": format!("{}List", ctx.info.kind),
        "metadata": {"resourceVersion": store.rv().to_string()},
        "items": items,
    });
    Ok(Outcome {
        code: 200,
        body,
        changed,
    })
}
