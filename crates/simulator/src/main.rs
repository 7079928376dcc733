//! `burnwatch-sim`: serve the simulated checkout service, or write its history.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use burnwatch_simulator::{Scenario, render_openmetrics_history, render_scrape};
use clap::{Parser, Subcommand};

/// Traffic simulator for burnwatch demos and tests.
#[derive(Debug, Parser)]
#[command(name = "burnwatch-sim", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve /metrics of the demo scenario.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9101")]
        listen: SocketAddr,
        /// Unix seconds where the scenario's history begins (default: 6 days ago).
        #[arg(long)]
        origin: Option<f64>,
        /// Unix seconds where the live part begins (default: now).
        #[arg(long)]
        live: Option<f64>,
    },
    /// Write the demo scenario's history as OpenMetrics (for promtool) to stdout.
    History {
        /// Unix seconds where the scenario's history begins.
        #[arg(long)]
        origin: f64,
        /// Unix seconds where the live part begins (history ends there).
        #[arg(long)]
        live: f64,
        /// Seconds between samples.
        #[arg(long, default_value_t = 30.0)]
        step: f64,
    },
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::History { origin, live, step } => {
            print!(
                "{}",
                render_openmetrics_history(&Scenario::demo(origin, live), origin, live - 1.0, step)
            );
            std::process::ExitCode::SUCCESS
        }
        Command::Serve {
            listen,
            origin,
            live,
        } => {
            let live = live.unwrap_or_else(now);
            let origin = origin.unwrap_or(live - 6.0 * 86_400.0);
            let scenario = Arc::new(Scenario::demo(origin, live));
            let app = Router::new().route(
                "/metrics",
                get(move || {
                    let scenario = Arc::clone(&scenario);
                    async move {
                        (
                            StatusCode::OK,
                            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                            render_scrape(&scenario, now()),
                        )
                            .into_response()
                    }
                }),
            );
            let listener = match tokio::net::TcpListener::bind(listen).await {
                Ok(listener) => listener,
                Err(err) => {
                    eprintln!("burnwatch-sim: cannot listen on {listen}: {err}");
                    return std::process::ExitCode::FAILURE;
                }
            };
            eprintln!(
                "burnwatch-sim: serving http://{listen}/metrics (an outage every {} min, the first {} s after start)",
                Scenario::DEMO_CYCLE_SECONDS / 60.0,
                Scenario::DEMO_OUTAGE_OFFSET_SECONDS
            );
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                eprintln!("burnwatch-sim: {err}");
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
    }
}
