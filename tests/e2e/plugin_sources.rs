//! Plugins loaded from every source kind (file://, configmap:// from the embedded API server, oci:// from an
//! in-process registry) behave the same in the sandbox; bad digests, unreachable registries, traps in `info()` and
//! incompatible WIT versions are refused with messages that say why; a restart reuses the compile cache.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc, time::Duration};

use apiserver::{ServerConfig, sim::SimConfig};
use e2e::oci_registry::Registry;
use k8s_openapi::{ByteString, api::core::v1::ConfigMap};
use kube::{Api, Client, api::PostParams};
use platform_mesh_operator::{
    clusters::{Clusters, KcpAdmin},
    errors::error_chain,
    hostapi::{HostServices, ImageVersionStore, Permissions},
    lifecycle::{CallContext, Subroutine, Target},
    plugin::{
        Limits, PluginManifest, PluginRuntime, PluginSpec, RuntimeConfig, assemble, load_plugin,
        source::Source, source::sha256_hex,
    },
};
use serde_json::json;

const NS: &str = "default";

fn test_plugin(name: &str) -> PathBuf {
    RuntimeConfig::test_plugins_dir().join(format!("{name}.wasm"))
}

fn runtime(client: &Client, cache: Option<PathBuf>) -> PluginRuntime {
    let services = HostServices {
        clusters: Arc::new(Clusters::new(
            client.clone(),
            client.clone(),
            KcpAdmin::Config(Box::new(kube::Config::new("http://127.0.0.1:1".parse().unwrap()))),
        )),
        image_versions: Arc::new(ImageVersionStore::new()),
        workspace_dir: std::env::temp_dir(),
    };
    let mut config = RuntimeConfig::new(RuntimeConfig::test_plugins_dir(), std::env::temp_dir());
    config.cache_dir = cache;
    PluginRuntime::new(config, services).expect("runtime")
}

fn spec(name: &str, source: &str, sha256: Option<String>) -> PluginSpec {
    PluginSpec {
        name: name.into(),
        source: Source::parse(source).expect("valid source"),
        sha256,
        permissions: Permissions::default(),
        config: json!({}),
        limits: Limits {
            deadline: Some(Duration::from_secs(1)),
            memory: Some(16 << 20),
        },
    }
}

/// Puts `plugins` (name → wasm) into a ConfigMap's binaryData.
async fn config_map_with(client: &Client, name: &str, plugins: &[(&str, &[u8])]) {
    let binary: BTreeMap<String, ByteString> = plugins
        .iter()
        .map(|(key, wasm)| ((*key).to_owned(), ByteString(wasm.to_vec())))
        .collect();
    let cm = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        binary_data: Some(binary),
        ..Default::default()
    };
    Api::<ConfigMap>::namespaced(client.clone(), NS)
        .create(&PostParams::default(), &cm)
        .await
        .expect("ConfigMap created");
}

fn context() -> CallContext {
    CallContext {
        controller: "platformmesh".into(),
        object_target: Target::Runtime,
        object: json!({"metadata": {"name": "pm", "namespace": NS}}),
        operator_config: json!({}),
    }
}

struct Fixture {
    server: apiserver::Server,
    registry: Registry,
}

async fn fixture() -> Fixture {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .expect("API server");
    let registry = Registry::start().await;
    Fixture { server, registry }
}

/// The three sources of one test plugin, with digests.
async fn sources(f: &Fixture, plugin: &str) -> Vec<PluginSpec> {
    let wasm = std::fs::read(test_plugin(plugin)).expect("test plugin built");
    let digest = sha256_hex(&wasm);
    config_map_with(
        &f.server.client(),
        &format!("{}-wasm", plugin.replace('_', "-")),
        &[("plugin.wasm", &wasm)],
    )
    .await;
    let oci = f
        .registry
        .push(&format!("plugins/{}", plugin.replace('_', "-")), "1.0.0", &wasm);
    vec![
        spec("from-file", &format!("file://{plugin}.wasm"), None),
        spec(
            "from-configmap",
            &format!("configmap://{NS}/{}-wasm/plugin.wasm", plugin.replace('_', "-")),
            Some(digest.clone()),
        ),
        spec("from-oci", &oci, Some(digest)),
    ]
}

#[tokio::test]
async fn sandbox_limits_hold_for_plugins_from_every_source_kind() {
    let f = fixture().await;
    let client = f.server.client();
    let runtime = runtime(&client, None);
    for (plugin, expected) in [
        ("test_hog", "memory limit of 16 MiB exceeded"),
        ("test_spin", "deadline exceeded after 1s"),
        ("test_panic", "guest panicked"),
        ("test_trap", "wasm trap"),
    ] {
        for spec in sources(&f, plugin).await {
            let loaded = load_plugin(&runtime, &spec, Some(&client))
                .await
                .unwrap_or_else(|e| panic!("{} loads from {}: {}", plugin, spec.source, error_chain(&e)));
            let failure = loaded
                .process(&context())
                .await
                .expect_err("the sandbox ends the call");
            assert!(
                failure.message.contains(expected)
                    && failure.message.starts_with(&format!("plugin {}:", spec.name)),
                "{plugin} from {}: {}",
                spec.source,
                failure.message
            );
        }
    }
    // No host files, and a read-only workspace, whatever the source.
    for mut spec in sources(&f, "test_fs").await {
        for (config, expected) in [
            (json!({"read": "/etc/passwd"}), "error: No such file or directory"),
            (
                json!({"write": "/workspace/new.txt"}),
                "error: Operation not permitted",
            ),
        ] {
            spec.config = config;
            let loaded = load_plugin(&runtime, &spec, Some(&client)).await.expect("loads");
            let done = loaded
                .process(&context())
                .await
                .expect("the fs probe always succeeds");
            let message = match done.outcome {
                platform_mesh_operator::lifecycle::Outcome::Ok { message, .. } => message.unwrap_or_default(),
                other => panic!("{other:?}"),
            };
            assert!(
                message.starts_with(expected),
                "test_fs from {}: {message}",
                spec.source
            );
        }
    }
    f.server.shutdown().await;
}

#[tokio::test]
async fn bad_digests_unreachable_registries_and_traps_in_info_are_refused() {
    let f = fixture().await;
    let client = f.server.client();
    let runtime = runtime(&client, None);
    let outcome = std::fs::read(test_plugin("test_outcome")).unwrap();
    let oci = f.registry.push("plugins/outcome", "1.0.0", &outcome);
    let wrong = sha256_hex(b"something else");
    let infotrap = std::fs::read(test_plugin("test_infotrap")).unwrap();
    config_map_with(&client, "infotrap", &[("infotrap.wasm", &infotrap)]).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let cases = [
        (
            format!("plugins:\n- {{name: outcome, source: '{oci}', sha256: {wrong}}}\n"),
            format!("plugin outcome: fetching {oci}: digest mismatch: declared sha256 {wrong}, fetched wasm has sha256 {}", sha256_hex(&outcome)),
        ),
        (
            format!("plugins:\n- {{name: outcome, source: 'oci://{closed}/plugins/outcome:1.0.0', sha256: {wrong}}}\n"),
            format!("plugin outcome: fetching oci://{closed}/plugins/outcome:1.0.0: pulling oci://{closed}/plugins/outcome:1.0.0"),
        ),
        (
            format!("plugins:\n- {{name: outcome, source: 'configmap://{NS}/infotrap/infotrap.wasm', sha256: {}}}\n", sha256_hex(&infotrap)),
            "plugin outcome: calling info() of plugin configmap://default/infotrap/infotrap.wasm".to_owned(),
        ),
        (
            format!("plugins:\n- {{name: outcome, source: 'configmap://{NS}/missing/x.wasm', sha256: {wrong}}}\n"),
            "plugin outcome: fetching configmap://default/missing/x.wasm: ConfigMap default/missing has no binaryData key x.wasm".to_owned(),
        ),
    ];
    for (yaml, expected) in cases {
        let manifest = PluginManifest::parse(&yaml).expect("valid schema");
        let error = match assemble(&runtime, &manifest, "test", Some(&client)).await {
            Ok(_) => panic!("{yaml} should be refused"),
            Err(e) => error_chain(&e),
        };
        assert!(error.starts_with(&expected), "{error}\nexpected: {expected}");
    }
    f.server.shutdown().await;
}

#[tokio::test]
async fn incompatible_wit_majors_are_refused_and_compatible_versions_load() {
    let f = fixture().await;
    let client = f.server.client();
    let runtime = runtime(&client, None);
    let refused = load_plugin(
        &runtime,
        &spec("mismatch", "file://test_witmismatch.wasm", None),
        Some(&client),
    )
    .await
    .err()
    .map(|e| error_chain(&e))
    .expect("refused");
    assert!(
        refused.contains("platform-mesh:operator@0.2.0") && refused.contains("implements @0.1.0"),
        "{refused}"
    );
    let compatible = load_plugin(
        &runtime,
        &spec("compat", "file://test_witcompat.wasm", None),
        Some(&client),
    )
    .await
    .expect("a plugin built against WIT 0.1.99 loads on a 0.1.0 host");
    assert_eq!(compatible.name(), "WitCompatSubroutine");
    f.server.shutdown().await;
}

#[tokio::test]
async fn a_restart_loads_from_the_compile_cache_without_compiling() {
    let f = fixture().await;
    let client = f.server.client();
    let cache = tempfile::tempdir().unwrap();
    let plugin = spec("outcome", "file://test_outcome.wasm", None);
    load_plugin(
        &runtime(&client, Some(cache.path().into())),
        &plugin,
        Some(&client),
    )
    .await
    .unwrap();
    let artifacts = || -> Vec<(PathBuf, std::time::SystemTime)> {
        let mut files: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                let modified = path.metadata().unwrap().modified().unwrap();
                (path, modified)
            })
            .collect();
        files.sort();
        files
    };
    let first = artifacts();
    assert_eq!(first.len(), 1, "one compiled artifact: {first:?}");
    let name = first[0].0.file_name().unwrap().to_string_lossy().into_owned();
    let wasm_digest = sha256_hex(&std::fs::read(test_plugin("test_outcome")).unwrap());
    assert!(name.starts_with(&wasm_digest), "keyed by the wasm digest: {name}");
    // A new runtime is a restarted operator: same engine configuration, same cache directory.
    let restarted = runtime(&client, Some(cache.path().into()));
    let loaded = load_plugin(&restarted, &plugin, Some(&client)).await.unwrap();
    assert_eq!(artifacts(), first, "the cached artifact is reused, not rewritten");
    assert!(loaded.process(&context()).await.is_ok());
    f.server.shutdown().await;
}

#[tokio::test]
async fn plugins_verify_reports_each_plugin_offline() {
    use platform_mesh_operator::plugin::{DEFAULT_PLUGIN_CONFIG, verify::offline_runtime, verify_config_map};
    let runtime = offline_runtime(&RuntimeConfig::test_plugins_dir()).expect("offline runtime");
    let outcome = std::fs::read(test_plugin("test_outcome")).unwrap();
    let encoded = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&outcome)
    };
    let file = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: plugins, namespace: ops}}\ndata:\n  plugins.yaml: |\n    \
         plugins:\n    \
         - {{name: outcome, source: 'configmap://ops/vendor/outcome.wasm', sha256: {digest}, \
              permissions: [{{targets: [runtime], groups: [''], kinds: [Secret], verbs: [get]}}]}}\n    \
         - {{name: spin, source: 'file://test_spin.wasm', sha256: {digest}}}\n    \
         - {{name: old, source: 'file://test_witmismatch.wasm'}}\n    \
         - {{name: remote, source: 'oci://registry.example.com/plugins/x:1', sha256: {digest}}}\n    \
         chains: {{platformmesh: [outcome, spin]}}\n\
         ---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: vendor, namespace: ops}}\nbinaryData:\n  outcome.wasm: {encoded}\n",
        digest = sha256_hex(&outcome)
    );
    let report = verify_config_map(&runtime, &file, false).await;
    let text = report.to_string();
    assert!(!report.ok(), "{text}");
    let verdict = |name: &str| report.plugins.iter().find(|p| p.name == name).unwrap().clone();
    assert!(
        verdict("outcome")
            .result
            .as_ref()
            .is_ok_and(|s| s.contains("subroutine OutcomeSubroutine")),
        "{text}"
    );
    assert!(
        verdict("outcome").permissions[0].contains("[reads Secrets]"),
        "{text}"
    );
    assert!(
        verdict("spin")
            .result
            .as_ref()
            .is_err_and(|e| e.contains("digest mismatch")),
        "{text}"
    );
    assert!(
        verdict("old")
            .result
            .as_ref()
            .is_err_and(|e| e.contains("@0.2.0")),
        "{text}"
    );
    assert!(
        verdict("remote")
            .result
            .as_ref()
            .is_ok_and(|s| s.contains("not pulled")),
        "{text}"
    );
    assert!(text.contains("chain   platformmesh: outcome → spin"), "{text}");

    let twice = "plugins:\n- {name: a, source: 'file://test_outcome.wasm'}\n\
                 - {name: b, source: 'file://test_outcome.wasm'}\nchains: {platformmesh: [a, b]}\n";
    let report = verify_config_map(&runtime, twice, false).await;
    assert_eq!(
        report.problems,
        ["chains.platformmesh: plugins a and b both report subroutine OutcomeSubroutine"],
        "{report}"
    );
    let invalid = verify_config_map(
        &runtime,
        "plugins:\n- {name: x, source: 'oci://r.io/x:1'}\n",
        false,
    )
    .await;
    assert_eq!(
        invalid.schema,
        Err("plugins.yaml: plugin x field sha256: required for oci:// sources".into())
    );

    // The shipped default configuration verifies against the shipped plugins.
    let shipped = offline_runtime(&RuntimeConfig::default_plugins_dir()).expect("offline runtime");
    let report = verify_config_map(&shipped, DEFAULT_PLUGIN_CONFIG, false).await;
    assert!(report.ok(), "{report}");
}
