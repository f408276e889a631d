//! The chain of every controller, read from the plugin set in service at the start of every pass by the one rule
//! of [`crate::chains`] ([`crate::plugin::PluginSet::chain_for`]): a running pass finishes on the chain it
//! began with, a swap takes effect on the next pass, and only plugins the configuration or the upstream table
//! assigns to a controller ever join its chain.

use crate::{config::SubroutinesConfig, lifecycle::ChainSource, plugin::PluginSetHandle};

/// A live chain source for `controller` over the plugin sets `plugins` serves.
pub fn chain_source(
    flags: &SubroutinesConfig,
    plugins: &PluginSetHandle,
    controller: &'static str,
) -> ChainSource {
    let flags = flags.clone();
    let plugins = plugins.clone();
    ChainSource::live(move || plugins.current().chain_for(controller, &flags).into())
}
