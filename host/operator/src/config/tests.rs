//! Flag defaults (upstream `TestNewOperatorConfig`), flag parsing (`TestOperatorConfigAddFlags*`) and environment
//! variables.

use std::time::Duration;

use clap::Parser;

use super::*;

#[derive(Parser, Debug)]
struct Harness {
    #[command(flatten)]
    config: OperatorConfig,
}

fn parse(args: &[&str]) -> OperatorConfig {
    let mut argv = vec!["test"];
    argv.extend_from_slice(args);
    Harness::try_parse_from(argv).unwrap().config
}

#[test]
fn new_operator_config_has_upstream_defaults() {
    let c = parse(&[]);
    assert_eq!(c.workspace_dir, PathBuf::from("/operator/"));
    assert_eq!(c.kcp.kcp_url, "");
    assert_eq!(c.kcp.kcp_namespace, "platform-mesh-system");
    assert_eq!(c.kcp.kcp_root_shard_name, "root");
    assert_eq!(c.kcp.kcp_front_proxy_name, "frontproxy");
    assert_eq!(c.kcp.kcp_front_proxy_port, "8443");
    assert_eq!(
        c.kcp.kcp_cluster_admin_secret_name,
        "kcp-cluster-admin-client-cert"
    );
    assert!(!c.kcp.idp_registration_allowed);
    assert!(c.kcp.idp_welcome_additional_redirect_uris.is_empty());
    assert!(c.kcp.idp_welcome_additional_post_logout_redirect_uris.is_empty());
    assert_eq!(
        c.kcp.providers_apiexport_endpointslice_name,
        "providers.platform-mesh.io"
    );
    assert_eq!(
        c.kcp.providers_apiexport_endpointslice_workspace,
        "root:platform-mesh-system"
    );
    let s = &c.subroutines;
    assert!(s.subroutines_deployment_enabled);
    assert_eq!(s.authorization_webhook_secret_name, "kcp-webhook-secret");
    assert_eq!(s.authorization_webhook_secret_ca_name, "rebac-authz-webhook-cert");
    assert!(s.subroutines_deployment_enable_istio);
    assert!(s.subroutines_kcp_setup_enabled);
    assert_eq!(s.domain_certificate_ca_secret_name, "domain-certificate");
    assert_eq!(s.domain_certificate_ca_secret_key, "ca.crt");
    assert!(s.subroutines_provider_secret_enabled);
    assert!(
        !s.subroutines_feature_toggles_enabled,
        "feature toggles are off by default"
    );
    assert!(s.subroutines_wait_enabled);
    assert!(s.subroutines_managed_provider_wait_platform_mesh_enabled);
    assert!(s.subroutines_managed_provider_resource_enabled);
    assert!(s.subroutines_managed_provider_wait_enabled);
    assert!(s.subroutines_managed_provider_kubeconfig_enabled);
    assert!(s.subroutines_managed_provider_deploy_enabled);
    assert!(s.subroutines_providers_workspace_enabled);
    assert!(s.subroutines_providers_kubeconfig_enabled);
    assert_eq!(c.remote.remote_runtime_kubeconfig, "");
    assert_eq!(c.remote.remote_runtime_infra_secret_name, "");
    assert_eq!(c.remote.remote_runtime_infra_secret_key, "");
    assert_eq!(c.remote.remote_infra_kubeconfig, "");
    let m = &c.common;
    assert_eq!(m.debug_label_value, "");
    assert_eq!(m.max_concurrent_reconciles, 10);
    assert_eq!(m.environment, "");
    assert_eq!(m.region, "local");
    assert_eq!(m.kubeconfig, "");
    assert!(!m.is_local);
    assert_eq!((m.image_name.as_str(), m.image_tag.as_str()), ("", ""));
    assert_eq!(m.log_level, "info");
    assert!(!m.no_json);
    assert_eq!(m.shutdown_timeout, Duration::from_secs(60));
    assert_eq!(m.metrics_bind_address, ":9090");
    assert!(!m.metrics_secure);
    assert!(!m.tracing_enabled);
    assert_eq!(m.tracing_config_service_name, "");
    assert_eq!(m.tracing_config_service_version, "");
    assert_eq!(m.tracing_config_collector_endpoint, "");
    assert!(m.enable_http2);
    assert_eq!(m.health_probe_bind_address, ":8090");
    assert!(!m.leader_elect);
    assert_eq!(
        c.plugins.plugins_dir, None,
        "resolved at start, never a build path"
    );
    assert_eq!(c.plugins.plugin_cache_dir, None);
    assert_eq!(c.plugins.plugin_call_timeout, Duration::from_secs(30));
    assert_eq!(c.plugins.plugin_memory_limit, 64 << 20);
    assert_eq!(
        c.kcp.base_url(),
        "https://frontproxy-front-proxy.platform-mesh-system:8443"
    );
}

#[test]
fn operator_config_add_flags_parses_every_platformmesh_flag() {
    let c = parse(&[
        "--workspace-dir=/ws",
        "--kcp-url=https://kcp.example:6443",
        "--kcp-namespace=kcp",
        "--kcp-root-shard-name=shard",
        "--kcp-front-proxy-name=fp",
        "--kcp-front-proxy-port=9443",
        "--kcp-cluster-admin-secret-name=admin",
        "--idp-registration-allowed",
        "--idp-welcome-additional-redirect-uris=https://a/cb,https://b/cb",
        "--idp-welcome-additional-post-logout-redirect-uris",
        "https://c/out",
        "--subroutines-deployment-enabled=false",
        "--authorization-webhook-secret-name=wh",
        "--authorization-webhook-secret-ca-name=whca",
        "--subroutines-deployment-enable-istio=false",
        "--subroutines-kcp-setup-enabled=false",
        "--domain-certificate-ca-secret-name=dc",
        "--domain-certificate-ca-secret-key=tls.crt",
        "--subroutines-provider-secret-enabled=false",
        "--subroutines-feature-toggles-enabled=true",
        "--subroutines-wait-enabled=false",
        "--remote-runtime-kubeconfig=/rt",
        "--remote-runtime-infra-secret-name=rs",
        "--remote-runtime-infra-secret-key=rk",
        "--remote-infra-kubeconfig=/infra",
        "--debug-label-value=me",
        "--max-concurrent-reconciles=3",
        "--shutdown-timeout=1m30s",
        "--no-json",
        "--plugin-memory-limit=16Mi",
        "--plugin-call-timeout=250ms",
    ]);
    assert_eq!(c.workspace_dir, PathBuf::from("/ws"));
    assert_eq!(c.kcp.base_url(), "https://kcp.example:6443");
    assert_eq!(
        (
            c.kcp.kcp_namespace.as_str(),
            c.kcp.kcp_root_shard_name.as_str(),
            c.kcp.kcp_front_proxy_name.as_str()
        ),
        ("kcp", "shard", "fp")
    );
    assert_eq!(c.kcp.kcp_front_proxy_port, "9443");
    assert_eq!(c.kcp.kcp_cluster_admin_secret_name, "admin");
    assert!(c.kcp.idp_registration_allowed);
    assert_eq!(
        c.kcp.idp_welcome_additional_redirect_uris,
        ["https://a/cb", "https://b/cb"]
    );
    assert_eq!(
        c.kcp.idp_welcome_additional_post_logout_redirect_uris,
        ["https://c/out"]
    );
    let s = &c.subroutines;
    assert!(!s.subroutines_deployment_enabled && !s.subroutines_deployment_enable_istio);
    assert!(!s.subroutines_kcp_setup_enabled && !s.subroutines_provider_secret_enabled);
    assert!(s.subroutines_feature_toggles_enabled && !s.subroutines_wait_enabled);
    assert_eq!(
        (
            s.authorization_webhook_secret_name.as_str(),
            s.authorization_webhook_secret_ca_name.as_str()
        ),
        ("wh", "whca")
    );
    assert_eq!(
        (
            s.domain_certificate_ca_secret_name.as_str(),
            s.domain_certificate_ca_secret_key.as_str()
        ),
        ("dc", "tls.crt")
    );
    assert_eq!(c.remote.remote_runtime_kubeconfig, "/rt");
    assert_eq!(c.remote.remote_runtime_infra_secret_name, "rs");
    assert_eq!(c.remote.remote_runtime_infra_secret_key, "rk");
    assert_eq!(c.remote.remote_infra_kubeconfig, "/infra");
    assert_eq!(c.common.debug_label_value, "me");
    assert_eq!(c.common.max_concurrent_reconciles, 3);
    assert_eq!(c.common.shutdown_timeout, Duration::from_secs(90));
    assert!(c.common.no_json);
    assert_eq!(c.plugins.plugin_memory_limit, 16 << 20);
    assert_eq!(c.plugins.plugin_call_timeout, Duration::from_millis(250));
}

#[test]
fn operator_config_add_flags_providers() {
    let c = parse(&[
        "--providers-apiexport-endpointslice-name=slice",
        "--providers-apiexport-endpointslice-workspace=root:x",
    ]);
    assert_eq!(c.kcp.providers_apiexport_endpointslice_name, "slice");
    assert_eq!(c.kcp.providers_apiexport_endpointslice_workspace, "root:x");
}

/// Environment variables are read for every flag, and the command line wins. The environment is process-wide,
/// so the assertions run in a child process (this test binary, filtered to `environment_child`) that gets the
/// variables; other tests never see them.
#[test]
fn environment_variables_set_flags_and_command_line_wins() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "config::tests::environment_child", "--nocapture"])
        .env("PMO_TEST_ENVIRONMENT_CHILD", "1")
        .env("PMO_KCP_URL", "https://from-env:1")
        .env("PMO_IDP_WELCOME_ADDITIONAL_REDIRECT_URIS", "https://x,https://y")
        .env("PMO_SUBROUTINES_FEATURE_TOGGLES_ENABLED", "true")
        .env("PMO_REGION", "eu")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "the child test ran: {stdout}");
}

#[test]
fn environment_child() {
    if std::env::var_os("PMO_TEST_ENVIRONMENT_CHILD").is_none() {
        return;
    }
    let c = parse(&["--region=us"]);
    assert_eq!(c.kcp.kcp_url, "https://from-env:1");
    assert_eq!(
        c.kcp.idp_welcome_additional_redirect_uris,
        ["https://x", "https://y"]
    );
    assert!(c.subroutines.subroutines_feature_toggles_enabled);
    assert_eq!(c.common.region, "us");
}

#[test]
fn plugin_json_is_flat_camel_case() {
    let json = parse(&["--kcp-url=https://k"]).to_plugin_json();
    assert_eq!(json["kcpUrl"], "https://k");
    assert_eq!(json["kcpNamespace"], "platform-mesh-system");
    assert_eq!(json["subroutinesFeatureTogglesEnabled"], false);
    assert_eq!(json["idpWelcomeAdditionalRedirectUris"], serde_json::json!([]));
    assert_eq!(json["shutdownTimeout"], "1m0s");
    assert_eq!(json["workspaceDir"], "/operator/");
    assert_eq!(json["enableHTTP2"], true);
}

#[test]
fn go_durations_parse_and_format() {
    assert_eq!(parse_go_duration("1h30m").unwrap(), Duration::from_secs(5400));
    assert_eq!(parse_go_duration("1.5s").unwrap(), Duration::from_millis(1500));
    assert_eq!(parse_go_duration("0").unwrap(), Duration::ZERO);
    assert!(parse_go_duration("5 parsecs").is_err());
    assert!(parse_go_duration("").is_err());
    assert_eq!(format_go_duration(Duration::from_secs(60)), "1m0s");
    assert_eq!(format_go_duration(Duration::from_secs(3600)), "1h0m0s");
    assert_eq!(format_go_duration(Duration::from_millis(250)), "250ms");
    assert_eq!(parse_bytes("2Ki").unwrap(), 2048);
    assert!(parse_bytes("lots").is_err());
}

#[test]
fn plugins_dir_defaults_beside_the_executable_then_in_the_workspace() {
    assert_eq!(
        plugins_dir_beside(Path::new("/operator/manager")),
        Some(PathBuf::from("/operator/plugins"))
    );
    assert_eq!(
        plugins_dir_beside(Path::new("/src/target/debug/deps/e2e-0123")),
        Some(PathBuf::from("/src/target/debug/plugins")),
        "cargo's test executables count as the binaries beside them"
    );
    let explicit = Path::new("/elsewhere/plugins");
    assert_eq!(
        resolve_plugins_dir(Some(explicit), Some(Path::new("/ws"))),
        explicit
    );
    let beside = default_plugins_dir().expect("the test executable has a path");
    let workspace = tempfile::tempdir().unwrap();
    let resolved = resolve_plugins_dir(None, Some(workspace.path()));
    if beside.is_dir() {
        assert_eq!(resolved, beside);
    } else {
        assert_eq!(resolved, workspace.path().join("plugins"));
    }
    let c = parse(&["--workspace-dir=/nowhere/ws"]);
    assert!(
        c.plugins_dir() == beside || c.plugins_dir() == Path::new("/nowhere/ws/plugins"),
        "{}",
        c.plugins_dir().display()
    );
}

#[test]
fn boolean_flags_take_their_value_only_after_an_equals_sign() {
    let c = parse(&["--leader-elect", "--is-local=false", "--no-json"]);
    assert!(c.common.leader_elect && !c.common.is_local && c.common.no_json);
    assert!(
        Harness::try_parse_from(["test", "--leader-elect", "false"]).is_err(),
        "like pflag, a bare boolean flag never swallows the next argument"
    );
}

#[test]
fn config_refs_parse_as_namespace_slash_name() {
    let parsed: PluginConfigRef = "platform-mesh-system/plugins".parse().unwrap();
    assert_eq!(parsed.to_string(), "platform-mesh-system/plugins");
    for bad in ["plugins", "/plugins", "ns/", "a/b/c"] {
        assert!(bad.parse::<PluginConfigRef>().is_err(), "{bad}");
    }
}
