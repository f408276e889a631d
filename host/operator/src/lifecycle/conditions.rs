//! Status conditions on the in-memory object (`status.conditions`), with Kubernetes "set status condition"
//! semantics: find by type, overwrite reason/message/observedGeneration, change `lastTransitionTime` only when the
//! status flips. Conditions are never reordered or removed.
//!
//! What is written always passes the `metav1.Condition` schema, whatever a plugin returned: messages are cut
//! to [`MAX_MESSAGE_BYTES`] (Kubernetes' limit, 32768; at a character boundary, ending with how much was left out)
//! and reasons that do not match the reason pattern or exceed [`MAX_REASON_BYTES`] are reduced to one that does,
//! so that a huge failure message (a trap with a MiB of stderr) still becomes a condition that persists.

use serde_json::{Map, Value, json};

/// The longest condition message written, in bytes (the `metav1.Condition` limit).
pub const MAX_MESSAGE_BYTES: usize = 32768;
/// The longest condition reason written (the `metav1.Condition` limit).
pub const MAX_REASON_BYTES: usize = 1024;

/// `message` within [`MAX_MESSAGE_BYTES`]: whole if it fits, else cut at a character boundary and ended with
/// the number of bytes left out.
pub fn bounded_message(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_owned();
    }
    // The suffix is at most 40 bytes; cut so that message and suffix fit together.
    let mut end = MAX_MESSAGE_BYTES - 40;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes truncated)", &message[..end], message.len() - end)
}

/// `reason` as the condition schema accepts it (`^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`, at most
/// [`MAX_REASON_BYTES`]): other characters dropped, leading non-letters dropped, trailing `,`/`:` dropped;
/// [`reason::UNKNOWN`] if nothing is left.
pub fn valid_reason(reason: &str) -> String {
    let kept: String = reason
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ',' | ':'))
        .skip_while(|c| !c.is_ascii_alphabetic())
        .take(MAX_REASON_BYTES)
        .collect();
    let kept = kept.trim_end_matches([',', ':']);
    if kept.is_empty() {
        reason::UNKNOWN.to_owned()
    } else {
        kept.to_owned()
    }
}

/// Condition reasons written by the engine.
pub mod reason {
    /// The subroutine (or the whole chain) completed.
    pub const COMPLETE: &str = "Complete";
    /// The subroutine is waiting for something.
    pub const PENDING: &str = "Pending";
    /// The subroutine stopped the chain.
    pub const STOPPED: &str = "Stopped";
    /// The subroutine was skipped.
    pub const SKIPPED: &str = "Skipped";
    /// The subroutine failed.
    pub const ERROR: &str = "Error";
    /// Not reconciled yet.
    pub const UNKNOWN: &str = "Unknown";
}

/// The aggregate condition type.
pub const READY: &str = "Ready";

/// Condition status values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `True`.
    True,
    /// `False`.
    False,
    /// `Unknown`.
    Unknown,
}

impl Status {
    /// The wire form (`True`, `False`, `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::True => "True",
            Status::False => "False",
            Status::Unknown => "Unknown",
        }
    }
}

/// A condition as the engine wants it written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    /// Condition type (a subroutine name, `<name>Finalize` or `Ready`).
    pub type_: String,
    /// Status.
    pub status: Status,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

/// The `Ready` condition for a pass, by the priority error → stopped → pending → complete.
pub fn ready_condition(errored: bool, stopped: bool, pending: bool) -> DesiredCondition {
    let (status, reason, message) = if errored {
        (
            Status::False,
            reason::ERROR,
            "one or more subroutines encountered an error",
        )
    } else if stopped {
        (
            Status::False,
            reason::STOPPED,
            "one or more subroutines stopped the chain",
        )
    } else if pending {
        (
            Status::Unknown,
            reason::PENDING,
            "one or more subroutines are pending",
        )
    } else {
        (
            Status::True,
            reason::COMPLETE,
            "all subroutines completed successfully",
        )
    };
    DesiredCondition {
        type_: READY.into(),
        status,
        reason: reason.into(),
        message: message.into(),
    }
}

/// The conditions list of `object` (created empty if absent).
fn conditions_mut(object: &mut Value) -> Option<&mut Vec<Value>> {
    let root = object.as_object_mut()?;
    let status = root.entry("status").or_insert_with(|| Value::Object(Map::new()));
    if !status.is_object() {
        *status = Value::Object(Map::new());
    }
    let conditions = status
        .as_object_mut()?
        .entry("conditions")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !conditions.is_array() {
        *conditions = Value::Array(Vec::new());
    }
    conditions.as_array_mut()
}

/// The condition of type `type_`, if present.
pub fn find<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Adds `Unknown`/`Unknown` conditions ("awaiting first reconciliation for <type>") for every type that has none.
pub fn init_unknown<'a>(
    object: &mut Value,
    types: impl IntoIterator<Item = &'a str>,
    generation: i64,
    now: &str,
) {
    for type_ in types {
        if find(object, type_).is_some() {
            continue;
        }
        if let Some(list) = conditions_mut(object) {
            list.push(json!({
                "type": type_,
                "status": Status::Unknown.as_str(),
                "reason": reason::UNKNOWN,
                "message": format!("awaiting first reconciliation for {type_}"),
                "observedGeneration": generation,
                "lastTransitionTime": now,
            }));
        }
    }
}

/// Sets a condition: a new one gets `lastTransitionTime = now`; an existing one keeps its time unless the status
/// changes; reason, message and observedGeneration are always overwritten.
pub fn set(object: &mut Value, desired: &DesiredCondition, generation: i64, now: &str) {
    let Some(list) = conditions_mut(object) else {
        return;
    };
    let status = desired.status.as_str();
    let reason = valid_reason(&desired.reason);
    let message = bounded_message(&desired.message);
    match list.iter_mut().find(|c| c["type"] == desired.type_.as_str()) {
        Some(existing) => {
            if existing["status"] != status || existing.get("lastTransitionTime").is_none() {
                existing["lastTransitionTime"] = Value::from(now);
            }
            existing["status"] = Value::from(status);
            existing["reason"] = Value::from(reason);
            existing["message"] = Value::from(message);
            existing["observedGeneration"] = Value::from(generation);
        }
        None => list.push(json!({
            "type": desired.type_,
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": now,
        })),
    }
}

/// A condition that differs between two versions of an object, as reported to progress listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionChange {
    /// Condition type.
    pub type_: String,
    /// New status (`True`, `False`, `Unknown`).
    pub status: String,
    /// New reason.
    pub reason: String,
    /// New message.
    pub message: String,
    /// Reason before the change (empty when the condition is new); tells a recovery from a first success.
    pub previous_reason: String,
}

/// The conditions of `after` whose status, reason or message differ from `before` (in `after`'s order).
pub fn changes(before: &Value, after: &Value) -> Vec<ConditionChange> {
    let Some(list) = after.pointer("/status/conditions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter(|c| {
            let type_ = c["type"].as_str().unwrap_or_default();
            match find(before, type_) {
                Some(old) => {
                    old["status"] != c["status"]
                        || old["reason"] != c["reason"]
                        || old["message"] != c["message"]
                }
                None => true,
            }
        })
        .map(|c| {
            let type_ = c["type"].as_str().unwrap_or_default();
            let previous = find(before, type_).and_then(|old| old["reason"].as_str());
            ConditionChange {
                type_: type_.to_owned(),
                status: c["status"].as_str().unwrap_or_default().to_owned(),
                reason: c["reason"].as_str().unwrap_or_default().to_owned(),
                message: c["message"].as_str().unwrap_or_default().to_owned(),
                previous_reason: previous.unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(status: Status, reason: &str, message: &str) -> DesiredCondition {
        DesiredCondition {
            type_: "A".into(),
            status,
            reason: reason.into(),
            message: message.into(),
        }
    }

    #[test]
    fn init_unknown_conditions_adds_only_missing_types() {
        let mut obj = json!({"status": {"conditions": [{"type": "A", "status": "True"}]}});
        init_unknown(&mut obj, ["A", "B", READY], 3, "t0");
        let list = obj["status"]["conditions"].as_array().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0]["status"], "True");
        assert_eq!(list[1]["message"], "awaiting first reconciliation for B");
        assert_eq!(list[1]["reason"], "Unknown");
        assert_eq!(list[2]["observedGeneration"], 3);
    }

    #[test]
    fn set_subroutine_condition_moves_transition_time_only_on_flip() {
        let mut obj = json!({});
        set(&mut obj, &desired(Status::Unknown, "Pending", "wait"), 1, "t0");
        set(&mut obj, &desired(Status::Unknown, "Pending", "still"), 2, "t1");
        let c = find(&obj, "A").unwrap();
        assert_eq!(
            (c["lastTransitionTime"].as_str(), c["message"].as_str()),
            (Some("t0"), Some("still"))
        );
        assert_eq!(c["observedGeneration"], 2);
        set(&mut obj, &desired(Status::True, "Complete", ""), 2, "t2");
        assert_eq!(find(&obj, "A").unwrap()["lastTransitionTime"], "t2");
    }

    #[test]
    fn set_ready_condition_priorities() {
        assert_eq!(ready_condition(true, true, true).reason, "Error");
        assert_eq!(ready_condition(false, true, true).reason, "Stopped");
        let pending = ready_condition(false, false, true);
        assert_eq!(
            (pending.status, pending.message.as_str()),
            (Status::Unknown, "one or more subroutines are pending")
        );
        let done = ready_condition(false, false, false);
        assert_eq!(
            (done.status, done.message.as_str()),
            (Status::True, "all subroutines completed successfully")
        );
    }

    #[test]
    fn changes_report_only_differences() {
        let before = json!({"status": {"conditions": [{"type": "A", "status": "True", "reason": "Complete", "message": ""}]}});
        let mut after = before.clone();
        set(
            &mut after,
            &DesiredCondition {
                type_: "B".into(),
                status: Status::False,
                reason: "Stopped".into(),
                message: "m".into(),
            },
            1,
            "t",
        );
        let diff = changes(&before, &after);
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].type_, "B");
    }

    #[test]
    fn a_huge_message_is_cut_to_the_bound_at_a_character_boundary() {
        let at = "m".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(bounded_message(&at), at, "exactly at the bound: whole");
        let huge = format!("trap: {}", "é".repeat(1 << 19));
        let mut obj = json!({});
        set(&mut obj, &desired(Status::False, "Error", &huge), 1, "t");
        let written = find(&obj, "A").unwrap()["message"].as_str().unwrap().to_owned();
        assert!(written.len() <= MAX_MESSAGE_BYTES, "{}", written.len());
        assert!(written.starts_with("trap: éé"));
        assert!(
            written.ends_with(" bytes truncated)"),
            "{}",
            &written[written.len() - 60..]
        );
        let over = format!("{}é", "m".repeat(MAX_MESSAGE_BYTES - 1));
        assert!(bounded_message(&over).len() <= MAX_MESSAGE_BYTES);
    }

    #[test]
    fn reasons_always_match_the_schema() {
        assert_eq!(valid_reason("RootShardNotReady"), "RootShardNotReady");
        assert_eq!(valid_reason("Err,or:x_1"), "Err,or:x_1");
        assert_eq!(valid_reason("not ready!"), "notready");
        assert_eq!(valid_reason("9lives:"), "lives");
        assert_eq!(valid_reason("  "), "Unknown");
        assert_eq!(valid_reason(&"R".repeat(5000)).len(), MAX_REASON_BYTES);
        let mut obj = json!({});
        set(
            &mut obj,
            &desired(Status::False, "bad reason/with spaces", "m"),
            1,
            "t",
        );
        assert_eq!(find(&obj, "A").unwrap()["reason"], "badreasonwithspaces");
    }

    /// Against the embedded API server, which validates the CRD's condition schema: the bounded condition is
    /// stored, the same message unbounded is refused (so without the bound no condition would persist).
    #[tokio::test]
    async fn a_one_mib_failure_message_becomes_a_condition_that_persists() {
        use kube::{
            Api,
            api::{DynamicObject, Patch, PatchParams, PostParams},
            core::{ApiResource, GroupVersionKind},
        };

        let server = apiserver::start(apiserver::ServerConfig::default())
            .await
            .expect("API server starts");
        crate::embedded::install_crds(&server.client())
            .await
            .expect("CRDs");
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
            "platformmeshes",
        );
        let api: Api<DynamicObject> = Api::namespaced_with(server.client(), "default", &resource);
        let object: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "core.platform-mesh.io/v1alpha1", "kind": "PlatformMesh",
            "metadata": {"name": "pm", "namespace": "default"}, "spec": {}}))
        .expect("object");
        api.create(&PostParams::default(), &object)
            .await
            .expect("created");

        let failure = format!("wasm trap: {}", "stderr line\n".repeat((1 << 20) / 12));
        let mut status = json!({});
        set(
            &mut status,
            &desired(Status::False, "Error", &failure),
            1,
            "2026-01-01T00:00:00Z",
        );
        let patch = json!({"status": status["status"]});
        let stored = api
            .patch_status("pm", &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("the bounded condition is accepted");
        let message = stored.data["status"]["conditions"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.ends_with("bytes truncated)") && message.len() <= MAX_MESSAGE_BYTES);

        let mut unbounded = patch.clone();
        unbounded["status"]["conditions"][0]["message"] = Value::from(failure);
        let refused = api
            .patch_status("pm", &PatchParams::default(), &Patch::Merge(&unbounded))
            .await;
        assert!(refused.is_err(), "the unbounded message fails validation");
        server.shutdown().await;
    }
}
