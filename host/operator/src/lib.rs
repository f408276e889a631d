//! The platform-mesh operator host.
