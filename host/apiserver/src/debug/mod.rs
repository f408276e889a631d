//! Test instrumentation: the request log with its counters, and fault injection.

mod faults;
mod requests;

pub use faults::{Fault, FaultAction, FaultInjector, FaultRule, WatchDrop};
pub use requests::{RequestLog, RequestRecord, RequestStats, Verb};
