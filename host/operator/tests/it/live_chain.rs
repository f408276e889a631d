//! A lifecycle with a live chain (a plugin set that can be swapped): a pass finishes on the chain it started
//! with even if the set is swapped while it runs, and the next pass runs the new chain.

use std::sync::{Arc, Mutex, RwLock};

use crate::support::*;
use platform_mesh_operator::lifecycle::{
    CallContext, Chain, ChainSource, KubeStore, Lifecycle, LifecycleOptions, ObjectKey, Outcome, StepResult,
    Subroutine, SubroutineFuture, Target,
};
use serde_json::json;

const NS: &str = "default";

type Journal = Arc<Mutex<Vec<String>>>;

/// Records its name; `swap_to` (if set) is put in service while it runs, as a ConfigMap change would.
struct Step {
    name: String,
    journal: Journal,
    swap_to: Option<(Arc<RwLock<Chain>>, Chain)>,
}

impl Subroutine for Step {
    fn name(&self) -> &str {
        &self.name
    }

    fn finalizers(&self) -> &[String] {
        &[]
    }

    fn process<'a>(&'a self, _ctx: &'a CallContext) -> SubroutineFuture<'a> {
        Box::pin(async move {
            self.journal.lock().unwrap().push(self.name.clone());
            if let Some((live, next)) = &self.swap_to {
                *live.write().unwrap() = next.clone();
            }
            Ok(StepResult {
                outcome: Outcome::Ok {
                    requeue_after: None,
                    message: None,
                },
                status_patch: None,
            })
        })
    }

    fn finalize<'a>(&'a self, ctx: &'a CallContext) -> SubroutineFuture<'a> {
        self.process(ctx)
    }
}

fn step(name: &str, journal: &Journal, swap_to: Option<(Arc<RwLock<Chain>>, Chain)>) -> Arc<dyn Subroutine> {
    Arc::new(Step {
        name: name.into(),
        journal: journal.clone(),
        swap_to,
    })
}

#[tokio::test]
async fn a_pass_finishes_on_its_chain_and_the_next_pass_runs_the_swapped_in_one() {
    let server = server_with_crds().await;
    create_platform_mesh(&server.client(), NS, "pm", json!({})).await;
    let store = KubeStore::new(server.client(), platform_mesh_resource());
    let key = ObjectKey::namespaced(NS, "pm");
    let journal: Journal = Arc::default();

    let live: Arc<RwLock<Chain>> = Arc::new(RwLock::new(Vec::<Arc<dyn Subroutine>>::new().into()));
    let new_chain: Chain = vec![step("NewSubroutine", &journal, None)].into();
    let old_chain: Chain = vec![
        step("SwapperSubroutine", &journal, Some((live.clone(), new_chain))),
        step("OldSubroutine", &journal, None),
    ]
    .into();
    *live.write().unwrap() = old_chain;
    let source = live.clone();
    let lifecycle = Lifecycle::with_chain_source(
        "platformmesh",
        Target::Runtime,
        ChainSource::live(move || source.read().unwrap().clone()),
        LifecycleOptions::default(),
        json!({}),
    );

    let first = lifecycle.reconcile(&store, &key).await;
    assert!(first.error.is_none(), "{:?}", first.error);
    assert_eq!(*journal.lock().unwrap(), ["SwapperSubroutine", "OldSubroutine"]);
    assert_eq!(lifecycle.subroutine_names(), ["NewSubroutine"]);

    journal.lock().unwrap().clear();
    let second = lifecycle.reconcile(&store, &key).await;
    assert!(second.error.is_none(), "{:?}", second.error);
    assert_eq!(*journal.lock().unwrap(), ["NewSubroutine"]);
    let object = get_platform_mesh(&server.client(), NS, "pm").await.unwrap();
    assert_eq!(condition(&object, "NewSubroutine").unwrap()["status"], "True");
    server.shutdown().await;
}
