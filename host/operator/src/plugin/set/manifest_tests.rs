use std::time::Duration;

use serde_json::json;

use super::*;

const DIGEST: &str = "5f0cbd6d0b3a3b2e7c0f1d8e4a9b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7";

fn parse_err(yaml: &str) -> String {
    PluginManifest::parse(yaml).unwrap_err().to_string()
}

#[test]
fn a_complete_configuration_parses() {
    let manifest = PluginManifest::parse(&format!(
        r#"
plugins:
- name: wait
  source: oci://127.0.0.1:5000/plugins/wait:0.2.0
  sha256: "sha256:{}"
  permissions:
  - {{targets: [infra], groups: ["*"], kinds: ["*"], verbs: [get, list]}}
  config: {{interval: 5s}}
  limits: {{deadline: 30s, memory: 32Mi}}
- name: summary
  source: configmap://platform-mesh-system/vendor-plugins/summary.wasm
  sha256: {DIGEST}
chains:
  platformmesh: [summary, wait]
"#,
        DIGEST.to_uppercase()
    ))
    .unwrap();
    let wait = manifest.plugin("wait").unwrap();
    assert_eq!(wait.sha256.as_deref(), Some(DIGEST));
    assert_eq!(wait.config, json!({"interval": "5s"}));
    assert_eq!(
        wait.limits,
        Limits {
            deadline: Some(Duration::from_secs(30)),
            memory: Some(32 << 20)
        }
    );
    assert_eq!(wait.permissions.rules().len(), 1);
    let summary = manifest.plugin("summary").unwrap();
    assert!(summary.permissions.rules().is_empty());
    assert_eq!(summary.config, json!({}));
    assert_eq!(manifest.chains["platformmesh"], ["summary", "wait"]);
}

#[test]
fn file_sources_need_no_digest_and_empty_documents_are_empty_sets() {
    let manifest = PluginManifest::parse("plugins:\n- {name: wait, source: 'file://wait.wasm'}\n").unwrap();
    assert_eq!(manifest.plugins[0].sha256, None);
    assert!(manifest.chains.is_empty());
    assert_eq!(PluginManifest::parse("{}").unwrap().plugins, Vec::new());
}

#[test]
fn errors_name_the_plugin_and_the_field() {
    let cases = [
        (
            "plugins:\n- {name: wait, source: 'oci://r.io/wait:1'}",
            "plugin wait field sha256: required for oci:// sources",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm', sha256: abc}",
            "plugin wait field sha256: \"abc\" is not a sha256 digest (64 hex digits)",
        ),
        (
            "plugins:\n- {name: wait, source: 'http://x/wait.wasm'}",
            "plugin wait field source: \"http://x/wait.wasm\": unknown scheme (expected file://, configmap:// or oci://)",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm', limits: {deadline: forever}}",
            "plugin wait field limits.deadline: invalid duration \"forever\"",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm', limits: {cpu: 1}}",
            "plugin wait field limits.cpu: unknown field (expected deadline, memory)",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm', permision: []}",
            "plugin wait field permision: unknown field (expected one of name, source, sha256, permissions, config, limits)",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm', permissions: [{targets: [cloud], groups: ['*'], kinds: ['*'], verbs: [get]}]}",
            "plugin wait field permissions[0]: unknown target \"cloud\" (expected runtime, infra, kcp, \
             kcp:<workspace path glob>, remote, remote:<namespace>/<secret glob>, image-versions or *)",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm', config: [1]}",
            "plugin wait field config: expected a mapping",
        ),
        (
            "plugins:\n- {source: 'file://wait.wasm'}",
            "plugins[0] field name: required",
        ),
        (
            "plugins:\n- {name: Wait, source: 'file://wait.wasm'}",
            "plugins[0] field name: \"Wait\" is not a valid plugin name (lower-case letters, digits and `-`, at most 63, starting with a letter)",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm'}\n- {name: wait, source: 'file://wait.wasm'}",
            "plugin wait field name: declared twice",
        ),
        (
            "plugins: []\nchains: {platformmesh: [wait]}",
            "chains.platformmesh[0]: plugin wait is not declared under plugins",
        ),
        (
            "plugins:\n- {name: wait, source: 'file://wait.wasm'}\nchains: {platformmesh: [wait, wait]}",
            "chains.platformmesh[1]: plugin wait appears twice",
        ),
        (
            "chains: {other: []}",
            "chains.other: unknown controller (expected one of platformmesh, resource, provider, managedprovider)",
        ),
        (
            "plugin: []",
            "plugins.yaml: unknown field `plugin` (expected `plugins` and `chains`)",
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(parse_err(yaml), expected, "{yaml}");
    }
    assert!(parse_err("plugins: [").starts_with("plugins.yaml: not valid YAML"));
}
