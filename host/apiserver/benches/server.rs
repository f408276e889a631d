//! Request throughput of the embedded API server through the real kube client, on loopback.
//!
//! Run with `cargo bench -p embedded-apiserver --bench server -- --measurement-time 3`.
//! Each benchmark is one request (or one fan-out round); criterion reports time per iteration, so requests/s is
//! its inverse.

use std::hint::black_box;

use apiserver::sim::SimConfig;
use apiserver::{Server, ServerConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use tokio::runtime::Runtime;

fn cm(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..ObjectMeta::default()
        },
        ..ConfigMap::default()
    }
}

fn setup(rt: &Runtime) -> (Server, Api<ConfigMap>) {
    rt.block_on(async {
        let server = apiserver::start(ServerConfig {
            simulators: SimConfig::none(),
            ..ServerConfig::default()
        })
        .await
        .expect("server starts");
        let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
        for i in 0..100 {
            api.create(&PostParams::default(), &cm(&format!("c{i}")))
                .await
                .expect("seed");
        }
        (server, api)
    })
}

fn requests(c: &mut Criterion) {
    let rt = Runtime::new().expect("tokio runtime");
    let (server, api) = setup(&rt);
    let mut g = c.benchmark_group("requests");
    g.throughput(Throughput::Elements(1));
    g.bench_function("get", |b| {
        b.iter(|| rt.block_on(api.get(black_box("c1"))).expect("get"))
    });
    g.bench_function("list_100", |b| {
        b.iter(|| rt.block_on(api.list(&Default::default())).expect("list"))
    });
    let pp = PatchParams::apply("bench");
    let mut n = 0u64;
    g.bench_function("apply_changed", |b| {
        b.iter(|| {
            n += 1;
            let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"n": n.to_string()}});
            rt.block_on(api.patch("applied", &pp, &Patch::Apply(obj))).expect("apply")
        })
    });
    let same = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"n": "same"}});
    g.bench_function("apply_noop", |b| {
        b.iter(|| {
            rt.block_on(api.patch("applied", &pp, &Patch::Apply(&same)))
                .expect("apply")
        })
    });
    g.finish();
    rt.block_on(server.shutdown());
}

/// N watchers each receive M events per round.
fn watch_fan_out(c: &mut Criterion) {
    const WATCHERS: usize = 10;
    const EVENTS: usize = 50;
    let rt = Runtime::new().expect("tokio runtime");
    let (server, api) = setup(&rt);
    let mut g = c.benchmark_group("watch");
    g.throughput(Throughput::Elements((WATCHERS * EVENTS) as u64));
    let mut round = 0u64;
    g.bench_function("fan_out_10x50", |b| {
        b.iter(|| {
            round += 1;
            rt.block_on(async {
                let rv = api
                    .list(&Default::default())
                    .await
                    .expect("list")
                    .metadata
                    .resource_version
                    .unwrap_or_default();
                let mut watchers = Vec::new();
                for _ in 0..WATCHERS {
                    let stream = api
                        .watch(&WatchParams::default(), &rv)
                        .await
                        .expect("watch")
                        .boxed();
                    watchers.push(tokio::spawn(async move {
                        stream
                            .try_filter(|e| std::future::ready(matches!(e, WatchEvent::Added(_))))
                            .take(EVENTS)
                            .count()
                            .await
                    }));
                }
                for i in 0..EVENTS {
                    api.create(&PostParams::default(), &cm(&format!("r{round}-{i}")))
                        .await
                        .expect("create");
                }
                for w in watchers {
                    assert_eq!(w.await.expect("watcher task"), EVENTS);
                }
            })
        })
    });
    g.finish();
    rt.block_on(server.shutdown());
}

/// The protobuf codec on a Deployment with two containers: decoding a client's body into the stored JSON and
/// encoding a stored object for a protobuf client (what every typed client-go request costs on top of JSON).
fn protobuf_codec(c: &mut Criterion) {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"},
                     "creationTimestamp": "2026-01-01T00:00:00Z", "resourceVersion": "42"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "app", "image": "app:1", "ports": [{"containerPort": 8080}],
                      "env": [{"name": "A", "value": "1"}], "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}},
                     {"name": "sidecar", "image": "side:1"}]}}}});
    let bytes = apiserver::proto::encode_object(&deployment).expect("encodes");
    let mut g = c.benchmark_group("protobuf");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_deployment", |b| {
        b.iter(|| apiserver::proto::decode_object(black_box(&bytes)).expect("decodes"))
    });
    g.bench_function("encode_deployment", |b| {
        b.iter(|| apiserver::proto::encode_object(black_box(&deployment)).expect("encodes"))
    });
    g.finish();
}

criterion_group!(benches, requests, watch_fan_out, protobuf_codec);
criterion_main!(benches);
