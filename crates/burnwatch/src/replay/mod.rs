//! `burnwatch replay`: the daemon's runners driven over history (see
//! `SloRunner::replay`), printed as JSON lines, CSV or a table, or two configurations compared.
//! No notifier exists here: replay cannot send anything.

mod compare;
pub(crate) mod composites;
mod output;
mod sources;
mod track;

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use burnwatch_engine::Millis;
use burnwatch_scheduler::{SchedulerMetrics, SloRunner};
use burnwatch_spec::{Config, format_prometheus};
use futures_util::StreamExt;

use crate::cli::ReplayFormat;
use crate::failure::Failure;
use burnwatch_spec::text::count;
pub use sources::{SpanOptions, exclusions};
pub use track::{Episode, Track};

/// SLOs replayed at once: each sends a few range queries at a time.
const CONCURRENCY: usize = 4;

/// What `burnwatch replay` was asked.
#[derive(Debug)]
pub struct Request {
    /// The configuration.
    pub config: PathBuf,
    /// Start (RFC 3339 or unix seconds).
    pub start: String,
    /// End (RFC 3339 or unix seconds).
    pub end: String,
    /// Step.
    pub step: Duration,
    /// Only these SLO ids (all when empty).
    pub slos: Vec<String>,
    /// Output format.
    pub format: ReplayFormat,
    /// A second configuration to compare episodes with.
    pub compare: Option<PathBuf>,
    /// Which excluded and silenced spans to run with.
    pub spans: SpanOptions,
}

/// Parses `2026-10-01T00:00:00Z` or unix seconds (`1790000000`) into milliseconds; the error
/// names the option.
pub fn parse_time(text: &str, what: &str) -> Result<Millis, Failure> {
    burnwatch_spec::text::parse_time(text)
        .map_err(|why| Failure::Usage(format!("--{what} {text:?} {why}")))
}

fn load(path: &std::path::Path) -> Result<Config, Failure> {
    let config = burnwatch_spec::load(path)
        .map_err(|errors| Failure::Config(format!("{} is invalid:\n{errors}", path.display())))?;
    live_only(&config);
    Ok(config)
}

/// Says on stderr that `[[discover]]` SLOs are not replayed or reported: they exist only in a
/// running daemon (which values held SLOs when is not recorded), so replay and report cover
/// the file's own SLOs.
pub(crate) fn live_only(config: &Config) {
    if config.discover.is_empty() {
        return;
    }
    let names: Vec<&str> = config.discover.iter().map(|d| d.name.as_str()).collect();
    eprintln!(
        "note: discovered SLOs are live-only: [[discover]] {} not expanded here; this covers the \
         file's [[slo]]s only (to replay a discovered service, write its SLO as an [[slo]])",
        names.join(", ")
    );
}

/// Runs the request to completion, printing to stdout.
pub fn run(request: Request) -> Result<(), Failure> {
    let start = parse_time(&request.start, "start")?;
    let end = parse_time(&request.end, "end")?;
    if end <= start {
        return Err(Failure::Usage(format!(
            "--end ({}) must be after --start ({})",
            request.end, request.start
        )));
    }
    let secs = request.step.as_secs();
    if secs < 60 || !secs.is_multiple_of(60) || request.step.subsec_nanos() != 0 {
        return Err(Failure::Usage(format!(
            "--step {} must be a whole number of minutes (the engine's finest bucket), e.g. 1m or 5m",
            humantime::format_duration(request.step)
        )));
    }
    let config = load(&request.config)?;
    let other = request.compare.as_deref().map(load).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(async {
        let window = Window {
            start,
            end,
            step: request.step,
        };
        match &other {
            None => {
                let mut out = Output::new(request.format);
                replay(&config, &request.slos, window, &request.spans, &mut out).await?;
                out.finish()
            }
            Some(other) => {
                let mut quiet = Output::quiet();
                let a = replay(&config, &request.slos, window, &request.spans, &mut quiet).await?;
                let b = replay(other, &request.slos, window, &request.spans, &mut quiet).await?;
                let report = compare::report(
                    &request.config.display().to_string(),
                    &a,
                    &request
                        .compare
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    &b,
                    request.format,
                );
                write_stdout(&report)
            }
        }
    })
}

/// The replayed span.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Millis,
    end: Millis,
    step: Duration,
}

/// Where step rows go.
struct Output {
    format: Option<ReplayFormat>,
    header_written: bool,
    tracks: Vec<Track>,
}

impl Output {
    fn new(format: ReplayFormat) -> Self {
        Output {
            format: Some(format),
            header_written: false,
            tracks: Vec::new(),
        }
    }

    /// Rows are not printed (comparisons).
    fn quiet() -> Self {
        Output {
            format: None,
            header_written: true,
            tracks: Vec::new(),
        }
    }

    fn finish(self) -> Result<(), Failure> {
        if self.format == Some(ReplayFormat::Table) {
            write_stdout(&output::table(&self.tracks))?;
        }
        Ok(())
    }
}

pub fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        // `| head` closed the pipe: what was wanted has been printed.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(Failure::Runtime(format!("cannot write the output: {err}"))),
    }
}

/// A usage error naming the known ids when an `--slo` is not in `config`.
pub fn check_ids(config: &Config, only: &[String]) -> Result<(), Failure> {
    for id in only {
        if !config.slos.iter().any(|s| &s.id == id) {
            let known: Vec<&str> = config.slos.iter().map(|s| s.id.as_str()).collect();
            return Err(Failure::Usage(format!(
                "--slo {id:?} is not in {}; its SLO ids are: {}",
                config.source.display(),
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Replays every selected SLO of `config`, `CONCURRENCY` at a time, printing each SLO's rows in
/// configuration order as it completes, with the spans `spans` and `config` give. Returns one track per
/// instance.
async fn replay(
    config: &Config,
    only: &[String],
    window: Window,
    spans: &SpanOptions,
    out: &mut Output,
) -> Result<Vec<Track>, Failure> {
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let backends = crate::backends::connect(config, &metrics)?;
    let board = Arc::new(burnwatch_engine::Board::new());
    check_ids(config, only)?;
    let exclusions = exclusions(spans, config)?;
    let selection = composites::select(config, only);
    let runner = |slo: &burnwatch_spec::Slo| {
        SloRunner::new(
            slo.clone(),
            Arc::clone(&backends[&slo.backend]),
            Arc::clone(&board),
            Arc::clone(&metrics),
        )
        .with_exclusions(Arc::clone(&exclusions))
    };
    let runners: Vec<(SloRunner, bool)> = selection
        .direct
        .iter()
        .map(|(slo, asked)| (runner(slo), *asked))
        .collect();
    let composite_runners: Vec<(SloRunner, bool)> = selection
        .composites
        .iter()
        .map(|(slo, asked)| (runner(slo), *asked))
        .collect();
    let record = Arc::new(selection.components);
    let mut windows: Vec<Duration> = runners
        .iter()
        .chain(&composite_runners)
        .filter(|(_, asked)| *asked)
        .flat_map(|(runner, _)| runner.windows())
        .collect();
    windows.sort();
    windows.dedup();
    let windows: Vec<String> = windows.into_iter().map(format_prometheus).collect();
    if out.format == Some(ReplayFormat::Csv) && !out.header_written {
        write_stdout(&(output::csv_header(&windows) + "\n"))?;
        out.header_written = true;
    }

    let total = runners.len() + composite_runners.len();
    let done = Arc::new(AtomicUsize::new(0));
    let progress = std::io::stderr()
        .is_terminal()
        .then(|| tokio::spawn(show_progress(Arc::clone(&done), total)));
    let format = out.format;
    let windows = Arc::new(windows);
    // Each SLO is its own task, so that engine work and line rendering use every core while
    // other SLOs wait for their range queries; results are still printed in configuration order.
    let mut results = futures_util::stream::iter(runners.into_iter().map(|(runner, asked)| {
        let done = Arc::clone(&done);
        let sink = Sink::new(asked.then_some(format).flatten(), Arc::clone(&windows))
            .recording(Arc::clone(&record));
        let id = runner.id().to_string();
        let task = tokio::spawn(replay_one(runner, window, sink, done));
        async move {
            let result = task.await.map_err(|err| {
                Failure::Runtime(format!("replay of SLO {id} stopped unexpectedly: {err}"))
            })?;
            result.map(|out| (out, asked))
        }
    }))
    .buffered(CONCURRENCY);
    let mut all = Vec::new();
    let mut history = burnwatch_scheduler::ComponentHistory::default();
    let mut shown = |rows: Vec<String>, tracks: BTreeMap<String, Track>, asked: bool| {
        if !asked {
            return Ok(());
        }
        for block in rows {
            write_stdout(&block)?;
        }
        if format == Some(ReplayFormat::Json) {
            let mut summaries = String::new();
            for track in tracks.values() {
                summaries.push_str(&output::summary_json(track));
                summaries.push('\n');
            }
            write_stdout(&summaries)?;
        }
        all.extend(tracks.into_values());
        Ok::<(), Failure>(())
    };
    while let Some(result) = results.next().await {
        let ((rows, tracks, recorded), asked) = result?;
        history.extend(recorded);
        shown(rows, tracks, asked)?;
    }
    drop(results);
    // Composites last, each from its components' evaluations at the same steps (and after the
    // composites it is made of, whose evaluations are recorded as they run).
    for (mut runner, asked) in composite_runners {
        let mut sink = Sink::new(asked.then_some(format).flatten(), Arc::clone(&windows))
            .recording(Arc::clone(&record));
        let mut on_step = |step: burnwatch_scheduler::ReplayStep<'_>| sink.step(&step);
        runner.replay_composite(
            window.start,
            window.end,
            window.step,
            &history,
            &mut on_step,
        );
        done.fetch_add(1, Ordering::Relaxed);
        let (rows, tracks, recorded) = sink.finish(&runner, window);
        history.extend(recorded);
        shown(rows, tracks, asked)?;
    }
    if let Some(progress) = progress {
        progress.abort();
        eprint!("\r\x1b[2K");
    }
    out.tracks.extend(all.iter().cloned());
    Ok(all)
}

/// Rows are collected in blocks of about this many bytes: one string growing to tens of
/// megabytes would be copied at every doubling.
const BLOCK: usize = 1 << 20;

/// One SLO's replay: its rows in blocks, its tracks by instance key, and the evaluations of
/// the instances composites are made of.
type Replayed = (
    Vec<String>,
    BTreeMap<String, Track>,
    burnwatch_scheduler::ComponentHistory,
);

/// Where one SLO's replay steps go: rendered as rows in `format` (none for tables and
/// comparisons, and for SLOs run only as components), collected in blocks, tracked per
/// instance, and recorded when composites are made of the SLO.
struct Sink {
    format: Option<ReplayFormat>,
    windows: Arc<Vec<String>>,
    record: Arc<std::collections::HashSet<String>>,
    blocks: Vec<String>,
    rows: String,
    seen: HashMap<usize, Seen>,
    time: (Millis, String),
    history: burnwatch_scheduler::ComponentHistory,
}

/// One instance seen in the replay, found again by its `Arc`'s address (the `Arc` is held
/// here, so the address cannot be reused): a key string per step would cost an allocation.
struct Seen {
    track: Track,
    line: Option<output::StepLine>,
}

impl Sink {
    fn new(format: Option<ReplayFormat>, windows: Arc<Vec<String>>) -> Self {
        Sink {
            format,
            windows,
            record: Arc::default(),
            blocks: Vec::new(),
            rows: String::new(),
            seen: HashMap::new(),
            time: (Millis::MIN, String::new()),
            history: burnwatch_scheduler::ComponentHistory::default(),
        }
    }

    fn recording(mut self, record: Arc<std::collections::HashSet<String>>) -> Self {
        self.record = record;
        self
    }

    fn step(&mut self, step: &burnwatch_scheduler::ReplayStep<'_>) {
        if self.record.contains(&step.instance.slo.id) {
            self.history.record_step(step);
        }
        let entry = self
            .seen
            .entry(Arc::as_ptr(step.instance) as usize)
            .or_insert_with(|| Seen {
                track: Track::new(Arc::clone(step.instance)),
                line: None,
            });
        entry.track.record(step);
        if self.format.is_none() || self.format == Some(ReplayFormat::Table) {
            return;
        }
        // Every instance of the SLO is evaluated at the same step: render the time once.
        if self.time.0 != step.at {
            self.time = (step.at, output::rfc3339(step.at));
        }
        match self.format {
            Some(ReplayFormat::Json) => entry
                .line
                .get_or_insert_with(|| output::StepLine::new(step))
                .push_json(&mut self.rows, step, &self.time.1),
            Some(ReplayFormat::Csv) => self.rows.push_str(&output::step_csv(step, &self.windows)),
            _ => return,
        }
        self.rows.push('\n');
        if self.rows.len() >= BLOCK {
            let full = std::mem::replace(&mut self.rows, String::with_capacity(BLOCK + BLOCK / 8));
            self.blocks.push(full);
        }
    }

    /// The rows, the tracks (with the spans of `runner` that reach into `window`) and what was
    /// recorded.
    fn finish(mut self, runner: &SloRunner, window: Window) -> Replayed {
        let spans: Vec<burnwatch_engine::ExclusionSpan> = runner
            .spans()
            .iter()
            .filter(|s| s.start < window.end && s.end > window.start)
            .cloned()
            .collect();
        let tracks = self
            .seen
            .into_values()
            .map(|mut s| {
                s.track.spans = spans.clone();
                (s.track.info.key(), s.track)
            })
            .collect();
        self.blocks.push(self.rows);
        (self.blocks, tracks, self.history)
    }
}

/// Replays one SLO into `sink`.
async fn replay_one(
    mut runner: SloRunner,
    window: Window,
    mut sink: Sink,
    done: Arc<AtomicUsize>,
) -> Result<Replayed, Failure> {
    let mut on_step = |step: burnwatch_scheduler::ReplayStep<'_>| sink.step(&step);
    runner
        .replay(window.start, window.end, window.step, &mut on_step)
        .await
        .map_err(|err| Failure::Runtime(format!("replay of SLO {} failed: {err}", runner.id())))?;
    done.fetch_add(1, Ordering::Relaxed);
    Ok(sink.finish(&runner, window))
}

/// A one-line progress display on a terminal's stderr.
async fn show_progress(done: Arc<AtomicUsize>, total: usize) {
    let started = Instant::now();
    loop {
        eprint!(
            "\r\x1b[2Kreplay: {}/{} done, {}s",
            done.load(Ordering::Relaxed),
            count(total, "SLO"),
            started.elapsed().as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_unix_seconds() {
        assert_eq!(
            parse_time("1790000000", "start").unwrap(),
            1_790_000_000_000
        );
        assert_eq!(
            parse_time("2026-10-01T00:00:00Z", "start").unwrap(),
            1_790_812_800_000
        );
        let Err(Failure::Usage(message)) = parse_time("yesterday", "end") else {
            panic!("accepted a non-time");
        };
        assert!(
            message.contains("--end") && message.contains("RFC 3339"),
            "{message}"
        );
    }
}
