//! The manifests and the per-file rules: toggles in the template data (`Test_HasFeatureToggle`), the
//! authentication template (`Test_WorkspaceAuthConfigTemplate_*`), skipped ContentConfigurations
//! (`Test_ApplyManifestFromFile_*`), extra default bindings (§6.6), extra workspaces (`Test_ApplyExtraWorkspaces_*`),
//! bad input, child workspaces looked up in their parent (§11.3 item 29), and the welcome clients and orgs model
//! as the Go operator ships them.

use platform_mesh_plugin_sdk::{ClusterError, Outcome, Target, testing::FakeHost};
use serde_json::{Value, json};

use super::fixtures::*;
use crate::{converge::EXTRA_WORKSPACE_MANAGER, data, settings::Settings};

fn wac(host: &FakeHost) -> Value {
    stored(
        host,
        "root",
        (
            "tenancy.kcp.io",
            "v1alpha1",
            "WorkspaceAuthenticationConfiguration",
        ),
        "orgs-authentication",
    )
    .unwrap()
}

fn toggles(names: &[&str]) -> Value {
    json!({"featureToggles": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()})
}

#[test]
fn toggles_become_true_false_strings() {
    let settings = Settings::read(&ctx(toggles(&["feature-disable-email-verification"]))).unwrap();
    let data = data::static_data(&settings);
    assert_eq!(data["featureDisableEmailVerification"], "true");
    assert_eq!(data["featureDisableContentConfigurations"], "false");
    assert_eq!(data["featureEnableTerminalControllerManager"], "false");
    assert_eq!(data["port"], "8443");
}

#[test]
fn email_verification_toggle_switches_claim_rules() {
    let host = kcp_host();
    pass(&host, &ctx(json!({}))).unwrap();
    let plain = wac(&host);
    let jwt = &plain["spec"]["jwt"][0];
    assert_eq!(
        jwt["issuer"]["url"],
        "https://portal.localhost:8443/keycloak/realms/welcome"
    );
    assert_eq!(jwt["issuer"]["audiences"], json!([]));
    assert_eq!(jwt["issuer"]["audienceMatchPolicy"], "MatchAny");
    assert_eq!(jwt["issuer"]["certificateAuthority"], DOMAIN_PEM);
    assert_eq!(
        jwt["claimMappings"]["username"],
        json!({"claim": "email", "prefix": ""})
    );
    assert!(jwt.get("claimValidationRules").is_none());

    let host = kcp_host();
    pass(&host, &ctx(toggles(&["feature-disable-email-verification"]))).unwrap();
    let jwt = wac(&host)["spec"]["jwt"][0].clone();
    assert_eq!(
        jwt["claimMappings"]["username"],
        json!({"expression": "claims.email"})
    );
    assert_eq!(
        jwt["claimValidationRules"][0]["message"],
        "Allowing both verified and unverified emails"
    );
    assert_eq!(
        jwt["claimMappings"]["groups"],
        json!({"claim": "groups", "prefix": ""})
    );
}

#[test]
fn content_configurations_are_skipped_only_with_the_toggle() {
    let content = ("ui.platform-mesh.io", "v1alpha1", "ContentConfiguration");
    let host = kcp_host();
    converge(
        &host,
        &ctx(toggles(&["feature-disable-contentconfigurations"])),
        6,
    );
    assert!(stored(&host, "root:platform-mesh-system", content, "main-home").is_none());
    let schema = ("apis.kcp.io", "v1alpha1", "APIResourceSchema");
    let other = stored(
        &host,
        "root:platform-mesh-system",
        schema,
        "v250704-6d57f16.contentconfigurations.ui.platform-mesh.io",
    );
    assert!(other.is_some(), "other kinds are still applied");

    let host = kcp_host();
    converge(
        &host,
        &ctx(toggles(&["feature-disable-contentconfigurations-not"])),
        6,
    );
    assert!(stored(&host, "root:platform-mesh-system", content, "main-home").is_some());
}

#[test]
fn extra_default_bindings_extend_only_their_workspace_type() {
    let host = kcp_host();
    let spec = json!({"kcp": {"extraDefaultAPIBindings": [
        {"workspaceTypePath": "root:account", "export": "a.example.io", "path": "root:x"},
        {"workspaceTypePath": "root:account", "export": "b.example.io", "path": ""},
        {"workspaceTypePath": "root:nothing", "export": "c.example.io", "path": "root"},
    ]}});
    pass(&host, &ctx(spec)).unwrap();
    let account = stored(
        &host,
        "root",
        ("tenancy.kcp.io", "v1alpha1", "WorkspaceType"),
        "account",
    )
    .unwrap();
    let bindings = account["spec"]["defaultAPIBindings"].as_array().unwrap();
    assert_eq!(
        bindings[bindings.len() - 2],
        json!({"export": "a.example.io", "path": "root:x"})
    );
    assert_eq!(bindings[bindings.len() - 1], json!({"export": "b.example.io"}));
    let org = stored(
        &host,
        "root",
        ("tenancy.kcp.io", "v1alpha1", "WorkspaceType"),
        "org",
    )
    .unwrap();
    assert!(!org.to_string().contains("example.io"));
}

#[test]
fn extra_workspaces_are_applied_in_their_parent_without_force() {
    let host = kcp_host();
    let spec = json!({"kcp": {"extraWorkspaces": [
        {"path": "root:orgs:acme", "type": {"name": "org", "path": "root"}},
        {"path": "nocolon", "type": {"name": "org", "path": "root"}},
    ]}});
    converge(&host, &ctx(spec), 6);
    let acme = stored(
        &host,
        "root:orgs",
        ("tenancy.kcp.io", "v1alpha1", "Workspace"),
        "acme",
    )
    .unwrap();
    assert_eq!(acme["spec"]["type"], json!({"name": "org", "path": "root"}));
    assert!(
        host.logs()
            .iter()
            .any(|(_, l)| l.contains("skipping extra workspace \"nocolon\""))
    );
    assert_eq!(EXTRA_WORKSPACE_MANAGER, "platform-mesh-kcp-setup");
}

#[test]
fn failing_extra_workspace_names_it() {
    let host = kcp_host();
    converge(&host, &ctx(json!({})), 6);
    let host = host.with_error(
        "apply",
        Some("Workspace"),
        ClusterError::Conflict("owned by someone".into()),
    );
    let spec = json!({"kcp": {"extraWorkspaces": [{"path": "root:orgs:acme", "type": {"name": "org", "path": ""}}]}});
    let failure = pass(&host, &ctx(spec)).unwrap_err();
    assert_eq!(
        failure.message,
        "Failed to create kcp workspaces: Failed to apply extra workspace: acme: conflict: owned by someone"
    );
}

#[test]
fn malformed_manifest_names_file_and_line_and_applies_nothing() {
    let workspace = copy_manifests("malformed");
    let file = "manifests/kcp/02-root/workspace-orgs.yaml";
    std::fs::write(
        workspace.join(file),
        "apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: [orgs\n",
    )
    .unwrap();
    let host = FakeHost::new().with_renderer(renderer(workspace.clone()));
    install_kcp(&host);
    let failure = crate::reconcile(&host, &ctx(json!({})), &workspace).unwrap_err();
    assert!(
        failure.message.starts_with(&format!(
            "Failed to create kcp workspaces: Failed to render manifest file {file} at line "
        )),
        "{}",
        failure.message
    );
    assert!(
        host.calls().iter().all(|c| c.op == "get"),
        "nothing applied: {:?}",
        host.calls()
    );

    std::fs::write(
        workspace.join(file),
        "kind: Workspace\nmetadata:\n  name: {{ .nope.deeper.x }\n",
    )
    .unwrap();
    let failure = crate::reconcile(&host, &ctx(json!({})), &workspace).unwrap_err();
    assert!(
        failure.message.contains(&format!("{file} at line 3")),
        "{}",
        failure.message
    );
    std::fs::remove_dir_all(workspace).unwrap();
}

#[test]
fn child_workspaces_are_looked_up_in_their_parent() {
    let workspace = std::env::temp_dir().join(format!("kcp-setup-nested-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&workspace);
    let deep = workspace.join("manifests/kcp/01-a/01-b");
    std::fs::create_dir_all(&deep).unwrap();
    let ws = |name: &str| {
        format!("apiVersion: tenancy.kcp.io/v1alpha1\nkind: Workspace\nmetadata:\n  name: {name}\n")
    };
    std::fs::write(workspace.join("manifests/kcp/ws-a.yaml"), ws("a")).unwrap();
    std::fs::write(workspace.join("manifests/kcp/01-a/ws-b.yaml"), ws("b")).unwrap();
    std::fs::write(
        deep.join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n",
    )
    .unwrap();
    let host = FakeHost::new().with_renderer(renderer(workspace.clone()));
    install_kcp(&host);
    let run = |host: &FakeHost| crate::reconcile(host, &ctx(json!({})), &workspace).unwrap();
    assert!(matches!(run(&host).outcome, Outcome::Stop { .. }));
    settle(&host, &["root"]);
    let second = run(&host);
    let Outcome::Stop { message, .. } = &second.outcome else {
        panic!("{second:?}")
    };
    assert_eq!(message, "workspace root:a:b is not Ready yet (phase Unknown)");
    let looked_up = host
        .calls()
        .into_iter()
        .any(|c| c.op == "get" && c.target == Target::kcp("root:a") && c.name == "b");
    assert!(looked_up, "b is looked up in root:a, not in root");
    settle(&host, &["root:a"]);
    assert!(matches!(run(&host).outcome, Outcome::Ok { .. }));
    let deep_cm = platform_mesh_plugin_sdk::Gvk::new("", "v1", "ConfigMap").object(None, "deep");
    assert!(host.object(&Target::kcp("root:a:b"), &deep_cm).is_some());
    std::fs::remove_dir_all(workspace).unwrap();
}

#[test]
fn identity_provider_configuration_apply_failure_is_only_logged() {
    let host = kcp_host().with_error(
        "apply",
        Some("IdentityProviderConfiguration"),
        ClusterError::Invalid("webhook not reachable".into()),
    );
    converge(&host, &ctx(json!({})), 6);
    let warned = host.logs().into_iter().any(|(level, line)| {
        level == platform_mesh_plugin_sdk::LogLevel::Warn
            && line.contains("IdentityProviderConfiguration/welcome")
            && line.contains("webhook not reachable")
    });
    assert!(warned, "{:?}", host.logs());
}

#[test]
fn terminal_toggle_adds_the_terminal_binding_to_account_and_org_types() {
    let terminal = json!({"export": "terminal.platform-mesh.io", "path": "root:platform-mesh-system"});
    for (toggles, expected) in [
        (toggles(&["feature-enable-terminal-controller-manager"]), true),
        (json!({}), false),
    ] {
        let host = kcp_host();
        pass(&host, &ctx(toggles)).unwrap();
        for name in ["account", "org"] {
            let wt = stored(
                &host,
                "root",
                ("tenancy.kcp.io", "v1alpha1", "WorkspaceType"),
                name,
            )
            .unwrap();
            let bindings = wt["spec"]["defaultAPIBindings"].as_array().unwrap();
            assert_eq!(bindings.contains(&terminal), expected, "{name}: {bindings:?}");
        }
    }
}

fn welcome_ipc(host: &FakeHost) -> Value {
    stored(
        host,
        "root:platform-mesh-system",
        (
            "core.platform-mesh.io",
            "v1alpha1",
            "IdentityProviderConfiguration",
        ),
        "welcome",
    )
    .unwrap()
}

#[test]
fn welcome_clients_render_as_the_go_operator_ships_them() {
    let host = kcp_host();
    converge(&host, &ctx(json!({})), 6);
    let spec = welcome_ipc(&host)["spec"].clone();
    assert_eq!(spec["registrationAllowed"], false);
    assert_eq!(
        spec["clients"],
        json!([
            {"clientName": "welcome", "clientType": "confidential",
             "redirectUris": ["https://portal.localhost:8443/callback*"],
             "postLogoutRedirectUris": ["https://portal.localhost:8443/logout*"],
             "secretRef": {"name": "portal-client-secret-welcome", "namespace": "default"}},
            {"clientName": "welcome-kubectl", "clientType": "public",
             "redirectUris": ["http://localhost:8000/*", "http://localhost:18000/*"],
             "secretRef": {"name": "welcome-kubectl-client-secret", "namespace": "default"}},
        ])
    );

    let host = kcp_host();
    let mut with_flags = ctx(json!({}));
    with_flags.operator_config = json!({
        "idpRegistrationAllowed": true,
        "idpWelcomeAdditionalRedirectUris": ["https://extra.example/*"],
        "idpWelcomeAdditionalPostLogoutRedirectUris": ["https://extra.example/bye"],
    });
    converge(&host, &with_flags, 6);
    let spec = welcome_ipc(&host)["spec"].clone();
    assert_eq!(spec["registrationAllowed"], true);
    let welcome = &spec["clients"][0];
    assert_eq!(
        welcome["redirectUris"],
        json!([
            "https://portal.localhost:8443/callback*",
            "https://extra.example/*"
        ])
    );
    assert_eq!(
        welcome["postLogoutRedirectUris"],
        json!([
            "https://portal.localhost:8443/logout*",
            "https://extra.example/bye"
        ])
    );
    assert_eq!(
        spec["clients"][1]["redirectUris"],
        json!(["http://localhost:8000/*", "http://localhost:18000/*"]),
        "the additional URIs are the welcome client's only"
    );
}

#[test]
fn orgs_store_carries_the_account_relations_of_the_go_operator() {
    let host = kcp_host();
    converge(&host, &ctx(json!({})), 6);
    let store = stored(
        &host,
        "root:orgs",
        ("core.platform-mesh.io", "v1alpha1", "Store"),
        "orgs",
    )
    .unwrap();
    let model = store["spec"]["coreModule"].as_str().unwrap();
    for verb in ["create", "list", "get", "watch"] {
        let relation = format!("define {verb}_core_platform-mesh_io_accounts: member");
        assert!(model.contains(&relation), "{relation} in {model}");
    }
    for absent in ["update_core", "delete_core", "define parent", "from parent"] {
        assert!(!model.contains(absent), "{absent} is not upstream's: {model}");
    }
}
