//! Paced history reads: a cold start of thousands of SLOs reads their whole periods without
//! flooding the backend.
//!
//! Every range request (backfill, gap fills, corrections, replay) goes through a [`Pacer`]: at
//! most `concurrency` are in flight at once, and on average the backend loads no more than
//! `samples_per_second` samples for them. The cost of a request is known only from its answer
//! (Prometheus says how many samples it loaded when asked with `stats=all`; otherwise the points
//! returned count), so the budget is a token bucket that may go into debt: a request starts only
//! while the bucket is not in debt, taking the average cost of the requests before it, and the
//! difference to its real cost is settled when it returns. The samples loaded by any moment stay
//! within the budget plus one second's burst (plus, before the first answer says what a request
//! costs, the `concurrency` requests started on the burst).
//! Instant reads (the live ticks) are not paced: they are small and must not wait behind history.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use burnwatch_engine::Millis;
use burnwatch_spec::Pace;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::backend::{Backend, BackendError, QueryResult, Read};
use crate::metrics::SchedulerMetrics;

/// A backend whose range reads are paced.
pub struct Pacer {
    inner: Arc<dyn Backend>,
    permits: Semaphore,
    budget: Option<Mutex<Bucket>>,
    metrics: Arc<SchedulerMetrics>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pacer")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Samples that may be loaded now; negative while costly answers are being paid off.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    tokens: f64,
    at: Instant,
    /// The average cost of the answers so far (exponentially weighted), what a request is
    /// charged when it starts.
    estimate: f64,
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        // At most one second's worth saved up: an idle backend does not allow a burst later.
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        self.at = now;
    }

    /// Zero and the estimate charged when a request may start; else how long until it may.
    fn start(&mut self, now: Instant) -> Result<f64, Duration> {
        self.refill(now);
        if self.tokens >= 0.0 {
            self.tokens -= self.estimate;
            Ok(self.estimate)
        } else {
            Err(Duration::from_secs_f64(-self.tokens / self.rate))
        }
    }

    /// A request charged `charged` cost `cost`.
    fn settle(&mut self, now: Instant, charged: f64, cost: u64) {
        self.refill(now);
        let cost = cost as f64;
        self.tokens -= cost - charged;
        self.estimate = if self.estimate == 0.0 {
            cost
        } else {
            0.8 * self.estimate + 0.2 * cost
        };
    }
}

impl Pacer {
    /// Pace `inner`'s range reads as `pace` says.
    pub fn new(inner: Arc<dyn Backend>, pace: Pace, metrics: Arc<SchedulerMetrics>) -> Self {
        let budget = pace.samples_per_second.map(|rate| {
            Mutex::new(Bucket {
                rate: rate as f64,
                tokens: rate as f64,
                at: Instant::now(),
                estimate: 0.0,
            })
        });
        Self {
            inner,
            permits: Semaphore::new(pace.concurrency.max(1)),
            budget,
            metrics,
        }
    }

    /// Waits until the budget allows another request; what it was charged.
    async fn admit(&self) -> f64 {
        let Some(budget) = &self.budget else {
            return 0.0;
        };
        loop {
            let start = budget.lock().expect("pacer lock").start(Instant::now());
            match start {
                Ok(charged) => return charged,
                Err(wait) => {
                    self.metrics.record_paced(self.inner.name(), wait);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[async_trait]
impl Backend for Pacer {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError> {
        self.inner.instant(read, at).await
    }

    async fn range(
        &self,
        read: Read<'_>,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let charged = self.admit().await;
        let result = self.inner.range(read, start, end, step).await;
        // A failed request cost what it was charged, as far as anyone can tell.
        let cost = result.as_ref().map_or(charged as u64, QueryResult::cost);
        if result.is_ok() {
            self.metrics.record_history_samples(self.inner.name(), cost);
        }
        if let Some(budget) = &self.budget {
            budget
                .lock()
                .expect("pacer lock")
                .settle(Instant::now(), charged, cost);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Series;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Answers every range read with `cost` loaded samples, recording when each started and
    /// how many ran at once.
    #[derive(Debug, Default)]
    struct Costly {
        cost: u64,
        starts: Mutex<Vec<Instant>>,
        running: AtomicUsize,
        most: AtomicUsize,
    }

    #[async_trait]
    impl Backend for Costly {
        fn name(&self) -> &str {
            "costly"
        }

        async fn instant(&self, _: Read<'_>, _: Millis) -> Result<QueryResult, BackendError> {
            Ok(QueryResult::default())
        }

        async fn range(
            &self,
            _: Read<'_>,
            _: Millis,
            _: Millis,
            _: Duration,
        ) -> Result<QueryResult, BackendError> {
            self.starts.lock().unwrap().push(Instant::now());
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            Ok(QueryResult {
                series: vec![Series {
                    labels: Default::default(),
                    samples: vec![(0, 1.0)],
                }],
                loaded: Some(self.cost),
                ..QueryResult::default()
            })
        }
    }

    async fn run(pace: Pace, cost: u64, requests: usize) -> Arc<Costly> {
        let inner = Arc::new(Costly {
            cost,
            ..Costly::default()
        });
        let metrics = Arc::new(SchedulerMetrics::unregistered());
        let pacer = Arc::new(Pacer::new(inner.clone(), pace, metrics));
        let selector = burnwatch_spec::Selector::parse("m").unwrap();
        let tasks: Vec<_> = (0..requests)
            .map(|_| {
                let pacer = Arc::clone(&pacer);
                let selector = selector.clone();
                tokio::spawn(async move {
                    let read = Read::Values {
                        selector: &selector,
                    };
                    pacer.range(read, 0, 60_000, Duration::from_secs(60)).await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        inner
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_requests_in_flight_than_the_concurrency() {
        let pace = Pace {
            concurrency: 3,
            samples_per_second: None,
        };
        let inner = run(pace, 1_000, 20).await;
        assert_eq!(inner.most.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn samples_per_second_stay_within_the_budget() {
        // 10 requests of 50,000 samples at 100,000 samples/s, 4 at once. The first 4 start on
        // the burst (nothing says yet what a request costs) and leave the bucket 100,000 in
        // debt when they return at 0.1 s; from then on each start is charged 50,000, so the
        // others start at 1.1, 1.6, 2.1, 2.6, 3.1 and 3.6 s.
        let pace = Pace {
            concurrency: 4,
            samples_per_second: Some(100_000),
        };
        let started = Instant::now();
        let inner = run(pace, 50_000, 10).await;
        let starts = inner.starts.lock().unwrap().clone();
        let mut offsets: Vec<f64> = starts
            .iter()
            .map(|at| at.duration_since(started).as_secs_f64())
            .collect();
        offsets.sort_by(f64::total_cmp);
        let expected = [0.0, 0.0, 0.0, 0.0, 1.1, 1.6, 2.1, 2.6, 3.1, 3.6];
        for (got, want) in offsets.iter().zip(expected) {
            assert!(
                (got - want).abs() < 0.01,
                "starts at {offsets:?}, expected {expected:?}"
            );
        }
        // By each start, what the requests before it cost is within the budget: one second's
        // burst, 100,000 a second since, and the three extra first-round requests.
        for (i, at) in offsets.iter().enumerate() {
            let loaded_before = 50_000.0 * i as f64;
            let allowed = 100_000.0 * (1.0 + at) + 3.0 * 50_000.0;
            assert!(
                loaded_before <= allowed,
                "request {i} at {at} s: {loaded_before} > {allowed}"
            );
        }
    }
}
