//! A /metrics scrape of 10,000 SLO instances: the target is under 200 ms.
//!
//! `cargo bench -p burnwatch-http --bench scrape`

use std::sync::Arc;
use std::time::Duration;

use burnwatch_engine::{
    Board, Counts, DEFAULT_WINDOWS, DataState, Entry, Evaluation, InstanceInfo, PeriodFigures,
    SloInfo, WindowFigures,
};
use burnwatch_http::SloCollector;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prometheus_client::registry::Registry;

const INSTANCES: usize = 10_000;

fn figures(window: Duration, errors: f64, total: f64, objective: f64) -> WindowFigures {
    let ratio = errors / total;
    WindowFigures {
        window,
        counts: Counts { errors, total },
        error_ratio: Some(ratio),
        burn_rate: Some(ratio / (1.0 - objective)),
    }
}

/// 100 SLOs of 100 route groups each, every window populated (the most a scrape can carry).
fn board() -> Arc<Board> {
    let board = Arc::new(Board::new());
    let period = Duration::from_secs(30 * 86_400);
    for slo in 0..INSTANCES / 100 {
        let info = Arc::new(SloInfo {
            id: format!("service-{slo}-availability"),
            service: format!("service-{slo}"),
            name: "availability".into(),
            objective: burnwatch_engine::Objective::from_percent(99.9),
            period,
            labels: vec![
                ("team".into(), "payments".into()),
                ("tier".into(), "1".into()),
            ],
            description: None,
            alert_name: "SLOErrorBudgetBurn".into(),
            annotations: Vec::new(),
            alert_extras: Default::default(),
        });
        for route in 0..100 {
            let instance = Arc::new(InstanceInfo {
                slo: Arc::clone(&info),
                group: vec![("route".into(), format!("/api/v1/resource-{route}"))],
            });
            let windows: Vec<WindowFigures> = DEFAULT_WINDOWS
                .iter()
                .map(|w| figures(*w, 1.0 + route as f64, 1000.0 * w.as_secs_f64(), 0.999))
                .collect();
            let eval = Evaluation {
                at: 1_700_000_000_000,
                objective: 0.999,
                windows,
                period: PeriodFigures {
                    window: figures(period, 2500.0, 2.6e9, 0.999),
                    sli: Some(0.999_999),
                    budget_remaining: Some(0.999),
                    exhaustion_at_1h_burn: Some(Duration::from_secs(86_400 * 300)),
                    exhaustion_at_6h_burn: Some(Duration::from_secs(86_400 * 200)),
                    covered: period,
                    excluded: Duration::ZERO,
                },
                data_state: DataState::Ok,
            };
            board.publish(Entry {
                info: instance,
                eval,
                alerts: burnwatch_engine::Alerts::new(),
            });
        }
    }
    board
}

fn scrape(c: &mut Criterion) {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SloCollector::new(board())));
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &registry).unwrap();
    eprintln!(
        "scrape of {INSTANCES} instances: {} lines, {} bytes",
        body.lines().count(),
        body.len()
    );

    let mut group = c.benchmark_group("scrape");
    group.sample_size(10);
    group.throughput(Throughput::Elements(INSTANCES as u64));
    group.bench_function("encode_10000_instances", |b| {
        b.iter(|| {
            let mut body = String::with_capacity(64 << 20);
            prometheus_client::encoding::text::encode(&mut body, &registry).unwrap();
            body.len()
        });
    });
    group.finish();
}

criterion_group!(benches, scrape);
criterion_main!(benches);
