//! Upstream's `WorkspaceTestSuite` (spec §10.7) on the FakeHost, plus the growing wait (§11.1 item 6).

use std::time::Duration;

use platform_mesh_plugin_sdk::{ClusterError, Context, Outcome, Plugin, Target, testing::FakeHost};
use serde_json::{Value, json};

use super::*;

const NOW: i64 = 1_796_032_800; // 2026-11-30T10:00:00Z

fn provider(status: Value) -> Context {
    let mut ctx = Context::for_object(
        "provider",
        json!({"apiVersion": "providers.platform-mesh.io/v1alpha1", "kind": "Provider",
               "metadata": {"name": "wildwest", "annotations": {"kcp.io/cluster": "abc123"}},
               "spec": {}, "status": status}),
    );
    ctx.object_target = Target::kcp("abc123");
    ctx
}

fn workspace(phase: &str) -> Value {
    json!({"apiVersion": "tenancy.kcp.io/v1alpha1", "kind": "Workspace",
           "metadata": {"name": "wildwest-abc123"},
           "spec": {"type": {"name": "provider", "path": "root"}}, "status": {"phase": phase}})
}

fn parent() -> Target {
    Target::kcp(PARENT)
}

fn stop_after(outcome: &Outcome) -> Option<Duration> {
    match outcome {
        Outcome::Stop { requeue_after, .. } => *requeue_after,
        _ => None,
    }
}

#[test]
fn declares_its_finalizer() {
    assert_eq!(ProviderWorkspace::info().finalizers, [FINALIZER]);
}

#[test]
fn process_creates_the_workspace_and_waits_until_ready() {
    let host = FakeHost::new();
    let done = process_at(&host, &provider(json!({})), NOW).unwrap();
    assert_eq!(stop_after(&done.outcome), Some(Duration::from_secs(2)));
    assert_eq!(done.status_patch, Some(json!({"phase": "ProvisioningWorkspace"})));
    let ws = host
        .object(&parent(), &workspace_kind().object(None, "wildwest-abc123"))
        .unwrap();
    assert_eq!(ws["spec"]["type"], json!({"name": "provider", "path": "root"}));
}

#[test]
fn process_ready_workspace_is_ok_and_sets_pending_phase() {
    let host = FakeHost::new().with_object(parent(), workspace("Ready"));
    let done = process_at(&host, &provider(json!({})), NOW).unwrap();
    assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Pending"})));
    let writes: Vec<_> = host.calls().into_iter().filter(|c| c.op != "get").collect();
    assert!(
        writes.is_empty(),
        "an existing workspace is not rewritten: {writes:?}"
    );
}

#[test]
fn process_keeps_an_existing_phase() {
    let host = FakeHost::new().with_object(parent(), workspace("Ready"));
    let done = process_at(&host, &provider(json!({"phase": "Ready"})), NOW).unwrap();
    assert_eq!(done, Reconciled::ok());
}

#[test]
fn process_workspace_create_failure_is_an_error() {
    let host = FakeHost::new().with_error("create", Some("Workspace"), ClusterError::Forbidden("no".into()));
    let failure = process_at(&host, &provider(json!({})), NOW).unwrap_err();
    assert!(failure.message.contains("no"), "{}", failure.message);
}

#[test]
fn process_kcp_unreachable_is_an_error() {
    let host = FakeHost::new().with_error("get", None, ClusterError::Unavailable("kcp admin config".into()));
    let failure = process_at(&host, &provider(json!({})), NOW).unwrap_err();
    assert!(
        failure.message.contains("kcp admin config"),
        "{}",
        failure.message
    );
}

#[test]
fn process_without_cluster_annotation_fails_clearly() {
    let mut ctx = provider(json!({}));
    ctx.object["metadata"]["annotations"] = json!({});
    let failure = process_at(&FakeHost::new(), &ctx, NOW).unwrap_err();
    assert!(failure.message.contains("kcp.io/cluster"), "{}", failure.message);
}

#[test]
fn waiting_longer_backs_off_longer_and_success_forgets() {
    let host = FakeHost::new().with_object(parent(), workspace("Initializing"));
    let waiting = |since: &str, status: &str| {
        provider(json!({"conditions": [{"type": NAME, "status": status, "lastTransitionTime": since}]}))
    };
    let young = process_at(&host, &waiting("2026-11-30T09:59:30Z", "False"), NOW).unwrap();
    let old = process_at(&host, &waiting("2026-11-30T09:50:00Z", "False"), NOW).unwrap();
    let fresh = process_at(&host, &waiting("2026-11-30T09:50:00Z", "True"), NOW).unwrap();
    assert_eq!(stop_after(&young.outcome), Some(Duration::from_secs(2)));
    assert_eq!(stop_after(&old.outcome), Some(Duration::from_secs(1000)));
    assert_eq!(stop_after(&fresh.outcome), Some(Duration::from_secs(2)));
}

#[test]
fn finalize_already_gone_is_ok() {
    let done = finalize_at(&FakeHost::new(), &provider(json!({})), NOW).unwrap();
    assert_eq!(done, Reconciled::ok().with_status(json!({"phase": "Deleting"})));
}

#[test]
fn finalize_deletes_and_waits() {
    let host = FakeHost::new().with_object(parent(), workspace("Ready"));
    let done = finalize_at(&host, &provider(json!({})), NOW).unwrap();
    assert!(
        matches!(done.outcome, Outcome::Stop { ref message, .. } if message == "Waiting for provider workspace to be deleted")
    );
    assert!(
        host.calls()
            .iter()
            .any(|c| c.op == "delete" && c.name == "wildwest-abc123")
    );
}

#[test]
fn finalize_does_not_delete_twice() {
    let mut ws = workspace("Ready");
    ws["metadata"]["deletionTimestamp"] = json!("2026-11-30T09:59:00Z");
    let host = FakeHost::new().with_object(parent(), ws);
    let done = finalize_at(&host, &provider(json!({})), NOW).unwrap();
    assert!(matches!(done.outcome, Outcome::Stop { .. }));
    assert!(!host.calls().iter().any(|c| c.op == "delete"));
}

#[test]
fn finalize_delete_failure_is_an_error() {
    let host = FakeHost::new()
        .with_object(parent(), workspace("Ready"))
        .with_error("delete", Some("Workspace"), ClusterError::Other("boom".into()));
    let failure = finalize_at(&host, &provider(json!({})), NOW).unwrap_err();
    assert!(
        failure
            .message
            .starts_with("failed to delete provider workspace root:providers:wildwest-abc123")
    );
    assert_eq!(failure.status_patch, Some(json!({"phase": "Deleting"})));
}
