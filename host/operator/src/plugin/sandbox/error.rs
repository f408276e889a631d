//! Errors of loading plugins. Errors of *calling* a plugin are `lifecycle::Failure`s (see `call.rs`).

use std::path::PathBuf;

/// A cause from wasmtime, whose `Error` type does not implement `std::error::Error` itself.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the runtime or a plugin could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The wasmtime engine could not be created with our configuration.
    #[error("configuring the wasm engine")]
    Engine(#[source] BoxError),
    /// The workspace directory is missing or not a directory.
    #[error("the workspace directory {path} is not a readable directory")]
    Workspace {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A plugin file could not be read.
    #[error("reading plugin {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Compiling the component failed (not a valid component, or not one for this world).
    #[error("compiling plugin {path}")]
    Compile {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    /// The compile cache could not be written.
    #[error("writing the compiled plugin to the cache at {path}")]
    Cache {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The component does not fit the `plugin` world (missing or extra imports).
    #[error("linking plugin {path} against the host's imports")]
    Link {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    /// The smoke call of `info()` failed.
    #[error("calling info() of plugin {path}")]
    Info {
        path: PathBuf,
        #[source]
        source: BoxError,
    },
    /// The plugin targets an incompatible WIT version.
    #[error(
        "plugin {path} was built against WIT platform-mesh:operator@{plugin}, but this operator implements @{host} \
         ({reason}); rebuild the plugin with a compatible SDK"
    )]
    Version {
        path: PathBuf,
        plugin: String,
        host: String,
        /// Why the two do not fit.
        reason: String,
    },
    /// The plugin asks for more memory than the instance pool reserves per instance.
    #[error(
        "plugin {path} asks for a memory limit of {requested} bytes, above the operator's --plugin-memory-limit \
         of {pool} bytes"
    )]
    MemoryLimit {
        path: PathBuf,
        requested: usize,
        pool: usize,
    },
}
