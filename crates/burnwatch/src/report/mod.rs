//! `burnwatch report`: per SLO instance over a month, a quarter or a span, the achieved SLI against the
//! objective, the budget consumed, incidents (page and ticket episodes) with durations, mean
//! time to resolve, page count and a budget trend; as HTML (one self-contained file), Markdown or
//! JSON. Computed through replay: the daemon's runner, engine and alert state machine stepped
//! over the backend's history (see `SloRunner::replay`), every 5 minutes.

mod given_back;
mod model;
mod record;
mod render;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{Board, ExclusionSpan, Exclusions, Millis};
use burnwatch_scheduler::{ComponentHistory, SchedulerMetrics, SloRunner};
use burnwatch_spec::Config;

use crate::cli::ReportFormat;
use crate::failure::Failure;
use crate::replay::parse_time;
pub use model::InstanceReport;

/// Steps of the replay: the shortest window every instance keeps, so the windows of consecutive
/// steps tile the span and their counts add up to the span's.
pub const STEP: Duration = Duration::from_secs(300);

/// What `burnwatch report` was asked.
#[derive(Debug)]
pub struct Request {
    /// The configuration.
    pub config: PathBuf,
    /// `2026-10`.
    pub month: Option<String>,
    /// `2026-Q4`.
    pub quarter: Option<String>,
    /// Start (RFC 3339 or unix seconds).
    pub start: Option<String>,
    /// End (RFC 3339 or unix seconds).
    pub end: Option<String>,
    /// Only these SLO ids (all when empty).
    pub slos: Vec<String>,
    /// Output format.
    pub format: ReportFormat,
    /// Which excluded and silenced spans to run with.
    pub spans: crate::replay::SpanOptions,
}

/// The span `(start, end]` of the report, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Exclusive start.
    pub start: Millis,
    /// Inclusive end.
    pub end: Millis,
}

/// `2026-10` as the span from its first midnight to the next month's, UTC.
pub fn month_span(text: &str) -> Result<Span, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "--month {text:?} is not a month: write YYYY-MM, e.g. 2026-10"
        ))
    };
    let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
    let year: i64 = year.parse().map_err(|_| bad())?;
    let month: i64 = month.parse().map_err(|_| bad())?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
        return Err(bad());
    }
    let next = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    Ok(Span {
        start: days_from_civil(year, month) * 86_400_000,
        end: days_from_civil(next.0, next.1) * 86_400_000,
    })
}

/// `2026-Q4` as the span from its first midnight (October 1st) to the next quarter's, UTC.
pub fn quarter_span(text: &str) -> Result<Span, Failure> {
    let bad = || {
        Failure::Usage(format!(
            "--quarter {text:?} is not a quarter: write YYYY-QN, e.g. 2026-Q4"
        ))
    };
    let (year, quarter) = text.trim().split_once("-Q").ok_or_else(bad)?;
    let year: i64 = year.parse().map_err(|_| bad())?;
    let quarter: i64 = quarter.parse().map_err(|_| bad())?;
    if !(1970..=9999).contains(&year) || !(1..=4).contains(&quarter) {
        return Err(bad());
    }
    let first = 3 * (quarter - 1) + 1;
    let next = if quarter == 4 {
        (year + 1, 1)
    } else {
        (year, first + 3)
    };
    Ok(Span {
        start: days_from_civil(year, first) * 86_400_000,
        end: days_from_civil(next.0, next.1) * 86_400_000,
    })
}

/// Days from 1970-01-01 to the first of `month` (Howard Hinnant's civil-from-days inverse).
fn days_from_civil(year: i64, month: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn span(request: &Request) -> Result<Span, Failure> {
    let span = match (&request.month, &request.start, &request.end) {
        (None, None, None) if request.quarter.is_some() => {
            quarter_span(request.quarter.as_deref().unwrap_or_default())?
        }
        (Some(month), None, None) => month_span(month)?,
        (None, Some(start), Some(end)) => Span {
            start: parse_time(start, "start")?,
            end: parse_time(end, "end")?,
        },
        _ => {
            return Err(Failure::Usage(
                "give either --month YYYY-MM, --quarter YYYY-QN or both --start and --end".into(),
            ));
        }
    };
    let step = STEP.as_millis() as Millis;
    if span.start % step != 0 || span.end % step != 0 {
        return Err(Failure::Usage(
            "--start and --end must fall on whole 5 minutes (the report's step)".into(),
        ));
    }
    if span.end <= span.start {
        return Err(Failure::Usage("the end must be after the start".into()));
    }
    Ok(span)
}

/// Runs the request, printing the report to stdout.
pub fn run(request: Request) -> Result<(), Failure> {
    let span = span(&request)?;
    let config = burnwatch_spec::load(&request.config).map_err(|errors| {
        Failure::Config(format!(
            "{} is invalid:\n{errors}",
            request.config.display()
        ))
    })?;
    crate::replay::live_only(&config);
    crate::replay::check_ids(&config, &request.slos)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let exclusions = crate::replay::exclusions(&request.spans, &config)?;
    // Whole days the daemon's record holds are read from it rather than replayed.
    let record = request
        .spans
        .data_dir
        .as_deref()
        .and_then(burnwatch_record::RecordDb::open_existing);
    let reports = runtime.block_on(collect(
        &config,
        &request.slos,
        span,
        &exclusions,
        record.as_ref(),
    ))?;
    let text = match request.format {
        ReportFormat::Html => render::html(span, &reports),
        ReportFormat::Markdown => render::markdown(span, &reports),
        ReportFormat::Json => render::json(span, &reports),
    };
    crate::replay::write_stdout(&text)
}

/// Replays every selected SLO over the span with the spans of `exclusions`, one after another
/// (each runs a few range queries at a time), and returns one report per instance in
/// configuration order. Each excluding span in the span is replayed once more without it, for
/// the budget it gave back.
pub(crate) async fn collect(
    config: &Config,
    only: &[String],
    span: Span,
    exclusions: &Arc<Exclusions>,
    record: Option<&burnwatch_record::RecordDb>,
) -> Result<Vec<InstanceReport>, Failure> {
    let metrics = Arc::new(SchedulerMetrics::unregistered());
    let backends = crate::backends::connect(config, &metrics)?;
    let board = Arc::new(Board::new());
    let selection = crate::replay::composites::select(config, only);
    let mut history = ComponentHistory::default();
    let mut reports = Vec::new();
    for &(slo, asked) in &selection.direct {
        if asked
            && !selection.components.contains(&slo.id)
            && let Some(db) = record
            && let Some(mut instances) = record::reports(db, slo, span)?
        {
            tracing::info!(slo = %slo.id, "report: whole days read from the record");
            for report in &mut instances {
                report.components = components(slo);
            }
            reports.extend(instances);
            continue;
        }
        let backend = &backends[&slo.backend];
        let replay = |exclusions: Arc<Exclusions>, record: bool| {
            let runner = SloRunner::new(
                slo.clone(),
                Arc::clone(backend),
                Arc::clone(&board),
                Arc::clone(&metrics),
            )
            .with_exclusions(exclusions);
            let record = record && selection.components.contains(&slo.id);
            replay_slo(runner, span, record)
        };
        let (mut instances, all, recorded) = replay(Arc::clone(exclusions), true).await?;
        history.extend(recorded);
        if !asked {
            continue;
        }
        let shown: Vec<ExclusionSpan> = all
            .iter()
            .filter(|s| s.start < span.end && s.end > span.start)
            .cloned()
            .collect();
        let with: given_back::Budgets = instances
            .iter()
            .map(|r| (r.track.info.key(), r.track.budget_end))
            .collect();
        let back = given_back::given_back(&all, &shown, &with, |exclusions| {
            let run = replay(exclusions, false);
            async move {
                let (instances, _, _) = run.await?;
                Ok(instances
                    .iter()
                    .map(|r| (r.track.info.key(), r.track.budget_end))
                    .collect())
            }
        })
        .await?;
        for report in &mut instances {
            let key = report.track.info.key();
            report.exclusions = back
                .iter()
                .map(|(span, budgets)| (span.clone(), budgets.get(&key).copied().flatten()))
                .collect();
        }
        instances.sort_by_key(|r| r.track.info.key());
        for report in &mut instances {
            report.components = components(slo);
        }
        reports.extend(instances);
    }
    // Composites from their components' evaluations at the same steps. Their state holds
    // composed ratios, not events, so no span gives budget back to them.
    for &(slo, asked) in &selection.composites {
        let mut runner = SloRunner::new(
            slo.clone(),
            Arc::clone(&backends[&slo.backend]),
            Arc::clone(&board),
            Arc::clone(&metrics),
        );
        let mut recorder = Recorder::new(span, selection.components.contains(&slo.id));
        let mut on_step = |step: burnwatch_scheduler::ReplayStep<'_>| recorder.step(&step);
        runner.replay_composite(span.start, span.end, STEP, &history, &mut on_step);
        let (mut instances, recorded) = (recorder.instances, recorder.history);
        history.extend(recorded);
        if asked {
            instances.sort_by_key(|r| r.track.info.key());
            for report in &mut instances {
                report.components = components(slo);
            }
            reports.extend(instances);
        }
    }
    Ok(reports)
}

/// A composite's components with their weights (a time-slice composite's weights do not
/// enter its figures, but are shown as written); empty for other SLOs.
fn components(slo: &burnwatch_spec::Slo) -> Vec<(String, f64)> {
    match &slo.sli {
        burnwatch_spec::Sli::Composite { components, .. } => {
            components.iter().map(|c| (c.display(), c.weight)).collect()
        }
        _ => Vec::new(),
    }
}

/// What the steps of one SLO's replay make: a report per instance, and (when composites are
/// made of the SLO) its evaluations.
struct Recorder {
    span: Span,
    record: bool,
    instances: Vec<InstanceReport>,
    history: ComponentHistory,
}

impl Recorder {
    fn new(span: Span, record: bool) -> Self {
        Recorder {
            span,
            record,
            instances: Vec::new(),
            history: ComponentHistory::default(),
        }
    }

    fn step(&mut self, step: &burnwatch_scheduler::ReplayStep<'_>) {
        if self.record {
            self.history.record_step(step);
        }
        let report = match self
            .instances
            .iter_mut()
            .position(|r| Arc::ptr_eq(&r.track.info, step.instance))
        {
            Some(i) => &mut self.instances[i],
            None => {
                self.instances
                    .push(InstanceReport::new(Arc::clone(step.instance), self.span));
                self.instances.last_mut().expect("just pushed")
            }
        };
        report.record(step);
    }
}

/// One replay over the span: the instances' reports, the spans it ran with (those reaching
/// into the period before the span too) and, with `record`, the instances' evaluations.
async fn replay_slo(
    mut runner: SloRunner,
    span: Span,
    record: bool,
) -> Result<(Vec<InstanceReport>, Vec<ExclusionSpan>, ComponentHistory), Failure> {
    let mut recorder = Recorder::new(span, record);
    let mut on_step = |step: burnwatch_scheduler::ReplayStep<'_>| recorder.step(&step);
    runner
        .replay(span.start, span.end, STEP, &mut on_step)
        .await
        .map_err(|err| Failure::Runtime(format!("report of SLO {} failed: {err}", runner.id())))?;
    Ok((
        recorder.instances,
        runner.spans().to_vec(),
        recorder.history,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_utc_calendar_months() {
        // 2026-10-01T00:00:00Z and 2026-11-01T00:00:00Z.
        assert_eq!(
            month_span("2026-10").unwrap(),
            Span {
                start: 1_790_812_800_000,
                end: 1_793_491_200_000
            }
        );
        let december = month_span("2025-12").unwrap();
        assert_eq!(december.end - december.start, 31 * 86_400_000);
        let february = month_span("2024-02").unwrap();
        assert_eq!(february.end - february.start, 29 * 86_400_000);
        let q4 = quarter_span("2026-Q4").unwrap();
        assert_eq!(q4.start, month_span("2026-10").unwrap().start);
        assert_eq!(q4.end, month_span("2027-01").unwrap().start);
        assert_eq!(
            quarter_span("2026-Q2").unwrap().end,
            month_span("2026-07").unwrap().start
        );
        for bad in ["2026-Q5", "2026-4", "Q4"] {
            assert!(quarter_span(bad).is_err(), "accepted {bad}");
        }
        for bad in ["2026-13", "2026", "26-1x", "1969-12"] {
            let Err(Failure::Usage(message)) = month_span(bad) else {
                panic!("accepted {bad}");
            };
            assert!(message.contains("YYYY-MM"), "{message}");
        }
    }
}
