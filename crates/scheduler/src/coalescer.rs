//! Coalesced reads: the raw-sample reads of every SLO ticking together, and the boundary reads of
//! SLOs backfilling together, answered by one request per metric name instead of one per
//! selector.
//!
//! SLOs on the same backend and interval tick at the same scheduled moment (see
//! [`crate::poller::tick_offset`]), so their [`Read::Samples`] arrive within milliseconds of
//! each other with the same evaluation time; SLOs starting together read the same bucket
//! boundaries ([`Read::Boundaries`] over the same range and step). The [`Coalescer`] holds each
//! read for a moment ([`Linger`]), then asks the backend once per metric name (and time, or
//! range) for a selector that covers all of them: the matchers they share, plus
//! `label=~"v1|v2|..."` where each fixes a label to its own value (`service="checkout"`,
//! `service="search"`). Each SLO then gets the series its own selector selects
//! ([`LabelFilter`]) with the samples of its own range, exactly what its own request would
//! have returned. An answer too large for the backend's limit, or a query the backend refuses,
//! is split in halves until the parts fit or a single selector remains.
//!
//! Every other read passes straight through: template SLIs are PromQL the backend must
//! evaluate, and the few detail reads of history are at times of their own.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use burnwatch_engine::Millis;
use burnwatch_spec::{MatchOp, Selector};
use futures_util::future::BoxFuture;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::backend::{Backend, BackendError, QueryResult, Read, Series};
use crate::label_filter::LabelFilter;

/// How long a batch of live reads stays open for more reads.
#[derive(Debug, Clone, Copy)]
pub struct Linger {
    /// The batch is sent once no read has joined it for this long...
    pub quiet: Duration,
    /// ...or this long after it opened, whichever comes first.
    pub max: Duration,
}

impl Default for Linger {
    fn default() -> Self {
        // Tasks woken for the same tick reach their read within a few milliseconds even with
        // thousands of SLOs on two cores; a read pays at most `max` of latency for it, a lone
        // one `quiet`.
        Self {
            quiet: Duration::from_millis(10),
            max: Duration::from_millis(250),
        }
    }
}

/// How long a batch of history reads stays open: SLOs backfilling together reach the same read
/// tens of milliseconds apart (each first digests the answer to its previous one), and a
/// backfill takes seconds anyway.
const HISTORY_LINGER: Linger = Linger {
    quiet: Duration::from_millis(100),
    max: Duration::from_secs(1),
};

/// Most reads answered by one request; more wait for the next batch.
const MAX_BATCH: usize = 2_000;

/// What one read asks, apart from its selector and (for raw samples) its range: reads are
/// coalesced only with reads asking the same (raw samples at the same moment, each over its
/// own range; or boundaries over the same range and step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ask {
    /// [`Read::Samples`] before `at`.
    Samples { at: Millis },
    /// [`Read::Boundaries`] from `start` to `end` at `step`.
    Boundaries {
        start: Millis,
        end: Millis,
        step: Duration,
    },
}

/// Reads answered together: the same metric and the same ask (a live tick's raw samples are all
/// read at the group's tick time, so they share it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    metric: String,
    ask: Ask,
}

struct Request {
    selector: Selector,
    filter: LabelFilter,
    /// For raw samples: how far back from the tick.
    range: Duration,
    reply: oneshot::Sender<Result<QueryResult, BackendError>>,
}

struct Batch {
    requests: Vec<Request>,
    opened: Instant,
    last: Instant,
}

type Pending = Arc<Mutex<HashMap<Key, Batch>>>;

/// A backend whose raw-sample and boundary reads are coalesced per metric name.
pub struct Coalescer {
    inner: Arc<dyn Backend>,
    pending: Pending,
    linger: Linger,
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coalescer")
            .field("inner", &self.inner)
            .field("linger", &self.linger)
            .finish_non_exhaustive()
    }
}

impl Coalescer {
    /// Coalesce `inner`'s raw-sample and boundary reads.
    pub fn new(inner: Arc<dyn Backend>, linger: Linger) -> Self {
        Self {
            inner,
            pending: Arc::default(),
            linger,
        }
    }

    /// Joins (or opens) the batch of `selector` and `ask` and waits for its answer; `None`
    /// when the read must go alone (a full batch, a pattern only the backend can judge).
    async fn join(
        &self,
        selector: &Selector,
        ask: Ask,
        range: Duration,
    ) -> Option<Result<QueryResult, BackendError>> {
        let filter = LabelFilter::new(selector)?;
        let (reply, answer) = oneshot::channel();
        let request = Request {
            selector: selector.clone(),
            filter,
            range,
            reply,
        };
        let key = Key {
            metric: selector.metric().to_string(),
            ask,
        };
        let opened = {
            let mut pending = self.pending.lock().expect("coalescer lock");
            let now = Instant::now();
            match pending.get_mut(&key) {
                Some(batch) if batch.requests.len() < MAX_BATCH => {
                    batch.requests.push(request);
                    batch.last = now;
                    false
                }
                // A full batch: this read goes alone rather than waiting for the next.
                Some(_) => return None,
                None => {
                    pending.insert(
                        key.clone(),
                        Batch {
                            requests: vec![request],
                            opened: now,
                            last: now,
                        },
                    );
                    true
                }
            }
        };
        if opened {
            let linger = match ask {
                Ask::Samples { .. } => self.linger,
                Ask::Boundaries { .. } => HISTORY_LINGER,
            };
            tokio::spawn(flush_later(
                Arc::clone(&self.inner),
                Arc::clone(&self.pending),
                key,
                linger,
            ));
        }
        Some(answer.await.unwrap_or_else(|_| {
            Err(BackendError::Transport(
                "the coalesced read was abandoned".into(),
            ))
        }))
    }
}

#[async_trait]
impl Backend for Coalescer {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError> {
        if let Read::Samples { selector, range } = read
            && let Some(answer) = self.join(selector, Ask::Samples { at }, range).await
        {
            return answer;
        }
        self.inner.instant(read, at).await
    }

    async fn range(
        &self,
        read: Read<'_>,
        start: Millis,
        end: Millis,
        step: Duration,
    ) -> Result<QueryResult, BackendError> {
        if let Read::Boundaries { selector, step } = read
            && let Some(answer) = self
                .join(selector, Ask::Boundaries { start, end, step }, step)
                .await
        {
            return answer;
        }
        self.inner.range(read, start, end, step).await
    }
}

/// Waits until the batch of `key` has lingered, takes it and answers its reads.
async fn flush_later(inner: Arc<dyn Backend>, pending: Pending, key: Key, linger: Linger) {
    let requests = loop {
        let due = {
            let mut pending = pending.lock().expect("coalescer lock");
            let Some(batch) = pending.get(&key) else {
                return;
            };
            let due = (batch.last + linger.quiet).min(batch.opened + linger.max);
            if Instant::now() >= due {
                Ok(pending.remove(&key).map_or_else(Vec::new, |b| b.requests))
            } else {
                Err(due)
            }
        };
        match due {
            Ok(requests) => break requests,
            Err(due) => tokio::time::sleep_until(due).await,
        }
    };
    answer(inner, key.ask, requests).await;
}

/// `ask` of `selector` (over `range`, for raw samples) from the backend itself.
async fn read(
    inner: &dyn Backend,
    selector: &Selector,
    ask: Ask,
    range: Duration,
) -> Result<QueryResult, BackendError> {
    match ask {
        Ask::Samples { at } => inner.instant(Read::Samples { selector, range }, at).await,
        Ask::Boundaries { start, end, step } => {
            inner
                .range(Read::Boundaries { selector, step }, start, end, step)
                .await
        }
    }
}

/// Answers `requests` (all of one metric and `ask`) with as few backend requests as fit.
fn answer(inner: Arc<dyn Backend>, ask: Ask, mut requests: Vec<Request>) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        if requests.len() == 1 {
            let request = requests.pop().expect("one request");
            let result = read(inner.as_ref(), &request.selector, ask, request.range).await;
            let _ = request.reply.send(result);
            return;
        }
        let selector = covering(&requests);
        let range = requests.iter().map(|r| r.range).max().expect("requests");
        match read(inner.as_ref(), &selector, ask, range).await {
            Ok(result) => {
                let index = Index::new(&result, &requests);
                for request in requests {
                    let own = own_part(&result, &index, &request, ask);
                    let _ = request.reply.send(Ok(own));
                }
            }
            Err(err) if splittable(&err) => {
                tracing::debug!(backend = %inner.name(), reads = requests.len(), error = %err, "coalesced read split in halves");
                let second = requests.split_off(requests.len() / 2);
                answer(Arc::clone(&inner), ask, requests).await;
                answer(inner, ask, second).await;
            }
            Err(err) => {
                for request in requests {
                    let _ = request.reply.send(Err(err.clone()));
                }
            }
        }
    })
}

/// Whether a smaller request may succeed where the whole batch failed: too large an answer, or
/// a query the backend refused (its sample limit, a matcher one selector got wrong).
fn splittable(err: &BackendError) -> bool {
    matches!(
        err,
        BackendError::TooLarge(_)
            | BackendError::Api {
                transient: false,
                ..
            }
            | BackendError::Status {
                status: 400 | 413 | 422,
                ..
            }
    )
}

/// A selector selecting at least every series each request's selector selects: the metric, the
/// matchers all share, and for each label every request fixes with `=`, the alternation of
/// their values.
fn covering(requests: &[Request]) -> Selector {
    let first = &requests[0].selector;
    let mut out = Selector::parse(first.metric())
        .or_else(|_| Selector::parse(&format!("{{__name__=\"{}\"}}", first.metric())))
        .expect("a metric name is a selector");
    for m in first.matchers() {
        if requests.iter().all(|r| r.selector.matchers().contains(m)) {
            out = out.with_matcher(&m.name, m.op, &m.value);
            continue;
        }
        if m.op != MatchOp::Equal || out.matchers().iter().any(|o| o.name == m.name) {
            continue;
        }
        let values: Option<BTreeSet<&str>> = requests
            .iter()
            .map(|r| {
                r.selector
                    .matchers()
                    .iter()
                    .find(|o| o.name == m.name && o.op == MatchOp::Equal)
                    .map(|o| o.value.as_str())
            })
            .collect();
        if let Some(values) = values {
            let alternation: Vec<String> = values.into_iter().map(regex::escape).collect();
            out = out.with_matcher(&m.name, MatchOp::Regex, &alternation.join("|"));
        }
    }
    out
}

/// The series (and reset rows) of `result` that `request`'s own selector selects; for raw
/// samples, with the samples of its own range `[at - range, at]` (both ends, as Prometheus 2
/// selects them).
fn own_part(result: &QueryResult, index: &Index, request: &Request, ask: Ask) -> QueryResult {
    let window = match ask {
        Ask::Samples { at } => Some((at - request.range.as_millis() as Millis, at)),
        Ask::Boundaries { .. } => None,
    };
    let own = |rows: &[Series], candidates: Option<&[usize]>| -> Vec<Series> {
        let scan: Box<dyn Iterator<Item = &Series>> = match candidates {
            Some(rows_with_value) => Box::new(rows_with_value.iter().map(|&i| &rows[i])),
            None => Box::new(rows.iter()),
        };
        scan.filter(|s| request.filter.matches(&s.labels))
            .filter_map(|s| match window {
                None => Some(s.clone()),
                Some((from, to)) => {
                    let samples: Vec<(Millis, f64)> = s
                        .samples
                        .iter()
                        .copied()
                        .filter(|(t, _)| (from..=to).contains(t))
                        .collect();
                    (!samples.is_empty()).then(|| Series {
                        labels: s.labels.clone(),
                        samples,
                    })
                }
            })
            .collect()
    };
    let (series, resets) = index.candidates(request);
    QueryResult {
        series: own(&result.series, series),
        resets: own(&result.resets, resets),
        ..QueryResult::default()
    }
}

/// The rows of an answer by their value of one label that most of the batch's selectors fix
/// with `=` (`service="checkout"`): each such read looks only at the rows with its value
/// instead of matching every row, so a batch of many SLOs costs about the answer's size, not
/// its size times the number of SLOs.
#[derive(Debug, Default)]
struct Index {
    label: Option<String>,
    series: HashMap<String, Vec<usize>>,
    resets: HashMap<String, Vec<usize>>,
}

impl Index {
    fn new(result: &QueryResult, requests: &[Request]) -> Self {
        let mut fixed: HashMap<&str, usize> = HashMap::new();
        for request in requests {
            for m in request.selector.matchers() {
                if m.op == MatchOp::Equal && m.name != "__name__" {
                    *fixed.entry(m.name.as_str()).or_default() += 1;
                }
            }
        }
        let Some((label, _)) = fixed
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        else {
            return Index::default();
        };
        let by_value = |rows: &[Series]| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, row) in rows.iter().enumerate() {
                let value = row.labels.get(label).cloned().unwrap_or_default();
                map.entry(value).or_default().push(i);
            }
            map
        };
        Index {
            label: Some(label.to_string()),
            series: by_value(&result.series),
            resets: by_value(&result.resets),
        }
    }

    /// The rows of the series and of the resets `request` may select; `None`: all of them.
    fn candidates(&self, request: &Request) -> (Option<&[usize]>, Option<&[usize]>) {
        let Some(label) = &self.label else {
            return (None, None);
        };
        let Some(value) = request
            .selector
            .matchers()
            .iter()
            .find(|m| m.op == MatchOp::Equal && &m.name == label)
            .map(|m| m.value.as_str())
        else {
            return (None, None);
        };
        let series = self.series.get(value).map_or(&[][..], Vec::as_slice);
        let resets = self.resets.get(value).map_or(&[][..], Vec::as_slice);
        (Some(series), Some(resets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Labels;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A store of fixed series answering `Samples` reads by matching selectors itself, counting
    /// requests, and refusing answers with more than `limit` series (as a size limit would).
    #[derive(Debug)]
    struct Store {
        series: Vec<Series>,
        requests: AtomicUsize,
        limit: usize,
    }

    #[async_trait]
    impl Backend for Store {
        fn name(&self) -> &str {
            "store"
        }

        async fn instant(&self, read: Read<'_>, at: Millis) -> Result<QueryResult, BackendError> {
            self.requests.fetch_add(1, Ordering::SeqCst);
            let Read::Samples { selector, range } = read else {
                panic!("only samples are read here");
            };
            let filter = LabelFilter::new(selector).unwrap();
            let from = at - range.as_millis() as Millis;
            let series: Vec<Series> = self
                .series
                .iter()
                .filter(|s| filter.matches(&s.labels))
                .map(|s| Series {
                    labels: s.labels.clone(),
                    samples: s
                        .samples
                        .iter()
                        .copied()
                        .filter(|(t, _)| *t >= from && *t <= at)
                        .collect(),
                })
                .filter(|s| !s.samples.is_empty())
                .collect();
            if series.len() > self.limit {
                return Err(BackendError::TooLarge(self.limit));
            }
            Ok(QueryResult {
                series,
                ..QueryResult::default()
            })
        }

        /// Boundary reads: each series' samples in `[start, end]`, and a reset row per series
        /// (as the Prometheus backend returns them, without `__name__`).
        async fn range(
            &self,
            read: Read<'_>,
            start: Millis,
            end: Millis,
            _: Duration,
        ) -> Result<QueryResult, BackendError> {
            self.requests.fetch_add(1, Ordering::SeqCst);
            let Read::Boundaries { selector, .. } = read else {
                panic!("only boundaries are read here");
            };
            let filter = LabelFilter::new(selector).unwrap();
            let mut result = QueryResult::default();
            for s in self.series.iter().filter(|s| filter.matches(&s.labels)) {
                let samples: Vec<(Millis, f64)> = s
                    .samples
                    .iter()
                    .copied()
                    .filter(|(t, _)| (start..=end).contains(t))
                    .collect();
                let mut labels = s.labels.clone();
                labels.remove("__name__");
                result.resets.push(Series {
                    labels,
                    samples: vec![(end, 0.0)],
                });
                result.series.push(Series {
                    labels: s.labels.clone(),
                    samples,
                });
            }
            Ok(result)
        }
    }

    fn series(service: &str, code: &str) -> Series {
        let labels: Labels = [
            ("__name__", "http_requests_total"),
            ("service", service),
            ("code", code),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Series {
            labels,
            samples: (0..20).map(|i| (i * 15_000, i as f64)).collect(),
        }
    }

    fn store(limit: usize) -> Arc<Store> {
        let mut all = Vec::new();
        for i in 0..10 {
            for code in ["200", "500"] {
                all.push(series(&format!("svc-{i}"), code));
            }
        }
        Arc::new(Store {
            series: all,
            requests: AtomicUsize::new(0),
            limit,
        })
    }

    /// Ten SLOs' error and total reads at one tick, each with its own range: the coalesced
    /// answers equal what each read gets on its own.
    async fn compare(limit: usize) -> usize {
        let store = store(limit);
        let coalescer = Arc::new(Coalescer::new(store.clone(), Linger::default()));
        let reads: Vec<(Selector, Duration, Millis)> = (0..10)
            .flat_map(|i| {
                let errors = format!(r#"http_requests_total{{service="svc-{i}",code=~"5.."}}"#);
                let total = format!(r#"http_requests_total{{service="svc-{i}"}}"#);
                let at = 200_000;
                let range = Duration::from_secs(60 + 10 * i as u64);
                [
                    (Selector::parse(&errors).unwrap(), range, at),
                    (Selector::parse(&total).unwrap(), range, at),
                ]
            })
            .collect();
        let mut alone = Vec::new();
        for (selector, range, at) in &reads {
            let read = Read::Samples {
                selector,
                range: *range,
            };
            alone.push(store.instant(read, *at).await.unwrap());
        }
        store.requests.store(0, Ordering::SeqCst);
        let handles: Vec<_> = reads
            .iter()
            .cloned()
            .map(|(selector, range, at)| {
                let coalescer = Arc::clone(&coalescer);
                tokio::spawn(async move {
                    let read = Read::Samples {
                        selector: &selector,
                        range,
                    };
                    coalescer.instant(read, at).await.unwrap()
                })
            })
            .collect();
        for (handle, want) in handles.into_iter().zip(alone) {
            assert_eq!(handle.await.unwrap(), want);
        }
        store.requests.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn twenty_reads_of_one_metric_are_one_request_with_the_same_answers() {
        assert_eq!(compare(usize::MAX).await, 1);
    }

    #[tokio::test]
    async fn boundary_reads_over_the_same_range_are_one_request_with_the_same_answers() {
        let store = store(usize::MAX);
        let coalescer = Arc::new(Coalescer::new(store.clone(), Linger::default()));
        let selectors: Vec<Selector> = (0..10)
            .map(|i| {
                Selector::parse(&format!(
                    r#"http_requests_total{{service="svc-{i}",code=~"5.."}}"#
                ))
                .unwrap()
            })
            .collect();
        let step = Duration::from_secs(60);
        let mut alone = Vec::new();
        for selector in &selectors {
            let read = Read::Boundaries { selector, step };
            alone.push(store.range(read, 60_000, 240_000, step).await.unwrap());
        }
        store.requests.store(0, Ordering::SeqCst);
        let handles: Vec<_> = selectors
            .iter()
            .cloned()
            .map(|selector| {
                let coalescer = Arc::clone(&coalescer);
                tokio::spawn(async move {
                    let read = Read::Boundaries {
                        selector: &selector,
                        step,
                    };
                    coalescer.range(read, 60_000, 240_000, step).await.unwrap()
                })
            })
            .collect();
        for (handle, want) in handles.into_iter().zip(alone) {
            let got = handle.await.unwrap();
            assert_eq!(got.series.len(), 1);
            assert_eq!(got, want);
        }
        assert_eq!(store.requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_answer_over_the_limit_is_split_until_it_fits() {
        // 20 series at most 6 per answer: the batch of 20 reads splits into parts of at
        // most 3 services (reads of 5, then 2 or 3).
        let requests = compare(6).await;
        assert!(requests > 1 && requests < 20, "{requests} requests");
    }

    #[test]
    fn the_covering_selector_unites_fixed_values_and_keeps_shared_matchers() {
        let request = |text: &str| Request {
            selector: Selector::parse(text).unwrap(),
            filter: LabelFilter::new(&Selector::parse(text).unwrap()).unwrap(),
            range: Duration::from_secs(60),
            reply: oneshot::channel().0,
        };
        let requests = [
            request(r#"m{job="api",service="a.b",code=~"5.."}"#),
            request(r#"m{job="api",service="c"}"#),
        ];
        assert_eq!(
            covering(&requests).render(),
            r#"m{job="api",service=~"a\\.b|c"}"#
        );
        let requests = [request(r#"m{service="a"}"#), request(r#"m{code="500"}"#)];
        assert_eq!(covering(&requests).render(), "m");
    }
}
