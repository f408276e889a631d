//! Waits on observable state: a check that eventually passes, objects that appear or go, and a cluster whose
//! request counters show that everything has settled.

use std::{future::Future, time::Duration};

use anyhow::{Context as _, bail};
use apiserver::{RequestStats, Server};
use kube::{Api, api::DynamicObject};

/// How often polled state is looked at.
const POLL: Duration = Duration::from_millis(100);

/// Polls `check` every 100 ms until it returns a value or `timeout` passes; an error of `check` ends the wait.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(found) = check().await? {
            return Ok(found);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Runs `check` every 100 ms until it passes or `timeout` passes, returning its last error.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, check: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(()) => return Ok(()),
            Err(error) if tokio::time::Instant::now() >= deadline => {
                return Err(error.context(format!("waiting for {what}")));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// Waits until `name` exists in `api`; returns it.
pub async fn appears(
    api: &Api<DynamicObject>,
    name: &str,
    timeout: Duration,
) -> anyhow::Result<DynamicObject> {
    until(&format!("{name} to appear"), timeout, || async {
        Ok(api.get_opt(name).await?)
    })
    .await
}

/// Waits until `name` is gone from `api`.
pub async fn gone(api: &Api<DynamicObject>, name: &str, timeout: Duration) -> anyhow::Result<()> {
    until(&format!("{name} to go"), timeout, || async {
        Ok(api.get_opt(name).await?.is_none().then_some(()))
    })
    .await
}

/// Which request counter [`settle`] watches.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    /// Every write, changing state or not.
    Writes,
    /// Writes that changed state.
    Changes,
}

impl Counter {
    fn of(self, stats: &RequestStats) -> u64 {
        match self {
            Counter::Writes => stats.writes,
            Counter::Changes => stats.changed_writes,
        }
    }
}

/// Waits until `counter` of `server` stood still for `window` (reads never stop: watches are re-established all
/// the time), so that a later count belongs to what runs then; fails after `timeout`.
pub async fn settle(
    server: &Server,
    counter: Counter,
    window: Duration,
    timeout: Duration,
) -> anyhow::Result<()> {
    let calm = async {
        let mut last = counter.of(&server.requests().snapshot());
        let mut since = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(POLL.min(window)).await;
            let now = counter.of(&server.requests().snapshot());
            if now != last {
                (last, since) = (now, tokio::time::Instant::now());
            } else if since.elapsed() >= window {
                return;
            }
        }
    };
    tokio::time::timeout(timeout, calm)
        .await
        .with_context(|| format!("waiting {window:?} without {counter:?}: the cluster never settled"))
}

/// Waits until `server` saw no write for 300 ms (at most 15 s), so that a later count belongs to what runs then.
pub async fn quiet(server: &Server) -> anyhow::Result<()> {
    settle(
        server,
        Counter::Writes,
        Duration::from_millis(300),
        Duration::from_secs(15),
    )
    .await
}

/// How many requests for `resource` (`plural` or `plural.group`) `server` has answered.
pub fn requests_for(server: &Server, resource: &str) -> u64 {
    server
        .requests()
        .snapshot()
        .by_resource
        .get(resource)
        .copied()
        .unwrap_or(0)
}

/// Waits until `server` has answered at least `more` requests for `resource` beyond `before`.
pub async fn requests_since(
    server: &Server,
    resource: &str,
    before: u64,
    more: u64,
    timeout: Duration,
) -> anyhow::Result<()> {
    until(
        &format!("{more} more requests for {resource}"),
        timeout,
        || async { Ok((requests_for(server, resource) >= before + more).then_some(())) },
    )
    .await
}
