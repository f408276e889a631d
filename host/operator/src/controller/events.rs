//! Kubernetes Events on reconciled objects, published on transitions only (never once per reconcile), through
//! kube-runtime's `Recorder` (events.k8s.io/v1, which folds repeats into an event series):
//!
//! | when | type | reason | note |
//! |---|---|---|---|
//! | a subroutine condition turns `Error` | Warning | `SubroutineFailed` | `<subroutine>: <message>` |
//! | a subroutine condition leaves `Error` | Normal | `SubroutineRecovered` | `<subroutine>: <new reason>` |
//! | `Ready` turns `True` | Normal | `Ready` | the condition message |
//!
//! Notes carry condition messages only, which subroutines write for humans (never object contents), and are cut
//! to the API's 1 kB limit.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::{
    Client,
    runtime::events::{Event, EventType, Recorder, Reporter},
};

use crate::lifecycle::{
    ConditionChange,
    conditions::{READY, reason},
};

/// The reporting controller shown in `kubectl describe` (`From`).
pub const REPORTER: &str = "platform-mesh-operator";

/// The API limit on an event note.
const NOTE_LIMIT: usize = 1024;

/// The event one condition change deserves, if any.
pub fn event_for(change: &ConditionChange) -> Option<Event> {
    let event = |type_, reason: &str, note: String| Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(note)),
        action: "Reconcile".to_owned(),
        secondary: None,
    };
    if change.type_ == READY {
        return (change.status == "True" && change.previous_reason != change.reason)
            .then(|| event(EventType::Normal, "Ready", change.message.clone()));
    }
    let failed = change.reason == reason::ERROR;
    let was_failing = change.previous_reason == reason::ERROR;
    match (was_failing, failed) {
        (false, true) => Some(event(
            EventType::Warning,
            "SubroutineFailed",
            format!("{}: {}", change.type_, change.message),
        )),
        (true, false) => Some(event(
            EventType::Normal,
            "SubroutineRecovered",
            format!("{}: {}", change.type_, change.reason),
        )),
        _ => None,
    }
}

fn truncate(mut note: String) -> String {
    if note.len() > NOTE_LIMIT {
        let mut end = NOTE_LIMIT - 3;
        while !note.is_char_boundary(end) {
            end -= 1;
        }
        note.truncate(end);
        note.push_str("...");
    }
    note
}

/// Publishes the events of condition changes.
#[derive(Clone)]
pub struct EventPublisher {
    recorder: Recorder,
}

impl EventPublisher {
    /// A publisher writing through `client`; `instance` tells replicas apart (`reportingInstance`).
    pub fn new(client: Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: REPORTER.to_owned(),
            instance,
        };
        EventPublisher {
            recorder: Recorder::new(client, reporter),
        }
    }

    /// Publishes one event per change that deserves one; failures are logged, never fatal.
    pub async fn publish(&self, reference: &ObjectReference, changes: &[ConditionChange]) {
        for event in changes.iter().filter_map(event_for) {
            if let Err(error) = self.recorder.publish(&event, reference).await {
                tracing::warn!(%error, reason = %event.reason, "publishing an event");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(type_: &str, status: &str, reason: &str, previous: &str) -> ConditionChange {
        ConditionChange {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: "message".into(),
            previous_reason: previous.into(),
        }
    }

    #[test]
    fn only_transitions_into_and_out_of_error_make_subroutine_events() {
        let failed = event_for(&change("WaitSubroutine", "False", "Error", "Pending")).unwrap();
        assert_eq!(
            (failed.type_, failed.reason.as_str()),
            (EventType::Warning, "SubroutineFailed")
        );
        assert_eq!(failed.note.as_deref(), Some("WaitSubroutine: message"));
        let recovered = event_for(&change("WaitSubroutine", "True", "Complete", "Error")).unwrap();
        assert_eq!(recovered.reason, "SubroutineRecovered");
        assert!(event_for(&change("WaitSubroutine", "True", "Complete", "Unknown")).is_none());
        assert!(event_for(&change("WaitSubroutine", "False", "Error", "Error")).is_none());
        assert!(event_for(&change("WaitSubroutine", "Unknown", "Pending", "Complete")).is_none());
    }

    #[test]
    fn ready_true_is_announced_once() {
        assert_eq!(
            event_for(&change("Ready", "True", "Complete", "Pending"))
                .unwrap()
                .reason,
            "Ready"
        );
        assert!(event_for(&change("Ready", "True", "Complete", "Complete")).is_none());
        assert!(event_for(&change("Ready", "False", "Error", "Complete")).is_none());
    }

    #[test]
    fn long_notes_are_cut_to_the_api_limit() {
        let mut long = change("A", "False", "Error", "");
        long.message = "é".repeat(2000);
        let note = event_for(&long).unwrap().note.unwrap();
        assert!(note.len() <= NOTE_LIMIT && note.ends_with("..."));
    }
}
