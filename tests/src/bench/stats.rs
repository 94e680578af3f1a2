//! Measurement primitives: one timed run of many operations from concurrent
//! clients ([`drive`]), percentiles, and the summary of repeated runs ([`Summary`]).
//!
//! Every scenario is a function of the number of operations; the clients pull
//! operation numbers from one shared counter, so the work is the same whatever
//! the scheduling, and the run's rate is `operations × items / wall time`.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// One run: how long it took and the latency of each operation.
#[derive(Clone, Debug, Default)]
pub(crate) struct Run {
    pub seconds: f64,
    /// Items (events, pages, rows) done in the run.
    pub items: f64,
    /// Latency of each operation, in milliseconds.
    pub latencies_ms: Vec<f64>,
}

impl Run {
    pub(crate) fn rate(&self) -> f64 {
        self.items / self.seconds
    }
}

/// Runs `operations` calls of `op(n)` (n = 0, 1, …) from `clients` concurrent tasks;
/// each operation does `items_per_op` items.
pub(crate) async fn drive<F, Fut>(
    clients: usize,
    operations: usize,
    items_per_op: usize,
    op: F,
) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= operations {
                    return latencies;
                }
                let sent = Instant::now();
                op(n).await;
                latencies.push(sent.elapsed().as_secs_f64() * 1e3);
            }
        }));
    }
    let mut latencies_ms = Vec::with_capacity(operations);
    for task in tasks {
        latencies_ms.extend(task.await.expect("a benchmark client panicked"));
    }
    Run {
        seconds: started.elapsed().as_secs_f64(),
        items: (operations * items_per_op) as f64,
        latencies_ms,
    }
}

/// The `q` quantile of `values` (nearest rank); NaN when empty.
pub(crate) fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub(crate) fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// Repeated runs of one system in one scenario.
#[derive(Clone, Debug)]
pub(crate) struct Summary {
    /// Median over runs of each run's rate.
    pub rate: f64,
    /// Median over runs of each run's p50 latency (ms).
    pub p50_ms: f64,
    /// Median over runs of each run's p99 latency (ms).
    pub p99_ms: f64,
    pub runs: usize,
}

impl Summary {
    pub(crate) fn of(runs: &[Run]) -> Summary {
        let each = |f: &dyn Fn(&Run) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
        Summary {
            rate: each(&Run::rate),
            p50_ms: each(&|run| percentile(&run.latencies_ms, 0.5)),
            p99_ms: each(&|run| percentile(&run.latencies_ms, 0.99)),
            runs: runs.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 50.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
