//! The wasmtime engine (component model, pooling allocator, epoch interruption driven by a ticker thread) and
//! the on-disk cache of compiled components.

use std::{
    fs,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    time::Duration,
};

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, component::Component};

use super::error::PluginError;

/// One epoch tick. Deadlines are checked, and long-running guests yield to the executor, at this granularity.
pub const TICK: Duration = Duration::from_millis(10);

/// Concurrent plugin instances the pool holds; calls beyond it wait for a slot.
pub const MAX_INSTANCES: u32 = 64;

/// The engine shared by every plugin. The pool is sized from `MAX_INSTANCES`: a wasip2 component made by rustc
/// holds several core instances (program, WASI adapter, shims), hence the multipliers.
pub fn new_engine(memory_limit: usize) -> Result<Engine, PluginError> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * 8)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 4)
        .total_stacks(MAX_INSTANCES)
        .max_memory_size(memory_limit);
    let mut config = Config::new();
    config
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).map_err(|e| PluginError::Engine(e.into_boxed_dyn_error()))?;
    spawn_ticker(&engine);
    Ok(engine)
}

/// Advances the epoch every tick; the thread holds only a weak handle and ends when the engine is dropped.
fn spawn_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = std::thread::Builder::new()
        .name("wasm-epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        });
    // Without a ticker every deadline would still be enforced by the call's timeout; log and go on.
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the wasm epoch ticker; deadlines rely on call timeouts only");
    }
}

/// Feeds `Hash` output into SHA-256, for a cache key that is stable across processes (unlike `DefaultHasher`,
/// whose seed is only fixed per Rust release).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        unreachable!("only the digest is used")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// `<sha256 of the wasm>-<hash of the engine's precompile compatibility>`: an artifact is reused only by an
/// engine that can run it.
fn cache_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut engine_hasher = ShaHasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut engine_hasher);
    let engine_digest = engine_hasher.0.finalize();
    format!(
        "{}-{}",
        hex::encode(Sha256::digest(wasm)),
        hex::encode(&engine_digest[..8])
    )
}

/// Loads a compiled artifact that this process (or an earlier one with the same engine hash) wrote.
#[allow(unsafe_code)]
fn deserialize_cached(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: deserialising runs machine code from the file. It is sound because the cache directory holds only
    // artifacts written by `compile_component` below from `Engine::precompile_component` output, under a name that
    // includes the engine's compatibility hash, and they are written to a temporary name and renamed into place,
    // so a torn write is never read.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Compiles `wasm` (fetched from `path`, a file or a source URL used in errors), going through `cache_dir`
/// when set.
pub fn compile_component(
    engine: &Engine,
    wasm: &[u8],
    path: &Path,
    cache_dir: Option<&Path>,
) -> Result<Component, PluginError> {
    let compile_error = |e: wasmtime::Error| PluginError::Compile {
        path: path.to_owned(),
        source: e.into_boxed_dyn_error(),
    };
    let usable = cache_dir.and_then(|dir| match usable_cache_dir(dir) {
        Ok(usable) => Some(usable),
        Err(error) => {
            tracing::warn!(dir = %dir.display(), %error, "not using the compiled-plugin cache; compiling in memory");
            None
        }
    });
    let Some(cache_dir) = usable.as_deref() else {
        return Component::new(engine, wasm).map_err(compile_error);
    };
    let cached = cache_dir.join(format!("{}.cwasm", cache_key(engine, wasm)));
    if cached.is_file() {
        match deserialize_cached(engine, &cached) {
            Ok(component) => return Ok(component),
            Err(error) => {
                tracing::warn!(path = %cached.display(), %error, "ignoring an unusable cached plugin")
            }
        }
    }
    let artifact = engine.precompile_component(wasm).map_err(compile_error)?;
    write_atomically(cache_dir, &cached, &artifact)?;
    deserialize_cached(engine, &cached).map_err(compile_error)
}

/// The subdirectory of `--plugin-cache-dir` that holds the compiled artifacts when the directory itself is not
/// private (a volume anyone in the pod may write to: an emptyDir is mode 0777).
const CACHE_SUBDIR: &str = "compiled";

/// The configured cache directory if it is private, else its private subdirectory [`CACHE_SUBDIR`].
fn usable_cache_dir(dir: &Path) -> std::io::Result<PathBuf> {
    if private_cache_dir(dir).is_ok() {
        return Ok(dir.to_owned());
    }
    let sub = dir.join(CACHE_SUBDIR);
    private_cache_dir(&sub)?;
    Ok(sub)
}

/// Makes sure the cache directory is the operator's alone: its files are run as machine code, so a directory
/// someone else owns or may write to is refused (a symlink too). A missing directory is created with mode 0700.
fn private_cache_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _};
        if fs::symlink_metadata(dir).is_err() {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let meta = fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(std::io::Error::other(
                "not a directory (symbolic links are refused)",
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(std::io::Error::other(format!(
                "writable by group or others (mode {:o})",
                meta.mode() & 0o777
            )));
        }
        // The process's own user, as Linux shows it on /proc/self.
        if let Ok(me) = fs::metadata("/proc/self").map(|m| m.uid())
            && meta.uid() != me
        {
            return Err(std::io::Error::other(format!(
                "owned by user {}, not by this process's user {me}",
                meta.uid()
            )));
        }
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)?;
    Ok(())
}

/// A name no other writer picks: two replicas sharing a cache volume both run as pid 1.
fn temp_name(path: &Path) -> PathBuf {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    path.with_extension(format!("tmp-{:016x}", hasher.finish()))
}

fn write_atomically(dir: &Path, path: &PathBuf, bytes: &[u8]) -> Result<(), PluginError> {
    use std::io::Write as _;
    let cache_error = |source| PluginError::Cache {
        path: path.clone(),
        source,
    };
    fs::create_dir_all(dir).map_err(cache_error)?;
    let temp = temp_name(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| file.write_all(bytes));
    if let Err(error) = written {
        let _ = fs::remove_file(&temp);
        return Err(cache_error(error));
    }
    fs::rename(&temp, path).map_err(cache_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_differ_within_one_process() {
        let path = Path::new("/cache/x.cwasm");
        assert_ne!(temp_name(path), temp_name(path));
    }

    #[cfg(unix)]
    #[test]
    fn a_cache_dir_others_may_write_to_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = tempfile::tempdir().unwrap();
        let fresh = root.path().join("new/cache");
        private_cache_dir(&fresh).expect("created private");
        let mode = fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let shared = root.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        let error = private_cache_dir(&shared).unwrap_err();
        assert_eq!(
            usable_cache_dir(&shared).expect("a private directory inside the shared one"),
            shared.join(CACHE_SUBDIR)
        );
        assert_eq!(
            usable_cache_dir(&fresh).unwrap(),
            fresh,
            "a private directory is used as it is"
        );
        assert!(
            error.to_string().contains("writable by group or others"),
            "{error}"
        );
        let link = root.path().join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        assert!(private_cache_dir(&link).is_err(), "a symlink is refused");
    }
}
