//! One loaded plugin as a lifecycle [`Subroutine`]: each call gets a fresh store from the plugin's `InstancePre`,
//! and every way a call can go wrong becomes a [`Failure`] naming the plugin and the cause.

use std::{path::PathBuf, sync::Arc, time::Duration};

use serde_json::Value;
use tracing::Instrument;
use wasmtime::Trap;

use super::{
    PluginOptions,
    runtime::Shared,
    store::{DeadlineExceeded, MemoryExceeded, Output, StoreState, check_interval, new_store},
};
use crate::{
    hostapi::{HostCall, Permissions},
    lifecycle::{CallContext, Failure, Outcome, StepResult, Subroutine, SubroutineFuture, Target},
    wit::{PluginPre, types, wit_subroutine as wit},
};

#[derive(Clone, Copy, Debug)]
enum Action {
    Process,
    Finalize,
}

/// A plugin ready to be called.
pub struct WasmSubroutine {
    shared: Arc<Shared>,
    pre: PluginPre<StoreState>,
    /// `info().name`, also the condition type.
    name: String,
    /// The file name without `.wasm`, used in messages and logs.
    stem: Arc<str>,
    version: String,
    finalizers: Vec<String>,
    path: PathBuf,
    config: String,
    permissions: Arc<Permissions>,
    /// Wall-clock budget of one call.
    timeout: Duration,
    /// Linear-memory cap of one instance.
    memory: usize,
}

fn object_key(object: &Value) -> String {
    let field = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default();
    match field("/metadata/namespace") {
        "" => field("/metadata/name").to_owned(),
        ns => format!("{ns}/{}", field("/metadata/name")),
    }
}

fn wit_target(target: &Target) -> types::Target {
    match target {
        Target::Runtime => types::Target::Runtime,
        Target::Infra => types::Target::Infra,
        Target::Kcp(path) => types::Target::Kcp(path.clone()),
        Target::Remote(r) => types::Target::Remote(types::KubeconfigRef {
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            key: r.key.clone(),
        }),
    }
}

fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

impl WasmSubroutine {
    pub(super) fn new(
        shared: Arc<Shared>,
        pre: PluginPre<StoreState>,
        info: wit::PluginInfo,
        stem: String,
        path: PathBuf,
        options: &PluginOptions,
    ) -> Self {
        let timeout = options.limits.deadline.unwrap_or(shared.config.call_timeout);
        let memory = options.limits.memory.unwrap_or(shared.config.memory_limit);
        WasmSubroutine {
            shared,
            pre,
            name: info.name,
            stem: stem.into(),
            version: info.version,
            finalizers: info.finalizers,
            path,
            config: options.config.to_string(),
            permissions: Arc::new(options.permissions.clone()),
            timeout,
            memory,
        }
    }

    /// The file stem (`wait` for `wait.wasm`).
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// The plugin's own version from `info()`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where it was loaded from.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The permissions it runs with.
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }

    fn fail(&self, cause: impl std::fmt::Display) -> Failure {
        Failure {
            message: format!("plugin {}: {cause}", self.stem),
            status_patch: None,
        }
    }

    async fn call(&self, action: Action, ctx: &CallContext) -> Result<StepResult, Failure> {
        let key = object_key(&ctx.object);
        let span = tracing::info_span!("plugin", plugin = %self.stem, object = %key, action = ?action);
        self.call_in_span(action, ctx, key).instrument(span).await
    }

    async fn call_in_span(
        &self,
        action: Action,
        ctx: &CallContext,
        key: String,
    ) -> Result<StepResult, Failure> {
        let wit_ctx = wit::Context {
            controller: ctx.controller.clone(),
            object_target: wit_target(&ctx.object_target),
            object: ctx.object.to_string(),
            operator_config: ctx.operator_config.to_string(),
            plugin_config: self.config.clone(),
        };
        let _slot = self
            .shared
            .slots
            .acquire()
            .await
            .map_err(|_| self.fail("the plugin runtime is shut down"))?;
        let timeout = self.timeout;
        let host = HostCall::new(
            self.shared.services.clone(),
            self.stem.clone(),
            key,
            self.permissions.clone(),
        );
        let (mut store, output) = new_store(
            &self.shared.engine,
            &self.shared.config.workspace_dir,
            self.memory,
            timeout,
            host,
        )
        .map_err(|e| self.fail(format_args!("creating the sandbox: {e}")))?;
        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            let guest = instance.platform_mesh_operator_subroutine();
            match action {
                Action::Process => guest.call_process(&mut store, &wit_ctx).await,
                Action::Finalize => guest.call_finalize(&mut store, &wit_ctx).await,
            }
        };
        // The epoch callback ends guest code at the deadline; this outer timeout also covers host calls that
        // hang, with one check interval of slack so the more precise epoch error wins when both apply.
        let started = std::time::Instant::now();
        let result = tokio::time::timeout(timeout + check_interval(), run).await;
        output.forward();
        let (outcome, trap) = match &result {
            Err(_elapsed) => ("trap", Some("deadline")),
            Ok(Err(error)) => ("trap", Some(trap_kind(error, &output))),
            Ok(Ok(Err(_))) => ("failure", None),
            Ok(Ok(Ok(_))) => ("ok", None),
        };
        let finalizing = matches!(action, Action::Finalize);
        crate::metrics::global().record_plugin_call(&self.stem, finalizing, outcome, trap, started.elapsed());
        match result {
            Err(_elapsed) => Err(self.fail(DeadlineExceeded(timeout))),
            Ok(Err(error)) => Err(self.fail(describe_trap(&error, &output))),
            Ok(Ok(Err(failure))) => Err(Failure {
                message: failure.message,
                status_patch: self.status_patch(failure.status_patch)?,
            }),
            Ok(Ok(Ok(done))) => self.step_result(done),
        }
    }

    fn status_patch(&self, patch: Option<String>) -> Result<Option<Value>, Failure> {
        patch
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| self.fail(format_args!("returned a status patch that is not JSON: {e}")))
    }

    fn step_result(&self, done: wit::ReconcileResult) -> Result<StepResult, Failure> {
        let outcome = match done.outcome {
            wit::Outcome::Ok(ok) => Outcome::Ok {
                requeue_after: ok.requeue_after_ms.map(millis),
                message: ok.message,
            },
            wit::Outcome::Pending(p) if p.requeue_after_ms == 0 => {
                return Err(self.fail("returned pending with a zero requeue interval"));
            }
            wit::Outcome::Pending(p) => Outcome::Pending {
                message: p.message,
                requeue_after: millis(p.requeue_after_ms),
            },
            wit::Outcome::Stop(s) => Outcome::Stop {
                message: s.message,
                requeue_after: s.requeue_after_ms.map(millis),
            },
        };
        Ok(StepResult {
            outcome,
            status_patch: self.status_patch(done.status_patch)?,
        })
    }
}

/// The metrics label of a call the sandbox ended.
fn trap_kind(error: &wasmtime::Error, output: &Output) -> &'static str {
    if error.downcast_ref::<DeadlineExceeded>().is_some() {
        "deadline"
    } else if error.downcast_ref::<MemoryExceeded>().is_some() {
        "memory"
    } else if output.stderr_text().contains("panicked at") {
        "panic"
    } else if error.downcast_ref::<Trap>().is_some() {
        "trap"
    } else {
        "host"
    }
}

/// Names what went wrong inside the sandbox.
fn describe_trap(error: &wasmtime::Error, output: &Output) -> String {
    if let Some(deadline) = error.downcast_ref::<DeadlineExceeded>() {
        return deadline.to_string();
    }
    if let Some(memory) = error.downcast_ref::<MemoryExceeded>() {
        return memory.to_string();
    }
    let stderr = output.stderr_text();
    let detail = match stderr.as_str() {
        "" => String::new(),
        text if text.contains("panicked at") => format!(" (guest panicked: {text})"),
        text => format!(" (guest stderr: {text})"),
    };
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => "interrupted".to_owned(),
        // wasmtime's `Trap` display already starts with "wasm trap: ".
        Some(trap) => format!("{trap}{detail}"),
        None => format!("{}{detail}", error.root_cause()),
    }
}

impl Subroutine for WasmSubroutine {
    fn name(&self) -> &str {
        &self.name
    }

    fn finalizers(&self) -> &[String] {
        &self.finalizers
    }

    fn process<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        Box::pin(self.call(Action::Process, ctx))
    }

    fn finalize<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        Box::pin(self.call(Action::Finalize, ctx))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn object_key_is_namespace_slash_name_or_name() {
        assert_eq!(
            super::object_key(&json!({"metadata": {"namespace": "a", "name": "b"}})),
            "a/b"
        );
        assert_eq!(super::object_key(&json!({"metadata": {"name": "b"}})), "b");
    }
}
