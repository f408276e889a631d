//! PATCH: JSON merge patch, JSON patch, strategic merge patch (as merge patch) and server-side apply; and the
//! ServiceAccount `token` subresource.

use serde_json::{Value, json};

use super::body::{check_type, parse_object, present, set_namespace, validate_name};
use super::objects::{Ctx, Outcome, merge_subresource, write_existing};
use crate::ssa;
use crate::status::{ApiError, ApiResult};
use crate::store::{IssuedToken, Store, random_hex};
use crate::time::{format_secs, now_rfc3339, now_secs};

/// Patch flavours by `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json`.
    Merge,
    /// `application/strategic-merge-patch+json`; applied as a merge patch.
    Strategic,
    /// `application/json-patch+json`.
    Json,
    /// `application/apply-patch+yaml` (or `+cbor` is refused).
    Apply,
}

impl PatchType {
    /// The patch type for a content type.
    pub fn from_content_type(ct: &str) -> ApiResult<Self> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/json-patch+json" => Ok(Self::Json),
            "application/apply-patch+yaml" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media(other)),
        }
    }
}

/// `PATCH` of an object or its status with a non-apply patch.
pub fn patch(store: &mut Store, ctx: &Ctx<'_>, kind: PatchType) -> ApiResult<Outcome> {
    if kind == PatchType::Apply {
        return apply(store, ctx);
    }
    let cluster = ctx.cluster()?.to_string();
    let info = &ctx.info;
    let name = ctx.name()?.to_string();
    let old = ctx.current(store)?;
    let mut patched = present(&old, info, &ctx.rp.version);
    match kind {
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_slice(&ctx.req.body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut patched, &ops).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the JSON patch could not be applied: {e}"),
                )
            })?;
        }
        _ => {
            let p: Value = serde_json::from_slice(&ctx.req.body)
                .map_err(|e| ApiError::bad_request(format!("invalid merge patch: {e}")))?;
            if !p.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            if kind == PatchType::Strategic {
                let av = info.api_version(&ctx.rp.version);
                super::strategic::apply(&mut patched, &p, &av, &info.kind).map_err(|e| {
                    ApiError::new(
                        422,
                        "Invalid",
                        format!("the strategic merge patch could not be applied: {e}"),
                    )
                })?;
            } else {
                json_patch::merge(&mut patched, &p);
            }
        }
    }
    check_type(&patched, info, &ctx.rp.version)?;
    let want_rv = patched
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !want_rv.is_empty()
        && Some(want_rv) != old.pointer("/metadata/resourceVersion").and_then(Value::as_str)
    {
        return Err(ApiError::stale(&info.group, &info.plural, &name));
    }
    if patched.pointer("/metadata/name").and_then(Value::as_str) != Some(name.as_str()) {
        return Err(ApiError::bad_request(
            "metadata.name cannot be changed by a patch",
        ));
    }
    let new = merge_subresource(info, ctx.rp.subresource.as_deref(), &old, patched)?;
    write_existing(store, ctx, &cluster, old, new)
}

/// Server-side apply: creates the object when absent.
fn apply(store: &mut Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let cluster = ctx.cluster()?.to_string();
    let info = ctx.info.clone();
    let name = ctx.name()?.to_string();
    let Some(manager) = ctx.req.q("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_request("PATCH /apply requires fieldManager"));
    };
    let force = ctx.req.q("force").is_some_and(|f| f == "true");
    let mut applied = parse_object(&ctx.req.body)?;
    if applied.get("apiVersion").is_none() || applied.get("kind").is_none() {
        return Err(ApiError::bad_request(
            "apiVersion and kind must be set in an applied configuration",
        ));
    }
    check_type(&applied, &info, &ctx.rp.version)?;
    set_namespace(&mut applied, &info, ctx.rp.namespace.as_deref())?;
    match applied.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if n == name => {}
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        None => applied["metadata"]["name"] = json!(name),
    }
    validate_name(&info, &name)?;
    let sub = ctx.rp.subresource.as_deref();
    // What this manager applies: the status for /status, everything but the status otherwise (when status is a
    // subresource).
    if info.status {
        let m = applied
            .as_object_mut()
            .ok_or_else(|| ApiError::bad_request("body must be an object"))?;
        match sub {
            Some("status") => {
                m.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"))
            }
            _ => {
                m.remove("status");
            }
        }
        if sub == Some("status")
            && let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.retain(|k, _| k == "name" || k == "namespace");
        }
    }
    let old = store
        .cluster(&cluster)
        .and_then(|c| c.get(&info.key(), ctx.ns(), &name))
        .map(|o| present(o, &info, &ctx.rp.version));
    if old.is_none() && sub.is_some() {
        return Err(ApiError::not_found(&info.group, &info.plural, &name));
    }
    let now = now_rfc3339();
    let av = info.api_version(&ctx.rp.version);
    let writer = ctx.writer(manager, &now, &av);
    let mut result = ssa::apply(old.as_ref(), &applied, &writer, force).map_err(|causes| {
        let n = causes.len();
        let list: Vec<String> = causes.iter().map(|c| c.message.clone()).collect();
        let mut e = ApiError::conflict(
            &info.group,
            &info.plural,
            &name,
            &format!(
                "Apply failed with {n} conflict{}: {}",
                if n == 1 { "" } else { "s" },
                list.join("\n")
            ),
        );
        e.message = format!(
            "Apply failed with {n} conflict{}: {}",
            if n == 1 { "" } else { "s" },
            list.join("\n")
        );
        e.causes = causes;
        e
    })?;
    match old {
        None => {
            result["apiVersion"] = json!(av);
            result["kind"] = json!(info.kind);
            let workspace = if info.group == "tenancy.kcp.io" && info.plural == "workspaces" {
                let parent = store
                    .cluster(&cluster)
                    .and_then(|c| c.path.clone())
                    .unwrap_or_else(|| cluster.clone());
                crate::kcp::prepare_workspace(&mut result, &parent)
            } else {
                None
            };
            ctx.finish_write(None, &mut result)?;
            if ctx.req.q("dryRun") == Some("All") {
                return Ok(Outcome {
                    code: 201,
                    body: ctx.present(&result),
                    changed: false,
                });
            }
            let stored = store.create(&cluster, &info, ctx.stored(result))?;
            if let Some((path, logical)) = workspace {
                store.alias(&path, &logical);
            }
            Ok(Outcome {
                code: 201,
                body: ctx.present(&stored),
                changed: true,
            })
        }
        Some(old) => {
            let mut new = merge_subresource(&info, sub, &old, result)?;
            ctx.finish_write(Some(&old), &mut new)?;
            if ctx.req.q("dryRun") == Some("All") {
                return Ok(Outcome {
                    code: 200,
                    body: ctx.present(&new),
                    changed: false,
                });
            }
            let written = store.update(&cluster, &info, ctx.stored(new))?;
            Ok(Outcome {
                code: 200,
                body: ctx.present(&written.object),
                changed: written.changed,
            })
        }
    }
}

/// Default token lifetime when the request sets none (one hour, as kube-apiserver's default).
const DEFAULT_TOKEN_SECONDS: i64 = 3600;

/// `POST .../serviceaccounts/<name>/token`: issues a token bound to the ServiceAccount.
pub fn token_request(store: &mut Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    let cluster = ctx.cluster()?.to_string();
    let name = ctx.name()?.to_string();
    ctx.current(store)?;
    let mut req = if ctx.req.body.is_empty() {
        json!({})
    } else {
        parse_object(&ctx.req.body)?
    };
    let seconds = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_TOKEN_SECONDS);
    // Kubernetes' TokenRequest validation: at least 10 minutes, at most 2^32 seconds.
    let out_of_range = if seconds < 600 {
        Some("Invalid value: may not specify a duration less than 10 minutes")
    } else if seconds > i64::from(u32::MAX) {
        Some("Invalid value: may not specify a duration larger than 2^32 seconds")
    } else {
        None
    };
    if let Some(message) = out_of_range {
        return Err(ApiError::invalid(
            "authentication.k8s.io",
            "TokenRequest",
            &name,
            vec![crate::status::Cause::new(
                "FieldValueInvalid",
                message,
                "spec.expirationSeconds",
            )],
        ));
    }
    let expires = now_secs().saturating_add(seconds);
    let token = format!("embedded.{}", random_hex(24));
    store.tokens.insert(
        token.clone(),
        IssuedToken {
            cluster,
            namespace: ctx.ns().to_string(),
            name: name.clone(),
            expires,
        },
    );
    req["apiVersion"] = json!("authentication.k8s.io/v1");
    req["kind"] = json!("TokenRequest");
    if !req.get("metadata").is_some_and(Value::is_object) {
        req["metadata"] = json!({});
    }
    req["metadata"]["name"] = json!(name);
    req["metadata"]["namespace"] = json!(ctx.ns());
    req["metadata"]["creationTimestamp"] = Value::Null;
    if !req.get("spec").is_some_and(Value::is_object) {
        req["spec"] = json!({});
    }
    req["spec"]["expirationSeconds"] = json!(seconds);
    req["spec"]["audiences"] = req
        .pointer("/spec/audiences")
        .cloned()
        .unwrap_or_else(|| json!([]));
    req["status"] = json!({"token": token, "expirationTimestamp": format_secs(expires)});
    Ok(Outcome {
        code: 201,
        body: req,
        changed: false,
    })
}
