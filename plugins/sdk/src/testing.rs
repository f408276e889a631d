//! A native test double for [`Host`]: an in-memory cluster per target, label-selector listing, merge-on-apply
//! with the applying manager's fields recorded in `managedFields` (lists owned as a whole),
//! call recording, error injection, canned or closure-based template rendering, image versions and captured logs.
//!
//! ```
//! use platform_mesh_plugin_sdk::{testing::FakeHost, Gvk, Host, Target};
//! use serde_json::json;
//!
//! let host = FakeHost::new().with_object(
//!     Target::Infra,
//!     json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "default"}}),
//! );
//! let items = host.list(&Target::Infra, &Gvk::new("", "v1", "ConfigMap"), Some("default"), None).unwrap();
//! assert_eq!(items.len(), 1);
//! assert_eq!(host.calls()[0].op, "list");
//! ```

use std::{
    cell::{Cell, RefCell},
    collections::BTreeMap,
};

use serde_json::{Map, Value};

use crate::{
    ApplyOptions, ClusterError, Document, Funcs, Gvk, Host, ImageVersion, LogLevel, ObjectRef, PatchKind,
    RenderError, Target, Technology, selector::Selector,
};

mod fields;

type Key = (Target, Gvk, String, String);
/// Image versions of one release and its unsuspended flag.
type ImageEntry = (Vec<ImageVersion>, bool);
type RenderFn = Box<dyn Fn(&str, &Value) -> Result<Vec<Document>, RenderError>>;
type StringRenderFn = Box<dyn Fn(&str, &str, &Value) -> Result<String, RenderError>>;
type ParseYamlFn = Box<dyn Fn(&str, &str) -> Result<Value, RenderError>>;
type ToYamlFn = Box<dyn Fn(&Value) -> Result<String, RenderError>>;

/// One recorded call of a cluster method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `get`, `list`, `apply`, `create`, `update`, `patch`, `delete`, `patch-status` or `request-token`.
    pub op: &'static str,
    pub target: Target,
    pub kind: String,
    pub namespace: Option<String>,
    /// Object name (empty for `list`).
    pub name: String,
}

struct Injected {
    op: &'static str,
    kind: Option<String>,
    error: ClusterError,
}

/// The in-memory [`Host`]. Build it with the `with_*` methods, run plugin logic, then inspect it.
#[derive(Default)]
pub struct FakeHost {
    objects: RefCell<BTreeMap<Key, Value>>,
    calls: RefCell<Vec<Call>>,
    errors: RefCell<Vec<Injected>>,
    logs: RefCell<Vec<(LogLevel, String)>>,
    renderer: Option<RenderFn>,
    string_renderer: Option<StringRenderFn>,
    yaml: Option<(ParseYamlFn, ToYamlFn)>,
    images: RefCell<BTreeMap<(String, String), ImageEntry>>,
    resource_version: Cell<u64>,
}

fn key_of(target: &Target, object: &Value) -> Result<Key, ClusterError> {
    let r = ObjectRef::of(object)
        .ok_or_else(|| ClusterError::Invalid("object needs apiVersion, kind and metadata.name".into()))?;
    Ok((target.clone(), r.gvk, r.namespace.unwrap_or_default(), r.name))
}

fn ref_key(target: &Target, r: &ObjectRef) -> Key {
    (
        target.clone(),
        r.gvk.clone(),
        r.namespace.clone().unwrap_or_default(),
        r.name.clone(),
    )
}

/// RFC 7386 merge of `patch` into `base`.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (k, v) in patch {
                if v.is_null() {
                    base.remove(k);
                } else {
                    merge(base.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

impl FakeHost {
    /// An empty cluster with no renderer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object (by its apiVersion, kind, namespace and name) to `target`.
    pub fn with_object(self, target: Target, object: Value) -> Self {
        self.insert(target, object);
        self
    }

    /// Adds or replaces an object.
    pub fn insert(&self, target: Target, object: Value) {
        let key = key_of(&target, &object).expect("test object needs apiVersion, kind and metadata.name");
        self.objects.borrow_mut().insert(key, object);
    }

    /// Makes every call of `op` (`get`, `list`, ...) on `kind` (`None`: any kind) fail with `error`.
    pub fn with_error(self, op: &'static str, kind: Option<&str>, error: ClusterError) -> Self {
        self.errors.borrow_mut().push(Injected {
            op,
            kind: kind.map(str::to_owned),
            error,
        });
        self
    }

    /// Renders `render_dir`/`render_file` with `render(path, vars)`.
    pub fn with_renderer(
        mut self,
        render: impl Fn(&str, &Value) -> Result<Vec<Document>, RenderError> + 'static,
    ) -> Self {
        self.renderer = Some(Box::new(render));
        self
    }

    /// Renders `render_string` with `render(name, text, vars)`.
    pub fn with_string_renderer(
        mut self,
        render: impl Fn(&str, &str, &Value) -> Result<String, RenderError> + 'static,
    ) -> Self {
        self.string_renderer = Some(Box::new(render));
        self
    }

    /// Parses YAML with `parse(name, text)` and serialises it with `to_yaml(value)` instead of the built-in
    /// JSON-only stand-ins (e.g. with the host's `gotmpl::yaml` in a plugin's dev-dependencies).
    pub fn with_yaml(
        mut self,
        parse: impl Fn(&str, &str) -> Result<Value, RenderError> + 'static,
        to_yaml: impl Fn(&Value) -> Result<String, RenderError> + 'static,
    ) -> Self {
        self.yaml = Some((Box::new(parse), Box::new(to_yaml)));
        self
    }

    /// Returns `docs` for every render of `path` (other paths fail with "no canned documents").
    pub fn with_documents(self, path: &str, docs: Vec<Document>) -> Self {
        let path = path.to_owned();
        self.with_renderer(move |p, _| {
            if p == path {
                Ok(docs.clone())
            } else {
                Err(RenderError {
                    source: p.into(),
                    line: None,
                    column: None,
                    message: "no canned documents".into(),
                })
            }
        })
    }

    /// The stored object, if any.
    pub fn object(&self, target: &Target, r: &ObjectRef) -> Option<Value> {
        self.objects.borrow().get(&ref_key(target, r)).cloned()
    }

    /// All calls made so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// All lines logged so far.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.logs.borrow().clone()
    }

    fn record(
        &self,
        op: &'static str,
        target: &Target,
        kind: &Gvk,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), ClusterError> {
        self.calls.borrow_mut().push(Call {
            op,
            target: target.clone(),
            kind: kind.kind.clone(),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        });
        let errors = self.errors.borrow();
        let hit = errors
            .iter()
            .find(|e| e.op == op && e.kind.as_deref().is_none_or(|k| k == kind.kind));
        hit.map_or(Ok(()), |e| Err(e.error.clone()))
    }

    fn record_ref(&self, op: &'static str, target: &Target, r: &ObjectRef) -> Result<(), ClusterError> {
        self.record(op, target, &r.gvk, r.namespace.as_deref(), &r.name)
    }

    fn record_object(&self, op: &'static str, target: &Target, object: &Value) -> Result<Key, ClusterError> {
        let key = key_of(target, object)?;
        let namespace = (!key.2.is_empty()).then_some(key.2.as_str());
        self.record(op, target, &key.1, namespace, &key.3)?;
        Ok(key)
    }

    fn store(&self, key: Key, mut object: Value) -> Value {
        let version = self.resource_version.get() + 1;
        self.resource_version.set(version);
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), Value::String(version.to_string()));
        }
        self.objects.borrow_mut().insert(key, object.clone());
        object
    }

    fn render(&self, path: &str, vars: &Value) -> Result<Vec<Document>, RenderError> {
        match &self.renderer {
            Some(render) => render(path, vars),
            None => Err(RenderError {
                source: path.into(),
                line: None,
                column: None,
                message: "FakeHost has no renderer; use with_renderer or with_documents".into(),
            }),
        }
    }
}

impl Host for FakeHost {
    fn get(&self, target: &Target, object: &ObjectRef) -> Result<Option<Value>, ClusterError> {
        self.record_ref("get", target, object)?;
        Ok(self.object(target, object))
    }

    fn list(
        &self,
        target: &Target,
        kind: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        self.record("list", target, kind, namespace, "")?;
        let selector = Selector::parse(label_selector.unwrap_or_default())
            .map_err(|e| ClusterError::Invalid(e.to_string()))?;
        let objects = self.objects.borrow();
        let items = objects.iter().filter(|((t, g, ns, _), _)| {
            t == target && g == kind && namespace.is_none_or(|n| n.is_empty() || n == ns)
        });
        Ok(items
            .filter(|(_, obj)| {
                let labels = obj
                    .pointer("/metadata/labels")
                    .cloned()
                    .unwrap_or(Value::Object(Map::new()));
                selector.matches(&serde_json::from_value(labels).unwrap_or_default())
            })
            .map(|(_, obj)| obj.clone())
            .collect())
    }

    fn apply(&self, target: &Target, object: &Value, options: &ApplyOptions) -> Result<Value, ClusterError> {
        let key = self.record_object("apply", target, object)?;
        let mut stored = self
            .objects
            .borrow()
            .get(&key)
            .cloned()
            .unwrap_or(Value::Object(Map::new()));
        let mut request = object.clone();
        if let Some(meta) = request.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            meta.remove("resourceVersion");
        }
        fields::apply(&mut stored, &request, &options.field_manager);
        merge(&mut stored, &request);
        Ok(self.store(key, stored))
    }

    fn create(&self, target: &Target, object: &Value) -> Result<Value, ClusterError> {
        let key = self.record_object("create", target, object)?;
        if self.objects.borrow().contains_key(&key) {
            return Err(ClusterError::AlreadyExists(format!(
                "{} {:?} already exists",
                key.1.kind, key.3
            )));
        }
        Ok(self.store(key, object.clone()))
    }

    fn update(&self, target: &Target, object: &Value) -> Result<Value, ClusterError> {
        let key = self.record_object("update", target, object)?;
        let current = self.objects.borrow().get(&key).cloned();
        let Some(current) = current else {
            return Err(ClusterError::NotFound(format!(
                "{} {:?} not found",
                key.1.kind, key.3
            )));
        };
        let wanted = object.pointer("/metadata/resourceVersion");
        if wanted.is_some() && wanted != current.pointer("/metadata/resourceVersion") {
            return Err(ClusterError::Conflict("the object has been modified".into()));
        }
        Ok(self.store(key, object.clone()))
    }

    fn patch(
        &self,
        target: &Target,
        object: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, ClusterError> {
        self.record_ref("patch", target, object)?;
        let Some(mut stored) = self.object(target, object) else {
            return Err(ClusterError::NotFound(format!("{object} not found")));
        };
        match kind {
            PatchKind::Merge => merge(&mut stored, patch),
            PatchKind::Json => {
                return Err(ClusterError::Invalid(
                    "FakeHost supports merge patches only".into(),
                ));
            }
        }
        Ok(self.store(ref_key(target, object), stored))
    }

    fn delete(&self, target: &Target, object: &ObjectRef) -> Result<bool, ClusterError> {
        self.record_ref("delete", target, object)?;
        Ok(self
            .objects
            .borrow_mut()
            .remove(&ref_key(target, object))
            .is_some())
    }

    fn patch_status(
        &self,
        target: &Target,
        object: &ObjectRef,
        patch: &Value,
    ) -> Result<Value, ClusterError> {
        self.record_ref("patch-status", target, object)?;
        let Some(mut stored) = self.object(target, object) else {
            return Err(ClusterError::NotFound(format!("{object} not found")));
        };
        let status = stored
            .as_object_mut()
            .map(|o| o.entry("status").or_insert(Value::Null));
        merge(status.expect("stored objects are JSON objects"), patch);
        Ok(self.store(ref_key(target, object), stored))
    }

    fn request_token(
        &self,
        target: &Target,
        namespace: &str,
        service_account: &str,
        expiration_seconds: i64,
    ) -> Result<Value, ClusterError> {
        let kind = Gvk::new("", "v1", "ServiceAccount");
        self.record("request-token", target, &kind, Some(namespace), service_account)?;
        if self
            .object(target, &kind.object(Some(namespace), service_account))
            .is_none()
        {
            return Err(ClusterError::NotFound(format!(
                "serviceaccount {namespace}/{service_account} not found"
            )));
        }
        Ok(serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": expiration_seconds},
            "status": {"token": format!("fake-token-{namespace}-{service_account}")},
        }))
    }

    fn render_dir(
        &self,
        dir: &str,
        vars: &Value,
        _funcs: Funcs,
        _technology: Option<Technology>,
    ) -> Result<Vec<Document>, RenderError> {
        self.render(dir, vars)
    }

    fn render_file(&self, path: &str, vars: &Value, _funcs: Funcs) -> Result<Vec<Document>, RenderError> {
        self.render(path, vars)
    }

    fn render_string(
        &self,
        name: &str,
        text: &str,
        vars: &Value,
        _funcs: Funcs,
    ) -> Result<String, RenderError> {
        match &self.string_renderer {
            Some(render) => render(name, text, vars),
            None => Err(RenderError {
                source: name.into(),
                line: None,
                column: None,
                message: "FakeHost has no string renderer; use with_string_renderer".into(),
            }),
        }
    }

    fn parse_yaml(&self, name: &str, text: &str) -> Result<Value, RenderError> {
        if let Some((parse, _)) = &self.yaml {
            return parse(name, text);
        }
        // JSON is YAML; the fake accepts only that subset so it needs no YAML parser.
        serde_json::from_str(text).map_err(|e| RenderError {
            source: name.into(),
            line: Some(e.line() as u32),
            column: Some(e.column() as u32),
            message: format!("FakeHost parses JSON-compatible YAML only: {e}"),
        })
    }

    fn to_yaml(&self, value: &Value) -> Result<String, RenderError> {
        if let Some((_, to_yaml)) = &self.yaml {
            return to_yaml(value);
        }
        Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(value).unwrap_or_default()
        ))
    }

    fn image_version_set(&self, namespace: &str, name: &str, entry: ImageVersion) {
        let mut images = self.images.borrow_mut();
        let (list, _) = images.entry((namespace.into(), name.into())).or_default();
        match list.iter_mut().find(|e| e.path == entry.path) {
            Some(existing) => existing.version = entry.version,
            None => list.push(entry),
        }
    }

    fn image_versions(&self, namespace: &str, name: &str) -> Vec<ImageVersion> {
        let images = self.images.borrow();
        images
            .get(&(namespace.into(), name.into()))
            .map(|(l, _)| l.clone())
            .unwrap_or_default()
    }

    fn set_unsuspended(&self, namespace: &str, name: &str) {
        self.images
            .borrow_mut()
            .entry((namespace.into(), name.into()))
            .or_default()
            .1 = true;
    }

    fn is_unsuspended(&self, namespace: &str, name: &str) -> bool {
        self.images
            .borrow()
            .get(&(namespace.into(), name.into()))
            .is_some_and(|(_, u)| *u)
    }

    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        let mut line = message.to_owned();
        for (k, v) in fields {
            line.push_str(&format!(" {k}={v}"));
        }
        self.logs.borrow_mut().push((level, line));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cm(name: &str, labels: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "ns", "labels": labels}})
    }

    #[test]
    fn list_filters_by_namespace_and_selector() {
        let gvk = Gvk::new("", "v1", "ConfigMap");
        let host = FakeHost::new()
            .with_object(Target::Infra, cm("a", json!({"x": "1"})))
            .with_object(Target::Infra, cm("b", json!({"x": "2"})))
            .with_object(Target::Runtime, cm("c", json!({"x": "1"})));
        let items = host.list(&Target::Infra, &gvk, Some("ns"), Some("x=1")).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["metadata"]["name"], "a");
        assert!(
            host.list(&Target::Infra, &gvk, Some("other"), None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn apply_merges_and_drops_server_fields() {
        let host = FakeHost::new().with_object(Target::Runtime, cm("a", json!({"x": "1"})));
        let mut req = cm("a", json!({"y": "2"}));
        req["metadata"]["resourceVersion"] = json!("999");
        let stored = host
            .apply(&Target::Runtime, &req, &ApplyOptions::force("me"))
            .unwrap();
        assert_eq!(stored["metadata"]["labels"], json!({"x": "1", "y": "2"}));
        assert_ne!(stored["metadata"]["resourceVersion"], json!("999"));
    }

    #[test]
    fn injected_errors_hit_only_their_op_and_kind() {
        let host =
            FakeHost::new().with_error("list", Some("Secret"), ClusterError::Unavailable("down".into()));
        let secret = Gvk::new("", "v1", "Secret");
        let cm = Gvk::new("", "v1", "ConfigMap");
        assert!(host.list(&Target::Runtime, &secret, None, None).is_err());
        assert!(host.list(&Target::Runtime, &cm, None, None).is_ok());
        assert!(host.get(&Target::Runtime, &secret.object(Some("a"), "b")).is_ok());
        assert_eq!(host.calls().len(), 3);
    }

    #[test]
    fn create_update_and_delete_follow_api_semantics() {
        let host = FakeHost::new();
        let stored = host.create(&Target::Runtime, &cm("a", json!({}))).unwrap();
        assert!(matches!(
            host.create(&Target::Runtime, &cm("a", json!({}))),
            Err(ClusterError::AlreadyExists(_))
        ));
        let mut stale = stored.clone();
        stale["metadata"]["resourceVersion"] = json!("0");
        assert!(matches!(
            host.update(&Target::Runtime, &stale),
            Err(ClusterError::Conflict(_))
        ));
        assert!(host.update(&Target::Runtime, &stored).is_ok());
        let r = ObjectRef::of(&stored).unwrap();
        assert!(host.delete(&Target::Runtime, &r).unwrap());
        assert!(!host.delete(&Target::Runtime, &r).unwrap());
    }

    #[test]
    fn renderers_are_pluggable() {
        let doc = Document {
            source: "a.yaml".into(),
            index: 0,
            object: json!({"kind": "X"}),
        };
        let host = FakeHost::new()
            .with_documents("dir", vec![doc.clone()])
            .with_string_renderer(|name, text, vars| Ok(format!("{name}:{text}:{}", vars["v"])));
        assert_eq!(
            host.render_dir("dir", &json!({}), Funcs::Manifest, None).unwrap(),
            vec![doc]
        );
        assert!(host.render_file("other", &json!({}), Funcs::Manifest).is_err());
        assert_eq!(
            host.render_string("n", "t", &json!({"v": 1}), Funcs::Deployment)
                .unwrap(),
            "n:t:1"
        );
        assert!(
            FakeHost::new()
                .render_string("n", "t", &json!({}), Funcs::Deployment)
                .is_err()
        );
    }

    #[test]
    fn image_versions_upsert_by_path() {
        let host = FakeHost::new();
        let v = |p: &str, v: &str| ImageVersion {
            path: p.into(),
            version: v.into(),
        };
        host.image_version_set("ns", "r", v("image.tag", "1"));
        host.image_version_set("ns", "r", v("other", "2"));
        host.image_version_set("ns", "r", v("image.tag", "3"));
        assert_eq!(
            host.image_versions("ns", "r"),
            vec![v("image.tag", "3"), v("other", "2")]
        );
        assert!(!host.is_unsuspended("ns", "r"));
        host.set_unsuspended("ns", "r");
        assert!(host.is_unsuspended("ns", "r"));
    }
}
