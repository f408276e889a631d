//! Progress events: one per persisted condition change, for `run --embedded`'s progress lines and for tests.

use tokio::sync::mpsc;

use crate::lifecycle::{ConditionChange, ObjectKey};

/// A condition of a reconciled object changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgressEvent {
    /// The controller (`platformmesh`).
    pub controller: String,
    /// The object.
    pub key: ObjectKey,
    /// The change.
    pub change: ConditionChange,
}

/// Sends progress events; a closed receiver is ignored (progress is informational).
#[derive(Clone, Debug, Default)]
pub struct ProgressSink {
    sender: Option<mpsc::UnboundedSender<ProgressEvent>>,
}

impl ProgressSink {
    /// A sink that drops everything.
    pub fn none() -> Self {
        ProgressSink { sender: None }
    }

    /// A sink and the receiver of its events.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<ProgressEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (ProgressSink { sender: Some(sender) }, receiver)
    }

    /// Emits one event per change.
    pub fn emit(&self, controller: &str, key: &ObjectKey, changes: &[ConditionChange]) {
        let Some(sender) = &self.sender else { return };
        for change in changes {
            let event = ProgressEvent {
                controller: controller.to_owned(),
                key: key.clone(),
                change: change.clone(),
            };
            // The receiver may be gone (e.g. the embedded run finished); progress is not worth failing over.
            let _ = sender.send(event);
        }
    }
}
