//! Basic verbs through the typed kube client: CRUD, conflicts, selectors, Secrets, finalizers, GC.

use crate::common;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::core::Status;

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("k".to_string(), "v".to_string())])),
        ..ConfigMap::default()
    }
}

fn api_err(e: kube::Error) -> Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn create_get_update_conflict_delete() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let created = api.create(&PostParams::default(), &cm("a", &[])).await.unwrap();
    let rv1: u64 = created
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());

    let e = api_err(
        api.create(&PostParams::default(), &cm("a", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "AlreadyExists"));

    let mut changed = created.clone();
    changed.data = Some(BTreeMap::from([("k".to_string(), "w".to_string())]));
    let updated = api.replace("a", &PostParams::default(), &changed).await.unwrap();
    let rv2: u64 = updated
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);
    // The stale version conflicts.
    let e = api_err(
        api.replace("a", &PostParams::default(), &changed)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));

    api.delete("a", &DeleteParams::default()).await.unwrap();
    let e = api_err(api.get("a").await.unwrap_err());
    assert_eq!((e.code, e.reason.as_str()), (404, "NotFound"));
    assert_eq!(e.message, "configmaps \"a\" not found");
    server.shutdown().await;
}

#[tokio::test]
async fn label_and_field_selectors_and_paging() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    for (n, app) in [("a", "web"), ("b", "api"), ("c", "db")] {
        api.create(&PostParams::default(), &cm(n, &[("app", app)]))
            .await
            .unwrap();
    }
    api.create(&PostParams::default(), &cm("d", &[])).await.unwrap();
    let names = |l: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        l.items.into_iter().filter_map(|c| c.metadata.name).collect()
    };
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("app in (web,db)"))
                .await
                .unwrap()
        ),
        ["a", "c"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().labels("app notin (web),app"))
                .await
                .unwrap()
        ),
        ["b", "c"]
    );
    assert_eq!(
        names(api.list(&ListParams::default().labels("!app")).await.unwrap()),
        ["d"]
    );
    assert_eq!(
        names(
            api.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    let page = api.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(names(page.clone()), ["a", "b", "c"]);
    let token = page.metadata.continue_.clone().unwrap();
    let rest = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(rest.clone()), ["d"]);
    assert!(rest.metadata.continue_.is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn namespaces_must_exist_and_generate_name_works() {
    let server = common::server().await;
    let missing: Api<ConfigMap> = Api::namespaced(server.client(), "nope");
    let e = api_err(
        missing
            .create(&PostParams::default(), &cm("a", &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "namespaces \"nope\" not found")
    );
    let nss: Api<Namespace> = Api::all(server.client());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("nope".into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let ns = nss.create(&PostParams::default(), &ns).await.unwrap();
    assert_eq!(ns.status.and_then(|s| s.phase).as_deref(), Some("Active"));
    let mut generated = cm("", &[]);
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let made = missing.create(&PostParams::default(), &generated).await.unwrap();
    let name = made.metadata.name.unwrap();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    server.shutdown().await;
}

#[tokio::test]
async fn secret_string_data_is_folded_into_base64_data() {
    let server = common::server().await;
    let api: Api<Secret> = Api::namespaced(server.client(), "default");
    let s = Secret {
        metadata: ObjectMeta {
            name: Some("s".into()),
            ..ObjectMeta::default()
        },
        string_data: Some(BTreeMap::from([("password".to_string(), "hunter2".to_string())])),
        ..Secret::default()
    };
    api.create(&PostParams::default(), &s).await.unwrap();
    let got = api.get("s").await.unwrap();
    assert!(got.string_data.is_none());
    assert_eq!(got.data.unwrap()["password"].0, b"hunter2");
    server.shutdown().await;
}

#[tokio::test]
async fn finalizers_delay_deletion_and_owners_collect_dependents() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    let mut owner = cm("owner", &[]);
    owner.metadata.finalizers = Some(vec!["example.io/keep".into()]);
    let owner = api.create(&PostParams::default(), &owner).await.unwrap();
    let mut dep = cm("dep", &[]);
    dep.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "owner".into(),
            uid: owner.metadata.uid.clone().unwrap(),
            ..Default::default()
        },
    ]);
    api.create(&PostParams::default(), &dep).await.unwrap();

    api.delete("owner", &DeleteParams::default()).await.unwrap();
    let marked = api.get("owner").await.unwrap();
    assert!(
        marked.metadata.deletion_timestamp.is_some(),
        "kept while it has a finalizer"
    );
    assert!(
        api.get("dep").await.is_ok(),
        "dependent lives while the owner does"
    );

    let patch = serde_json::json!({"metadata": {"finalizers": null}});
    api.patch("owner", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    assert_eq!(api_err(api.get("owner").await.unwrap_err()).code, 404);
    assert_eq!(
        api_err(api.get("dep").await.unwrap_err()).code,
        404,
        "garbage collected"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn patches_merge_json_and_strategic() {
    let server = common::server().await;
    let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
    api.create(&PostParams::default(), &cm("p", &[])).await.unwrap();
    let merged = api
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"data": {"x": "1"}})),
        )
        .await
        .unwrap();
    assert_eq!(merged.data.unwrap().len(), 2);
    let ops = serde_json::from_value(serde_json::json!([{"op": "remove", "path": "/data/k"}])).unwrap();
    let patched = api
        .patch("p", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap().keys().collect::<Vec<_>>(), ["x"]);
    let strategic = api
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Strategic(serde_json::json!({"metadata": {"labels": {"s": "1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(strategic.metadata.labels.unwrap()["s"], "1");
    let stale = serde_json::json!({"metadata": {"resourceVersion": "1"}, "data": {"y": "2"}});
    let e = api_err(
        api.patch("p", &PatchParams::default(), &Patch::Merge(stale))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 409);
    server.shutdown().await;
}

#[tokio::test]
async fn service_account_tokens_honour_the_requested_lifetime() {
    use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
    use k8s_openapi::api::core::v1::ServiceAccount;
    let server = common::server().await;
    let sas: Api<ServiceAccount> = Api::namespaced(server.kcp_client("root"), "default");
    let sa = ServiceAccount {
        metadata: ObjectMeta {
            name: Some("bot".into()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    sas.create(&PostParams::default(), &sa).await.unwrap();
    let req = TokenRequest {
        spec: TokenRequestSpec {
            expiration_seconds: Some(7200),
            ..TokenRequestSpec::default()
        },
        ..TokenRequest::default()
    };
    let before = jiff_free_now();
    let issued = sas
        .create_token_request("bot", &PostParams::default(), &req)
        .await
        .unwrap();
    let status = issued.status.unwrap();
    assert!(!status.token.is_empty());
    let expires = status.expiration_timestamp.0.as_second();
    assert!(
        (before + 7200..=before + 7205).contains(&expires),
        "{expires} vs {before}"
    );
    let (cluster, user) = server.token_subject(&status.token).unwrap();
    assert_eq!(
        (cluster.as_str(), user.as_str()),
        ("root", "system:serviceaccount:default:bot")
    );
    assert!(server.token_subject("forged").is_none());
    let e = api_err(
        sas.create_token_request("nobody", &PostParams::default(), &req)
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 404);
    server.shutdown().await;
}

fn jiff_free_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
