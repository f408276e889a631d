//! [`PluginRuntime`]: the engine, the linker with the host imports, and loading plugins.

use std::{path::Path, sync::Arc};

use wasmtime::{
    Engine,
    component::{HasSelf, Linker},
};

use super::{
    call::WasmSubroutine,
    config::{PluginOptions, RuntimeConfig},
    engine::{MAX_INSTANCES, compile_component, new_engine},
    error::PluginError,
    store::{StoreState, new_store},
    version::{WIT_VERSION, check_version},
};
use crate::{
    hostapi::{HostCall, HostServices, Permissions},
    lifecycle::Subroutine,
    wit::{Plugin, PluginPre},
};

/// What every loaded plugin shares.
pub(super) struct Shared {
    pub engine: Engine,
    pub linker: Linker<StoreState>,
    pub config: RuntimeConfig,
    pub services: Arc<HostServices>,
    /// One permit per pool slot, so a burst of calls waits instead of failing to instantiate.
    pub slots: tokio::sync::Semaphore,
}

/// Loads and runs wasm plugins. Create one per process; cloning is cheap.
#[derive(Clone)]
pub struct PluginRuntime {
    shared: Arc<Shared>,
}

fn boxed(e: wasmtime::Error) -> super::error::BoxError {
    e.into_boxed_dyn_error()
}

impl PluginRuntime {
    /// Creates the engine (and its epoch ticker) and links the host imports.
    pub fn new(config: RuntimeConfig, services: HostServices) -> Result<Self, PluginError> {
        let workspace = &config.workspace_dir;
        let is_dir = std::fs::metadata(workspace).and_then(|m| {
            if m.is_dir() {
                Ok(())
            } else {
                Err(std::io::Error::other("not a directory"))
            }
        });
        is_dir.map_err(|source| PluginError::Workspace {
            path: workspace.clone(),
            source,
        })?;
        let engine = new_engine(config.memory_limit)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| PluginError::Engine(boxed(e)))?;
        Plugin::add_to_linker::<StoreState, HasSelf<HostCall>>(&mut linker, |state| &mut state.host)
            .map_err(|e| PluginError::Engine(boxed(e)))?;
        let shared = Shared {
            engine,
            linker,
            config,
            services: Arc::new(services),
            slots: tokio::sync::Semaphore::new(MAX_INSTANCES as usize),
        };
        Ok(PluginRuntime {
            shared: Arc::new(shared),
        })
    }

    /// The configuration it was created with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.shared.config
    }

    /// Loads one plugin with default options (`{}` config, permissive permissions).
    pub async fn load_file(&self, path: &Path) -> Result<Arc<dyn Subroutine>, PluginError> {
        self.load_file_with(path, PluginOptions::default()).await
    }

    /// Loads one plugin with its configuration and permissions.
    pub async fn load_file_with(
        &self,
        path: &Path,
        options: PluginOptions,
    ) -> Result<Arc<dyn Subroutine>, PluginError> {
        Ok(Arc::new(self.load(path, &options).await?))
    }

    /// Compiles (or fetches from the cache), links, pre-instantiates and smoke-calls `info()`.
    async fn load(&self, path: &Path, options: &PluginOptions) -> Result<WasmSubroutine, PluginError> {
        let wasm = tokio::fs::read(path).await.map_err(|source| PluginError::Read {
            path: path.to_owned(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.load_wasm(wasm, path, &stem, options).await
    }

    /// Loads a plugin from its (already verified) wasm bytes; `origin` (a path or source URL) names it in errors
    /// and `stem` in logs and call failures.
    pub async fn load_bytes(
        &self,
        wasm: Vec<u8>,
        origin: &Path,
        stem: &str,
        options: &PluginOptions,
    ) -> Result<Arc<WasmSubroutine>, PluginError> {
        Ok(Arc::new(self.load_wasm(wasm, origin, stem, options).await?))
    }

    async fn load_wasm(
        &self,
        wasm: Vec<u8>,
        path: &Path,
        stem: &str,
        options: &PluginOptions,
    ) -> Result<WasmSubroutine, PluginError> {
        let shared = &self.shared;
        if let Some(memory) = options.limits.memory.filter(|m| *m > shared.config.memory_limit) {
            return Err(PluginError::MemoryLimit {
                path: path.to_owned(),
                requested: memory,
                pool: shared.config.memory_limit,
            });
        }
        let engine = shared.engine.clone();
        let cache = shared.config.cache_dir.clone();
        let owned = path.to_owned();
        // Compiling takes tens of milliseconds of CPU: keep it off the async workers.
        let component =
            tokio::task::spawn_blocking(move || compile_component(&engine, &wasm, &owned, cache.as_deref()))
                .await
                .map_err(|e| PluginError::Compile {
                    path: path.to_owned(),
                    source: Box::new(e),
                })??;
        let link = |e: wasmtime::Error| PluginError::Link {
            path: path.to_owned(),
            source: boxed(e),
        };
        let pre = PluginPre::new(shared.linker.instantiate_pre(&component).map_err(link)?).map_err(link)?;
        let info = self.info(&pre, path, stem).await?;
        check_version(&info.wit_version).map_err(|reason| PluginError::Version {
            path: path.to_owned(),
            plugin: info.wit_version.clone(),
            host: WIT_VERSION.to_owned(),
            reason,
        })?;
        tracing::info!(plugin = %stem, name = %info.name, version = %info.version, "loaded plugin");
        Ok(WasmSubroutine::new(
            shared.clone(),
            pre,
            info,
            stem.to_owned(),
            path.to_owned(),
            options,
        ))
    }

    async fn info(
        &self,
        pre: &PluginPre<StoreState>,
        path: &Path,
        stem: &str,
    ) -> Result<crate::wit::wit_subroutine::PluginInfo, PluginError> {
        let shared = &self.shared;
        let info_error = |e: wasmtime::Error| PluginError::Info {
            path: path.to_owned(),
            source: boxed(e),
        };
        // info() must not call imports; give it no permissions so that a plugin breaking the rule fails here.
        let host = HostCall::new(
            shared.services.clone(),
            stem.into(),
            String::new(),
            Arc::new(Permissions::default()),
        );
        let (mut store, output) = new_store(
            &shared.engine,
            &shared.config.workspace_dir,
            shared.config.memory_limit,
            shared.config.call_timeout,
            host,
        )
        .map_err(info_error)?;
        let call = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .platform_mesh_operator_subroutine()
                .call_info(&mut store)
                .await
        };
        let result = call.await;
        output.forward();
        result.map_err(info_error)
    }
}
