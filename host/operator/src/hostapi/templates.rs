//! `templates` imports over `gotmpl`. Paths are relative to the workspace directory and may not leave it, so a
//! plugin reads through the host exactly what it could read through its own read-only `/workspace` mount.
//! Workspace files are opened only through a capability handle on the workspace directory (`cap_std::fs::Dir`):
//! `..`, absolute paths and symbolic links that lead outside it fail in the open itself, not in a string check.
//! Rendering and YAML work is CPU work, so it runs on the blocking pool.
//!
//! One renderer serves the whole process: its compiled-template cache (bounded in `gotmpl`) is then shared by
//! every plugin and call, and its default limits (fuel, output size) bound every render. YAML given to
//! `parse-yaml` and JSON given to `to-yaml` are at most [`MAX_YAML_BYTES`].

use std::{
    path::{Component, Path, PathBuf},
    sync::{Arc, OnceLock},
};

use cap_std::{ambient_authority, fs::Dir};
use serde_json::Value;

use super::HostCall;
use crate::wit::templates::{self, Document, Funcs, RenderError, RenderOptions, Technology};

/// The largest text `parse-yaml` parses and the largest JSON `to-yaml` serialises.
pub const MAX_YAML_BYTES: usize = 4 << 20;

/// The process-wide renderer (its compiled-template cache is bounded by `gotmpl::MAX_CACHED_TEMPLATES`).
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

/// `relative` as a relative path of normal components, refusing absolute paths and `..` early with a clear
/// message (the capability handle refuses them too, and symbolic links leading outside).
pub(crate) fn relative(relative: &str) -> Result<PathBuf, RenderError> {
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
    Ok(path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect())
}

fn open_workspace(workspace: &Path, source: &str) -> Result<Dir, RenderError> {
    Dir::open_ambient_dir(workspace, ambient_authority())
        .map_err(|e| error(source, format!("opening the workspace directory: {e}")))
}

/// An open or read in the workspace failed. The capability handle answers an escape (through `..` or a symbolic
/// link) with "permission denied".
fn refused(source: &str, path: &Path, e: &std::io::Error) -> RenderError {
    let message = if e.kind() == std::io::ErrorKind::PermissionDenied {
        format!(
            "{} leads outside the workspace: template paths may not leave the workspace, also not through \
             symbolic links",
            path.display()
        )
    } else {
        format!("reading {} in the workspace: {e}", path.display())
    };
    error(source, message)
}

/// Every regular `*.yaml` file under `dir` (a workspace-relative path), recursively, in lexical walk order;
/// symbolic links are not followed, as with Go's `filepath.Walk`.
fn yaml_files(root: &Dir, dir: &Path, source: &str) -> Result<Vec<PathBuf>, RenderError> {
    fn walk(dir: &Dir, at: &Path, source: &str, out: &mut Vec<PathBuf>) -> Result<(), RenderError> {
        let mut entries = dir
            .entries()
            .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
            .map_err(|e| refused(source, at, &e))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let path = at.join(&name);
            let kind = entry.file_type().map_err(|e| refused(source, &path, &e))?;
            if kind.is_dir() {
                let sub = entry.open_dir().map_err(|e| refused(source, &path, &e))?;
                walk(&sub, &path, source, out)?;
            } else if kind.is_file() && name.to_string_lossy().ends_with(".yaml") {
                out.push(path);
            }
        }
        Ok(())
    }
    let start = if dir.as_os_str().is_empty() {
        root.try_clone().map_err(|e| refused(source, dir, &e))?
    } else {
        root.open_dir(dir).map_err(|e| refused(source, dir, &e))?
    };
    let mut out = Vec::new();
    walk(&start, dir, source, &mut out)?;
    Ok(out)
}

/// Whether a file (by base name) is skipped for a deployment technology (spec §5.7.2).
fn skipped(base_name: &str, technology: gotmpl::Technology) -> bool {
    match technology {
        gotmpl::Technology::Argocd => {
            base_name.starts_with("helmrelease") || base_name.starts_with("kustomization")
        }
        gotmpl::Technology::Fluxcd => base_name.starts_with("application"),
    }
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
    /// Runs `work` with the workspace directory on the blocking pool.
    async fn blocking<T: Send + 'static>(
        &self,
        source: &str,
        work: impl FnOnce(&Path) -> Result<T, RenderError> + Send + 'static,
    ) -> Result<T, RenderError> {
        let workspace = self.services.workspace_dir.clone();
        tokio::task::spawn_blocking(move || work(&workspace))
            .await
            .unwrap_or_else(|e| Err(error(source, format!("rendering panicked: {e}"))))
    }
}

fn too_large(source: &str, what: &str, len: usize) -> Result<(), RenderError> {
    if len > MAX_YAML_BYTES {
        return Err(error(
            source,
            format!("{what} of {len} bytes is larger than {MAX_YAML_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Renders every YAML file under the workspace-relative `dir`, read through the workspace handle.
fn render_dir_in(
    workspace: &Path,
    dir: &str,
    data: &Value,
    funcs: gotmpl::FuncMap,
    technology: Option<gotmpl::Technology>,
) -> Result<Vec<Document>, RenderError> {
    let rel = relative(dir)?;
    let root = open_workspace(workspace, dir)?;
    let files: Vec<PathBuf> = yaml_files(&root, &rel, dir)?
        .into_iter()
        .filter(|path| {
            let base = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            !technology.is_some_and(|t| skipped(&base, t))
        })
        .collect();
    let renderer = renderer();
    let mut out = Vec::new();
    for path in &files {
        let source = root.read_to_string(path).map_err(|e| refused(dir, path, &e))?;
        // The renderer names files by their full paths in its messages and cache.
        let rendered = renderer
            .render_file(&workspace.join(path), &source, data, funcs)
            .map_err(from_gotmpl)?;
        out.extend(documents(rendered, Some(&path.display().to_string())));
    }
    Ok(out)
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
        self.blocking(&dir.clone(), move |workspace| {
            render_dir_in(workspace, &dir, &data, funcs, technology)
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
        self.blocking(&path.clone(), move |workspace| {
            let rel = relative(&path)?;
            let root = open_workspace(workspace, &path)?;
            let source = root.read_to_string(&rel).map_err(|e| refused(&path, &rel, &e))?;
            let full = workspace.join(&rel);
            let docs = renderer()
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
        self.blocking(&name.clone(), move |_| {
            renderer()
                .render_str(&name, &text, &data, funcs)
                .map_err(from_gotmpl)
        })
        .await
    }

    async fn parse_yaml(&mut self, name: String, text: String) -> Result<String, RenderError> {
        too_large(&name, "the YAML text", text.len())?;
        let source = name.clone();
        let (value, warning) = self
            .blocking(&source, move |_| {
                let value = gotmpl::yaml::from_yaml(&text).map_err(|e| RenderError {
                    source: name.clone(),
                    line: e.line().map(|l| u32::try_from(l).unwrap_or(u32::MAX)),
                    column: None,
                    message: e.to_string(),
                })?;
                // Duplicate keys are accepted, the last one winning, as upstream's main path does; but a profile
                // author almost never means them, so say where they are (spec 11.2 item 22).
                let warning = first_sighting(&name, &text)
                    .then(|| duplicate_key_warning(&text))
                    .flatten();
                Ok((value.to_string(), warning))
            })
            .await?;
        if let Some(warning) = warning {
            let (plugin, object) = (&*self.plugin, self.object_key.as_str());
            tracing::warn!(plugin, object, source = %source, "{warning}");
        }
        Ok(value)
    }

    async fn to_yaml(&mut self, json: String) -> Result<String, RenderError> {
        too_large("toYaml", "the JSON text", json.len())?;
        self.blocking("toYaml", move |_| {
            let value: Value =
                serde_json::from_str(&json).map_err(|e| error("toYaml", format!("not valid JSON: {e}")))?;
            gotmpl::yaml::to_yaml(&value).map_err(|e| error("toYaml", e.to_string()))
        })
        .await
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
        assert_eq!(
            relative("gotemplates/./infra").unwrap(),
            PathBuf::from("gotemplates/infra")
        );
        assert!(relative("../etc").is_err());
        assert!(relative("/etc/passwd").is_err());
        assert!(relative("a/../../b").is_err());
    }

    /// A workspace with `inside/a.yaml`, a symlinked directory and file pointing outside it, and a symlink that
    /// stays inside.
    fn workspace_with_escapes() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().expect("temp dir");
        let outside = tmp.path().join("outside");
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(ws.join("inside")).unwrap();
        std::fs::write(outside.join("secret.yaml"), "stolen: {{ .x }}\n").unwrap();
        std::fs::write(ws.join("inside/a.yaml"), "a: {{ .x }}\n").unwrap();
        std::os::unix::fs::symlink(&outside, ws.join("escape")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.yaml"), ws.join("inside/leak.yaml")).unwrap();
        std::os::unix::fs::symlink("inside/a.yaml", ws.join("alias.yaml")).unwrap();
        (tmp, ws)
    }

    fn render_file_in(ws: &Path, path: &str) -> Result<Vec<Document>, RenderError> {
        let rel = relative(path)?;
        let root = open_workspace(ws, path)?;
        let source = root.read_to_string(&rel).map_err(|e| refused(path, &rel, &e))?;
        let docs = renderer()
            .render_file(
                &ws.join(&rel),
                &source,
                &serde_json::json!({"x": 1}),
                gotmpl::FuncMap::Deployment,
            )
            .map_err(from_gotmpl)?;
        Ok(documents(docs, Some(path)))
    }

    #[test]
    fn symlinks_out_of_the_workspace_are_refused() {
        let (_tmp, ws) = workspace_with_escapes();
        let data = serde_json::json!({"x": 1});
        let funcs = gotmpl::FuncMap::Deployment;
        let err = render_dir_in(&ws, "escape", &data, funcs, None).unwrap_err();
        assert!(
            err.message.contains("may not leave the workspace"),
            "{}",
            err.message
        );
        for path in ["escape/secret.yaml", "inside/leak.yaml"] {
            let err = render_file_in(&ws, path).unwrap_err();
            assert!(
                err.message.contains("may not leave the workspace"),
                "{path}: {}",
                err.message
            );
        }
        // The walk does not follow links (Go's filepath.Walk), so the directory renders only its own file.
        let docs = render_dir_in(&ws, "inside", &data, funcs, None).unwrap();
        let sources: Vec<&str> = docs.iter().map(|d| d.source.as_str()).collect();
        assert_eq!(sources, ["inside/a.yaml"]);
        // A link that stays inside the workspace is an ordinary file.
        assert_eq!(render_file_in(&ws, "alias.yaml").unwrap()[0].json, r#"{"a":1}"#);
    }
}
