//! Readiness, the admin configuration, validation, connection lists and the plugin's identity.

use std::time::Duration;

use platform_mesh_plugin_sdk::{ClusterError, Gvk, Outcome, Plugin, Reconciled, Target, retire};
use serde_json::{Value, json};

use super::*;
use crate::{FINALIZER, ProviderSecret, connections, process_at};

fn error_of(host: &FakeHost, ctx: &Context) -> String {
    match process_at(host, ctx, NOW) {
        Err(failure) => failure.message,
        Ok(done) => panic!("expected an error, got {done:?}"),
    }
}

#[test]
fn name_finalizer_and_constructor() {
    let info = ProviderSecret::info();
    assert_eq!(info.name, "ProvidersecretSubroutine");
    assert_eq!(info.finalizers, [FINALIZER]);
    assert_ne!(FINALIZER, retire::LEGACY_SHARED_FINALIZER);
}

#[test]
fn finalize_leaves_everything_in_place() {
    let host = host();
    assert_eq!(
        ProviderSecret::finalize(&host, &pm(json!({}))).unwrap(),
        Reconciled::ok()
    );
    assert!(host.calls().is_empty());
}

#[test]
fn root_shard_without_status_stops_with_requeue() {
    let host = host().with_object(
        Target::Runtime,
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": "RootShard",
               "metadata": {"name": "root", "namespace": NS}}),
    );
    let done = process_at(&host, &pm(json!({})), NOW).unwrap();
    assert_eq!(
        done,
        Reconciled::stop_after(Duration::from_secs(5), "RootShard is not ready")
    );
}

#[test]
fn front_proxy_not_available_stops_with_requeue() {
    let host = host().with_object(
        Target::Runtime,
        json!({"apiVersion": "operator.kcp.io/v1alpha1", "kind": "FrontProxy",
               "metadata": {"name": "frontproxy", "namespace": NS},
               "status": {"conditions": [{"type": "Available", "status": "False"}]}}),
    );
    let done = process_at(&host, &pm(json!({})), NOW).unwrap();
    assert_eq!(
        done,
        Reconciled::stop_after(Duration::from_secs(5), "FrontProxy is not ready")
    );
}

/// Upstream's "client scheme is nil" has no counterpart (objects are JSON); the nearest case is a runtime cluster
/// that does not serve the kcp-operator kinds.
#[test]
fn unserved_kcp_operator_kinds_stop_and_say_so() {
    let host = host().with_error("get", Some("RootShard"), ClusterError::NotFound("no kind".into()));
    let Outcome::Stop {
        message,
        requeue_after,
    } = process_at(&host, &pm(json!({})), NOW).unwrap().outcome
    else {
        panic!("expected a stop");
    };
    assert!(message.contains("does not serve"), "{message}");
    assert_eq!(requeue_after, Some(Duration::from_secs(5)));
}

#[test]
fn cluster_admin_secret_read_error_fails_building_the_kubeconfig() {
    let host = host().with_error("get", Some("Secret"), ClusterError::Unavailable("down".into()));
    let message = error_of(&host, &pm(json!({})));
    assert!(
        message.starts_with("Failed to build kubeconfig: reading secret"),
        "{message}"
    );
}

#[test]
fn unparsable_cluster_admin_kubeconfig_fails_building_the_kubeconfig() {
    let host = host().with_object(
        Target::Runtime,
        secret(
            "kcp-cluster-admin-client-cert",
            json!({"kubeconfig": b64("{not json")}),
        ),
    );
    let message = error_of(&host, &pm(json!({})));
    assert!(
        message.starts_with("Failed to build kubeconfig: parsing kubeconfig"),
        "{message}"
    );
}

fn with_admin_kubeconfig(edit: impl Fn(&mut Value)) -> FakeHost {
    let mut kc: Value = serde_json::from_str(&admin_kubeconfig(&cert(1))).unwrap();
    edit(&mut kc);
    host().with_object(
        Target::Runtime,
        secret(
            "kcp-cluster-admin-client-cert",
            json!({"kubeconfig": b64(&kc.to_string())}),
        ),
    )
}

#[test]
fn kubeconfig_without_its_current_context_is_an_error() {
    let host = with_admin_kubeconfig(|kc| kc["current-context"] = json!("elsewhere"));
    let message = error_of(&host, &pm(json!({})));
    assert!(message.contains("context \"elsewhere\" not found"), "{message}");
}

#[test]
fn kubeconfig_without_the_context_cluster_is_an_error() {
    let host = with_admin_kubeconfig(|kc| kc["clusters"][0]["name"] = json!("other"));
    let message = error_of(&host, &pm(json!({})));
    assert!(message.contains("cluster \"kcp\" not found"), "{message}");
}

#[test]
fn cluster_admin_secret_needs_kubeconfig_or_certificate_files() {
    let cases = [
        (json!({}), "has no data"),
        (
            json!({"tls.crt": b64("x"), "tls.key": b64("y")}),
            "neither a kubeconfig nor a ca.crt",
        ),
        (
            json!({"ca.crt": b64(&cert(1)), "tls.key": b64("y")}),
            "missing key tls.crt",
        ),
    ];
    for (data, expected) in cases {
        let host = host().with_object(Target::Runtime, secret("kcp-cluster-admin-client-cert", data));
        let message = error_of(&host, &pm(json!({})));
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn connection_lists_follow_the_table() {
    let names = |spec: Value| -> Vec<String> {
        let ctx = pm(spec);
        connections::compose(&ctx)
            .unwrap()
            .into_iter()
            .map(|(_, c)| c.secret)
            .collect()
    };
    let defaults: Vec<String> = connections::defaults().into_iter().map(|c| c.secret).collect();
    assert_eq!(defaults.len(), 12);
    let extra = json!([{"secret": "extra"}]);
    let own = json!([{"secret": "own"}]);
    assert_eq!(names(json!({})), defaults);
    let mut with_extra = defaults.clone();
    with_extra.push("extra".into());
    assert_eq!(
        names(json!({"kcp": {"extraProviderConnections": extra}})),
        with_extra
    );
    assert_eq!(names(json!({"kcp": {"providerConnections": own}})), ["own"]);
    assert_eq!(
        names(
            json!({"kcp": {"providerConnections": own, "extraProviderConnections": extra},
                     "featureToggles": [{"name": "feature-enable-terminal-controller-manager"}]})
        ),
        ["own", "extra", "terminal-controller-manager-kubeconfig"]
    );
}

#[test]
fn scoped_connection_without_slice_or_export_is_rejected_before_anything_is_written() {
    let host = host();
    let ctx = only(json!([
        {"secret": "fine", "path": PMS, "adminAuth": true},
        {"secret": "broken", "path": PMS, "apiExportName": "  "},
    ]));
    let message = error_of(&host, &ctx);
    assert_eq!(
        message,
        "invalid provider connection: spec.kcp.providerConnections[1] (secret \"broken\"): \
         scoped kubeconfig requires endpointSliceName or apiExportName"
    );
    assert!(writes(&host).is_empty(), "{:?}", writes(&host));
}

#[test]
fn scoped_connection_rules_are_upstreams() {
    let pm = json!({"spec": {}});
    let check = |c: Value| {
        connections::validate(&serde_json::from_value(c).unwrap(), &pm)
            .err()
            .unwrap_or_default()
    };
    assert_eq!(
        check(json!({"secret": "s", "apiExportName": "e"})),
        "scoped kubeconfig requires Path (workspace)"
    );
    assert_eq!(
        check(json!({"secret": "s", "path": "root", "apiExportName": "e", "endpointSliceName": "x"})),
        "scoped kubeconfig: set only one of endpointSliceName or apiExportName"
    );
    assert_eq!(
        check(json!({"secret": "s", "path": "root", "apiExportName": "e"})),
        ""
    );
    assert_eq!(
        check(json!({"secret": "s", "path": "root", "adminAuth": true, "external": true})),
        "provider connection with external: true requires spec.exposure"
    );
}

#[test]
fn legacy_shared_finalizer_is_removed_on_upgrade() {
    let host = host();
    let mut ctx = only(json!([]));
    ctx.object["metadata"]["finalizers"] = json!([retire::LEGACY_SHARED_FINALIZER, FINALIZER]);
    host.insert(Target::Runtime, ctx.object.clone());
    process_at(&host, &ctx, NOW).unwrap();
    let pm = Gvk::new("core.platform-mesh.io", "v1alpha1", "PlatformMesh").object(Some(NS), "platform-mesh");
    let stored = host.object(&Target::Runtime, &pm).unwrap();
    assert_eq!(stored["metadata"]["finalizers"], json!([FINALIZER]));
}

#[test]
fn an_absent_admin_auth_means_scoped_as_upstreams_code_has_it() {
    let ctx = only(json!([
        {"secret": "absent", "path": PMS, "apiExportName": "core.platform-mesh.io"},
        {"secret": "false", "path": PMS, "apiExportName": "core.platform-mesh.io", "adminAuth": false},
        {"secret": "true", "path": PMS, "adminAuth": true},
    ]));
    let admin: Vec<(String, bool)> = connections::compose(&ctx)
        .unwrap()
        .into_iter()
        .map(|(_, c)| (c.secret, c.admin_auth))
        .collect();
    assert_eq!(
        admin,
        [
            ("absent".into(), false),
            ("false".into(), false),
            ("true".into(), true)
        ]
    );
}
