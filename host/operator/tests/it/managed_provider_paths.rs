//! `--managed-provider-path-prefixes` end to end through the shipped `provider-resource` plugin: the flag reaches
//! the plugin as `managedProviderPathPrefixes` in its operator configuration, a `spec.provider.path` outside the
//! prefixes stops the chain before any kcp call, and one inside them goes on to kcp.

use clap::Parser;
use platform_mesh_operator::{
    cli::{Cli, Command},
    lifecycle::{CallContext, Outcome, Target},
    plugin::RuntimeConfig,
};
use serde_json::{Value, json};

use crate::plugin_support::harness;

fn operator_config(args: &[&str]) -> Value {
    let argv = ["platform-mesh-operator", "run"].iter().chain(args);
    let Command::Run(run) = Cli::try_parse_from(argv).expect("valid flags").command else {
        panic!("not run");
    };
    run.config.to_plugin_json()
}

fn managed_provider(path: &str, operator_config: Value) -> CallContext {
    CallContext {
        controller: "managedprovider".into(),
        object_target: Target::Runtime,
        object: json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "ManagedProvider",
                       "metadata": {"name": "cowboys", "namespace": "default"},
                       "spec": {"provider": {"path": path}, "cleanupOnDelete": true}}),
        operator_config,
    }
}

#[tokio::test]
async fn provider_paths_outside_the_prefixes_are_refused_before_any_kcp_call() {
    assert_eq!(operator_config(&[])["managedProviderPathPrefixes"], json!([]));
    let config = operator_config(&["--managed-provider-path-prefixes", "root:providers,root:orgs"]);
    assert_eq!(
        config["managedProviderPathPrefixes"],
        json!(["root:providers", "root:orgs"])
    );

    let h = harness();
    let plugin = RuntimeConfig::default_plugins_dir().join("provider_resource.wasm");
    let sub = h.runtime.load_file(&plugin).await.expect("shipped plugin loads");

    let refused = sub
        .process(&managed_provider("root:platform-mesh-system", config.clone()))
        .await
        .expect("a Stop, not a failure");
    match refused.outcome {
        Outcome::Stop {
            message,
            requeue_after,
        } => {
            assert!(
                message.contains("spec.provider.path root:platform-mesh-system"),
                "{message}"
            );
            assert_eq!(requeue_after, None, "waits for the next change of the object");
        }
        other => panic!("expected Stop, got {other:?}"),
    }
    let finalized = sub
        .finalize(&managed_provider("root:platform-mesh-system", config.clone()))
        .await
        .expect("nothing to delete outside the prefixes");
    assert!(matches!(finalized.outcome, Outcome::Ok { .. }), "{finalized:?}");

    // Inside the prefixes the plugin goes on to kcp, which the test's fake API server does not serve: the call
    // fails there, proving it was let through.
    let failure = sub
        .process(&managed_provider("root:orgs:org-a", config))
        .await
        .expect_err("reaches kcp");
    assert!(
        !failure.message.contains("--managed-provider-path-prefixes"),
        "{}",
        failure.message
    );
}
