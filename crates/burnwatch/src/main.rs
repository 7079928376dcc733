//! The burnwatch binary: command-line wiring only. `main` calls [`run`] and turns its
//! [`Failure`] into the exit code ([`failure`], the one place exit codes are decided); everything
//! else lives in the library crates.

mod backends;
mod cli;
mod correction;
mod daemon;
mod digest;
mod discovery;
mod export;
mod failure;
mod gate;
mod import;
mod memory;
mod record;
mod replay;
mod report;
mod shard;
mod signal;
mod slos;
mod watch;

use std::process::ExitCode;

use burnwatch_spec::text::count;
use clap::Parser;
use cli::{Cli, Command, LogFormat};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Validate { config } => {
            let loaded = burnwatch_spec::load(&config).map_err(|errors| {
                Failure::Config(format!(
                    "{} has {}:\n{errors}",
                    config.display(),
                    count(errors.len(), "problem")
                ))
            })?;
            let maintenance = if loaded.maintenance.is_empty() {
                String::new()
            } else {
                format!(
                    ", {}",
                    count(loaded.maintenance.len(), "maintenance window")
                )
            };
            // The backend is not asked: a template is checked with a sample value.
            let discover = if loaded.discover.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} [[discover]] (templates checked with the value {:?}; the values are \
                     read from the backend when running)",
                    loaded.discover.len(),
                    burnwatch_spec::SAMPLE_VALUE
                )
            };
            println!(
                "{} is valid: {}, {}{maintenance}{discover}",
                config.display(),
                count(loaded.slos.len(), "SLO"),
                count(loaded.backends.len(), "backend"),
            );
            Ok(())
        }
        Command::Replay {
            config,
            start,
            end,
            step,
            slos,
            format,
            compare,
            ignore_exclusions,
            exclusion_spans,
            data_dir,
        } => {
            init_tracing(cli.log_format);
            replay::run(replay::Request {
                config,
                start,
                end,
                step,
                slos,
                format,
                compare,
                spans: replay::SpanOptions {
                    ignore: ignore_exclusions,
                    spans_file: exclusion_spans,
                    data_dir,
                },
            })
        }
        Command::Gate {
            url,
            slo,
            risk,
            timeout,
        } => gate::run(&url, &slo, risk, timeout),
        Command::Correction { action } => correction::run(action),
        Command::Report {
            config,
            month,
            quarter,
            start,
            end,
            slos,
            format,
            ignore_exclusions,
            exclusion_spans,
            data_dir,
        } => {
            init_tracing(cli.log_format);
            report::run(report::Request {
                config,
                month,
                quarter,
                start,
                end,
                slos,
                format,
                spans: replay::SpanOptions {
                    ignore: ignore_exclusions,
                    spans_file: exclusion_spans,
                    data_dir,
                },
            })
        }
        Command::Digest {
            config,
            preview,
            name,
            at,
            format,
            ignore_exclusions,
            data_dir,
        } => {
            init_tracing(cli.log_format);
            digest::run(digest::Request {
                config,
                preview,
                name,
                at,
                format,
                spans: replay::SpanOptions {
                    ignore: ignore_exclusions,
                    spans_file: None,
                    data_dir,
                },
            })
        }
        Command::Export {
            config,
            format: cli::ExportFormat::Openslo,
            output,
        } => export::run(&config, output.as_deref()),
        Command::Import {
            paths,
            output,
            format,
        } => import::run(&paths, output.as_deref(), format),
        Command::Run {
            config,
            data_dir,
            shard_count,
            shard_index,
            snapshot_interval,
            exclusion_spans,
        } => {
            let hostname = std::env::var("HOSTNAME").ok();
            let shard = shard::Shard::resolve(shard_index, shard_count, hostname.as_deref())?;
            init_tracing(cli.log_format);
            let loaded = burnwatch_spec::load(&config).map_err(|errors| {
                Failure::Config(format!("{} is invalid:\n{errors}", config.display()))
            })?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|err| {
                    Failure::Runtime(format!("cannot start the async runtime: {err}"))
                })?;
            runtime.block_on(daemon::run(
                loaded,
                daemon::Options {
                    data_dir,
                    shard,
                    snapshot_interval,
                    // The daemon serves its own live list of corrections.
                    spans: replay::SpanOptions {
                        ignore: false,
                        spans_file: exclusion_spans,
                        data_dir: None,
                    },
                },
            ))
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal, never into files or log collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
