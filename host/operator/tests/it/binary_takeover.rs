//! The real binary in the image's layout, started from a copy outside the checkout (`<dir>/manager`,
//! `<dir>/plugins`, `<dir>/gotemplates`, `<dir>/manifests`) with a Go Deployment's arguments: no `--plugins-dir`,
//! common flags before the `operator` sub-command. Also: the start fails closed (a missing plugin, a wrong digest),
//! waits while not ready for a source that is unreachable, and an API-server outage costs little CPU and does not
//! delay SIGTERM.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use apiserver::{FaultAction, FaultRule, Server, ServerConfig, sim::SimConfig};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, ObjectMeta, PostParams},
};
use platform_mesh_operator::{embedded, plugin::RuntimeConfig};

/// The repository root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// `/operator` as the image has it, in a temporary directory outside the checkout.
struct Image {
    dir: tempfile::TempDir,
    started: std::cell::Cell<u32>,
}

/// A started manager and the file its stderr goes to (a pipe nobody reads would block it).
struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn id(&self) -> u32 {
        self.child.id()
    }
}

impl Image {
    fn new() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        std::fs::copy(env!("CARGO_BIN_EXE_platform-mesh-operator"), root.join("manager"))?;
        std::fs::create_dir(root.join("plugins"))?;
        for entry in std::fs::read_dir(RuntimeConfig::default_plugins_dir())? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wasm") {
                std::fs::copy(
                    &path,
                    root.join("plugins").join(path.file_name().unwrap_or_default()),
                )?;
            }
        }
        copy_tree(&repo().join("gotemplates"), &root.join("gotemplates"))?;
        copy_tree(&repo().join("manifests"), &root.join("manifests"))?;
        Ok(Image {
            dir,
            started: std::cell::Cell::new(0),
        })
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The manager with `args`, against the cluster of `kubeconfig` (as `KUBECONFIG`, which upstream reads).
    fn start(&self, kubeconfig: &Path, args: &[String]) -> std::io::Result<Running> {
        let n = self.started.get() + 1;
        self.started.set(n);
        let log = self.root().join(format!("stderr-{n}.log"));
        let child = Command::new(self.root().join("manager"))
            .args(args)
            .current_dir(self.root())
            .env("KUBECONFIG", kubeconfig)
            .env("POD_NAMESPACE", "platform-mesh-system")
            .env_remove("PMO_PLUGINS_DIR")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        Ok(Running { child, log })
    }

    /// A Go Deployment's arguments: common flags before `operator`, operator flags after it.
    fn upstream_args(&self, server: &Server, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["--log-level=info", "--no-json", "operator", "--leader-elect"]
            .map(String::from)
            .to_vec();
        args.push(format!("--workspace-dir={}/", self.root().display()));
        args.push(format!("--kcp-url={}", server.url()));
        args.extend(
            [
                "--subroutines-deployment-enable-istio=false",
                "--metrics-bind-address=0",
                "--health-probe-bind-address=0",
            ]
            .map(String::from),
        );
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    }
}

async fn platform(simulators: SimConfig) -> anyhow::Result<(Server, tempfile::TempDir, PathBuf)> {
    let server = apiserver::start(ServerConfig {
        simulators,
        ..ServerConfig::default()
    })
    .await?;
    let client = server.client();
    embedded::install_crds(&client).await?;
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("platform-mesh-system".into()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let _ = Api::<Namespace>::all(client)
        .create(&PostParams::default(), &ns)
        .await;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig)?;
    Ok((server, dir, kubeconfig))
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for the manager to exit (at most `within`) and returns its status and stderr.
async fn exit_of(mut running: Running, within: Duration) -> (std::process::ExitStatus, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = running.child.try_wait().expect("waiting for the operator") {
            return (status, std::fs::read_to_string(&running.log).unwrap_or_default());
        }
        if started.elapsed() > within {
            let _ = running.child.kill();
            let log = std::fs::read_to_string(&running.log).unwrap_or_default();
            panic!("the operator did not exit within {within:?}:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sigterm(child: &Running) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn platform_meshes(client: &Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh");
    Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(&gvk, "platformmeshes"),
    )
}

#[tokio::test]
async fn copied_binary_with_upstream_args_finds_its_plugins_and_reaches_ready() -> anyhow::Result<()> {
    let (server, _dir, kubeconfig) = platform(SimConfig::all()).await?;
    let client = server.client();
    for sample in embedded::SAMPLES {
        for object in embedded::read_documents(&repo().join(sample))? {
            embedded::apply(&client, &object).await?;
        }
    }
    let image = Image::new()?;
    let mut child = image.start(&kubeconfig, &image.upstream_args(&server, &[]))?;
    let ready = async || {
        let list = platform_meshes(&client).list(&Default::default()).await;
        list.is_ok_and(|list| {
            !list.items.is_empty()
                && list.items.iter().all(|pm| {
                    pm.data["status"]["conditions"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
                })
        })
    };
    let started = Instant::now();
    while !ready().await {
        if let Some(status) = child.child.try_wait()? {
            let (_, stderr) = exit_of(child, Duration::ZERO).await;
            panic!("the operator exited ({status}) before Ready:\n{stderr}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "not Ready within 240 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    sigterm(&child);
    let (status, _) = exit_of(child, Duration::from_secs(60)).await;
    assert!(status.success(), "{status}");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_missing_plugin_of_an_enabled_step_stops_the_start_naming_plugin_and_path() -> anyhow::Result<()> {
    let (server, _dir, kubeconfig) = platform(SimConfig::none()).await?;
    let image = Image::new()?;
    let missing = image.root().join("plugins/kcp_setup.wasm");
    std::fs::remove_file(&missing)?;
    let child = image.start(&kubeconfig, &image.upstream_args(&server, &[]))?;
    let (status, stderr) = exit_of(child, Duration::from_secs(120)).await;
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("plugin kcp-setup"), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");

    // Switched off by its flag, the step needs no plugin: the operator starts (and is stopped).
    let child = image.start(
        &kubeconfig,
        &image.upstream_args(&server, &["--subroutines-kcp-setup-enabled=false"]),
    )?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    sigterm(&child);
    let (status, stderr) = exit_of(child, Duration::from_secs(60)).await;
    assert!(status.success(), "{status}\n{stderr}");
    server.shutdown().await;
    Ok(())
}

async fn plugin_config(client: &Client, plugins_yaml: &str) -> anyhow::Result<()> {
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some("plugins".into()),
            namespace: Some("platform-mesh-system".into()),
            ..ObjectMeta::default()
        },
        data: Some([("plugins.yaml".to_owned(), plugins_yaml.to_owned())].into()),
        ..ConfigMap::default()
    };
    Api::<ConfigMap>::namespaced(client.clone(), "platform-mesh-system")
        .create(&PostParams::default(), &cm)
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_wrong_digest_stops_the_start() -> anyhow::Result<()> {
    let (server, _dir, kubeconfig) = platform(SimConfig::none()).await?;
    let zeros = "0".repeat(64);
    plugin_config(
        &server.client(),
        &format!(
            "plugins:\n- {{name: wait, source: 'file://wait.wasm', sha256: {zeros}}}\nchains:\n  platformmesh: [wait]\n"
        ),
    )
    .await?;
    let image = Image::new()?;
    let args = image.upstream_args(&server, &["--plugin-config=platform-mesh-system/plugins"]);
    let (status, stderr) = exit_of(image.start(&kubeconfig, &args)?, Duration::from_secs(120)).await;
    assert!(!status.success(), "{status}");
    assert!(stderr.contains("plugin wait"), "{stderr}");
    assert!(stderr.contains("digest mismatch"), "{stderr}");
    server.shutdown().await;
    Ok(())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn readyz(port: u16) -> Option<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    response.get(9..12)?.parse().ok()
}

#[tokio::test]
async fn an_unreachable_plugin_config_map_is_retried_while_not_ready() -> anyhow::Result<()> {
    let (server, _dir, kubeconfig) = platform(SimConfig::none()).await?;
    let failing = server.faults().add(
        FaultRule::new(FaultAction::Error {
            code: 503,
            message: None,
            retry_after_seconds: None,
        })
        .resource("configmaps"),
    );
    let image = Image::new()?;
    let port = free_port();
    let probes = format!("--health-probe-bind-address=127.0.0.1:{port}");
    let mut args = image.upstream_args(&server, &["--plugin-config=platform-mesh-system/plugins"]);
    args.retain(|a| !a.starts_with("--health-probe-bind-address"));
    args.push(probes);
    let mut child = image.start(&kubeconfig, &args)?;
    until(
        "not ready while the ConfigMap cannot be read",
        Duration::from_secs(60),
        async || readyz(port).await == Some(503),
    )
    .await;
    assert!(
        child.child.try_wait()?.is_none(),
        "a transient failure does not stop the start"
    );
    server.faults().remove(failing);
    until("ready once it can", Duration::from_secs(120), async || {
        readyz(port).await == Some(200)
    })
    .await;
    sigterm(&child);
    let (status, _) = exit_of(child, Duration::from_secs(60)).await;
    assert!(status.success(), "{status}");
    server.shutdown().await;
    Ok(())
}

/// User plus system CPU time of process `pid` so far (Linux).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux the tests run on.
    Some(Duration::from_millis(ticks * 10))
}

/// With the API server gone, every watch backs off: the operator stays under a tenth of a core, and SIGTERM
/// ends it promptly (well within `--shutdown-timeout`).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_api_server_outage_costs_little_cpu_and_sigterm_still_exits_promptly() -> anyhow::Result<()> {
    let (server, _dir, kubeconfig) = platform(SimConfig::none()).await?;
    plugin_config(
        &server.client(),
        "plugins:\n- {name: wait, source: 'file://wait.wasm'}\nchains:\n  platformmesh: [wait]\n",
    )
    .await?;
    let image = Image::new()?;
    let mut args = image.upstream_args(&server, &["--plugin-config=platform-mesh-system/plugins"]);
    // Without leader election: a leader that cannot renew steps down and exits, which is not what is measured.
    args.retain(|a| a != "--leader-elect");
    let child = image.start(&kubeconfig, &args)?;
    // Started: the plugin set is in service once the ConfigMap carries the status annotation.
    let client = server.client();
    until(
        "the plugin set is in service",
        Duration::from_secs(120),
        async || {
            let cm = Api::<ConfigMap>::namespaced(client.clone(), "platform-mesh-system")
                .get_opt("plugins")
                .await;
            cm.ok()
                .flatten()
                .and_then(|cm| cm.metadata.annotations)
                .is_some_and(|a| a.contains_key("plugins.platform-mesh.io/status"))
        },
    )
    .await;
    server.shutdown().await;
    // Let the watches notice, then measure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let window = Duration::from_secs(10);
    let before = cpu_time(child.id()).expect("cpu time");
    tokio::time::sleep(window).await;
    let used = cpu_time(child.id()).expect("cpu time") - before;
    let share = used.as_secs_f64() / window.as_secs_f64();
    println!(
        "CPU with the API server gone: {:.1}% of a core over {window:?}",
        share * 100.0
    );
    assert!(share < 0.10, "{:.1}% of a core", share * 100.0);
    let stopping = Instant::now();
    sigterm(&child);
    let (status, _) = exit_of(child, Duration::from_secs(30)).await;
    println!("exit after SIGTERM: {:?}", stopping.elapsed());
    assert!(status.success(), "{status}");
    Ok(())
}
