//! Renders the repository's `gotemplates/` with the sample profile's variable sets (`benches/data/*.json`: the
//! infra, runtime and components sets the deployment plugin builds for `deploy/samples/platformmesh.yaml` and
//! `deploy/samples/profile.yaml`) and prints the time per full pass, with parsing and with compiled templates.
//!
//! When `GOREF` names a built reference renderer (real Go `text/template` with upstream's function maps, see
//! `tests/vectors/README.md`), the same files and data are rendered by it in the same run and the ratio
//! (ours / Go's) is printed; both must produce the same number of bytes.
//!
//! ```sh
//! GOREF=/path/to/goref cargo bench -p gotmpl --bench vs_go
//! ```
//!
//! `GOTMPL_BENCH_ITERS` sets the number of passes (default 200). Each figure is the median (and minimum) over the
//! passes; on a busy machine compare the ratios of the same run rather than absolute times.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use gotmpl::{Data, FuncMap, Renderer};

struct File {
    name: String,
    text: String,
    data: usize,
}

/// Every `*.yaml` under `dir`, recursively.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn load(root: &Path, data_dir: &Path) -> (Vec<File>, Vec<Data>) {
    let sets = ["infra", "runtime", "components"];
    let data: Vec<Data> = sets
        .iter()
        .map(|s| {
            let path = data_dir.join(format!("{s}.json"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let json: serde_json::Value = serde_json::from_str(&text).expect("bench data is JSON");
            Data::from_json(&json)
        })
        .collect();
    let mut paths = Vec::new();
    walk(root, &mut paths);
    let mut files: Vec<File> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root).expect("under the root");
            let mut parts = rel.iter().map(|c| c.to_string_lossy());
            let group = format!(
                "{}/{}",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            );
            let data = match group.as_str() {
                "infra/infra" => 0,
                "infra/runtime" => 1,
                _ => 2,
            };
            File {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                text: std::fs::read_to_string(p).expect("template file"),
                data,
            }
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    (files, data)
}

/// One full pass: every file rendered to a string; returns the bytes produced.
fn pass(renderer: &Renderer, files: &[File], data: &[Data]) -> usize {
    files
        .iter()
        .map(|f| {
            renderer
                .render_data(&f.name, &f.text, &data[f.data], FuncMap::Deployment)
                .unwrap_or_else(|e| panic!("{}: {e}", f.name))
                .len()
        })
        .sum()
}

/// Median and minimum of `iters` timed runs of `f`.
fn measure(iters: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0])
}

/// Parses a Go `time.Duration` string (`7.5ms`, `812.3µs`, `1.2s`).
fn go_duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ns" => n / 1e9,
        "µs" | "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// What the reference renderer reported: its version, the bytes produced, and (median, minimum) with parsing
/// and with compiled templates.
struct GoFigures {
    version: String,
    bytes: usize,
    times: Vec<(Duration, Duration)>,
}

/// Runs the reference renderer's benchmark.
fn run_go(goref: &str, root: &Path, data_dir: &Path, iters: usize) -> Option<GoFigures> {
    let out = Command::new(goref)
        .args(["bench", "-templates"])
        .arg(root)
        .arg("-data")
        .arg(data_dir)
        .args(["-n", &iters.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut bytes = 0;
    let mut times = Vec::new();
    let mut version = String::new();
    for line in text.lines() {
        version = line.split(':').next().unwrap_or_default().to_string();
        let field = |key: &str| {
            line.split(key)
                .nth(1)
                .and_then(|r| r.split([',', ' ']).find(|s| !s.is_empty()))
        };
        bytes = field("files, ").and_then(|b| b.parse().ok()).unwrap_or(bytes);
        let median = field("median ").and_then(go_duration)?;
        let min = field("min ").and_then(go_duration)?;
        times.push((median, min));
    }
    (times.len() == 2).then_some(GoFigures {
        version,
        bytes,
        times,
    })
}

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.join("../../gotemplates");
    let data_dir = manifest.join("benches/data");
    let iters: usize = std::env::var("GOTMPL_BENCH_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let (files, data) = load(&root, &data_dir);
    let cached = Renderer::default();
    let bytes = pass(&cached, &files, &data);
    // For profiling one phase: `GOTMPL_BENCH_ONLY=compiled` (or `parse`) skips the other.
    let only = std::env::var("GOTMPL_BENCH_ONLY").unwrap_or_default();
    let iters_for = |phase: &str| {
        if only.is_empty() || only == phase {
            iters
        } else {
            1
        }
    };
    let with_parse = measure(iters_for("parse"), || {
        std::hint::black_box(pass(&Renderer::default(), &files, &data));
    });
    let compiled = measure(iters_for("compiled"), || {
        std::hint::black_box(pass(&cached, &files, &data));
    });
    let ours = [with_parse, compiled];
    for (label, (median, min)) in ["true", "false"].iter().zip(ours) {
        println!(
            "gotmpl: {} files, {bytes} bytes out, parse={label}: median {median:?}, min {min:?} per full pass",
            files.len()
        );
    }
    let Some(goref) = std::env::var("GOREF").ok().filter(|g| !g.is_empty()) else {
        println!("(set GOREF to a built reference renderer to compare with Go)");
        return;
    };
    let Some(GoFigures {
        version,
        bytes: go_bytes,
        times: go,
    }) = run_go(&goref, &root, &data_dir, iters)
    else {
        println!("{goref} did not produce benchmark figures");
        return;
    };
    for (label, (median, min)) in ["true", "false"].iter().zip(&go) {
        println!(
            "{version}: {go_bytes} bytes out, parse={label}: median {median:?}, min {min:?} per full pass"
        );
    }
    if go_bytes != bytes {
        println!("WARNING: Go produced {go_bytes} bytes, gotmpl {bytes}");
    }
    for ((label, (ours_med, ours_min)), (go_med, go_min)) in
        ["with parsing", "compiled"].iter().zip(ours).zip(go)
    {
        println!(
            "ratio gotmpl/go, {label}: {:.2} (medians), {:.2} (minimums)",
            ours_med.as_secs_f64() / go_med.as_secs_f64(),
            ours_min.as_secs_f64() / go_min.as_secs_f64()
        );
    }
}
