//! The review types, answered from the server's own authentication and RBAC and never stored:
//! `authentication.k8s.io/v1` TokenReview and SelfSubjectReview, `authorization.k8s.io/v1` SubjectAccessReview,
//! LocalSubjectAccessReview, SelfSubjectAccessReview (`kubectl auth can-i`) and SelfSubjectRulesReview
//! (`kubectl auth can-i --list`). A review is evaluated in the logical cluster it is posted to.

use serde_json::{Value, json};

use super::body::{check_type, parse_object};
use super::objects::{Ctx, Outcome};
use crate::auth::rbac::{self, Request, UserInfo};
use crate::auth::{Identity, authenticate, authenticate_token};
use crate::status::{ApiError, ApiResult};
use crate::store::Store;

/// `POST` of a review: the posted object with its `status` filled in.
pub fn create(store: &Store, ctx: &Ctx<'_>) -> ApiResult<Outcome> {
    if ctx.rp.name.is_some() {
        return Err(ApiError::method_not_allowed(
            "reviews are created on their collection",
        ));
    }
    let cluster_name = ctx.cluster()?;
    let cluster = store
        .cluster(cluster_name)
        .ok_or_else(|| ApiError::internal("cluster vanished"))?;
    let mut obj = parse_object(&ctx.req.body)?;
    check_type(&obj, &ctx.info, &ctx.rp.version)?;
    let caller = authenticate(store, &ctx.req.headers)?;
    let spec = obj.get("spec").cloned().unwrap_or_else(|| json!({}));
    let status = match ctx.info.plural.as_str() {
        "tokenreviews" => token_review(store, &spec),
        "selfsubjectreviews" => json!({"userInfo": user_json(&caller.user_info(), None)}),
        "selfsubjectaccessreviews" => access(cluster, &caller.user_info(), &spec)?,
        "subjectaccessreviews" => access(cluster, &spec_user(&spec)?, &spec)?,
        "localsubjectaccessreviews" => {
            let ns = ctx.rp.namespace.as_deref().unwrap_or_default();
            let attr_ns = spec
                .pointer("/resourceAttributes/namespace")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if attr_ns != ns {
                return Err(ApiError::bad_request(format!(
                    "spec.resourceAttributes.namespace must match the namespace of the request ({ns:?})"
                )));
            }
            access(cluster, &spec_user(&spec)?, &spec)?
        }
        "selfsubjectrulesreviews" => rules_review(cluster, &caller, &spec)?,
        other => return Err(ApiError::no_route(other)),
    };
    obj["apiVersion"] = json!(ctx.info.api_version(&ctx.rp.version));
    obj["kind"] = json!(ctx.info.kind);
    obj["spec"] = spec;
    obj["status"] = status;
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"]["creationTimestamp"] = Value::Null;
    Ok(Outcome {
        code: 201,
        body: obj,
        changed: false,
    })
}

fn user_json(who: &UserInfo, cluster: Option<&str>) -> Value {
    let mut user = json!({"username": who.user, "groups": who.groups});
    if let Some(c) = cluster.filter(|c| !c.is_empty()) {
        user["extra"] = json!({"authentication.kcp.io/cluster-name": [c]});
    }
    user
}

fn token_review(store: &Store, spec: &Value) -> Value {
    let token = spec.get("token").and_then(Value::as_str).unwrap_or_default();
    let audiences = spec.get("audiences").cloned().unwrap_or_else(|| json!([]));
    match authenticate_token(store, token) {
        Ok(Identity::ServiceAccount {
            cluster,
            namespace,
            name,
        }) => json!({
            "authenticated": true,
            "user": user_json(&rbac::UserInfo::service_account(&namespace, &name), Some(&cluster)),
            "audiences": audiences,
        }),
        Ok(Identity::Admin | Identity::Impersonated(_)) | Err(_) => {
            json!({"authenticated": false, "error": "invalid bearer token"})
        }
    }
}

fn spec_user(spec: &Value) -> ApiResult<UserInfo> {
    let user = spec.get("user").and_then(Value::as_str).unwrap_or_default();
    let groups: Vec<String> = spec
        .get("groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if user.is_empty() && groups.is_empty() {
        return Err(ApiError::bad_request(
            "at least one of spec.user and spec.groups must be set",
        ));
    }
    Ok(UserInfo {
        user: user.to_owned(),
        groups,
    })
}

/// The RBAC request a review's `resourceAttributes` or `nonResourceAttributes` describe.
fn attributes(spec: &Value) -> ApiResult<Request> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let opt = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
    };
    match (spec.get("resourceAttributes"), spec.get("nonResourceAttributes")) {
        (Some(r), None) => Ok(Request::Resource {
            verb: s(r, "verb"),
            group: s(r, "group"),
            resource: s(r, "resource"),
            subresource: opt(r, "subresource"),
            namespace: opt(r, "namespace"),
            name: opt(r, "name"),
        }),
        (None, Some(n)) => Ok(Request::NonResource {
            verb: s(n, "verb"),
            path: s(n, "path"),
        }),
        _ => Err(ApiError::bad_request(
            "exactly one of spec.resourceAttributes and spec.nonResourceAttributes must be set",
        )),
    }
}

fn access(cluster: &crate::store::Cluster, who: &UserInfo, spec: &Value) -> ApiResult<Value> {
    let request = attributes(spec)?;
    Ok(if rbac::allows_user(cluster, who, &request) {
        json!({"allowed": true, "reason": "allowed by the RBAC objects of the cluster"})
    } else {
        json!({"allowed": false})
    })
}

fn rules_review(cluster: &crate::store::Cluster, caller: &Identity, spec: &Value) -> ApiResult<Value> {
    let Some(ns) = spec.get("namespace").and_then(Value::as_str) else {
        return Err(ApiError::bad_request("spec.namespace is required"));
    };
    let who = caller.user_info();
    let mut rules: Vec<Value> = if who.groups.iter().any(|g| g == rbac::MASTERS) {
        vec![
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
            json!({"verbs": ["*"], "nonResourceURLs": ["*"]}),
        ]
    } else {
        rbac::rules_for(cluster, &who, Some(ns))
            .into_iter()
            .cloned()
            .collect()
    };
    rules.extend(rbac::baseline_rules());
    let keep = |rule: &Value, keys: &[&str]| {
        let mut out = json!({});
        for k in keys {
            if let Some(v) = rule.get(*k) {
                out[*k] = v.clone();
            }
        }
        out
    };
    let resource_rules: Vec<Value> = rules
        .iter()
        .filter(|r| r.get("resources").is_some())
        .map(|r| keep(r, &["verbs", "apiGroups", "resources", "resourceNames"]))
        .collect();
    let non_resource_rules: Vec<Value> = rules
        .iter()
        .filter(|r| r.get("nonResourceURLs").is_some())
        .map(|r| keep(r, &["verbs", "nonResourceURLs"]))
        .collect();
    Ok(json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    }))
}
