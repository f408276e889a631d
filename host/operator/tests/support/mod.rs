//! Shared fixtures for the lifecycle and controller tests: an embedded API server with the operator's CRDs, and
//! scriptable in-test subroutines.

#![allow(dead_code)]

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use apiserver::{Server, ServerConfig, sim::SimConfig};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject, GroupVersionKind, PostParams},
};
use platform_mesh_operator::{
    crd,
    lifecycle::{CallContext, Failure, Outcome, StepResult, Subroutine, SubroutineFuture},
};
use serde_json::{Value, json};

/// Starts an API server without simulators and installs the operator's CRDs.
pub async fn server_with_crds() -> Server {
    let server = apiserver::start(ServerConfig {
        simulators: SimConfig::none(),
        ..ServerConfig::default()
    })
    .await
    .expect("embedded API server starts");
    install_crds(&server.client()).await;
    server
}

/// Creates the operator's CRDs and waits until they are served.
pub async fn install_crds(client: &Client) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in crd::all_crds() {
        api.create(&PostParams::default(), &crd)
            .await
            .expect("CRD is created");
    }
    let pms = platform_mesh_api(client, "default");
    for _ in 0..100 {
        if pms.list(&Default::default()).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("PlatformMesh CRD was never served");
}

/// The `ApiResource` of PlatformMesh.
pub fn platform_mesh_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("core.platform-mesh.io", "v1alpha1", "PlatformMesh"),
        "platformmeshes",
    )
}

/// A dynamic API for PlatformMeshes in `namespace`.
pub fn platform_mesh_api(client: &Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), namespace, &platform_mesh_resource())
}

/// Creates a PlatformMesh `name` in `namespace` with `spec`.
pub async fn create_platform_mesh(client: &Client, namespace: &str, name: &str, spec: Value) -> Value {
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "core.platform-mesh.io/v1alpha1",
        "kind": "PlatformMesh",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }))
    .unwrap();
    let created = platform_mesh_api(client, namespace)
        .create(&PostParams::default(), &object)
        .await
        .unwrap();
    serde_json::to_value(created).unwrap()
}

/// Reads a PlatformMesh as JSON (`None` if gone).
pub async fn get_platform_mesh(client: &Client, namespace: &str, name: &str) -> Option<Value> {
    let object = platform_mesh_api(client, namespace)
        .get_opt(name)
        .await
        .unwrap()?;
    Some(serde_json::to_value(object).unwrap())
}

/// The condition `type_` of `object`.
pub fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// What a scripted subroutine returns, call after call (the last entry repeats).
#[derive(Clone, Debug)]
pub enum Script {
    Ok,
    OkRequeue(Duration),
    Pending(&'static str, Duration),
    Stop(&'static str, Option<Duration>),
    Fail(&'static str),
    OkWithStatus(Value),
}

impl Script {
    fn result(&self) -> Result<StepResult, Failure> {
        let step = |outcome| {
            Ok(StepResult {
                outcome,
                status_patch: None,
            })
        };
        match self {
            Script::Ok => step(Outcome::Ok {
                requeue_after: None,
                message: None,
            }),
            Script::OkRequeue(d) => step(Outcome::Ok {
                requeue_after: Some(*d),
                message: None,
            }),
            Script::Pending(m, d) => step(Outcome::Pending {
                message: (*m).into(),
                requeue_after: *d,
            }),
            Script::Stop(m, d) => step(Outcome::Stop {
                message: (*m).into(),
                requeue_after: *d,
            }),
            Script::Fail(m) => Err(Failure {
                message: (*m).into(),
                status_patch: None,
            }),
            Script::OkWithStatus(patch) => Ok(StepResult {
                outcome: Outcome::Ok {
                    requeue_after: None,
                    message: None,
                },
                status_patch: Some(patch.clone()),
            }),
        }
    }
}

/// A subroutine that follows a script and records its calls in a shared journal (`"<name>:process"`).
pub struct Scripted {
    name: String,
    finalizers: Vec<String>,
    process: Mutex<VecDeque<Script>>,
    finalize: Mutex<VecDeque<Script>>,
    journal: Arc<Mutex<Vec<String>>>,
    /// The objects passed to each call.
    pub seen: Mutex<Vec<CallContext>>,
}

impl Scripted {
    /// A subroutine `name` that returns OK on both paths.
    pub fn new(name: &str, journal: &Arc<Mutex<Vec<String>>>) -> Self {
        Scripted {
            name: name.into(),
            finalizers: Vec::new(),
            process: Mutex::new(VecDeque::from([Script::Ok])),
            finalize: Mutex::new(VecDeque::from([Script::Ok])),
            journal: journal.clone(),
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Declares a finalizer.
    pub fn finalizer(mut self, finalizer: &str) -> Self {
        self.finalizers.push(finalizer.into());
        self
    }

    /// Scripts `process`.
    pub fn processing(self, script: impl IntoIterator<Item = Script>) -> Self {
        *self.process.lock().unwrap() = script.into_iter().collect();
        self
    }

    /// Scripts `finalize`.
    pub fn finalizing(self, script: impl IntoIterator<Item = Script>) -> Self {
        *self.finalize.lock().unwrap() = script.into_iter().collect();
        self
    }

    fn next(
        &self,
        queue: &Mutex<VecDeque<Script>>,
        action: &str,
        ctx: &CallContext,
    ) -> Result<StepResult, Failure> {
        self.journal
            .lock()
            .unwrap()
            .push(format!("{}:{action}", self.name));
        self.seen.lock().unwrap().push(ctx.clone());
        let mut queue = queue.lock().unwrap();
        let script = if queue.len() > 1 {
            queue.pop_front().unwrap()
        } else {
            queue[0].clone()
        };
        script.result()
    }
}

impl Subroutine for Scripted {
    fn name(&self) -> &str {
        &self.name
    }

    fn finalizers(&self) -> &[String] {
        &self.finalizers
    }

    fn process<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        Box::pin(std::future::ready(self.next(&self.process, "process", ctx)))
    }

    fn finalize<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        Box::pin(std::future::ready(self.next(&self.finalize, "finalize", ctx)))
    }
}

/// A fresh call journal.
pub fn journal() -> Arc<Mutex<Vec<String>>> {
    Arc::new(Mutex::new(Vec::new()))
}
