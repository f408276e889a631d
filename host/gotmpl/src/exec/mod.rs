//! Execution: translation to minijinja, the runtime functions, and Go's value formatting.

pub mod compile;
pub mod float;
pub mod format;
pub mod printf;
pub mod runtime;
