//! Renders a realistic template set: a services map of 40 entries through HelmRelease- and OCM-Resource-style
//! templates (spec §5.9.3/§5.9.4), as the deployment subroutine does on every reconcile. Templates are compiled
//! once and cached, so this measures execution plus YAML splitting and parsing.
//!
//! Run with `cargo bench -p gotmpl --bench render`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use gotmpl::{FuncMap, Renderer};
use serde_json::{Value, json};

const HELMRELEASES: &str = include_str!("templates/helmreleases.yaml");
const OCM_RESOURCES: &str = include_str!("templates/ocm-resources.yaml");

fn data() -> Value {
    let mut services = serde_json::Map::new();
    for i in 0..40 {
        let mut svc = json!({
            "enabled": i % 7 != 0,
            "targetNamespace": if i % 3 == 0 { Value::from(format!("ns-{i}")) } else { Value::Null },
            "values": {"replicas": i % 4 + 1, "image": {"tag": format!("v1.{i}.0")}, "env": [{"name": "LOG", "value": "debug"}]},
        });
        if i % 5 == 0 {
            svc["helmRepo"] = json!(true);
            svc["chart"] = json!(format!("chart-{i}"));
        }
        if i % 6 == 0 {
            svc["dependsOn"] = json!([{"name": "svc-00", "namespace": "platform-mesh-system"}]);
        }
        if i % 9 == 0 {
            svc["ocm"] = json!({"component": {"name": format!("component-{i}")}});
        }
        services.insert(format!("svc-{i:02}"), svc);
    }
    json!({
        "releaseNamespace": "platform-mesh-system",
        "kubeConfigEnabled": true,
        "kubeConfigSecretName": "remote",
        "kubeConfigSecretKey": "kubeconfig",
        "values": {
            "timeout": "10m",
            "ocm": {"component": {"name": "platform-mesh"}, "repo": {"name": "platform-mesh"}, "referencePath": [{"name": "core"}]},
            "services": services,
        },
    })
}

fn bench(c: &mut Criterion) {
    let renderer = Renderer::default();
    let data = data();
    let render = || {
        let a = renderer
            .render_file(
                Path::new("helmreleases.yaml"),
                HELMRELEASES,
                &data,
                FuncMap::Deployment,
            )
            .unwrap();
        let b = renderer
            .render_file(
                Path::new("ocm-resources.yaml"),
                OCM_RESOURCES,
                &data,
                FuncMap::Deployment,
            )
            .unwrap();
        a.len() + b.len()
    };
    assert_eq!(render(), 68, "34 HelmReleases and 34 Resources");
    c.bench_function("render 40 services (HelmReleases + OCM Resources)", |b| {
        b.iter(|| black_box(render()))
    });
    c.bench_function("render_str helmreleases only (no YAML parsing)", |b| {
        b.iter(|| {
            black_box(
                renderer
                    .render_str("helmreleases.yaml", HELMRELEASES, &data, FuncMap::Deployment)
                    .unwrap(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
