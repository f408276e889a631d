//! The variable sets and their precedence chain (spec §5.6, fixed per §11.2 items 19 and 20).

use serde_json::{Value, json};

use super::{NS, context, host, sample_profile_text};
use crate::{
    profile,
    settings::Settings,
    vars::{Technology, components_set, exposure_of, infra_set, runtime_set, technology_of},
};

const PROFILE: &str = r#"
infra:
  deploymentTechnology: fluxcd
  baseDomain: from-profile
  ocm:
    repo: {name: profile-repo}
    component: {name: profile-component}
  certManager: {enabled: true, name: cert-manager}
components:
  deploymentTechnology: fluxcd
  ocm:
    repo: {name: profile-repo}
    component: {name: profile-component}
  services:
    portal:
      enabled: true
      values:
        host: "{{ .baseDomain }}"
        keep: profile
    iam:
      enabled: true
"#;

fn sets(spec: Value, profile_text: &str) -> (serde_json::Map<String, Value>, serde_json::Map<String, Value>) {
    let h = host();
    let settings = Settings::from_context(&context(spec));
    let profile = profile::parse("test", profile_text, &h).unwrap();
    let exposure = exposure_of(&settings);
    let infra = infra_set(&profile, &settings, &exposure, None);
    let components = components_set(&h, &profile, &settings, &exposure, None).unwrap();
    (infra, components)
}

#[test]
fn exposure_defaults_and_base_domain_port() {
    let (infra, components) = sets(json!({}), PROFILE);
    assert_eq!(infra["baseDomain"], json!("portal.localhost"));
    assert_eq!(infra["port"], json!("8443"));
    assert_eq!(infra["protocol"], json!("https"));
    assert_eq!(infra["baseDomainPort"], json!("portal.localhost:8443"));
    assert_eq!(infra["helmReleaseNamespace"], json!(NS));
    // One port default everywhere (the components set used 443 upstream).
    assert_eq!(components["port"], json!("8443"));
    assert_eq!(components["baseDomainWithPort"], json!("portal.localhost:8443"));
}

#[test]
fn ports_80_and_443_are_left_out_of_base_domain_port() {
    for port in [80, 443] {
        let (infra, components) = sets(json!({"exposure": {"baseDomain": "x.io", "port": port}}), PROFILE);
        assert_eq!(infra["baseDomainPort"], json!("x.io"));
        assert_eq!(components["baseDomainWithPort"], json!("x.io"));
    }
}

#[test]
fn infra_set_exposure_beats_the_profile() {
    let (infra, _) = sets(json!({"exposure": {"baseDomain": "spec.io"}}), PROFILE);
    assert_eq!(infra["baseDomain"], json!("spec.io"));
    assert_eq!(infra["certManager"]["name"], json!("cert-manager"));
}

#[test]
fn infra_set_infra_values_override_the_profile_section() {
    let spec = json!({"infraValues": {"certManager": {"enabled": false}, "extra": 1}});
    let (infra, _) = sets(spec, PROFILE);
    assert_eq!(
        infra["certManager"],
        json!({"enabled": false, "name": "cert-manager"})
    );
    assert_eq!(infra["extra"], json!(1));
}

#[test]
fn infra_set_spec_ocm_beats_the_profile_ocm() {
    let spec = json!({"ocm": {"repo": {"name": "spec-repo"}, "referencePath": [{"name": "p"}]}});
    let (infra, components) = sets(spec, PROFILE);
    assert_eq!(infra["ocm"]["repo"]["name"], json!("spec-repo"));
    assert_eq!(infra["ocm"]["component"]["name"], json!("profile-component"));
    assert_eq!(infra["ocm"]["referencePath"], json!([{"name": "p"}]));
    // The same chain for the components' OCM Resources (upstream ignored spec.ocm there).
    assert_eq!(components["values"]["ocm"]["repo"]["name"], json!("spec-repo"));
}

#[test]
fn infra_set_operator_keys_come_last() {
    let (infra, _) = sets(json!({"infraValues": {"releaseNamespace": "nope"}}), PROFILE);
    assert_eq!(infra["releaseNamespace"], json!(NS));
    assert_eq!(infra["kubeConfigEnabled"], json!(false));
    assert!(infra.get("kubeConfigSecretName").is_none());
}

#[test]
fn kube_config_keys_from_the_flags() {
    let mut ctx = context(json!({}));
    ctx.operator_config = json!({"remoteRuntimeKubeconfig": "/k", "remoteRuntimeInfraSecretName": "remote",
        "remoteRuntimeInfraSecretKey": "kc"});
    let settings = Settings::from_context(&ctx);
    let h = host();
    let profile = profile::parse("test", PROFILE, &h).unwrap();
    let infra = infra_set(&profile, &settings, &exposure_of(&settings), None);
    assert_eq!(infra["kubeConfigEnabled"], json!(true));
    assert_eq!(infra["kubeConfigSecretName"], json!("remote"));
    assert_eq!(infra["kubeConfigSecretKey"], json!("kc"));
}

#[test]
fn kube_config_keys_from_the_platform_mesh_win_over_the_flags() {
    let mut ctx = context(json!({"runtimeKubeconfigSecret": {"name": "env-a"}}));
    ctx.operator_config = json!({"remoteRuntimeKubeconfig": "/k", "remoteRuntimeInfraSecretName": "remote",
        "remoteRuntimeInfraSecretKey": "kc"});
    let settings = Settings::from_context(&ctx);
    let kubeconfig = settings.kubeconfig.unwrap();
    assert_eq!(
        (kubeconfig.name.as_str(), kubeconfig.key.as_str()),
        ("env-a", "kubeconfig")
    );
}

#[test]
fn components_set_renders_the_profile_with_exposure_variables() {
    let (_, components) = sets(json!({"exposure": {"baseDomain": "spec.io"}}), PROFILE);
    assert_eq!(
        components["values"]["services"]["portal"]["values"]["host"],
        json!("spec.io")
    );
    assert_eq!(components["releaseNamespace"], json!(NS));
}

#[test]
fn components_set_spec_values_services_beat_profile_services() {
    let spec = json!({"values": {"services": {"portal": {"values": {"keep": "spec", "url": "https://{{ .baseDomainPort }}"}}, "new": {"enabled": true}}}});
    let (_, components) = sets(spec, PROFILE);
    let services = &components["values"]["services"];
    assert_eq!(services["portal"]["values"]["keep"], json!("spec"));
    assert_eq!(
        services["portal"]["values"]["url"],
        json!("https://portal.localhost:8443")
    );
    assert_eq!(services["portal"]["enabled"], json!(true));
    assert_eq!(services["new"]["enabled"], json!(true));
    assert_eq!(services["iam"]["enabled"], json!(true));
}

#[test]
fn components_set_flat_spec_values_are_services() {
    let (_, components) = sets(json!({"values": {"iam": {"enabled": false}}}), PROFILE);
    assert_eq!(components["values"]["services"]["iam"]["enabled"], json!(false));
}

#[test]
fn runtime_set_uses_the_same_service_precedence_as_the_components_set() {
    let spec = json!({"values": {"services": {"portal": {"values": {"keep": "spec"}}}}});
    let (infra, components) = sets(spec, PROFILE);
    let runtime = runtime_set(&infra, &components);
    assert_eq!(runtime["services"]["portal"]["values"]["keep"], json!("spec"));
    assert_eq!(runtime["certManager"]["name"], json!("cert-manager"));
    assert_eq!(runtime["ocm"]["repo"]["name"], json!("profile-repo"));
    assert_eq!(runtime["releaseNamespace"], json!(NS));
}

#[test]
fn deployment_technology_defaults_to_fluxcd_and_invalid_values_fall_back() {
    assert_eq!(technology_of([None]), Technology::Fluxcd);
    assert_eq!(technology_of([Some(&json!("ArgoCD"))]), Technology::Argocd);
    assert_eq!(technology_of([Some(&json!("helm"))]), Technology::Fluxcd);
    assert_eq!(
        technology_of([Some(&json!("")), Some(&json!("argocd"))]),
        Technology::Argocd
    );
    let (_, components) = sets(
        json!({}),
        &PROFILE.replace(
            "  deploymentTechnology: fluxcd\n  ocm",
            "  deploymentTechnology: Bogus\n  ocm",
        ),
    );
    assert_eq!(components["deploymentTechnology"], json!("fluxcd"));
}

#[test]
fn argocd_components_get_sync_waves() {
    let text = sample_profile_text("profile-argocd.yaml");
    let (_, components) = sets(super::sample_spec(), &text);
    assert_eq!(components["deploymentTechnology"], json!("argocd"));
    let services = &components["values"]["services"];
    assert_eq!(services["account-operator"]["syncWave"], json!(4));
    assert!(services["infra"]["syncWave"].as_i64().is_some());
}

#[test]
fn the_default_profile_parses_with_duplicate_keys_last_wins() {
    let text = sample_profile_text("profile.yaml");
    let (_, components) = sets(super::sample_spec(), &text);
    let services = &components["values"]["services"];
    assert_eq!(services["terminal-controller-manager"]["enabled"], json!(false));
    let host_alias = serde_json::to_string(&services["infra"]["values"]).unwrap();
    assert!(host_alias.contains("kcp.api.portal.localhost"), "{host_alias}");
}

#[test]
fn components_set_gets_the_kube_config_keys_too() {
    let mut ctx = context(json!({}));
    ctx.operator_config = json!({"remoteRuntimeKubeconfig": "/k", "remoteRuntimeInfraSecretName": "remote",
        "remoteRuntimeInfraSecretKey": "kc"});
    let settings = Settings::from_context(&ctx);
    let h = host();
    let profile = profile::parse("test", PROFILE, &h).unwrap();
    let components = components_set(&h, &profile, &settings, &exposure_of(&settings), None).unwrap();
    assert_eq!(components["kubeConfigEnabled"], json!(true));
    assert_eq!(components["kubeConfigSecretName"], json!("remote"));
    assert_eq!(components["kubeConfigSecretKey"], json!("kc"));
}

#[test]
fn a_remote_destination_server_fills_destination_server_unless_the_profile_sets_one() {
    let h = host();
    let settings = Settings::from_context(&context(json!({})));
    let profile = profile::parse("test", PROFILE, &h).unwrap();
    let exposure = exposure_of(&settings);
    let infra = infra_set(&profile, &settings, &exposure, Some("https://remote:6443"));
    let components = components_set(&h, &profile, &settings, &exposure, Some("https://remote:6443")).unwrap();
    assert_eq!(infra["destinationServer"], json!("https://remote:6443"));
    assert_eq!(components["destinationServer"], json!("https://remote:6443"));
    let with_own = PROFILE.replace("infra:\n", "infra:\n  destinationServer: https://own\n");
    let profile = profile::parse("test", &with_own, &h).unwrap();
    let infra = infra_set(&profile, &settings, &exposure, Some("https://remote:6443"));
    assert_eq!(infra["destinationServer"], json!("https://own"));
}
