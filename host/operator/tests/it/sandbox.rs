//! Hostile plugins cannot crash or escape the host: traps, panics, endless loops, memory hogs and filesystem
//! probes each end as a `Failure` (or an I/O error inside the guest) naming the plugin, and other plugins keep
//! working afterwards.

use std::time::Duration;

use crate::plugin_support::{context, harness, harness_with, object, test_plugin};
use platform_mesh_operator::{lifecycle::Outcome, plugin::PluginOptions};
use serde_json::json;

async fn failure_of(h: &crate::plugin_support::Harness, plugin: &str) -> String {
    let sub = h
        .runtime
        .load_file(&test_plugin(plugin))
        .await
        .expect("plugin loads");
    let err = sub
        .process(&context(object(json!({}))))
        .await
        .expect_err("the call fails");
    err.message
}

async fn outcome_still_works(h: &crate::plugin_support::Harness) {
    let sub = h
        .runtime
        .load_file(&test_plugin("test_outcome"))
        .await
        .expect("plugin loads");
    let done = sub
        .process(&context(object(json!({}))))
        .await
        .expect("outcome plugin succeeds");
    assert!(matches!(done.outcome, Outcome::Ok { .. }));
}

#[tokio::test]
async fn trap_becomes_a_failure_naming_the_plugin() {
    let h = harness();
    let message = failure_of(&h, "test_trap").await;
    assert!(message.starts_with("plugin test_trap: wasm trap:"), "{message}");
    assert_eq!(
        message.matches("wasm trap").count(),
        1,
        "the prefix appears once: {message}"
    );
    assert!(message.contains("unreachable"), "{message}");
    outcome_still_works(&h).await;
}

#[tokio::test]
async fn panic_message_reaches_the_failure() {
    let h = harness();
    let message = failure_of(&h, "test_panic").await;
    assert!(message.starts_with("plugin test_panic: wasm trap:"), "{message}");
    assert_eq!(
        message.matches("wasm trap").count(),
        1,
        "the prefix appears once: {message}"
    );
    assert!(message.contains("guest panicked"), "{message}");
    assert!(message.contains("guest panicked on purpose for pm"), "{message}");
    outcome_still_works(&h).await;
}

#[tokio::test]
async fn endless_loop_hits_the_deadline() {
    let h = harness_with(|c| c.call_timeout = Duration::from_millis(300));
    let started = std::time::Instant::now();
    let message = failure_of(&h, "test_spin").await;
    assert_eq!(message, "plugin test_spin: deadline exceeded after 300ms");
    // Not a timing assertion on performance: it proves the loop was cut instead of running forever.
    assert!(started.elapsed() < Duration::from_secs(30));
    outcome_still_works(&h).await;
}

#[tokio::test]
async fn memory_hog_hits_the_cap() {
    let h = harness_with(|c| c.memory_limit = 16 << 20);
    let message = failure_of(&h, "test_hog").await;
    assert!(
        message.starts_with("plugin test_hog: memory limit of 16 MiB exceeded"),
        "{message}"
    );
    outcome_still_works(&h).await;
}

async fn fs_probe(h: &crate::plugin_support::Harness, config: serde_json::Value) -> String {
    let options = PluginOptions {
        config,
        ..Default::default()
    };
    let sub = h
        .runtime
        .load_file_with(&test_plugin("test_fs"), options)
        .await
        .expect("plugin loads");
    match sub
        .process(&context(object(json!({}))))
        .await
        .expect("fs probe succeeds")
        .outcome
    {
        Outcome::Ok { message, .. } => message.unwrap_or_default(),
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[tokio::test]
async fn workspace_is_readable_at_slash_workspace() {
    let h = harness();
    assert_eq!(
        fs_probe(&h, json!({"read": "/workspace/hello.txt"})).await,
        "ok: 24 bytes"
    );
}

#[tokio::test]
async fn files_outside_the_workspace_are_unreachable() {
    let h = harness();
    for path in ["/etc/passwd", "/workspace/../../etc/passwd", "/proc/self/environ"] {
        let message = fs_probe(&h, json!({"read": path})).await;
        assert!(message.starts_with("error: "), "{path}: {message}");
    }
}

#[tokio::test]
async fn workspace_is_read_only() {
    let h = harness();
    let message = fs_probe(&h, json!({"write": "/workspace/new.txt"})).await;
    assert!(message.starts_with("error: "), "{message}");
    assert!(!h.workspace.path().join("new.txt").exists());
    let message = fs_probe(&h, json!({"write": "/workspace/hello.txt"})).await;
    assert!(message.starts_with("error: "), "{message}");
    let content = std::fs::read_to_string(h.workspace.path().join("hello.txt")).unwrap();
    assert_eq!(content, "hello from the workspace");
}

#[tokio::test]
async fn failures_do_not_poison_concurrent_calls() {
    let h = harness_with(|c| c.call_timeout = Duration::from_millis(300));
    let good = h.runtime.load_file(&test_plugin("test_outcome")).await.unwrap();
    let bad = h.runtime.load_file(&test_plugin("test_spin")).await.unwrap();
    let ctx = context(object(json!({})));
    let (spin, ok) = tokio::join!(bad.process(&ctx), good.process(&ctx));
    assert!(spin.is_err());
    assert!(ok.is_ok());
}
