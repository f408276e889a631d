//! Real client binaries (kubectl, Helm) against a server running in its own runtime.
//!
//! The binaries come from `PMO_KUBECTL` / `PMO_HELM`, else `target/clients/bin/` (where
//! `tests/tools/fetch-clients.sh`, run by `.ci/run`, puts kubectl v1.35.2 and Helm v4.1.4). A missing binary skips
//! the test with a message, except in CI (`CI=true`), where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use apiserver::sim::SimConfig;
use apiserver::{Server, ServerConfig};

/// The binary of `tool` (`kubectl` or `helm`), or `None` (with a message) when it is not installed outside CI.
pub fn find(tool: &str, test: &str) -> Option<PathBuf> {
    let var = format!("PMO_{}", tool.to_uppercase());
    let path = match std::env::var_os(&var) {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/clients/bin")
            .join(tool),
    };
    if path.is_file() {
        return Some(path);
    }
    let msg = format!(
        "{tool} not found at {} (run host/apiserver/tests/tools/fetch-clients.sh or set {var})",
        path.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{test}: {msg}");
    eprintln!("SKIPPED {test}: {msg}");
    None
}

/// A server in a runtime of its own, so that tests can run client binaries synchronously.
pub struct Running {
    pub server: Option<Server>,
    rt: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
}

impl Running {
    pub fn start() -> Running {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt
            .block_on(apiserver::start(ServerConfig {
                simulators: SimConfig::none(),
                ..ServerConfig::default()
            }))
            .expect("server starts");
        Running {
            server: Some(server),
            rt,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn url(&self) -> String {
        self.server
            .as_ref()
            .map(|s| s.url().to_string())
            .unwrap_or_default()
    }

    /// A kubeconfig file whose only context points at `server_url`.
    pub fn kubeconfig(&self, name: &str, server_url: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{server_url}\"}}\n\
             users:\n- name: u\n  user: {{}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u, namespace: default}}\n\
             current-context: x\n"
        );
        std::fs::write(&path, yaml).expect("kubeconfig written");
        path
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.rt.block_on(server.shutdown());
        }
    }
}

/// A client binary with its kubeconfig and a private home (caches).
pub struct Cli {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
    pub home: PathBuf,
}

impl Cli {
    pub fn new(bin: &Path, kubeconfig: &Path, home: &Path) -> Cli {
        Cli {
            bin: bin.to_path_buf(),
            kubeconfig: kubeconfig.to_path_buf(),
            home: home.to_path_buf(),
        }
    }

    /// Runs the binary with `args` and `stdin`.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(&self.bin)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", &self.home)
            .env("HELM_CACHE_HOME", self.home.join("helm-cache"))
            .env("HELM_CONFIG_HOME", self.home.join("helm-config"))
            .env("HELM_DATA_HOME", self.home.join("helm-data"))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the client starts");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).expect("stdin written");
        }
        child.wait_with_output().expect("the client finishes")
    }

    /// stdout of a run that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_in(args, None)
    }

    /// stdout of a run with `stdin` that must succeed.
    pub fn ok_in(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{} {args:?} failed: {stdout}{}",
            self.bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// stdout and stderr of a run that must fail.
    pub fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{args:?} should fail: {all}");
        all
    }
}
