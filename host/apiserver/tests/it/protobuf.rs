//! Protobuf over HTTP as client-go speaks it: a protobuf body and `Accept: application/vnd.kubernetes.protobuf`
//! get protobuf back (objects, lists, errors), watches stream length-prefixed protobuf frames, JSON stays the
//! default, and custom resources are refused in protobuf (415).

use std::time::Duration;

use futures::StreamExt;
use http::Request;
use http_body_util::BodyExt;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use kube::client::Body;
use prost::Message;

use crate::common;

const PB: &str = "application/vnd.kubernetes.protobuf";

/// The `runtime.Unknown` inside a `k8s\0` envelope: `(apiVersion, kind, raw)`.
fn open(bytes: &[u8]) -> (String, String, Vec<u8>) {
    let rest = bytes.strip_prefix(b"k8s\0").expect("the protobuf envelope");
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(rest).expect("runtime.Unknown");
    let tm = unknown.type_meta.unwrap_or_default();
    (
        tm.api_version.unwrap_or_default(),
        tm.kind.unwrap_or_default(),
        unknown.raw.unwrap_or_default(),
    )
}

fn seal(api_version: &str, kind: &str, raw: Vec<u8>) -> Vec<u8> {
    let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown {
        type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
            api_version: Some(api_version.into()),
            kind: Some(kind.into()),
        }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = b"k8s\0".to_vec();
    out.extend(unknown.encode_to_vec());
    out
}

async fn send(client: &kube::Client, req: Request<Vec<u8>>) -> (u16, String, Vec<u8>) {
    let (parts, body) = req.into_parts();
    let resp = client
        .send(Request::from_parts(parts, Body::from(body)))
        .await
        .expect("a response");
    let code = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (code, ct, bytes)
}

#[tokio::test]
async fn protobuf_requests_responses_and_watches() {
    let server = common::server().await;
    let client = server.client();
    let cm = core::ConfigMap {
        metadata: Some(meta::ObjectMeta {
            name: Some("pb".into()),
            ..Default::default()
        }),
        data: [("k".to_string(), "v".to_string())].into(),
        ..Default::default()
    };
    let create = Request::post("/api/v1/namespaces/default/configmaps")
        .header("content-type", PB)
        .header("accept", format!("{PB}, application/json"))
        .body(seal("v1", "ConfigMap", cm.encode_to_vec()))
        .unwrap();
    let (code, ct, body) = send(&client, create).await;
    assert_eq!((code, ct.as_str()), (201, PB));
    let (av, kind, raw) = open(&body);
    assert_eq!((av.as_str(), kind.as_str()), ("v1", "ConfigMap"));
    let created = core::ConfigMap::decode(raw.as_slice()).unwrap();
    assert_eq!(created.data.get("k").map(String::as_str), Some("v"));
    assert!(created.metadata.unwrap().uid.is_some_and(|u| !u.is_empty()));

    // JSON stays the default.
    let (_, ct, body) = send(
        &client,
        Request::get("/api/v1/namespaces/default/configmaps/pb")
            .body(vec![])
            .unwrap(),
    )
    .await;
    assert_eq!(ct, "application/json");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["data"]["k"],
        "v"
    );

    // Lists and errors in protobuf.
    let list = Request::get("/api/v1/namespaces/default/configmaps")
        .header("accept", PB)
        .body(vec![])
        .unwrap();
    let (_, _, body) = send(&client, list).await;
    let (_, kind, raw) = open(&body);
    assert_eq!(kind, "ConfigMapList");
    assert_eq!(
        core::ConfigMapList::decode(raw.as_slice()).unwrap().items.len(),
        1
    );
    let missing = Request::get("/api/v1/namespaces/default/configmaps/nope")
        .header("accept", PB)
        .body(vec![])
        .unwrap();
    let (code, _, body) = send(&client, missing).await;
    let (_, kind, raw) = open(&body);
    assert_eq!((code, kind.as_str()), (404, "Status"));
    assert_eq!(
        meta::Status::decode(raw.as_slice()).unwrap().reason.as_deref(),
        Some("NotFound")
    );

    // A watch streams length-prefixed WatchEvent frames.
    let watch = Request::get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0")
        .header("accept", PB)
        .body(vec![])
        .unwrap();
    let resp = client.send(watch.map(Body::from)).await.unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.kubernetes.protobuf;stream=watch"
    );
    let mut stream = resp.into_body().into_data_stream();
    let mut buf = Vec::new();
    while buf.len() < 4 || buf.len() < 4 + u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("a frame in time")
            .expect("more data")
            .unwrap();
        buf.extend_from_slice(&chunk);
    }
    let len = u32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
    let (_, kind, raw) = open(&buf[4..4 + len]);
    assert_eq!(kind, "WatchEvent");
    let event = meta::WatchEvent::decode(raw.as_slice()).unwrap();
    assert_eq!(event.r#type.as_deref(), Some("ADDED"));
    let (_, kind, raw) = open(&event.object.unwrap().raw.unwrap());
    assert_eq!(kind, "ConfigMap");
    assert_eq!(
        core::ConfigMap::decode(raw.as_slice())
            .unwrap()
            .metadata
            .unwrap()
            .name
            .as_deref(),
        Some("pb")
    );

    // Custom resources have no protobuf form; a malformed body is a 400.
    common::install_widgets(client.clone(), "Namespaced").await;
    let widget = Request::post("/apis/example.io/v1/namespaces/default/widgets")
        .header("content-type", PB)
        .body(seal("example.io/v1", "Widget", vec![]))
        .unwrap();
    assert_eq!(send(&client, widget).await.0, 415);
    let garbage = Request::post("/api/v1/namespaces/default/configmaps")
        .header("content-type", PB)
        .body(b"k8s\0\x0a\xff\xff".to_vec())
        .unwrap();
    assert_eq!(send(&client, garbage).await.0, 400);
    server.shutdown().await;
}
