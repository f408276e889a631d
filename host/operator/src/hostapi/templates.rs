//! `templates` imports over `gotmpl`. Paths are relative to the workspace directory and may not leave it, so a
//! plugin reads through the host exactly what it could read through its own read-only `/workspace` mount.
//! Rendering is CPU work, so it runs on the blocking pool.
//!
//! One renderer serves the whole process: its compiled-template cache is then shared by every plugin and call,
//! and its default limits (fuel, output size) bound every render.

use std::{
    path::{Component, Path, PathBuf},
    sync::{Arc, OnceLock},
};

use serde_json::Value;

use super::HostCall;
use crate::plugin::bindings::templates::{self, Document, Funcs, RenderError, RenderOptions, Technology};

/// The process-wide renderer.
pub fn renderer() -> Arc<gotmpl::Renderer> {
    static RENDERER: OnceLock<Arc<gotmpl::Renderer>> = OnceLock::new();
    RENDERER
        .get_or_init(|| Arc::new(gotmpl::Renderer::default()))
        .clone()
}

fn error(source: &str, message: impl Into<String>) -> RenderError {
    RenderError {
        source: source.to_owned(),
        line: None,
        column: None,
        message: message.into(),
    }
}

fn from_gotmpl(e: gotmpl::Error) -> RenderError {
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    RenderError {
        source: e.name().to_owned(),
        line: e.line().map(to_u32),
        column: e.column().map(to_u32),
        message: e.to_string(),
    }
}

fn func_map(funcs: Funcs) -> gotmpl::FuncMap {
    match funcs {
        Funcs::Deployment => gotmpl::FuncMap::Deployment,
        Funcs::Manifest => gotmpl::FuncMap::Manifest,
    }
}

/// `workspace/relative`, refusing absolute paths and `..` so the host never reads outside the workspace.
pub(crate) fn resolve(workspace: &Path, relative: &str) -> Result<PathBuf, RenderError> {
    let path = Path::new(relative);
    let escapes = path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes {
        return Err(error(
            relative,
            "template paths are relative to the workspace and may not leave it",
        ));
    }
    Ok(workspace.join(path))
}

fn vars(source: &str, text: &str) -> Result<Value, RenderError> {
    serde_json::from_str(text).map_err(|e| error(source, format!("vars are not valid JSON: {e}")))
}

fn documents(docs: Vec<gotmpl::Document>, source: Option<&str>) -> Vec<Document> {
    docs.into_iter()
        .map(|d| Document {
            source: source.map_or(d.source, str::to_owned),
            index: u32::try_from(d.index).unwrap_or(u32::MAX),
            json: d.object.to_string(),
        })
        .collect()
}

/// For YAML that parses: a warning naming the first duplicate mapping key and its line, if there is one.
fn duplicate_key_warning(text: &str) -> Option<String> {
    let duplicate = gotmpl::yaml::from_yaml_strict(text).err()?;
    Some(format!("{duplicate}; the last value wins"))
}

/// Whether `(source, text)` is seen for the first time. Every pass parses the same profile again (the Resource
/// controller once per Resource), so a duplicate-key warning is logged once per distinct document, not per parse.
/// The memory is bounded: it starts over after [`FIRST_SIGHTINGS`] distinct documents.
fn first_sighting(source: &str, text: &str) -> bool {
    use std::{
        collections::HashSet,
        hash::{DefaultHasher, Hash, Hasher},
        sync::{LazyLock, Mutex},
    };
    const FIRST_SIGHTINGS: usize = 1024;
    static SEEN: LazyLock<Mutex<HashSet<u64>>> = LazyLock::new(Mutex::default);
    let mut hasher = DefaultHasher::new();
    (source, text).hash(&mut hasher);
    let mut seen = SEEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if seen.len() >= FIRST_SIGHTINGS {
        seen.clear();
    }
    seen.insert(hasher.finish())
}

impl HostCall {
    /// Runs `render` with the renderer on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        source: &str,
        render: impl FnOnce(&gotmpl::Renderer, &Path) -> Result<T, RenderError> + Send + 'static,
    ) -> Result<T, RenderError> {
        let renderer = renderer();
        let workspace = self.services.workspace_dir.clone();
        tokio::task::spawn_blocking(move || render(&renderer, &workspace))
            .await
            .unwrap_or_else(|e| Err(error(source, format!("rendering panicked: {e}"))))
    }
}

impl templates::Host for HostCall {
    async fn render_dir(
        &mut self,
        dir: String,
        vars_json: String,
        options: RenderOptions,
    ) -> Result<Vec<Document>, RenderError> {
        let data = vars(&dir, &vars_json)?;
        let technology = options.technology_filter.map(|t| match t {
            Technology::Fluxcd => gotmpl::Technology::Fluxcd,
            Technology::Argocd => gotmpl::Technology::Argocd,
        });
        let funcs = func_map(options.funcs);
        self.blocking(&dir.clone(), move |renderer, workspace| {
            let path = resolve(workspace, &dir)?;
            let docs = renderer
                .render_dir(workspace, &path, &data, funcs, technology)
                .map_err(from_gotmpl)?;
            Ok(documents(docs, None))
        })
        .await
    }

    async fn render_file(
        &mut self,
        path: String,
        vars_json: String,
        funcs: Funcs,
    ) -> Result<Vec<Document>, RenderError> {
        let data = vars(&path, &vars_json)?;
        let funcs = func_map(funcs);
        self.blocking(&path.clone(), move |renderer, workspace| {
            let full = resolve(workspace, &path)?;
            let source = std::fs::read_to_string(&full).map_err(|e| error(&path, format!("reading: {e}")))?;
            let docs = renderer
                .render_file(&full, &source, &data, funcs)
                .map_err(from_gotmpl)?;
            Ok(documents(docs, Some(&path)))
        })
        .await
    }

    async fn render_string(
        &mut self,
        name: String,
        text: String,
        vars_json: String,
        funcs: Funcs,
    ) -> Result<String, RenderError> {
        let data = vars(&name, &vars_json)?;
        let funcs = func_map(funcs);
        self.blocking(&name.clone(), move |renderer, _| {
            renderer
                .render_str(&name, &text, &data, funcs)
                .map_err(from_gotmpl)
        })
        .await
    }

    async fn parse_yaml(&mut self, name: String, text: String) -> Result<String, RenderError> {
        let value = gotmpl::yaml::from_yaml(&text).map_err(|e| RenderError {
            source: name.clone(),
            line: e.line().map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
            column: None,
            message: e.to_string(),
        })?;
        // Duplicate keys are accepted, the last one winning, as upstream's main path does; but a profile author
        // almost never means them, so say where they are (spec 11.2 item 22).
        let warning = first_sighting(&name, &text)
            .then(|| duplicate_key_warning(&text))
            .flatten();
        if let Some(warning) = warning {
            let (plugin, object) = (&*self.plugin, self.object_key.as_str());
            tracing::warn!(plugin, object, source = %name, "{warning}");
        }
        Ok(value.to_string())
    }

    async fn to_yaml(&mut self, json: String) -> Result<String, RenderError> {
        let value: Value =
            serde_json::from_str(&json).map_err(|e| error("toYaml", format!("not valid JSON: {e}")))?;
        gotmpl::yaml::to_yaml(&value).map_err(|e| error("toYaml", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_named_with_their_line() {
        let warning = duplicate_key_warning("infra:\n  a: 1\n  a: 2\n").expect("a duplicate");
        assert!(
            warning.contains("line 3") && warning.contains(r#""a""#),
            "{warning}"
        );
        assert_eq!(duplicate_key_warning("infra:\n  a: 1\ncomponents: {}\n"), None);
    }

    #[test]
    fn a_document_is_sighted_once() {
        let text = "a: 1\na: 2\n# first_sighting test\n";
        assert!(first_sighting("profile", text));
        assert!(!first_sighting("profile", text));
        assert!(first_sighting("other", text));
    }

    #[test]
    fn paths_may_not_leave_the_workspace() {
        let ws = Path::new("/ws");
        assert_eq!(
            resolve(ws, "gotemplates/infra").unwrap(),
            PathBuf::from("/ws/gotemplates/infra")
        );
        assert!(resolve(ws, "../etc").is_err());
        assert!(resolve(ws, "/etc/passwd").is_err());
        assert!(resolve(ws, "a/../../b").is_err());
    }
}
