//! Access and token reviews, answered from the server's RBAC and tokens: `kubectl auth can-i`'s
//! SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview, LocalSubjectAccessReview, TokenReview and
//! SelfSubjectReview, for a ServiceAccount and for the admin (no token).

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::{Value, json};

use crate::auth::{bot_token, client_with_token};
use crate::common;

async fn review(client: &Client, group: &str, kind: &str, ns: Option<&str>, spec: Value) -> Value {
    let plural = format!("{}s", kind.to_lowercase());
    let resource = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), &plural);
    let api: Api<DynamicObject> = match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": format!("{group}/v1"), "kind": kind, "metadata": {}, "spec": spec,
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    created.data["status"].clone()
}

fn can(verb: &str, resource: &str, name: Option<&str>) -> Value {
    json!({"resourceAttributes": {"namespace": "default", "verb": verb, "group": "", "resource": resource,
                                  "name": name.unwrap_or_default()}})
}

#[tokio::test]
async fn self_subject_access_reviews_follow_rbac() {
    let server = common::server().await;
    let token = bot_token(&server).await;
    let bot = client_with_token(&format!("{}/clusters/root:team", server.url()), &token).await;
    let authz = "authorization.k8s.io";
    let ssar = "SelfSubjectAccessReview";
    let allowed = |s: Value| s["allowed"].as_bool();
    assert_eq!(
        allowed(review(&bot, authz, ssar, None, can("list", "configmaps", None)).await),
        Some(true)
    );
    assert_eq!(
        allowed(review(&bot, authz, ssar, None, can("get", "secrets", Some("visible"))).await),
        Some(true)
    );
    assert_eq!(
        allowed(review(&bot, authz, ssar, None, can("get", "secrets", Some("hidden"))).await),
        Some(false)
    );
    assert_eq!(
        allowed(review(&bot, authz, ssar, None, can("create", "configmaps", None)).await),
        Some(false)
    );
    let admin = server.kcp_client("root:team");
    assert_eq!(
        allowed(review(&admin, authz, ssar, None, can("delete", "secrets", None)).await),
        Some(true)
    );

    let rules = review(
        &bot,
        authz,
        "SelfSubjectRulesReview",
        None,
        json!({"namespace": "default"}),
    )
    .await;
    let resource_rules = rules["resourceRules"].as_array().unwrap();
    assert!(
        resource_rules
            .iter()
            .any(|r| r["resources"] == json!(["configmaps"])),
        "{rules}"
    );
    assert!(
        resource_rules
            .iter()
            .any(|r| r["resourceNames"] == json!(["visible"])),
        "{rules}"
    );
    assert!(
        resource_rules
            .iter()
            .any(|r| r["resources"] == json!(["selfsubjectaccessreviews"])),
        "{rules}"
    );
    let elsewhere = review(
        &bot,
        authz,
        "SelfSubjectRulesReview",
        None,
        json!({"namespace": "other"}),
    )
    .await;
    assert!(
        !elsewhere["resourceRules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("resourceNames").is_some()),
        "the Role binds only in default: {elsewhere}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn subject_access_and_token_reviews() {
    let server = common::server().await;
    let token = bot_token(&server).await;
    let admin = server.kcp_client("root:team");
    let authz = "authorization.k8s.io";
    let bot_user = json!("system:serviceaccount:default:bot");
    let mut spec = can("list", "configmaps", None);
    spec["user"] = bot_user.clone();
    let s = review(&admin, authz, "SubjectAccessReview", None, spec).await;
    assert_eq!(s["allowed"], true);
    let mut spec = can("get", "secrets", Some("hidden"));
    spec["user"] = bot_user.clone();
    assert_eq!(
        review(&admin, authz, "SubjectAccessReview", None, spec).await["allowed"],
        false
    );
    let mut spec = can("get", "secrets", Some("visible"));
    spec["user"] = bot_user;
    let s = review(&admin, authz, "LocalSubjectAccessReview", Some("default"), spec).await;
    assert_eq!(s["allowed"], true);
    let mut spec = can("delete", "secrets", None);
    spec["user"] = json!("someone");
    spec["groups"] = json!(["system:masters"]);
    assert_eq!(
        review(&admin, authz, "SubjectAccessReview", None, spec).await["allowed"],
        true
    );

    let authn = "authentication.k8s.io";
    let s = review(&admin, authn, "TokenReview", None, json!({"token": token})).await;
    assert_eq!(s["authenticated"], true, "{s}");
    assert_eq!(s["user"]["username"], "system:serviceaccount:default:bot");
    assert!(
        s["user"]["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("system:serviceaccounts:default"))
    );
    let s = review(
        &admin,
        authn,
        "TokenReview",
        None,
        json!({"token": "embedded.forged"}),
    )
    .await;
    assert_eq!(s["authenticated"], false, "{s}");
    let bot = client_with_token(&format!("{}/clusters/root:team", server.url()), &token).await;
    let me = review(&bot, authn, "SelfSubjectReview", None, json!({})).await;
    assert_eq!(me["userInfo"]["username"], "system:serviceaccount:default:bot");
    server.shutdown().await;
}

#[tokio::test]
async fn reviews_are_create_only_and_need_permission() {
    let server = common::server().await;
    let token = bot_token(&server).await;
    let bot = client_with_token(&format!("{}/clusters/root:team", server.url()), &token).await;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("authorization.k8s.io", "v1", "SubjectAccessReview"),
        "subjectaccessreviews",
    );
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "metadata": {},
        "spec": {"user": "x", "nonResourceAttributes": {"verb": "get", "path": "/metrics"}},
    }))
    .unwrap();
    let as_bot: Api<DynamicObject> = Api::all_with(bot, &resource);
    match as_bot.create(&PostParams::default(), &obj).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403),
        other => panic!("a ServiceAccount without a grant cannot review others: {other:?}"),
    }
    let as_admin: Api<DynamicObject> = Api::all_with(server.kcp_client("root:team"), &resource);
    match as_admin.list(&Default::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 405),
        other => panic!("reviews are not listed: {other:?}"),
    }
    let bad: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "metadata": {},
        "spec": {"user": "x"},
    }))
    .unwrap();
    match as_admin.create(&PostParams::default(), &bad).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 400),
        other => panic!("a review without attributes is refused: {other:?}"),
    }
    server.shutdown().await;
}
