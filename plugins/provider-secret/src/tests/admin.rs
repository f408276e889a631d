//! Admin mode (spec §7.2).

use platform_mesh_plugin_sdk::{ClusterError, Outcome, Reconciled};
use serde_json::json;

use super::*;
use crate::{connections, process_at};

fn server_of(host: &FakeHost, ns: &str, name: &str) -> String {
    stored_kubeconfig(host, ns, name)["clusters"][0]["cluster"]["server"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn every_default_as_admin_plus_an_external_extra_gets_its_url() {
    let host = host();
    let mut all: Vec<Value> = connections::defaults()
        .into_iter()
        .map(|mut c| {
            c.admin_auth = true;
            serde_json::to_value(c).unwrap()
        })
        .collect();
    all.push(
        json!({"secret": "extra1-kubeconfig", "path": PMS, "external": true, "adminAuth": true,
                    "namespace": "custom"}),
    );
    assert_eq!(
        process_at(&host, &only(json!(all)), NOW).unwrap(),
        Reconciled::ok()
    );
    let pms = format!("{BASE}/clusters/{PMS}");
    assert_eq!(server_of(&host, NS, "account-operator-kubeconfig"), pms);
    assert_eq!(server_of(&host, NS, "rebac-authz-webhook-kubeconfig"), pms);
    assert_eq!(
        server_of(&host, NS, "virtual-workspace-clusteraccess-kubeconfig"),
        format!("{BASE}/services/marketplace")
    );
    assert_eq!(
        server_of(&host, NS, "portal-kubeconfig"),
        format!("{BASE}/services/contentconfigurations")
    );
    assert_eq!(
        server_of(&host, NS, "security-initializer-kubeconfig"),
        format!("{BASE}/clusters/root")
    );
    assert_eq!(
        server_of(&host, "custom", "extra1-kubeconfig"),
        "https://kcp.api.example.com:8443/clusters/root:platform-mesh-system"
    );
}

#[test]
fn admin_kubeconfig_keeps_credentials_and_trusts_the_merged_bundle() {
    let host = host();
    let ctx = only(json!([{"secret": "a", "path": PMS, "adminAuth": true}]));
    process_at(&host, &ctx, NOW).unwrap();
    let kc = stored_kubeconfig(&host, NS, "a");
    let cluster = &kc["clusters"][0]["cluster"];
    // Kubeconfig CA first, then root-ca tls.crt (two certificates), ca.crt already present.
    assert_eq!(
        cluster["certificate-authority-data"],
        json!(b64(&format!("{}{}{}", cert(1), cert(2), cert(3))))
    );
    assert!(cluster.get("certificate-authority").is_none());
    assert_eq!(kc["users"][0]["user"]["client-certificate-data"], "Y2VydA==");
    assert_eq!(kc["current-context"], "admin");
}

#[test]
fn kcp_url_flag_replaces_the_front_proxy_url() {
    let host = host();
    let mut ctx = only(json!([{"secret": "a", "path": "root:orgs", "adminAuth": true}]));
    ctx.operator_config = json!({"kcpUrl": "http://127.0.0.1:6443/"});
    process_at(&host, &ctx, NOW).unwrap();
    assert_eq!(
        server_of(&host, NS, "a"),
        "http://127.0.0.1:6443/clusters/root:orgs"
    );
}

#[test]
fn endpoint_slice_path_is_used() {
    let host = host().with_object(
        Target::kcp(PMS),
        slice(
            "core.platform-mesh.io",
            Some("https://shard:6443/services/apiexport/abc/core.platform-mesh.io"),
        ),
    );
    let ctx = only(
        json!([{"secret": "a", "path": PMS, "endpointSliceName": "core.platform-mesh.io",
                           "adminAuth": true}]),
    );
    process_at(&host, &ctx, NOW).unwrap();
    assert_eq!(
        server_of(&host, NS, "a"),
        format!("{BASE}/services/apiexport/abc/core.platform-mesh.io")
    );
}

#[test]
fn slice_without_endpoints_is_pending_and_other_secrets_are_still_written() {
    let host = host().with_object(Target::kcp(PMS), slice("empty", None));
    let ctx = only(json!([
        {"secret": "waits", "path": PMS, "endpointSliceName": "empty", "adminAuth": true},
        {"secret": "written", "path": PMS, "adminAuth": true},
    ]));
    let done = process_at(&host, &ctx, NOW).unwrap();
    let Outcome::Pending { message, .. } = done.outcome else {
        panic!("{done:?}")
    };
    assert!(message.contains("secret waits: no endpoints"), "{message}");
    stored_kubeconfig(&host, NS, "written");
    assert!(!writes(&host).iter().any(|w| w.ends_with(" waits")));
}

#[test]
fn endpoint_slice_read_error_is_an_error() {
    let host = host().with_error(
        "get",
        Some("APIExportEndpointSlice"),
        ClusterError::Forbidden("no".into()),
    );
    let ctx = only(json!([{"secret": "a", "path": PMS, "endpointSliceName": "s", "adminAuth": true}]));
    let message = process_at(&host, &ctx, NOW).unwrap_err().message;
    assert!(message.contains("getting APIExportEndpointSlice s"), "{message}");
}

#[test]
fn invalid_endpoint_url_is_an_error() {
    let host = host().with_object(Target::kcp(PMS), slice("s", Some("not a url")));
    let ctx = only(json!([{"secret": "a", "path": PMS, "endpointSliceName": "s", "adminAuth": true}]));
    let message = process_at(&host, &ctx, NOW).unwrap_err().message;
    assert!(message.contains("invalid endpoint URL"), "{message}");
}

#[test]
fn kcp_unreachable_is_an_error() {
    let host = host().with_error(
        "get",
        Some("APIExportEndpointSlice"),
        ClusterError::Unavailable("connection refused".into()),
    );
    let ctx = only(json!([{"secret": "a", "path": PMS, "endpointSliceName": "s", "adminAuth": true}]));
    let message = process_at(&host, &ctx, NOW).unwrap_err().message;
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn admin_kubeconfig_secret_problems_are_errors() {
    let ctx = only(json!([{"secret": "a", "path": PMS, "adminAuth": true}]));
    let missing_key = host().with_object(
        Target::Runtime,
        secret("kubeconfig-kcp-admin", json!({"x": "eA=="})),
    );
    let message = process_at(&missing_key, &ctx, NOW).unwrap_err().message;
    assert!(message.contains("secret platform-mesh-system/kubeconfig-kcp-admin missing key kubeconfig"));
    let unparsable = host().with_object(
        Target::Runtime,
        secret("kubeconfig-kcp-admin", json!({"kubeconfig": b64("{")})),
    );
    let message = process_at(&unparsable, &ctx, NOW).unwrap_err().message;
    assert!(message.contains("parsing kubeconfig"), "{message}");
}

#[test]
fn empty_trust_bundle_is_an_error() {
    let host = host()
        .with_object(
            Target::Runtime,
            secret(
                "kubeconfig-kcp-admin",
                json!({"kubeconfig": b64(&admin_kubeconfig("no pem"))}),
            ),
        )
        .with_object(Target::Runtime, secret("root-ca", json!({"tls.key": b64("k")})));
    let ctx = only(json!([{"secret": "a", "path": PMS, "adminAuth": true}]));
    let message = process_at(&host, &ctx, NOW).unwrap_err().message;
    assert!(message.contains("no CA certificates after merging"), "{message}");
}

#[test]
fn secret_create_failure_is_an_error() {
    let host = host().with_error("create", Some("Secret"), ClusterError::Forbidden("denied".into()));
    let ctx = only(json!([{"secret": "a", "path": PMS, "adminAuth": true}]));
    let message = process_at(&host, &ctx, NOW).unwrap_err().message;
    assert!(
        message.contains("provider secret a: creating secret platform-mesh-system/a"),
        "{message}"
    );
}

#[test]
fn second_pass_writes_nothing() {
    let host = host();
    let ctx = only(json!([{"secret": "a", "path": PMS, "adminAuth": true}]));
    process_at(&host, &ctx, NOW).unwrap();
    let before = writes(&host).len();
    process_at(&host, &ctx, NOW + 60).unwrap();
    assert_eq!(writes(&host).len(), before, "{:?}", writes(&host));
}

#[test]
fn kcp_secrets_are_read_once_per_pass() {
    let host = host();
    let ctx = only(json!([admin_conn("a"), admin_conn("b"), admin_conn("c")]));
    process_at(&host, &ctx, NOW).unwrap();
    let reads = |name: &str| {
        host.calls()
            .iter()
            .filter(|c| c.op == "get" && c.name == name)
            .count()
    };
    assert_eq!(reads("root-ca"), 1);
    assert_eq!(reads("kubeconfig-kcp-admin"), 1);
}

fn admin_conn(secret: &str) -> Value {
    json!({"secret": secret, "path": PMS, "adminAuth": true})
}
