//! The codec against kube-rs's prost-generated Kubernetes messages (`k8s-pb`): what this server encodes decodes
//! there, and what a Go-style encoder writes decodes here.

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use prost::Message;
use serde_json::json;

use super::*;

fn unwrap_envelope(bytes: &[u8]) -> (String, String, Vec<u8>) {
    let (av, kind, raw) = open_envelope(bytes).unwrap();
    (av, kind, raw.to_vec())
}

#[test]
fn json_objects_decode_as_k8s_pb_messages() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "d", "labels": {"a": "b"}, "resourceVersion": "7",
                     "creationTimestamp": "2026-01-02T03:04:05Z",
                     "managedFields": [{"manager": "m", "operation": "Apply", "fieldsV1": {"f:data": {}}}]},
        "data": {"k": "v", "empty": ""}, "binaryData": {"bin": "AAEC"}});
    let (av, kind, raw) = unwrap_envelope(&encode_object(&cm).unwrap());
    assert_eq!((av.as_str(), kind.as_str()), ("v1", "ConfigMap"));
    let got = core::ConfigMap::decode(raw.as_slice()).unwrap();
    let meta = got.metadata.unwrap();
    assert_eq!(meta.name.as_deref(), Some("c"));
    assert_eq!(meta.labels.get("a").map(String::as_str), Some("b"));
    assert_eq!(meta.creation_timestamp.unwrap().seconds, Some(1_767_323_045));
    let mf = &meta.managed_fields[0];
    assert_eq!(
        mf.fields_v1.as_ref().unwrap().raw.as_deref(),
        Some(br#"{"f:data":{}}"#.as_slice())
    );
    assert_eq!(got.data.get("empty").map(String::as_str), Some(""));
    assert_eq!(
        got.binary_data.get("bin").map(Vec::as_slice),
        Some([0u8, 1, 2].as_slice())
    );
}

#[test]
fn k8s_pb_messages_decode_as_json() {
    let deployment = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            name: Some("web".into()),
            namespace: Some("d".into()),
            generate_name: Some(String::new()),
            creation_timestamp: Some(meta::Time::default()),
            ..Default::default()
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector {
                match_labels: [("app".to_string(), "web".to_string())].into(),
                ..Default::default()
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: Some("RollingUpdate".into()),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_surge: Some(k8s_pb::apimachinery::pkg::util::intstr::IntOrString {
                        r#type: Some(1),
                        int_val: Some(0),
                        str_val: Some("25%".into()),
                    }),
                    max_unavailable: Some(k8s_pb::apimachinery::pkg::util::intstr::IntOrString {
                        r#type: Some(0),
                        int_val: Some(1),
                        str_val: Some(String::new()),
                    }),
                }),
            }),
            template: Some(core::PodTemplateSpec {
                metadata: None,
                spec: Some(core::PodSpec {
                    containers: vec![core::Container {
                        name: Some("c".into()),
                        image: Some("nginx".into()),
                        resources: Some(core::ResourceRequirements {
                            limits: [(
                                "cpu".to_string(),
                                k8s_pb::apimachinery::pkg::api::resource::Quantity {
                                    string: Some("500m".into()),
                                },
                            )]
                            .into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
        status: None,
    };
    let body = seal_envelope("apps/v1", "Deployment", &deployment.encode_to_vec());
    let obj = decode_object(&body).unwrap();
    assert_eq!(obj["apiVersion"], "apps/v1");
    assert_eq!(obj["kind"], "Deployment");
    assert_eq!(
        obj["metadata"],
        json!({"name": "web", "namespace": "d"}),
        "empty strings and zero times dropped"
    );
    assert_eq!(obj["spec"]["replicas"], 0, "a zero count is kept");
    assert_eq!(obj["spec"]["selector"]["matchLabels"]["app"], "web");
    assert_eq!(obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
    assert_eq!(obj["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 1);
    let c = &obj["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "nginx");
    assert_eq!(c["resources"]["limits"]["cpu"], "500m");
    // And back: the same message again.
    let again = encode_object(&obj).unwrap();
    let (_, _, raw) = unwrap_envelope(&again);
    let round = apps::Deployment::decode(raw.as_slice()).unwrap();
    assert_eq!(round.spec.as_ref().unwrap().replicas, Some(0));
    assert_eq!(
        round.spec.unwrap().template.unwrap().spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some("nginx")
    );
}

#[test]
fn secrets_and_micro_times_round_trip() {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
        "data": {"release": "aGVsbG8="}, "immutable": false});
    let back = decode_object(&encode_object(&secret).unwrap()).unwrap();
    assert_eq!(back, secret);
    let event = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
        "eventTime": "2026-01-02T03:04:05.123456Z", "note": "n", "deprecatedCount": 2});
    assert_eq!(decode_object(&encode_object(&event).unwrap()).unwrap(), event);
}

#[test]
fn watch_frames_carry_an_enveloped_event() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let frame = watch_frame("ADDED", &cm).unwrap();
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(len, frame.len() - 4);
    let (av, kind, raw) = unwrap_envelope(&frame[4..]);
    assert_eq!((av.as_str(), kind.as_str()), ("v1", "WatchEvent"));
    let event = meta::WatchEvent::decode(raw.as_slice()).unwrap();
    assert_eq!(event.r#type.as_deref(), Some("ADDED"));
    let inner = event.object.unwrap().raw.unwrap();
    assert_eq!(decode_object(&inner).unwrap(), cm);
}

#[test]
fn hostile_bodies_are_errors_not_panics() {
    assert!(decode_object(b"{}").is_err(), "no magic");
    assert!(decode_object(b"k8s\0\x0a\xff").is_err(), "truncated");
    let unknown_kind = seal_envelope("example.io/v1", "Widget", &[]);
    assert!(
        decode_object(&unknown_kind).is_err(),
        "custom kinds have no protobuf form"
    );
    // A field with the wrong wire type for its declared type.
    let mut bad = Vec::new();
    wire::put_key(&mut bad, 1, wire::VARINT);
    wire::put_varint(&mut bad, 5);
    assert!(decode_object(&seal_envelope("v1", "ConfigMap", &bad)).is_err());
    // Random bytes never panic.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        let mut body = MAGIC.to_vec();
        for _ in 0..(x % 64) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push(x as u8);
        }
        let _ = decode_object(&body);
        let _ = decode_object(&seal_envelope("v1", "Pod", &body[4..]));
    }
}
