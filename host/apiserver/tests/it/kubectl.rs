//! Drives the standalone binary with the real kubectl: namespace, server-side apply of a CRD and an object,
//! `get -o yaml`, `wait --for=condition=Ready`, finalizer-held deletion, and a clean exit on SIGTERM. The kubectl
//! command matrix is in [`crate::kubectl_matrix`].

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.io
spec:
  group: example.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

const WIDGET: &str =
    "apiVersion: example.io/v1\nkind: Widget\nmetadata: {name: w1, namespace: demo}\nspec: {size: 2}\n";
const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: demo}\n";

struct Kubectl<'a> {
    bin: &'a Path,
    kubeconfig: &'a Path,
    home: &'a Path,
}

impl Kubectl<'_> {
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<String> {
        let mut cmd = Command::new(self.bin);
        cmd.args(args)
            .env("KUBECONFIG", self.kubeconfig)
            .env("HOME", self.home)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().context("spawning kubectl")?;
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .context("kubectl stdin")?
                .write_all(input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "kubectl {args:?} failed: {}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }
}

#[test]
fn kubectl_against_the_standalone_binary() -> Result<()> {
    let Some(bin) = crate::clients::find("kubectl", "kubectl_against_the_standalone_binary") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    let mut server = Command::new(env!("CARGO_BIN_EXE_embedded-apiserver"))
        .args(["--listen", "127.0.0.1:0", "--no-simulators", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting embedded-apiserver")?;
    let mut line = String::new();
    BufReader::new(server.stdout.take().context("server stdout")?).read_line(&mut line)?;
    let result = scenario(
        &Kubectl {
            bin: &bin,
            kubeconfig: &kubeconfig,
            home: dir.path(),
        },
        &line,
    );
    let term = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()?;
    ensure!(term.success(), "sending SIGTERM");
    let status = server.wait()?;
    result?;
    ensure!(status.success(), "the server exits 0 on SIGTERM, got {status}");
    Ok(())
}

fn scenario(k: &Kubectl<'_>, ready_line: &str) -> Result<()> {
    ensure!(
        ready_line.starts_with("ready http://127.0.0.1:"),
        "unexpected first line {ready_line:?}"
    );
    k.run(&["create", "-f", "-"], Some(NAMESPACE))?;
    k.run(&["apply", "--server-side", "-f", "-"], Some(CRD))?;
    k.run(&["apply", "--server-side", "-f", "-"], Some(WIDGET))?;
    let yaml = k.run(&["get", "widget", "w1", "-n", "demo", "-o", "yaml"], None)?;
    ensure!(
        yaml.contains("size: 2") && yaml.contains("kind: Widget"),
        "{yaml}"
    );

    let status = r#"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Test","message":"set by the test"}]}}"#;
    k.run(
        &[
            "patch",
            "widget",
            "w1",
            "-n",
            "demo",
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        ],
        None,
    )?;
    k.run(
        &[
            "wait",
            "--for=condition=Ready",
            "widget/w1",
            "-n",
            "demo",
            "--timeout=10s",
        ],
        None,
    )?;
    let table = k.run(&["get", "wd", "-n", "demo"], None)?;
    ensure!(
        table
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("w1") && l.contains("True")),
        "{table}"
    );

    k.run(
        &[
            "patch",
            "widget",
            "w1",
            "-n",
            "demo",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":["example.io/hold"]}}"#,
        ],
        None,
    )?;
    k.run(&["delete", "widget", "w1", "-n", "demo", "--wait=false"], None)?;
    let ts = k.run(
        &[
            "get",
            "widget",
            "w1",
            "-n",
            "demo",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ],
        None,
    )?;
    ensure!(!ts.is_empty(), "held by its finalizer, the object is only marked");
    k.run(
        &[
            "patch",
            "widget",
            "w1",
            "-n",
            "demo",
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
        None,
    )?;
    let left = k.run(&["get", "widgets", "-n", "demo", "-o", "name"], None)?;
    ensure!(
        left.trim().is_empty(),
        "gone once the finalizer is removed: {left}"
    );
    let ws = k.run(
        &["--context", "kcp-root", "get", "workspaces", "-o", "name"],
        None,
    )?;
    ensure!(
        ws.trim().is_empty(),
        "the kcp-root context reaches a kcp cluster: {ws}"
    );
    Ok(())
}
