//! Status conditions on the in-memory object (`status.conditions`), with Kubernetes "set status condition"
//! semantics: find by type, overwrite reason/message/observedGeneration, change `lastTransitionTime` only when the
//! status flips. Conditions are never reordered or removed.

use serde_json::{Map, Value, json};

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
    match list.iter_mut().find(|c| c["type"] == desired.type_.as_str()) {
        Some(existing) => {
            if existing["status"] != status || existing.get("lastTransitionTime").is_none() {
                existing["lastTransitionTime"] = Value::from(now);
            }
            existing["status"] = Value::from(status);
            existing["reason"] = Value::from(desired.reason.as_str());
            existing["message"] = Value::from(desired.message.as_str());
            existing["observedGeneration"] = Value::from(generation);
        }
        None => list.push(json!({
            "type": desired.type_,
            "status": status,
            "reason": desired.reason,
            "message": desired.message,
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
}
