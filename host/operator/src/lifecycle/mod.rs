//! The lifecycle engine: runs a chain of subroutines over one object with the upstream `subroutines` library's
//! semantics (ordered chain, OK / Pending / Stop, conditions, finalizers, reverse-order finalization).

mod subroutine;

pub use subroutine::{CallContext, Failure, Outcome, StepResult, Subroutine, SubroutineFuture, Target};
