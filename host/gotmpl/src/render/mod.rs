//! The [`Renderer`]: compiled-template cache, rendering of strings, files and directories.

mod dir;
mod run;

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::{FuncMap, Limits, Technology};
use run::Compiled;

/// One YAML document produced by rendering a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The file it came from (relative to the `base` of [`Renderer::render_dir`]).
    pub source: String,
    /// Zero-based position among the file's non-empty documents.
    pub index: usize,
    /// The parsed document.
    pub object: Value,
}

/// Template data converted once for any number of renders: what Go's `encoding/json` decodes into
/// `map[string]interface{}` (every number a `float64`). Rendering several templates with the same variables
/// through one `Data` saves converting them for each template.
#[derive(Debug, Clone)]
pub struct Data(minijinja::Value);

impl Data {
    /// Converts JSON data.
    pub fn from_json(data: &Value) -> Self {
        Data(crate::value::from_json(data))
    }
}

/// Renders Go templates. Cheap to share (`Send + Sync`); compiled templates are cached by path (or name),
/// function map and content, at most [`MAX_CACHED_TEMPLATES`] of them (the oldest entry makes room).
pub struct Renderer {
    limits: Limits,
    cache: Mutex<Cache>,
}

/// How many compiled templates a [`Renderer`] keeps.
pub const MAX_CACHED_TEMPLATES: usize = 256;

/// Cache key: the path (or name), the function map and the content hash.
type CacheKey = (String, FuncMap, u64);

#[derive(Default)]
struct Cache {
    entries: HashMap<CacheKey, Arc<Compiled>>,
    /// Keys in insertion order, for eviction.
    order: VecDeque<CacheKey>,
}

fn content_hash(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl Renderer {
    /// Creates a renderer with the given limits.
    pub fn new(limits: Limits) -> Self {
        Renderer {
            limits,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The compiled form of `text`, from the cache when the same key has the same content.
    fn compiled(&self, key: &str, name: &str, text: &str, funcs: FuncMap) -> Result<Arc<Compiled>, Error> {
        let cache_key = (key.to_string(), funcs, content_hash(text));
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.entries.get(&cache_key)
            && &*c.source == text
        {
            return Ok(c.clone());
        }
        let compiled = Arc::new(run::build(name, text, funcs, &self.limits)?);
        if let Ok(mut cache) = self.cache.lock() {
            while cache.entries.len() >= MAX_CACHED_TEMPLATES {
                let Some(oldest) = cache.order.pop_front() else {
                    break;
                };
                cache.entries.remove(&oldest);
            }
            if cache
                .entries
                .insert(cache_key.clone(), compiled.clone())
                .is_none()
            {
                cache.order.push_back(cache_key);
            }
        }
        Ok(compiled)
    }

    /// Number of compiled templates held (for tests of the bound).
    pub fn cached_templates(&self) -> usize {
        self.cache.lock().map(|c| c.entries.len()).unwrap_or(0)
    }

    /// Renders `text` as the template `name` with `data` as `.`.
    pub fn render_str(&self, name: &str, text: &str, data: &Value, funcs: FuncMap) -> Result<String, Error> {
        self.render_data(name, text, &Data::from_json(data), funcs)
    }

    /// Like [`Renderer::render_str`], with data converted beforehand.
    pub fn render_data(&self, name: &str, text: &str, data: &Data, funcs: FuncMap) -> Result<String, Error> {
        self.compiled(name, name, text, funcs)?
            .execute(&data.0, &self.limits)
    }

    /// Renders one file (template name = its base name) and returns its YAML documents: split at document
    /// markers (`---`, `...`) at line starts, trimmed, empty and comment-only documents dropped, each parsed
    /// with [`crate::yaml::from_yaml`]. This replaces upstream's split on the exact `\n---\n` (spec §11.2
    /// item 23), so comment-only pieces no longer become empty objects.
    pub fn render_file(
        &self,
        path: &Path,
        source: &str,
        data: &Value,
        funcs: FuncMap,
    ) -> Result<Vec<Document>, Error> {
        self.render_file_data(path, source, &Data::from_json(data), funcs)
    }

    /// Like [`Renderer::render_file`], with data converted beforehand.
    pub fn render_file_data(
        &self,
        path: &Path,
        source: &str,
        data: &Data,
        funcs: FuncMap,
    ) -> Result<Vec<Document>, Error> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = path.display().to_string();
        let text = self
            .compiled(&key, &name, source, funcs)?
            .execute(&data.0, &self.limits)?;
        let mut out = Vec::new();
        let docs = crate::yaml::split_documents(&text)
            .into_iter()
            .map(str::trim)
            .filter(|d| !crate::yaml::is_empty_document(d));
        for (index, doc) in docs.enumerate() {
            let object = crate::yaml::from_yaml(doc).map_err(|e| {
                let line = e.line();
                Error::new(ErrorKind::Yaml, &name, format!("{key}: document {index}: {e}"))
                    .at(line, None)
                    .with_source(e)
            })?;
            out.push(Document {
                source: key.clone(),
                index,
                object,
            });
        }
        Ok(out)
    }

    /// Renders every `*.yaml` file under `dir` (recursively, lexical walk order), skipping files by
    /// deployment technology when one is given. Fails on the first failing file, returning nothing.
    /// Each document's `source` is its file's path relative to `base`.
    pub fn render_dir(
        &self,
        base: &Path,
        dir: &Path,
        data: &Value,
        funcs: FuncMap,
        technology: Option<Technology>,
    ) -> Result<Vec<Document>, Error> {
        let data = Data::from_json(data);
        let mut out = Vec::new();
        for path in dir::yaml_files(dir)? {
            let base_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if technology.is_some_and(|t| dir::skipped(&base_name, t)) {
                continue;
            }
            let source = std::fs::read_to_string(&path).map_err(|e| {
                let p = path.display().to_string();
                Error::new(ErrorKind::Io, &p, format!("reading {p}: {e}")).with_source(e)
            })?;
            let rel = path.strip_prefix(base).unwrap_or(&path).display().to_string();
            for mut doc in self.render_file_data(&path, &source, &data, funcs)? {
                doc.source = rel.clone();
                out.push(doc);
            }
        }
        Ok(out)
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new(Limits::default())
    }
}
