//! Builds every plugin crate under `plugins/` (except the SDK) for `wasm32-wasip2` with the `plugin` profile, in
//! a target directory of its own (`target/wasm`), and tells the operator where the components are:
//!
//! - `PLUGINS_DIR`: the default plugins shipped with the operator (the default `--plugins-dir`),
//! - `TEST_PLUGINS_DIR`: the purpose-built test plugins of `plugins/testing/*` (lib names start with `test_`),
//! - `EXAMPLE_PLUGINS_DIR`: the vendor examples of `plugins/examples/*`, kept out of the default plugins so they
//!   join no chain unless a plugin ConfigMap puts them there.
//!
//! It also links `target/<profile>/plugins` to `PLUGINS_DIR`, so a binary the build made finds its plugins
//! beside itself exactly as the image's `/operator/manager` finds `/operator/plugins`: the operator looks
//! there by default and never at a path compiled into it.
//!
//! A nested cargo is the only way to build another target from a build script. It gets its own target directory
//! so it never waits for the outer cargo's lock, and a scrubbed environment so nothing the outer cargo set for this
//! build script (flags, target, jobserver, wrappers) redirects or breaks it.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

const TARGET: &str = "wasm32-wasip2";

/// Variables the outer cargo sets that must not reach the nested build.
const SCRUB: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_PKG_NAME",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "PROFILE",
    "OPT_LEVEL",
    "DEBUG",
    "NUM_JOBS",
    "RUSTC_LINKER",
    "LLVM_PROFILE_FILE",
    // Read by plugins at build time to report another version (tests build variants with it on purpose).
    "PLATFORM_MESH_PLUGIN_VERSION",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists");
    for watched in ["plugins", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let target_dir = root.join("target/wasm");
    let plugins_dir = target_dir.join("plugins");
    let test_plugins_dir = target_dir.join("test-plugins");
    let example_plugins_dir = target_dir.join("example-plugins");
    println!("cargo:rustc-env=PLUGINS_DIR={}", plugins_dir.display());
    println!("cargo:rustc-env=TEST_PLUGINS_DIR={}", test_plugins_dir.display());
    println!(
        "cargo:rustc-env=EXAMPLE_PLUGINS_DIR={}",
        example_plugins_dir.display()
    );

    let packages = plugin_packages(&root);
    let example_packages: Vec<String> = plugin_dirs(&root, &["plugins/examples"])
        .iter()
        .filter_map(|dir| read_names(&dir.join("Cargo.toml")))
        .map(|(_, package)| package)
        .collect();
    if packages.is_empty() {
        return;
    }
    ensure_target();
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        // No `--locked`: the outer cargo has just resolved the shared Cargo.lock, so the nested build finds it
        // consistent; and should a checkout ever carry a stale lock file, updating it beats failing the build.
        .args(["build", "--target", TARGET, "--profile", "plugin"]);
    for (_, package) in &packages {
        cmd.args(["-p", package]);
    }
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let leaked = key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_PKG_")
            || key.starts_with("DEP_");
        if leaked || SCRUB.contains(&key.as_ref()) {
            cmd.env_remove(key.as_ref());
        }
    }
    // Set after the scrub, which removes an inherited CARGO_TARGET_DIR.
    cmd.env("CARGO_TARGET_DIR", &target_dir);
    // The nested cargo's stdout would be read as build-script directives; send it to stderr.
    cmd.stdout(std::io::stderr());
    let status = cmd
        .status()
        .expect("running the nested cargo build of the plugins");
    if !status.success() {
        if !target_installed() {
            panic!(
                "building the wasm plugins needs the {TARGET} target; install it with `rustup target add {TARGET}`"
            );
        }
        panic!("building the wasm plugins failed ({status}); see the cargo output above");
    }

    let built = target_dir.join(TARGET).join("plugin");
    for dir in [&plugins_dir, &test_plugins_dir, &example_plugins_dir] {
        fs::create_dir_all(dir).expect("creating the plugin output directory");
    }
    for (lib, package) in &packages {
        let from = built.join(format!("{lib}.wasm"));
        let into = if lib.starts_with("test_") {
            &test_plugins_dir
        } else if example_packages.contains(package) {
            &example_plugins_dir
        } else {
            &plugins_dir
        };
        copy_if_changed(&from, &into.join(format!("{lib}.wasm")));
    }
    link_beside_binaries(&plugins_dir);
}

/// Makes `target/<profile>/plugins` (three levels above `OUT_DIR`, beside the binaries) a link to the plugins
/// just built. A real directory someone put there is left alone.
fn link_beside_binaries(plugins_dir: &Path) {
    let Some(profile_dir) = env::var_os("OUT_DIR")
        .map(PathBuf::from)
        .and_then(|out| out.ancestors().nth(3).map(Path::to_owned))
    else {
        return;
    };
    let link = profile_dir.join("plugins");
    match fs::symlink_metadata(&link) {
        Ok(meta) if !meta.file_type().is_symlink() => return,
        Ok(_) if fs::read_link(&link).ok().as_deref() == Some(plugins_dir) => return,
        Ok(_) => fs::remove_file(&link).unwrap_or_else(|e| panic!("replacing {}: {e}", link.display())),
        Err(_) => {}
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(plugins_dir, &link)
        .unwrap_or_else(|e| panic!("linking {}: {e}", link.display()));
    #[cfg(windows)]
    std::os::windows::fs::symlink_dir(plugins_dir, &link)
        .unwrap_or_else(|e| panic!("linking {}: {e}", link.display()));
}

/// Copies only when the content differs, so the file's mtime stays put; through a temporary name and a rename,
/// so a test running while another cargo rebuilds the plugins never reads a half-written file.
fn copy_if_changed(from: &Path, to: &Path) {
    let bytes = fs::read(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display()));
    if fs::read(to).ok().as_deref() != Some(bytes.as_slice()) {
        let temp = to.with_extension(format!("wasm.tmp{}", std::process::id()));
        fs::write(&temp, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", temp.display()));
        fs::rename(&temp, to).unwrap_or_else(|e| panic!("renaming into {}: {e}", to.display()));
    }
}

/// Installs the wasm target when the toolchain lacks it. rustup adds the targets of `rust-toolchain.toml` only when
/// it installs the toolchain itself, so a machine that already had this toolchain would otherwise need a manual
/// step before the README's commands work.
fn ensure_target() {
    if target_installed() {
        return;
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", TARGET]);
    if let Ok(toolchain) = env::var("RUSTUP_TOOLCHAIN") {
        rustup.args(["--toolchain", &toolchain]);
    }
    rustup.stdout(std::io::stderr());
    match rustup.status() {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("`rustup target add {TARGET}` failed ({status}); install the target by hand"),
        Err(e) => {
            panic!("the wasm plugins need the {TARGET} target and rustup could not be run to add it: {e}")
        }
    }
}

fn target_installed() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().ok();
    let sysroot = sysroot
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    Path::new(&sysroot).join("lib/rustlib").join(TARGET).exists()
}

/// `(lib name, package name)` of every plugin crate: `plugins/*` except the SDK, `plugins/testing/*` and
/// `plugins/examples/*`.
fn plugin_packages(root: &Path) -> Vec<(String, String)> {
    plugin_dirs(root, &["plugins", "plugins/testing", "plugins/examples"])
        .iter()
        .filter_map(|dir| read_names(&dir.join("Cargo.toml")))
        .collect()
}

/// The crate directories directly under each of `parents` (the SDK and the grouping directories excluded).
fn plugin_dirs(root: &Path, parents: &[&str]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for parent in parents {
        let Ok(entries) = fs::read_dir(root.join(parent)) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let name = entry.file_name();
            let grouping = name == "sdk" || name == "testing" || name == "examples";
            if !grouping && dir.join("Cargo.toml").is_file() {
                dirs.push(dir);
            }
        }
    }
    dirs.sort();
    dirs
}

/// Reads `[package] name` and `[lib] name` (defaulting to the package name with `-` → `_`) from a manifest.
/// A line-based read is enough for our own manifests and avoids a TOML dependency in the build script.
fn read_names(manifest: &Path) -> Option<(String, String)> {
    let text = fs::read_to_string(manifest).ok()?;
    let (mut section, mut package, mut lib) = (String::new(), None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if let Some(value) = line
            .strip_prefix("name")
            .map(str::trim)
            .and_then(|r| r.strip_prefix('='))
        {
            // `name = "x"  # comment`: the value is the quoted part.
            let value = value.split('#').next().unwrap_or_default();
            let value = value.trim().trim_matches('"').to_owned();
            match section.as_str() {
                "[package]" => package = Some(value),
                "[lib]" => lib = Some(value),
                _ => {}
            }
        }
    }
    let package = package?;
    Some((lib.unwrap_or_else(|| package.replace('-', "_")), package))
}
