//! The plugin runtime end to end with real wasm components: outcome and status mapping, plugin config, host
//! imports with permission checks, plugin sets assembled from a configuration, the compile cache, and the shipped
//! wait plugin.

use std::time::Duration;

use crate::plugin_support::{context, harness, harness_with, object, test_plugin};
use platform_mesh_operator::{
    errors::error_chain,
    hostapi::{Permissions, Rule},
    lifecycle::{Outcome, StepResult, Subroutine as _},
    plugin::{
        AssembleError, BUILTIN, PluginManifest, PluginOptions, PluginRuntime, PluginSet, RuntimeConfig,
        assemble, builtin_manifest,
    },
};
use serde_json::{Value, json};

async fn run_outcome(
    h: &crate::plugin_support::Harness,
    config: Value,
    annotations: Value,
) -> Result<StepResult, String> {
    let options = PluginOptions {
        config,
        ..Default::default()
    };
    let sub = h
        .runtime
        .load_file_with(&test_plugin("test_outcome"), options)
        .await
        .expect("plugin loads");
    sub.process(&context(object(annotations)))
        .await
        .map_err(|f| f.message)
}

#[tokio::test]
async fn outcomes_and_status_patches_cross_the_boundary() {
    let h = harness();
    let ok = run_outcome(&h, json!({}), json!({})).await.unwrap();
    assert_eq!(
        ok.outcome,
        Outcome::Ok {
            requeue_after: None,
            message: Some(String::new())
        }
    );
    assert_eq!(ok.status_patch, Some(json!({"testOutcome": "ok"})));

    let pending = run_outcome(&h, json!({"outcome": "pending"}), json!({}))
        .await
        .unwrap();
    let expected = Outcome::Pending {
        message: "pending on purpose".into(),
        requeue_after: Duration::from_secs(7),
    };
    assert_eq!(pending.outcome, expected);

    let stop = run_outcome(&h, json!({"outcome": "stop"}), json!({}))
        .await
        .unwrap();
    let expected = Outcome::Stop {
        message: "stopped on purpose".into(),
        requeue_after: Some(Duration::from_secs(7)),
    };
    assert_eq!(stop.outcome, expected);
}

#[tokio::test]
async fn plugin_errors_keep_their_message_and_status_patch() {
    let h = harness();
    let options = PluginOptions::default();
    let sub = h
        .runtime
        .load_file_with(&test_plugin("test_outcome"), options)
        .await
        .unwrap();
    let annotated = object(json!({"test.platform-mesh.io/outcome": "error"}));
    let failure = sub.process(&context(annotated)).await.unwrap_err();
    assert_eq!(failure.message, "failed on purpose");
    assert_eq!(failure.status_patch, Some(json!({"testOutcome": "error"})));
}

#[tokio::test]
async fn info_supplies_name_and_finalizers_and_finalize_runs() {
    let h = harness();
    let sub = h.runtime.load_file(&test_plugin("test_outcome")).await.unwrap();
    assert_eq!(sub.name(), "OutcomeSubroutine");
    assert_eq!(sub.finalizers(), ["test.platform-mesh.io/outcome"]);
    let done = sub.finalize(&context(object(json!({})))).await.unwrap();
    assert_eq!(done.status_patch, Some(json!({"finalized": "pm"})));
}

#[tokio::test]
async fn cluster_get_reaches_the_api_server() {
    let h = harness();
    let get =
        json!({"get": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "default", "name": "present"}});
    let done = run_outcome(&h, get, json!({})).await.unwrap();
    assert_eq!(
        done.outcome,
        Outcome::Ok {
            requeue_after: None,
            message: Some("present".into())
        }
    );
    let missing =
        json!({"get": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "default", "name": "gone"}});
    let done = run_outcome(&h, missing, json!({})).await.unwrap();
    assert_eq!(
        done.outcome,
        Outcome::Ok {
            requeue_after: None,
            message: Some(String::new())
        }
    );
    let unknown =
        json!({"get": {"apiVersion": "example.io/v1", "kind": "Thing", "namespace": "default", "name": "x"}});
    let failure = run_outcome(&h, unknown, json!({})).await.unwrap_err();
    assert!(
        failure.starts_with("get: not-found: Thing in example.io/v1 is not served"),
        "{failure}"
    );
}

#[tokio::test]
async fn cluster_calls_outside_the_permissions_are_forbidden() {
    let h = harness();
    let rule = Rule {
        targets: vec!["infra".into()],
        groups: vec!["".into()],
        kinds: vec!["ConfigMap".into()],
        verbs: vec!["get".into()],
        namespaces: vec![],
    };
    let get =
        json!({"get": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "default", "name": "present"}});
    let options = PluginOptions {
        config: get,
        permissions: Permissions::new(vec![rule]),
        ..Default::default()
    };
    let sub = h
        .runtime
        .load_file_with(&test_plugin("test_outcome"), options)
        .await
        .unwrap();
    let failure = sub.process(&context(object(json!({})))).await.unwrap_err();
    assert_eq!(
        failure.message,
        "get: forbidden: plugin test_outcome: missing permission: get ConfigMap (core) in namespace default on runtime"
    );
}

/// Assembles a plugin set declaring `plugins` (configured name, file in the test plugins directory), the way
/// the operator assembles a plugin ConfigMap.
async fn assemble_test_plugins(
    h: &crate::plugin_support::Harness,
    plugins: &[(&str, &str)],
) -> Result<PluginSet, AssembleError> {
    let text: String = plugins
        .iter()
        .map(|(name, file)| format!("- name: {name}\n  source: file://{file}.wasm\n"))
        .collect();
    let manifest = PluginManifest::parse(&format!("plugins:\n{text}")).expect("valid manifest");
    assemble(&h.runtime, &manifest, "test", None).await
}

#[tokio::test]
async fn assembled_set_finds_plugins_by_configured_and_subroutine_name() {
    let h = harness();
    let set = assemble_test_plugins(&h, &[("outcome", "test_outcome"), ("trap", "test_trap")])
        .await
        .expect("test plugins load");
    let names: Vec<_> = set.plugins().map(|(name, p)| (name, p.name())).collect();
    assert_eq!(
        names,
        [("outcome", "OutcomeSubroutine"), ("trap", "TrapSubroutine")]
    );
    assert_eq!(set.get("outcome").unwrap().name(), "OutcomeSubroutine");
    assert_eq!(set.get("TrapSubroutine").unwrap().name(), "TrapSubroutine");
    assert!(set.get("nope").is_none());
}

#[tokio::test]
async fn incompatible_wit_version_is_refused_naming_both_versions() {
    let h = harness();
    let err = h
        .runtime
        .load_file(&test_plugin("test_witmismatch"))
        .await
        .err()
        .expect("refused");
    let message = err.to_string();
    assert!(message.contains("platform-mesh:operator@0.2.0"), "{message}");
    assert!(message.contains("implements @0.1.0"), "{message}");
    let refused = assemble_test_plugins(
        &h,
        &[("outcome", "test_outcome"), ("mismatch", "test_witmismatch")],
    )
    .await
    .err()
    .expect("a set with a refused plugin is not assembled");
    assert_eq!(refused.plugin(), Some("mismatch"));
    let chain = error_chain(&refused);
    assert!(chain.contains("implements @0.1.0"), "{chain}");
}

#[tokio::test]
async fn shipped_wait_plugin_runs_against_the_api_server() {
    let dir = RuntimeConfig::default_plugins_dir();
    let h = harness_with(|c| c.plugins_dir = dir.clone());
    let manifest =
        builtin_manifest(&dir, None).expect("the built-in configuration covers the shipped plugins");
    let set = assemble(&h.runtime, &manifest, BUILTIN, None)
        .await
        .expect("default plugins load");
    let wait = set.get("WaitSubroutine").expect("wait plugin is shipped");
    assert!(set.get("wait").is_some());
    assert!(wait.finalizers().is_empty());
    // The fake API server serves no HelmReleases, so listing them fails and wait stops like upstream.
    let done = wait.process(&context(object(json!({})))).await.unwrap();
    let expected = Outcome::Stop {
        message: "list resources".into(),
        requeue_after: Some(Duration::from_secs(5)),
    };
    assert_eq!(done.outcome, expected);
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk() {
    let cache = tempfile::tempdir().unwrap();
    let h = harness_with(|c| c.cache_dir = Some(cache.path().to_owned()));
    h.runtime.load_file(&test_plugin("test_outcome")).await.unwrap();
    let cached: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].extension().is_some_and(|e| e == "cwasm"));
    let modified = std::fs::metadata(&cached[0]).unwrap().modified().unwrap();
    // A second runtime with the same engine settings reuses the artifact instead of writing a new one.
    let again = harness_with(|c| c.cache_dir = Some(cache.path().to_owned()));
    let sub = again
        .runtime
        .load_file(&test_plugin("test_outcome"))
        .await
        .unwrap();
    assert!(sub.process(&context(object(json!({})))).await.is_ok());
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 1);
    assert_eq!(
        std::fs::metadata(&cached[0]).unwrap().modified().unwrap(),
        modified
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_component_is_refused() {
    let h = harness();
    let bogus = h.workspace.path().join("bogus.wasm");
    std::fs::write(&bogus, b"not wasm").unwrap();
    let err = h.runtime.load_file(&bogus).await.err().expect("load fails");
    assert!(err.to_string().starts_with("compiling plugin"), "{err}");
}

#[test]
fn runtime_refuses_a_missing_workspace() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let h = harness();
    let config = RuntimeConfig::new(
        RuntimeConfig::test_plugins_dir(),
        h.workspace.path().join("missing"),
    );
    let services = platform_mesh_operator::hostapi::HostServices {
        clusters: std::sync::Arc::new(platform_mesh_operator::clusters::Clusters::new(
            crate::plugin_support::fake_api::client(vec![]),
            crate::plugin_support::fake_api::client(vec![]),
            platform_mesh_operator::clusters::KcpAdmin::Config(Box::new(
                crate::plugin_support::fake_api::config(),
            )),
        )),
        image_versions: Default::default(),
        workspace_dir: h.workspace.path().to_owned(),
    };
    let err = PluginRuntime::new(config, services).err().expect("refused");
    assert!(err.to_string().contains("is not a readable directory"), "{err}");
}
