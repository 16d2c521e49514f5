//! Work split over the machine's cores, away from the async threads: the audit
//! chain's hashes and a batch of consent PDFs.

use std::sync::{Arc, LazyLock};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::error::{AppError, AppResult};

/// The machine's cores, at most 8 (read once: finding them reads the cgroup files).
fn cores() -> usize {
    static CORES: LazyLock<usize> =
        LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8));
    *CORES
}

/// One permit per core for work handed to `start`.
static LANES: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(cores())));

/// Work begun by `start`.
pub struct Running<R>(JoinHandle<Result<R, tokio::task::JoinError>>);

impl<R> Running<R> {
    /// Waits for the work's result.
    pub async fn result(self) -> AppResult<R> {
        match self.0.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) | Err(e) => Err(AppError::Internal(format!("work on another core: {e}"))),
        }
    }
}

/// Starts `f` on a thread of the runtime's blocking pool as soon as a core is free
/// of the work handed here (at most one piece per core at a time, in the order
/// given), and returns at once, so the caller goes on while it runs.
pub fn start<R, F>(f: F) -> Running<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let lanes = Arc::clone(&LANES);
    Running(tokio::spawn(async move {
        // The semaphore is never closed; were it, the work would run regardless.
        let _lane = lanes.acquire_owned().await.ok();
        tokio::task::spawn_blocking(f).await
    }))
}

/// `f` applied to every item, the items split in one run per core (at most 8), each
/// run on a thread of the runtime's blocking pool (reused, so a burst does not start
/// new threads, each with memory of its own); the items come back with the
/// results, in order.
pub async fn map<T, R>(items: Vec<T>, f: fn(&T) -> R) -> AppResult<(Vec<T>, Vec<R>)>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let parts = cores();
    let size = items.len().div_ceil(parts).max(1);
    let mut runs = Vec::with_capacity(parts);
    let mut rest = items;
    while rest.len() > size {
        let tail = rest.split_off(size);
        runs.push(rest);
        rest = tail;
    }
    runs.push(rest);
    let tasks: Vec<_> = runs
        .into_iter()
        .map(|run| {
            tokio::task::spawn_blocking(move || {
                let results: Vec<R> = run.iter().map(f).collect();
                (run, results)
            })
        })
        .collect();
    let (mut items, mut results) = (Vec::new(), Vec::new());
    for task in tasks {
        let (run, done) = task
            .await
            .map_err(|e| AppError::Internal(format!("work split over the cores: {e}")))?;
        items.extend(run);
        results.extend(done);
    }
    Ok((items, results))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn results_come_back_in_order_with_their_items() {
        let items: Vec<u64> = (0..1001).collect();
        let (back, squares) = super::map(items.clone(), |n| n * n).await.expect("runs");
        assert_eq!(back, items);
        assert_eq!(squares, items.iter().map(|n| n * n).collect::<Vec<_>>());
        let (none, empty) = super::map(Vec::<u64>::new(), |n| *n).await.expect("runs");
        assert!(none.is_empty() && empty.is_empty());
    }

    #[tokio::test]
    async fn started_work_runs_while_the_caller_goes_on_and_each_result_is_its_own() {
        let (tx, rx) = std::sync::mpsc::channel::<u64>();
        // The first piece waits for a value sent after both were started: had
        // `start` run it before returning, this test would never end.
        let first = super::start(move || rx.recv().map(|n| n * 2).unwrap_or(0));
        let second = super::start(|| 7u64);
        tx.send(21).expect("sent");
        assert_eq!(first.result().await.expect("runs"), 42);
        assert_eq!(second.result().await.expect("runs"), 7);
        let failed = super::start(|| -> u64 { panic!("a failed piece of work") });
        assert!(failed.result().await.is_err(), "a panic is an error, not a crash");
    }
}
