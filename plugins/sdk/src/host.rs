//! The `Host` trait: everything a plugin can ask of the operator. In wasm it is backed by the WIT imports
//! ([`crate::WasmHost`]); in native tests by [`crate::testing::FakeHost`].

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    ApplyOptions, ClusterError, Document, Funcs, Gvk, ImageVersion, LogLevel, ObjectRef, PatchKind,
    RenderError, Target, Technology,
};

/// The host's services, one method per WIT import. Objects are `serde_json::Value`s; [`HostExt`] adds typed
/// variants over serde.
pub trait Host {
    /// Reads one object; `Ok(None)` if it does not exist, `Err(NotFound)` only if its kind is unknown.
    fn get(&self, target: &Target, object: &ObjectRef) -> Result<Option<Value>, ClusterError>;
    /// Lists objects of a kind in a namespace (`None`: all) matching a label selector (`None`: all).
    fn list(
        &self,
        target: &Target,
        kind: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError>;
    /// Server-side applies `object` and returns it as stored.
    fn apply(&self, target: &Target, object: &Value, options: &ApplyOptions) -> Result<Value, ClusterError>;
    /// Creates `object`; `AlreadyExists` if it exists.
    fn create(&self, target: &Target, object: &Value) -> Result<Value, ClusterError>;
    /// Replaces `object`; `Conflict` if its resourceVersion is stale.
    fn update(&self, target: &Target, object: &Value) -> Result<Value, ClusterError>;
    /// Patches an object and returns it as stored.
    fn patch(
        &self,
        target: &Target,
        object: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, ClusterError>;
    /// Deletes an object; `Ok(false)` if it did not exist.
    fn delete(&self, target: &Target, object: &ObjectRef) -> Result<bool, ClusterError>;
    /// Merge-patches the status of another object.
    fn patch_status(&self, target: &Target, object: &ObjectRef, patch: &Value)
    -> Result<Value, ClusterError>;
    /// Requests a ServiceAccount token; returns the TokenRequest as stored.
    fn request_token(
        &self,
        target: &Target,
        namespace: &str,
        service_account: &str,
        expiration_seconds: i64,
    ) -> Result<Value, ClusterError>;

    /// Renders every `*.yaml` under `dir` (relative to the workspace).
    fn render_dir(
        &self,
        dir: &str,
        vars: &Value,
        funcs: Funcs,
        technology: Option<Technology>,
    ) -> Result<Vec<Document>, RenderError>;
    /// Renders one file.
    fn render_file(&self, path: &str, vars: &Value, funcs: Funcs) -> Result<Vec<Document>, RenderError>;
    /// Renders a template string called `name`.
    fn render_string(
        &self,
        name: &str,
        text: &str,
        vars: &Value,
        funcs: Funcs,
    ) -> Result<String, RenderError>;
    /// Parses the first YAML document of `text` the way upstream does.
    fn parse_yaml(&self, name: &str, text: &str) -> Result<Value, RenderError>;
    /// Serialises a value as YAML like the templates' `toYaml`.
    fn to_yaml(&self, value: &Value) -> Result<String, RenderError>;

    /// Records an image version for a release.
    fn image_version_set(&self, namespace: &str, name: &str, entry: ImageVersion);
    /// The image versions recorded for a release.
    fn image_versions(&self, namespace: &str, name: &str) -> Vec<ImageVersion>;
    /// Marks a release unsuspended.
    fn set_unsuspended(&self, namespace: &str, name: &str);
    /// Whether a release was marked unsuspended.
    fn is_unsuspended(&self, namespace: &str, name: &str) -> bool;

    /// Logs a structured line. Never pass secret material.
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]);
}

/// Typed conveniences over any [`Host`].
pub trait HostExt: Host {
    /// Reads one object into `T`. A decoding failure is reported as `Invalid`.
    fn get_as<T: DeserializeOwned>(
        &self,
        target: &Target,
        object: &ObjectRef,
    ) -> Result<Option<T>, ClusterError> {
        self.get(target, object)?.map(decode).transpose()
    }

    /// Lists objects into `T`s.
    fn list_as<T: DeserializeOwned>(
        &self,
        target: &Target,
        kind: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<T>, ClusterError> {
        self.list(target, kind, namespace, label_selector)?
            .into_iter()
            .map(decode)
            .collect()
    }

    /// Server-side applies any serialisable object and decodes the stored object.
    fn apply_as<T: Serialize, R: DeserializeOwned>(
        &self,
        target: &Target,
        object: &T,
        options: &ApplyOptions,
    ) -> Result<R, ClusterError> {
        decode(self.apply(target, &encode(object)?, options)?)
    }

    /// Creates any serialisable object and decodes the stored object.
    fn create_as<T: Serialize, R: DeserializeOwned>(
        &self,
        target: &Target,
        object: &T,
    ) -> Result<R, ClusterError> {
        decode(self.create(target, &encode(object)?)?)
    }

    /// Replaces any serialisable object and decodes the stored object.
    fn update_as<T: Serialize, R: DeserializeOwned>(
        &self,
        target: &Target,
        object: &T,
    ) -> Result<R, ClusterError> {
        decode(self.update(target, &encode(object)?)?)
    }

    /// Logs at info level.
    fn info(&self, message: &str) {
        self.log(LogLevel::Info, message, &[]);
    }

    /// Logs at debug level.
    fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message, &[]);
    }

    /// Logs at warn level.
    fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, message, &[]);
    }
}

impl<H: Host + ?Sized> HostExt for H {}

fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ClusterError> {
    serde_json::from_value(value).map_err(|e| ClusterError::Invalid(format!("decoding object: {e}")))
}

fn encode<T: Serialize>(object: &T) -> Result<Value, ClusterError> {
    serde_json::to_value(object).map_err(|e| ClusterError::Invalid(format!("encoding object: {e}")))
}
