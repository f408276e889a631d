//! The main job as a newcomer runs it: `platform-mesh-operator run --embedded` through the real binary, default
//! flags, no `RUST_LOG`. It exits 0 once the sample PlatformMesh, ManagedProvider and Provider are Ready; stdout
//! holds one line per condition change and a summary of what each controller made; no line of stdout or stderr is
//! wider than 120 columns, and no tracing below warnings shows.

use std::{path::PathBuf, process::Command};

const WIDTH: usize = 120;

#[test]
fn main_job_brings_all_three_controllers_to_ready_in_compact_output() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO_BIN_EXE_platform-mesh-operator"))
        .args(["run", "--embedded", "--timeout=240s"])
        .arg(format!(
            "--kubeconfig={}",
            dir.path().join("kubeconfig").display()
        ))
        .arg(format!("--workspace-dir={}", workspace.display()))
        .env_remove("RUST_LOG")
        .output()
        .expect("the operator binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(
            line.chars().count() <= WIDTH,
            "wider than {WIDTH} columns: {line:?}"
        );
        assert!(
            !line.chars().any(char::is_control),
            "control characters: {line:?}"
        );
    }
    for line in stderr.lines().filter(|l| !l.starts_with(' ')) {
        assert!(
            line.starts_with("WARN ") || line.starts_with("ERROR "),
            "only warnings and errors by default: {line:?}"
        );
    }
    for kind in ["PlatformMesh", "ManagedProvider", "Provider"] {
        let ready = stdout.lines().any(|l| {
            l.starts_with('[') && l.contains(&format!("] {kind} ")) && l.contains("  Ready  True  ")
        });
        assert!(ready, "a Ready line of {kind}:\n{stdout}");
    }
    let summary = stdout
        .split_once("All Ready after ")
        .map(|(_, summary)| summary)
        .unwrap_or_else(|| panic!("a summary:\n{stdout}"));
    for made in [
        "PlatformMesh platform-mesh-system/platform-mesh (Ready after ",
        "ManagedProvider platform-mesh-system/example-provider (Ready after ",
        "  Provider example-provider in kcp workspace root:providers:system\n",
        "  HelmRelease platform-mesh-system/example-provider (Ready)\n",
        "  Secret platform-mesh-system/example-provider-provider-kubeconfig (the Provider's kubeconfig, copied)\n",
        "Provider root:providers:system:example-provider (Ready after ",
        "  Workspace root:providers:example-provider-",
    ] {
        assert!(summary.contains(made), "the summary lists {made:?}:\n{summary}");
    }
    let kubeconfig =
        std::fs::read_to_string(dir.path().join("kubeconfig")).expect("the kubeconfig is written");
    assert!(kubeconfig.contains("kcp-root"), "{kubeconfig}");
}
