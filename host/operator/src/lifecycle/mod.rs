//! The lifecycle engine: runs a chain of subroutines over one object with the upstream `subroutines` library's
//! semantics (ordered chain, OK / Pending / Stop, conditions, finalizers, reverse-order finalization).

pub mod backoff;
mod chain;
pub mod conditions;
mod engine;
pub mod finalizers;
pub mod patch;
mod store;
mod subroutine;

pub use backoff::{Backoff, BackoffConfig};
pub use chain::{Chain, ChainSource, LiveChain};
pub use conditions::ConditionChange;
pub use engine::{EngineError, Lifecycle, LifecycleOptions, PassReport};
pub use store::{KubeStore, ObjectKey, ObjectStore, StoreError};
pub use subroutine::{
    CallContext, Failure, KubeconfigRef, Outcome, StepResult, Subroutine, SubroutineFuture, Target,
};
