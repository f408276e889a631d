//! What a plugin gets (`Context`) and returns (`Reconciled` or `Failure`).

use std::time::Duration;

use serde_json::Value;

use crate::Target;

/// Everything one call knows: the reconciled object and configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    /// `platformmesh`, `resource`, `provider` or `managedprovider`.
    pub controller: String,
    /// Where the reconciled object lives.
    pub object_target: Target,
    /// The reconciled object, including status changes made earlier in the pass.
    pub object: Value,
    /// The operator's flags as a JSON object with camelCase keys.
    pub operator_config: Value,
    /// This plugin's configuration (`{}` if none).
    pub plugin_config: Value,
}

impl Context {
    /// A context for `object` on the runtime cluster with empty configuration; handy in tests.
    pub fn for_object(controller: &str, object: Value) -> Self {
        Context {
            controller: controller.to_owned(),
            object_target: Target::Runtime,
            object,
            operator_config: Value::Object(Default::default()),
            plugin_config: Value::Object(Default::default()),
        }
    }

    /// `metadata.namespace` of the object (empty if cluster-scoped).
    pub fn namespace(&self) -> &str {
        self.object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `metadata.name` of the object.
    pub fn name(&self) -> &str {
        self.object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// A field of the object by JSON pointer (`/spec/wait`).
    pub fn field(&self, pointer: &str) -> Option<&Value> {
        self.object.pointer(pointer)
    }

    /// A string flag from the operator configuration (`kcpNamespace`).
    pub fn flag(&self, key: &str) -> Option<&str> {
        self.operator_config.get(key).and_then(Value::as_str)
    }
}

/// Static facts a plugin reports once at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// Subroutine name and condition type, e.g. `WaitSubroutine`.
    pub name: String,
    /// The plugin's own version.
    pub version: String,
    /// Finalizers the host adds before the first `process`.
    pub finalizers: Vec<String>,
}

impl PluginInfo {
    /// Info with a name and version and no finalizers.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            finalizers: Vec::new(),
        }
    }

    /// Adds a finalizer.
    pub fn with_finalizer(mut self, finalizer: impl Into<String>) -> Self {
        self.finalizers.push(finalizer.into());
        self
    }
}

/// How the chain goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Continue (condition `True`/`Complete`).
    Ok {
        requeue_after: Option<Duration>,
        message: Option<String>,
    },
    /// Continue, not ready yet (condition `Unknown`/`Pending`); `requeue_after` > 0.
    Pending {
        message: String,
        requeue_after: Duration,
    },
    /// End the chain for this pass (condition `False`/`Stopped`).
    Stop {
        message: String,
        requeue_after: Option<Duration>,
    },
}

/// A successful call: an outcome plus an optional merge patch for the object's status.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconciled {
    pub outcome: Outcome,
    /// JSON merge patch for `status`.
    pub status_patch: Option<Value>,
}

impl Reconciled {
    /// Continue.
    pub fn ok() -> Self {
        Outcome::Ok {
            requeue_after: None,
            message: None,
        }
        .into()
    }

    /// Continue and reconcile again after `after`.
    pub fn ok_after(after: Duration) -> Self {
        Outcome::Ok {
            requeue_after: Some(after),
            message: None,
        }
        .into()
    }

    /// Continue, but not ready yet; reconcile again after `after` (a zero duration is raised to 1 ms).
    pub fn pending(message: impl Into<String>, after: Duration) -> Self {
        let requeue_after = after.max(Duration::from_millis(1));
        Outcome::Pending {
            message: message.into(),
            requeue_after,
        }
        .into()
    }

    /// Stop the chain and wait for the next change of the object.
    pub fn stop(message: impl Into<String>) -> Self {
        Outcome::Stop {
            message: message.into(),
            requeue_after: None,
        }
        .into()
    }

    /// Stop the chain and reconcile again after `after` (upstream's `StopWithRequeue`).
    pub fn stop_after(after: Duration, message: impl Into<String>) -> Self {
        Outcome::Stop {
            message: message.into(),
            requeue_after: Some(after),
        }
        .into()
    }

    /// Adds a status merge patch.
    pub fn with_status(mut self, patch: Value) -> Self {
        self.status_patch = Some(patch);
        self
    }

    /// Sets the condition message of an `ok` outcome (ignored for other outcomes).
    pub fn with_message(mut self, text: impl Into<String>) -> Self {
        if let Outcome::Ok { message, .. } = &mut self.outcome {
            *message = Some(text.into());
        }
        self
    }
}

impl From<Outcome> for Reconciled {
    fn from(outcome: Outcome) -> Self {
        Reconciled {
            outcome,
            status_patch: None,
        }
    }
}

/// A failed call: the condition becomes `False`/`Error` with `message`; the object is retried with backoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub message: String,
    /// Status changes to persist despite the failure.
    pub status_patch: Option<Value>,
}

impl Failure {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            status_patch: None,
        }
    }

    /// Adds a status merge patch.
    pub fn with_status(mut self, patch: Value) -> Self {
        self.status_patch = Some(patch);
        self
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::new(error.to_string())
    }
}

/// The result of `process` and `finalize`.
pub type CallResult = Result<Reconciled, Failure>;
