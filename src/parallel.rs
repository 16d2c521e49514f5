//! Work split over the machine's cores, away from the async threads: the audit
//! chain's hashes and a batch of consent PDFs.

use crate::error::{AppError, AppResult};

/// `f` applied to every item, the items split in one run per core (at most 8), each
/// run on a thread of the runtime's blocking pool (reused, so a burst does not start
/// new threads, each with memory of its own); the items come back with the
/// results, in order.
pub async fn map<T, R>(items: Vec<T>, f: fn(&T) -> R) -> AppResult<(Vec<T>, Vec<R>)>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
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
}
