//! The wasm side: [`WasmHost`] implements [`Host`] over the WIT imports, and the `__private` glue that
//! [`crate::export_plugin!`] expands to converts between WIT records and SDK types.

use serde_json::Value;

use crate::bindings::exports::platform_mesh::operator::subroutine as wit_sub;
use crate::bindings::platform_mesh::operator::{cluster, image_versions, log, templates, types};
use crate::{
    ApplyOptions, CallResult, ClusterError, Context, Document, Funcs, Gvk, Host, ImageVersion, LogLevel,
    ObjectRef, Outcome, PatchKind, PluginInfo, RenderError, Target, Technology,
};

/// The version of the WIT package this SDK was built against; reported in `info()`.
pub const WIT_VERSION: &str = "0.1.0";

/// A plugin's business logic. Implement it on a unit struct and pass the struct to [`crate::export_plugin!`].
pub trait Plugin {
    /// Name, version and finalizers. Must not call the host.
    fn info() -> PluginInfo;
    /// Brings the world in line with the object.
    fn process(host: &dyn Host, ctx: &Context) -> CallResult;
    /// Cleans up on deletion. The default does nothing and continues.
    fn finalize(_host: &dyn Host, _ctx: &Context) -> CallResult {
        Ok(crate::Reconciled::ok())
    }
}

/// [`Host`] backed by the WIT imports. Only usable inside a wasm component.
#[derive(Clone, Copy, Debug, Default)]
pub struct WasmHost;

fn to_wit_target(target: &Target) -> types::Target {
    match target {
        Target::Runtime => types::Target::Runtime,
        Target::Infra => types::Target::Infra,
        Target::Kcp(path) => types::Target::Kcp(path.clone()),
        Target::Remote { namespace, name, key } => types::Target::Remote(types::KubeconfigRef {
            namespace: namespace.clone(),
            name: name.clone(),
            key: key.clone(),
        }),
    }
}

fn from_wit_target(target: types::Target) -> Target {
    match target {
        types::Target::Runtime => Target::Runtime,
        types::Target::Infra => Target::Infra,
        types::Target::Kcp(path) => Target::Kcp(path),
        types::Target::Remote(r) => Target::Remote {
            namespace: r.namespace,
            name: r.name,
            key: r.key,
        },
    }
}

fn to_wit_gvk(gvk: &Gvk) -> types::Gvk {
    types::Gvk {
        group: gvk.group.clone(),
        version: gvk.version.clone(),
        kind: gvk.kind.clone(),
    }
}

fn to_wit_ref(object: &ObjectRef) -> types::ObjectRef {
    types::ObjectRef {
        gvk: to_wit_gvk(&object.gvk),
        namespace: object.namespace.clone(),
        name: object.name.clone(),
    }
}

fn from_wit_error(error: types::Error) -> ClusterError {
    match error {
        types::Error::NotFound(m) => ClusterError::NotFound(m),
        types::Error::AlreadyExists(m) => ClusterError::AlreadyExists(m),
        types::Error::Forbidden(m) => ClusterError::Forbidden(m),
        types::Error::Conflict(m) => ClusterError::Conflict(m),
        types::Error::Invalid(m) => ClusterError::Invalid(m),
        types::Error::Unavailable(m) => ClusterError::Unavailable(m),
        types::Error::Other(m) => ClusterError::Other(m),
    }
}

fn parse_object(text: String) -> Result<Value, ClusterError> {
    serde_json::from_str(&text).map_err(|e| ClusterError::Invalid(format!("host returned invalid JSON: {e}")))
}

fn to_wit_funcs(funcs: Funcs) -> templates::Funcs {
    match funcs {
        Funcs::Deployment => templates::Funcs::Deployment,
        Funcs::Manifest => templates::Funcs::Manifest,
    }
}

fn from_render_error(error: templates::RenderError) -> RenderError {
    RenderError {
        source: error.source,
        line: error.line,
        column: error.column,
        message: error.message,
    }
}

fn invalid_render_json(source: &str, e: serde_json::Error) -> RenderError {
    RenderError {
        source: source.to_owned(),
        line: None,
        column: None,
        message: format!("invalid JSON: {e}"),
    }
}

fn from_documents(docs: Vec<templates::Document>) -> Result<Vec<Document>, RenderError> {
    docs.into_iter()
        .map(|d| {
            let object = serde_json::from_str(&d.json).map_err(|e| invalid_render_json(&d.source, e))?;
            Ok(Document {
                source: d.source,
                index: d.index,
                object,
            })
        })
        .collect()
}

impl Host for WasmHost {
    fn get(&self, target: &Target, object: &ObjectRef) -> Result<Option<Value>, ClusterError> {
        let found = cluster::get(&to_wit_target(target), &to_wit_ref(object)).map_err(from_wit_error)?;
        found.map(parse_object).transpose()
    }

    fn list(
        &self,
        target: &Target,
        kind: &Gvk,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        cluster::list(
            &to_wit_target(target),
            &to_wit_gvk(kind),
            namespace,
            label_selector,
        )
        .map_err(from_wit_error)?
        .into_iter()
        .map(parse_object)
        .collect()
    }

    fn apply(&self, target: &Target, object: &Value, options: &ApplyOptions) -> Result<Value, ClusterError> {
        let options = cluster::ApplyOptions {
            field_manager: options.field_manager.clone(),
            force: options.force,
        };
        parse_object(
            cluster::apply(&to_wit_target(target), &object.to_string(), &options).map_err(from_wit_error)?,
        )
    }

    fn create(&self, target: &Target, object: &Value) -> Result<Value, ClusterError> {
        parse_object(cluster::create(&to_wit_target(target), &object.to_string()).map_err(from_wit_error)?)
    }

    fn update(&self, target: &Target, object: &Value) -> Result<Value, ClusterError> {
        parse_object(cluster::update(&to_wit_target(target), &object.to_string()).map_err(from_wit_error)?)
    }

    fn patch(
        &self,
        target: &Target,
        object: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
    ) -> Result<Value, ClusterError> {
        let kind = match kind {
            PatchKind::Merge => cluster::PatchKind::Merge,
            PatchKind::Json => cluster::PatchKind::Json,
        };
        let stored = cluster::patch(
            &to_wit_target(target),
            &to_wit_ref(object),
            kind,
            &patch.to_string(),
        );
        parse_object(stored.map_err(from_wit_error)?)
    }

    fn delete(&self, target: &Target, object: &ObjectRef) -> Result<bool, ClusterError> {
        cluster::delete(&to_wit_target(target), &to_wit_ref(object)).map_err(from_wit_error)
    }

    fn patch_status(
        &self,
        target: &Target,
        object: &ObjectRef,
        patch: &Value,
    ) -> Result<Value, ClusterError> {
        let stored = cluster::patch_status(&to_wit_target(target), &to_wit_ref(object), &patch.to_string());
        parse_object(stored.map_err(from_wit_error)?)
    }

    fn request_token(
        &self,
        target: &Target,
        namespace: &str,
        service_account: &str,
        expiration_seconds: i64,
    ) -> Result<Value, ClusterError> {
        let stored = cluster::request_token(
            &to_wit_target(target),
            namespace,
            service_account,
            expiration_seconds,
        );
        parse_object(stored.map_err(from_wit_error)?)
    }

    fn render_dir(
        &self,
        dir: &str,
        vars: &Value,
        funcs: Funcs,
        technology: Option<Technology>,
    ) -> Result<Vec<Document>, RenderError> {
        let options = templates::RenderOptions {
            funcs: to_wit_funcs(funcs),
            technology_filter: technology.map(|t| match t {
                Technology::Fluxcd => templates::Technology::Fluxcd,
                Technology::Argocd => templates::Technology::Argocd,
            }),
        };
        from_documents(templates::render_dir(dir, &vars.to_string(), options).map_err(from_render_error)?)
    }

    fn render_file(&self, path: &str, vars: &Value, funcs: Funcs) -> Result<Vec<Document>, RenderError> {
        let docs = templates::render_file(path, &vars.to_string(), to_wit_funcs(funcs));
        from_documents(docs.map_err(from_render_error)?)
    }

    fn render_string(
        &self,
        name: &str,
        text: &str,
        vars: &Value,
        funcs: Funcs,
    ) -> Result<String, RenderError> {
        templates::render_string(name, text, &vars.to_string(), to_wit_funcs(funcs))
            .map_err(from_render_error)
    }

    fn parse_yaml(&self, name: &str, text: &str) -> Result<Value, RenderError> {
        let json = templates::parse_yaml(name, text).map_err(from_render_error)?;
        serde_json::from_str(&json).map_err(|e| invalid_render_json(name, e))
    }

    fn to_yaml(&self, value: &Value) -> Result<String, RenderError> {
        templates::to_yaml(&value.to_string()).map_err(from_render_error)
    }

    fn image_version_set(&self, namespace: &str, name: &str, entry: ImageVersion) {
        image_versions::set(
            namespace,
            name,
            &image_versions::ImageVersion {
                path: entry.path,
                version: entry.version,
            },
        );
    }

    fn image_versions(&self, namespace: &str, name: &str) -> Vec<ImageVersion> {
        image_versions::get(namespace, name)
            .into_iter()
            .map(|e| ImageVersion {
                path: e.path,
                version: e.version,
            })
            .collect()
    }

    fn set_unsuspended(&self, namespace: &str, name: &str) {
        image_versions::set_unsuspended(namespace, name);
    }

    fn is_unsuspended(&self, namespace: &str, name: &str) -> bool {
        image_versions::is_unsuspended(namespace, name)
    }

    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        let level = match level {
            LogLevel::Trace => log::Level::Trace,
            LogLevel::Debug => log::Level::Debug,
            LogLevel::Info => log::Level::Info,
            LogLevel::Warn => log::Level::Warn,
            LogLevel::Error => log::Level::Error,
        };
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        log::log(level, message, &fields);
    }
}

/// Glue used by [`crate::export_plugin!`]; not part of the public API.
#[doc(hidden)]
pub mod __private {
    use super::*;
    pub use wit_bindgen;

    fn invalid_json(what: &str, e: serde_json::Error) -> wit_sub::Failure {
        wit_sub::Failure {
            message: format!("the host passed invalid JSON as {what}: {e}"),
            status_patch: None,
        }
    }

    fn context(ctx: wit_sub::Context) -> Result<Context, wit_sub::Failure> {
        Ok(Context {
            controller: ctx.controller,
            object_target: from_wit_target(ctx.object_target),
            object: serde_json::from_str(&ctx.object).map_err(|e| invalid_json("the object", e))?,
            operator_config: serde_json::from_str(&ctx.operator_config)
                .map_err(|e| invalid_json("the operator configuration", e))?,
            plugin_config: serde_json::from_str(&ctx.plugin_config)
                .map_err(|e| invalid_json("the plugin configuration", e))?,
        })
    }

    fn result(result: CallResult) -> Result<wit_sub::ReconcileResult, wit_sub::Failure> {
        match result {
            Ok(done) => {
                let outcome = match done.outcome {
                    Outcome::Ok {
                        requeue_after,
                        message,
                    } => wit_sub::Outcome::Ok(wit_sub::OkInfo {
                        requeue_after_ms: requeue_after.map(|d| d.as_millis() as u64),
                        message,
                    }),
                    Outcome::Pending {
                        message,
                        requeue_after,
                    } => wit_sub::Outcome::Pending(wit_sub::PendingInfo {
                        message,
                        requeue_after_ms: (requeue_after.as_millis() as u64).max(1),
                    }),
                    Outcome::Stop {
                        message,
                        requeue_after,
                    } => wit_sub::Outcome::Stop(wit_sub::StopInfo {
                        message,
                        requeue_after_ms: requeue_after.map(|d| d.as_millis() as u64),
                    }),
                };
                Ok(wit_sub::ReconcileResult {
                    outcome,
                    status_patch: done.status_patch.map(|p| p.to_string()),
                })
            }
            Err(failure) => Err(wit_sub::Failure {
                message: failure.message,
                status_patch: failure.status_patch.map(|p| p.to_string()),
            }),
        }
    }

    /// `info()` of plugin `P` as a WIT record.
    pub fn info<P: Plugin>() -> wit_sub::PluginInfo {
        let info = P::info();
        wit_sub::PluginInfo {
            name: info.name,
            version: info.version,
            wit_version: WIT_VERSION.to_owned(),
            finalizers: info.finalizers,
        }
    }

    /// `process()` of plugin `P` over WIT records.
    pub fn process<P: Plugin>(ctx: wit_sub::Context) -> Result<wit_sub::ReconcileResult, wit_sub::Failure> {
        result(P::process(&WasmHost, &context(ctx)?))
    }

    /// `finalize()` of plugin `P` over WIT records.
    pub fn finalize<P: Plugin>(ctx: wit_sub::Context) -> Result<wit_sub::ReconcileResult, wit_sub::Failure> {
        result(P::finalize(&WasmHost, &context(ctx)?))
    }
}

/// Exports a [`Plugin`] implementation as the component's `subroutine`.
///
/// ```ignore
/// struct Hello;
/// impl platform_mesh_plugin_sdk::Plugin for Hello { /* ... */ }
/// platform_mesh_plugin_sdk::export_plugin!(Hello);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        // Only wasm gets the export glue: native builds (unit tests, `cargo test --workspace`) link the crate as a
        // shared library, whose linker script cannot express the component model's export names.
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        mod __plugin_export {
        #[allow(unused_imports)]
        use super::*;

        pub struct __PluginExport;

        impl $crate::bindings::exports::platform_mesh::operator::subroutine::Guest for __PluginExport {
            fn info() -> $crate::bindings::exports::platform_mesh::operator::subroutine::PluginInfo {
                $crate::__private::info::<$plugin>()
            }
            fn process(
                ctx: $crate::bindings::exports::platform_mesh::operator::subroutine::Context,
            ) -> ::core::result::Result<
                $crate::bindings::exports::platform_mesh::operator::subroutine::ReconcileResult,
                $crate::bindings::exports::platform_mesh::operator::subroutine::Failure,
            > {
                $crate::__private::process::<$plugin>(ctx)
            }
            fn finalize(
                ctx: $crate::bindings::exports::platform_mesh::operator::subroutine::Context,
            ) -> ::core::result::Result<
                $crate::bindings::exports::platform_mesh::operator::subroutine::ReconcileResult,
                $crate::bindings::exports::platform_mesh::operator::subroutine::Failure,
            > {
                $crate::__private::finalize::<$plugin>(ctx)
            }
        }

        $crate::bindings::export_raw!(__PluginExport with_types_in $crate::bindings);
        }
    };
}
