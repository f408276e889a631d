//! The interface between the lifecycle engine and one step of a chain. The wasm plugin runtime implements it for
//! every loaded plugin; tests implement it with plain Rust structs.

use std::{future::Future, pin::Pin, time::Duration};

use serde_json::Value;

pub use crate::target::{KubeconfigRef, Target};

/// Everything one call of a subroutine gets.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The controller running the chain: `platformmesh`, `resource`, `provider` or `managedprovider`.
    pub controller: String,
    /// Where the reconciled object lives.
    pub object_target: Target,
    /// The reconciled object, including status changes made earlier in this pass.
    pub object: Value,
    /// The operator configuration (flags) as a JSON object with camelCase keys.
    pub operator_config: Value,
}

/// How the chain goes on after a subroutine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Continue. Condition `True`/`Complete`.
    Ok {
        /// Reconcile again after this long even if nothing changes.
        requeue_after: Option<Duration>,
        /// Condition message (empty when `None`).
        message: Option<String>,
    },
    /// Continue, but not ready yet. Condition `Unknown`/`Pending`. `requeue_after` is greater than zero.
    Pending {
        message: String,
        requeue_after: Duration,
    },
    /// End the chain for this pass. Condition `False`/`Stopped`.
    Stop {
        message: String,
        requeue_after: Option<Duration>,
    },
}

/// A successful call.
#[derive(Clone, Debug, PartialEq)]
pub struct StepResult {
    pub outcome: Outcome,
    /// JSON merge patch for the object's `status`, applied in memory and persisted at the end of the pass.
    pub status_patch: Option<Value>,
}

/// A failed call. Condition `False`/`Error` with `message`; the object is retried with backoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub message: String,
    /// Status changes to persist despite the failure.
    pub status_patch: Option<Value>,
}

/// The future a subroutine call returns.
pub type SubroutineFuture<'a> = Pin<Box<dyn Future<Output = Result<StepResult, Failure>> + Send + 'a>>;

/// One step of a reconcile chain.
pub trait Subroutine: Send + Sync {
    /// The name, which is also the condition type (`WaitSubroutine`).
    fn name(&self) -> &str;

    /// Finalizers the engine adds before the first `process`. `finalize` runs on deletion only while one of
    /// them is on the object.
    fn finalizers(&self) -> &[String];

    /// Brings the world in line with the object.
    fn process<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a>;

    /// Cleans up on deletion.
    fn finalize<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a>;
}
