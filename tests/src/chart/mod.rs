//! A `helm template` stand-in: renders `deploy/chart/templates/*.yaml` with the project's Go-template engine
//! (`host/gotmpl`, deployment function map: `default`, `toYaml`, `nindent`, `quote`, `printf`, `index`, ...) over
//! Helm's built-in objects (`.Values`, `.Release`, `.Chart`) and returns the objects. No `helm` binary can be
//! installed on our machines; the chart deliberately uses no `include`/`tpl`/`.Files`, so this subset is all
//! `helm template` would need.

pub mod identity;
pub mod managed_provider;
pub mod release;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use gotmpl::{FuncMap, Limits, Renderer};
use serde::Deserialize as _;
use serde_json::{Value, json};

/// The release name the tests install the chart as.
pub const RELEASE: &str = "pmo";
/// The namespace the tests install the chart into.
pub const NAMESPACE: &str = "platform-mesh-system";

/// The string at JSON `pointer` of `object` (empty if absent).
pub fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The container arguments of the rendered Deployment.
pub fn deployment_args(objects: &[(String, Value)]) -> anyhow::Result<Vec<String>> {
    let (_, deployment) = objects
        .iter()
        .find(|(_, o)| o["kind"] == "Deployment")
        .context("the chart renders a Deployment")?;
    let args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .context("container args")?;
    Ok(args
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect())
}

/// The chart directory.
pub fn chart_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/chart")
}

/// Parses every YAML document of `text` into JSON values, skipping empty ones; `what` names the source.
pub fn documents(what: &str, text: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for (index, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document)
            .with_context(|| format!("{what}: document {} is not valid YAML", index + 1))?;
        match value {
            Value::Null => {}
            Value::Object(_) => out.push(value),
            other => bail!("{what}: document {} is not an object: {other}", index + 1),
        }
    }
    Ok(out)
}

fn read_yaml(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The chart's `values.yaml`.
pub fn default_values() -> anyhow::Result<Value> {
    read_yaml(&chart_dir().join("values.yaml"))
}

/// Renders every template with `values` as release `release` in `namespace`; each object is returned with the
/// template file it came from.
pub fn render(values: &Value, release: &str, namespace: &str) -> anyhow::Result<Vec<(String, Value)>> {
    let chart = read_yaml(&chart_dir().join("Chart.yaml"))?;
    let data = json!({
        "Values": values,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true,
                    "IsUpgrade": false, "Revision": 1},
        "Chart": {"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"]},
        "Capabilities": {"KubeVersion": {"Version": "v1.35.0", "Major": "1", "Minor": "35"}},
    });
    let renderer = Renderer::new(Limits::default());
    let mut templates: Vec<PathBuf> = std::fs::read_dir(chart_dir().join("templates"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    templates.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    templates.sort();
    let mut objects = Vec::new();
    for path in templates {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path)?;
        let rendered = renderer
            .render_str(&name, &text, &data, FuncMap::Deployment)
            .with_context(|| format!("rendering templates/{name}"))?;
        for object in documents(&format!("templates/{name}"), &rendered)? {
            objects.push((name.clone(), object));
        }
    }
    Ok(objects)
}

/// The chart's CRDs (`crds/`, installed by Helm before the templates).
pub fn crds() -> anyhow::Result<Vec<(String, Value)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(chart_dir().join("crds"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path)?;
        for object in documents(&format!("crds/{name}"), &text)? {
            out.push((name.clone(), object));
        }
    }
    Ok(out)
}

/// Rewrites the block between `  config:` under `pluginConfig` and `# plugins.yaml:end` of `values.yaml` with
/// `plugins_yaml` (its leading comment dropped), indented under `pluginConfig.config`.
pub fn refresh_plugin_config(plugins_yaml: &str) -> anyhow::Result<()> {
    let path = chart_dir().join("values.yaml");
    let values = std::fs::read_to_string(&path)?;
    let begin = values
        .find("  config:\n")
        .context("values.yaml: `  config:` under pluginConfig")?;
    let end = values
        .find("  # plugins.yaml:end")
        .context("values.yaml: `# plugins.yaml:end` marker")?;
    let body: Vec<String> = plugins_yaml
        .lines()
        .skip_while(|l| l.starts_with('#'))
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect();
    let updated = format!(
        "{}  config:\n{}\n{}",
        &values[..begin],
        body.join("\n"),
        &values[end..]
    );
    std::fs::write(&path, updated)?;
    Ok(())
}

/// Copies `deploy/crds/*.yaml` into the chart's `crds/` (Helm cannot reach files outside the chart).
pub fn refresh_crds() -> anyhow::Result<()> {
    let generated = chart_dir().join("../crds");
    for entry in std::fs::read_dir(&generated)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let name = path.file_name().context("file name")?;
            std::fs::copy(&path, chart_dir().join("crds").join(name))?;
        }
    }
    Ok(())
}
