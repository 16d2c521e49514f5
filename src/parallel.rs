//! Work split over the machine's cores, away from the async threads: the audit
//! chain's hashes and a batch of consent PDFs.

use crate::error::{AppError, AppResult};

/// `f` applied to every item, the items split in one run per core (at most 8) on a
/// blocking thread; the items come back with the results, in order.
pub async fn map<T, R>(items: Vec<T>, f: fn(&T) -> R) -> AppResult<(Vec<T>, Vec<R>)>
where
    T: Send + Sync + 'static,
    R: Send + 'static,
{
    let lost = |what: &str| AppError::Internal(format!("work split over the cores: {what}"));
    let (items, results) = tokio::task::spawn_blocking(move || {
        if items.len() <= 1 {
            let results: Vec<R> = items.iter().map(f).collect();
            return (items, Some(results));
        }
        let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let size = items.len().div_ceil(parts).max(1);
        let results = std::thread::scope(|scope| {
            let workers: Vec<_> = items
                .chunks(size)
                .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
                .collect();
            let parts: Result<Vec<Vec<R>>, _> = workers.into_iter().map(|w| w.join()).collect();
            parts.ok().map(|parts| parts.into_iter().flatten().collect::<Vec<R>>())
        });
        (items, results)
    })
    .await
    .map_err(|e| lost(&e.to_string()))?;
    let results = results.ok_or_else(|| lost("a thread failed"))?;
    if results.len() != items.len() {
        return Err(lost(&format!("{} results for {} items", results.len(), items.len())));
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
