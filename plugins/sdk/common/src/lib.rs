//! First-party helpers shared by the operator's own plugins (not part of the vendor-facing SDK):
//!
//! - [`unchanged`]: the one rule deciding whether a write would change a stored object, behind every skipped
//!   write (server-side apply, full update, merge patch);
//! - [`converge`]: create-or-update and create-if-missing built on it;
//! - [`managed_provider`]: names a ManagedProvider derives from its spec.

pub mod converge;
pub mod managed_provider;
pub mod unchanged;

pub use unchanged::{Write, unchanged};
