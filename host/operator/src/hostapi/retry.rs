//! Retrying idempotent reads through API hiccups. kube's client already retries 429 and 503 (honouring
//! Retry-After); a 500, a 502 or a dropped connection reaches the caller. A plugin's `get` or `list` is retried
//! twice after such a failure (100 ms, then 300 ms) before the plugin sees `unavailable`, so one failed request
//! does not cost a whole reconcile pass and the object's backoff.

use std::{future::Future, time::Duration};

pub use crate::errors::is_transient;

/// Runs `read`, retrying it twice after a transient failure.
pub async fn read_with_retry<T, F, Fut>(mut read: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(100);
    for _ in 0..2 {
        match read().await {
            Err(error) if is_transient(&error) => {
                tracing::debug!(%error, retry_in = ?delay, "transient API error on a read");
                tokio::time::sleep(delay).await;
                delay *= 3;
            }
            done => return done,
        }
    }
    read().await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kube::core::Status;

    use super::*;

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure("x", "y").with_code(code)))
    }

    #[tokio::test]
    async fn transient_failures_are_retried_twice_and_others_not_at_all() {
        let calls = AtomicUsize::new(0);
        let result = read_with_retry(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 { Err(status(500)) } else { Ok(n) }
        })
        .await;
        assert_eq!(result.unwrap(), 2);

        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = read_with_retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(500))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "two retries, then the error");

        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = read_with_retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(404))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a 404 is an answer");
    }

    #[test]
    fn transient_means_server_side_or_transport() {
        assert!(is_transient(&status(500)) && is_transient(&status(503)) && is_transient(&status(429)));
        assert!(!is_transient(&status(404)) && !is_transient(&status(409)) && !is_transient(&status(422)));
    }
}
